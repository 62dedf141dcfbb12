"""``manage.py issue_token USERNAME``: issue an API token for a client app."""

import argparse
import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken
from knox.settings import knox_settings

#: Ten years: a longer-lived token is a leak waiting to happen, and far
#: larger values overflow the date (an OverflowError, not an answer).
MAX_DAYS = 3650


def positive_int(value: str) -> int:
    """``--days``: a whole number of days, at least 1. Zero used to fall back
    to the default TTL and a negative number issued an expired token."""
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_DAYS}, not {days}")
    return days


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME and print it once (only a hash is stored). "
        "Send it as 'Authorization: Token <token>'. Revoke tokens in the admin (Knox > Auth tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--days",
            type=positive_int,
            default=None,
            help="Days until it expires, 1 or more (default: API_TOKEN_TTL_DAYS).",
        )

    def handle(self, *args, username, days, **options):
        if days is not None and not 1 <= days <= MAX_DAYS:  # call_command(days=...) skips the parser's check
            raise CommandError(f"--days must be from 1 to {MAX_DAYS}, not {days}.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"No user named {username!r}. Create one with: make superuser (or manage.py createsuperuser)"
            )
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        instance, token = AuthToken.objects.create(
            user=user, expiry=knox_settings.TOKEN_TTL if days is None else dt.timedelta(days=days)
        )
        self.stdout.write(token)
        self.stderr.write(f"Token for {username} expires {instance.expiry:%Y-%m-%d %H:%M} UTC. It is not shown again.")
