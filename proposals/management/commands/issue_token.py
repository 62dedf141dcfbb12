"""``manage.py issue_token USERNAME``: issue an API token for a client app."""

import argparse

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from proposals.tokens import MAX_DAYS, token_issue


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
        "Send it as 'Authorization: Token <token>'. Issue and revoke tokens in the admin too (Knox > Auth tokens)."
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
        try:
            instance, token = token_issue(user=user, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(token)
        self.stderr.write(f"Token for {username} expires {instance.expiry:%Y-%m-%d %H:%M} UTC. It is not shown again.")
