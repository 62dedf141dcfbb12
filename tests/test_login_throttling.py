"""Sign-in attempts are throttled (django-axes): repeated failures lock the
username out from that address, even for the right password."""

from django.urls import reverse


def _login(client, password):
    return client.post(
        reverse("admin:login"),
        {"username": "staff", "password": password, "next": "/admin/"},
        REMOTE_ADDR="203.0.113.7",
    )


def test_repeated_failed_admin_logins_are_locked_out(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error
    locked = _login(client, "wrong")
    assert locked.status_code == 429
    # Now even the right password is refused until the cool-off ends.
    assert _login(client, "pw-staff-1").status_code == 429


def test_a_successful_login_resets_the_count(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong")
    assert _login(client, "pw-staff-1").status_code == 302
    client.logout()
    assert _login(client, "wrong").status_code == 200
