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


def _login_via_proxy(client, password, forwarded_for):
    """A sign-in as nginx forwards it: from the proxy's address, with the
    X-Forwarded-For it appended to."""
    return client.post(
        reverse("admin:login"),
        {"username": "staff", "password": password, "next": "/admin/"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_the_others(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login_via_proxy(client, "wrong", "203.0.113.7")
    assert _login_via_proxy(client, "wrong", "203.0.113.7").status_code == 429
    # The same username from another client behind the same proxy still signs in.
    assert _login_via_proxy(client, "pw-staff-1", "198.51.100.20").status_code == 302


def test_behind_a_proxy_a_forged_header_does_not_dodge_the_lockout(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        # A new made-up address each time, left of the one the proxy appended.
        _login_via_proxy(client, "wrong", f"192.0.2.{n}, 203.0.113.7")
    assert _login_via_proxy(client, "pw-staff-1", "192.0.2.99, 203.0.113.7").status_code == 429


def test_without_a_trusted_proxy_the_header_is_ignored(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login_via_proxy(client, "wrong", f"192.0.2.{n}")
    # All from 127.0.0.1, whatever the header says: locked out.
    assert _login_via_proxy(client, "pw-staff-1", "192.0.2.200").status_code == 429
