"""``manage.py issue_token USERNAME``: issue an API token for a client app."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken
from knox.settings import knox_settings


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME and print it once (only a hash is stored). "
        "Send it as 'Authorization: Token <token>'. Revoke tokens in the admin (Knox > Auth tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--days", type=int, default=None, help="Days until it expires (default: API_TOKEN_TTL_DAYS)."
        )

    def handle(self, *args, username, days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"No user named {username!r}. Create one with: make superuser (or manage.py createsuperuser)"
            )
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        instance, token = AuthToken.objects.create(
            user=user, expiry=dt.timedelta(days=days) if days else knox_settings.TOKEN_TTL
        )
        self.stdout.write(token)
        self.stderr.write(f"Token for {username} expires {instance.expiry:%Y-%m-%d %H:%M} UTC. It is not shown again.")
