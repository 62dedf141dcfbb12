"""Tokens from the admin (issue #13.5): staff issue a token for a user and
see it once, list tokens with expiry, revoke them; no digest or key field."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from proposals.tokens import token_issue

from .admin_helpers import limited_client

ADD = "admin:knox_authtoken_add"
LIST = "admin:knox_authtoken_changelist"


def test_staff_issue_a_token_that_works_and_is_shown_once(staff_client, editor, api):
    page = staff_client.get(reverse(ADD)).content.decode()
    assert 'name="digest"' not in page and 'name="token_key"' not in page
    response = staff_client.post(reverse(ADD), {"user": editor.pk, "days": "7"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = response.context["token"]
    instance = AuthToken.objects.get(user=editor)
    assert abs(instance.expiry - (timezone.now() + dt.timedelta(days=7))) < dt.timedelta(minutes=1)
    assert token in response.content.decode()
    # The list never shows it, nor the digest (but as the action checkbox's value).
    listing = staff_client.get(reverse(LIST)).content.decode()
    assert token not in listing
    assert instance.digest not in listing.replace(f'value="{instance.digest}"', "")
    # It authenticates: its owner can revoke it with it.
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert not AuthToken.objects.exists()


def test_days_out_of_range_are_a_form_error(staff_client, editor):
    response = staff_client.post(reverse(ADD), {"user": editor.pk, "days": "0"})
    assert response.status_code == 200
    assert response.context["form"].errors["days"]
    assert not AuthToken.objects.exists()


def test_the_list_shows_expiry_and_revoking_deletes(staff_client, editor):
    live, _ = token_issue(user=editor, days=3)
    old, _ = token_issue(user=editor, days=1)
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - dt.timedelta(days=1))
    page = staff_client.get(reverse(LIST)).content.decode()
    assert "expired" in page and "live" in page
    response = staff_client.post(
        reverse(LIST), {"action": "revoke_selected", "_selected_action": [live.pk], "index": "0"}, follow=True
    )
    assert "Revoked 1 token" in response.content.decode()
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [old.pk]


def test_the_token_list_takes_the_same_queries_at_any_size(staff_client, editor, django_user_model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(reverse(LIST)).status_code == 200
        return len(ctx.captured_queries)

    for i in range(5):
        token_issue(user=django_user_model.objects.create_user(f"u{i}"), days=1)
    few = count()
    for i in range(45):
        token_issue(user=django_user_model.objects.create_user(f"v{i}"), days=1)
    assert count() == few


def test_token_issuer_cannot_mint_a_token_for_a_superuser(client, django_user_model, staff):
    # Review finding 1: a token acts with its user's permissions.
    limited_client(django_user_model, client, "add_authtoken", "view_authtoken")
    response = client.post(reverse(ADD), {"user": staff.pk, "days": "5"})
    assert not AuthToken.objects.filter(user=staff).exists(), "clerk minted a superuser's API token"
    assert "may not issue a token for 'staff'" in response.context["form"].errors["user"][0]


def test_token_issuer_may_issue_for_self_and_for_users_with_fewer_permissions(client, django_user_model, editor):
    clerk = limited_client(django_user_model, client, "add_authtoken", "view_authtoken", "view_proposal")
    weaker = django_user_model.objects.create_user("weaker")
    for user in (clerk, weaker):
        assert client.post(reverse(ADD), {"user": user.pk, "days": "5"}).context["token"]
    # The editor's group grants rights the clerk lacks: refused, in the service.
    client.post(reverse(ADD), {"user": editor.pk, "days": "5"})
    assert not AuthToken.objects.filter(user=editor).exists()
    with pytest.raises(ValidationError):
        token_issue(user=editor, days=1, issued_by=clerk)


def test_no_token_page_is_addressed_by_its_digest(staff_client, editor):
    # Review finding 12: list, issue and revoke only; a sensible list title.
    instance, _ = token_issue(user=editor, days=3)
    listing = staff_client.get(reverse(LIST)).content.decode()
    assert "<h1>API tokens</h1>" in listing and "Select auth token" not in listing
    assert f"/{instance.digest}/" not in listing
    for page in ("change", "delete", "history"):
        response = staff_client.get(f"/admin/knox/authtoken/{instance.digest}/{page}/")
        assert response.status_code in (302, 404), page
        assert instance.digest not in response.content.decode()
