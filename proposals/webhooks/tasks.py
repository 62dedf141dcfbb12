"""The background tasks (Django's tasks framework, ``django-tasks``)."""

from django_tasks import task

from . import delivery


@task()
def dispatch_changes() -> int:
    """Make deliveries of the changes not yet dispatched, and queue them."""
    return delivery.dispatch()


@task()
def deliver(delivery_id: int) -> str:
    """One attempt at one delivery (retries queue themselves)."""
    return delivery.attempt(delivery_id)
