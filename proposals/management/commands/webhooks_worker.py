"""Run the background worker that delivers webhooks."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from proposals.webhooks import delivery


class Command(BaseCommand):
    help = (
        "Catch up (dispatch changes not yet turned into deliveries, re-queue deliveries whose attempt a killed "
        "worker cut off), then run django-tasks-db's worker (manage.py db_worker) with the given options."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument("--batch", action="store_true", help="Run what is due, then exit.")

    def handle(self, *args, interval, batch, **options):
        made = delivery.dispatch()
        queued = delivery.enqueue_due(restarting=True)
        self.stdout.write(f"webhooks: {made} deliveries made, {queued} queued on start; running the worker.")
        self.stdout.flush()
        call_command("db_worker", interval=interval, batch=batch, startup_delay=False, reload=False)
