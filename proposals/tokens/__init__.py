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


def may_issue_for(issuer: AbstractBaseUser, user: AbstractBaseUser) -> bool:
    """Whether ``issuer`` may hold a token that acts as ``user``: a token
    carries every permission of its user, so issuing one for someone with
    more rights than yourself is privilege escalation (OWASP ASVS V4.1.3,
    least privilege). Allowed: a token for yourself; a superuser issuing for
    anyone; anyone else issuing for an active non-superuser whose
    permissions (own and through groups) are a subset of the issuer's."""
    if issuer.pk == user.pk or issuer.is_superuser:
        return True
    if user.is_superuser or not issuer.is_active:
        return False
    return user.get_all_permissions() <= issuer.get_all_permissions()


def token_issue(
    *, user: AbstractBaseUser, days: int | None = None, issued_by: AbstractBaseUser | None = None
) -> tuple[AuthToken, str]:
    """Issue a token for ``user``, expiring after ``days`` days (1 to
    ``MAX_DAYS``; ``None``: ``API_TOKEN_TTL_DAYS``). ``issued_by``: the
    person asking (the admin's user; ``None`` for the shell command, whose
    operator already holds the database). Returns the stored record and the
    token itself, which exists nowhere else: show it once. Raises
    ``ValidationError`` for an inactive user, days out of range, or a user
    ``issued_by`` may not issue for (see ``may_issue_for``)."""
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": f"Must be from 1 to {MAX_DAYS} days, not {days}."})
    if not user.is_active:
        raise ValidationError({"user": f"User {user.get_username()!r} is inactive."})
    if issued_by is not None and not may_issue_for(issued_by, user):
        raise ValidationError(
            {
                "user": f"You may not issue a token for {user.get_username()!r}: it would act with "
                "permissions you do not have. Issue it for yourself, or ask a superuser."
            },
            code="escalation",
        )
    return AuthToken.objects.create(
        user=user, expiry=knox_settings.TOKEN_TTL if days is None else dt.timedelta(days=days)
    )
