"""``manage.py issue_token``: a token that expires when asked, never one
that is already expired or silently longer-lived."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken


def _issue(*args, **options) -> AuthToken:
    call_command("issue_token", *args, stdout=io.StringIO(), stderr=io.StringIO(), **options)
    return AuthToken.objects.latest("created")


@pytest.mark.parametrize("days", ["0", "-5", "soon", "3000000", "3651"])
def test_non_positive_or_malformed_days_are_refused(editor, days):
    with pytest.raises(CommandError, match="--days"):
        call_command("issue_token", "editor", f"--days={days}", stdout=io.StringIO(), stderr=io.StringIO())
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize("days", [0, -5, 3_000_000])
def test_out_of_range_days_are_refused_from_code_too(editor, days):
    with pytest.raises(CommandError, match="from 1 to 3650"):
        call_command("issue_token", "editor", days=days, stdout=io.StringIO(), stderr=io.StringIO())
    assert not AuthToken.objects.exists()


def test_days_set_the_expiry(editor):
    token = _issue("editor", "--days=3")
    assert abs(token.expiry - (timezone.now() + dt.timedelta(days=3))) < dt.timedelta(minutes=1)


def test_without_days_the_configured_lifetime_applies(editor, settings):
    token = _issue("editor")
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert abs(token.expiry - (timezone.now() + ttl)) < dt.timedelta(minutes=1)
