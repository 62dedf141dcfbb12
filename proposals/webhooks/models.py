"""Webhook subscriptions and their delivery log.

The change feed is the outbox: a subscription keeps the ``seq`` up to which
it has been dispatched (``dispatched_seq``), and the dispatcher turns the
feed's later changes into :class:`Delivery` rows. A write therefore only
asks, on commit, for a dispatch to run; if that request is lost (a crash
between the commit and the enqueue, a worker killed), the next dispatch
picks the changes up from the feed, so none is lost.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Subscription(models.Model):
    """Someone's request to be told of changes: each matching change of the
    change feed is POSTed to ``target_url``, signed with ``secret``.

    ``resource_types`` (empty: all) and ``proposal_pk`` (none: all) filter the
    changes, as the feed's own parameters do. Not a user's session: the
    owner manages it through the API or the admin."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    target_url = models.URLField(max_length=1000, help_text="Where changes are POSTed (http or https).")
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    resource_types = models.JSONField(default=list, blank=True, help_text="Resource types to send; empty for all.")
    # An id, not a foreign key: the subscription outlives the proposal's
    # deletion (its tombstone is delivered) and follows it when restored.
    proposal_pk = models.BigIntegerField(null=True, blank=True, help_text="Only this proposal (id) and its parts.")
    active = models.BooleanField(default=True)
    dispatched_seq = models.BigIntegerField(
        default=0, editable=False, help_text="Changes up to this seq have been turned into deliveries."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.target_url} ({self.owner})"

    def clean(self):
        """Refuses a target that fails the SSRF check
        (``delivery.resolve_target``: loopback, private, link-local,
        multicast, reserved, this server) and unknown resource types, with a
        ``ValidationError`` naming the field."""
        super().clean()
        from ..changes.feed import KINDS
        from .delivery import resolve_target

        if self.target_url:
            resolve_target(self.target_url)
        if not isinstance(self.resource_types, list) or not all(isinstance(k, str) for k in self.resource_types):
            raise ValidationError({"resource_types": "Give a list of resource types."})
        unknown = sorted(set(self.resource_types) - set(KINDS))
        if unknown:
            raise ValidationError({"resource_types": f"Unknown: {', '.join(unknown)}. Known: {', '.join(KINDS)}."})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (gave up)"


class Delivery(models.Model):
    """One change sent (or to be sent) to one subscription, with its tries.

    ``payload`` is fixed when the delivery is made, so every retry sends the
    same bytes under the same ``webhook-id`` (receivers deduplicate by it).
    ``lease_until`` marks an attempt in progress; a worker killed mid-attempt
    leaves it to expire, and the delivery is tried again."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    seq = models.BigIntegerField(help_text="The change's seq in the change feed.")
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["subscription", "seq"], name="delivery_once_per_change")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self):
        return f"{self.event_type} #{self.seq} → {self.subscription.target_url}"

    @property
    def message_id(self) -> str:
        """The ``webhook-id``: the same on every retry of this delivery."""
        return f"msg_{self.subscription_id}_{self.seq}"
