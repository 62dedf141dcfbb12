"""API tokens for client apps (django-rest-knox ``AuthToken``: only a hash
is stored, every token expires). One issuing rule for every surface: the
``issue_token`` command and the admin's "Issue a token" page both call
``token_issue``."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from knox.models import AuthToken
from knox.settings import knox_settings

#: Ten years: a longer-lived token is a leak waiting to happen, and far
#: larger values overflow the date (an OverflowError, not an answer).
MAX_DAYS = 3650


def token_issue(*, user: AbstractBaseUser, days: int | None = None) -> tuple[AuthToken, str]:
    """Issue a token for ``user``, expiring after ``days`` days (1 to
    ``MAX_DAYS``; ``None``: ``API_TOKEN_TTL_DAYS``). Returns the stored
    record and the token itself, which exists nowhere else: show it once.
    Raises ``ValidationError`` for an inactive user or days out of range."""
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": f"Must be from 1 to {MAX_DAYS} days, not {days}."})
    if not user.is_active:
        raise ValidationError({"user": f"User {user.get_username()!r} is inactive."})
    return AuthToken.objects.create(
        user=user, expiry=knox_settings.TOKEN_TTL if days is None else dt.timedelta(days=days)
    )
