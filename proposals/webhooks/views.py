"""``/api/v1/webhooks/``: an editor's own subscriptions and their delivery log."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from ..api.pagination import PageNumberPagination
from ..api.parsers import JSONParser
from ..api.permissions import ModelPermissionsOrReadOnly
from ..api.serializers import StrictFieldsMixin
from ..changes.feed import RESOURCE_TYPES
from ..models import Proposal
from .models import Delivery, Subscription


class SubscriptionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A webhook subscription. ``secret`` (``whsec_…``) is shown once, in
    the answer to the ``POST`` that creates it: keep it to verify
    signatures."""

    resource_types = serializers.ListField(
        child=serializers.ChoiceField(choices=RESOURCE_TYPES),
        required=False,
        help_text="Send only changes of these resource types; empty or absent for all.",
    )
    proposal = serializers.SlugField(
        required=False, allow_null=True, help_text="Send only changes of this proposal (slug) and its parts."
    )
    secret = serializers.SerializerMethodField(help_text="Shown only when the subscription is created.")
    deliveries = serializers.HyperlinkedIdentityField(view_name="webhook-deliveries")

    class Meta:
        model = Subscription
        fields = ["id", "target_url", "resource_types", "proposal", "active", "secret", "created_at", "deliveries"]
        read_only_fields = ["id", "created_at"]

    def get_secret(self, subscription) -> str | None:
        return subscription.secret if self.context.get("show_secret") else None

    def to_representation(self, subscription):
        data = super().to_representation(subscription)
        pk = subscription.proposal_pk
        data["proposal"] = (
            Proposal._base_manager.filter(pk=pk).values_list("slug", flat=True).first() if pk is not None else None
        )
        return data

    def validate_proposal(self, slug):
        if slug is None:
            return None
        pk = Proposal.objects.filter(slug=slug).values_list("pk", flat=True).first()
        if pk is None:
            raise serializers.ValidationError(f"No proposal with slug {slug!r}.")
        return pk

    def _save(self, instance, data):
        if "proposal" in data:
            instance.proposal_pk = data.pop("proposal")
        for name, value in data.items():
            setattr(instance, name, value)
        instance.full_clean()  # the model's rules: SSRF check, resource types
        if instance.pk is None:
            # New subscriptions get the changes made from now on.
            from ..changes.models import ChangeCounter

            instance.dispatched_seq = ChangeCounter.objects.values_list("value", flat=True).first() or 0
        instance.save()
        return instance

    def create(self, validated_data):
        return self._save(Subscription(owner=self.context["request"].user), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


class DeliverySerializer(serializers.ModelSerializer):
    """One change sent to the subscription: its status and tries."""

    class Meta:
        model = Delivery
        fields = [
            "id",
            "seq",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


class DeliveryPageSerializer(serializers.Serializer):
    """A page of the delivery log (the project's page-number pagination)."""

    count = serializers.IntegerField()
    count_capped = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DeliverySerializer(many=True)


WEBHOOK_DOCS = (
    "Each change of the change feed that matches the subscription is POSTed to `target_url` as JSON "
    '`{"type": "<resource_type>.<change>", "timestamp": …, "data": <the feed entry>}`, by a background '
    "worker (never inside the request that made the change), signed per the Standard Webhooks "
    "specification: headers `webhook-id` (the same on every retry: deduplicate by it), `webhook-timestamp` "
    "(Unix seconds: refuse old ones, against replays) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "
    '"{webhook-id}.{webhook-timestamp}.{body}" keyed with the secret\'s base64-decoded part after '
    "`whsec_`>`). A non-2xx answer or no answer within the timeout is retried with exponential backoff; "
    "the delivery log (`deliveries`) shows each one's status, attempts and last error.\n\nVerify in Python "
    "with the specification's library:\n\n```python\nfrom standardwebhooks.webhooks import Webhook\n\n"
    "Webhook(secret).verify(request_body, request_headers)  # raises WebhookVerificationError\n```\n\n"
    "Targets that resolve to loopback, private, link-local, multicast or reserved addresses, or to the "
    "tracker itself, are refused with a 400 (server-side request forgery, OWASP), when saved and again at "
    "each delivery; redirects are not followed. Only editors may subscribe; each user sees only their own "
    "subscriptions (others' are 404)."
)


@extend_schema_view(
    list=extend_schema(summary="Your webhook subscriptions", description=WEBHOOK_DOCS),
    retrieve=extend_schema(summary="One of your webhook subscriptions", description=WEBHOOK_DOCS),
    create=extend_schema(
        summary="Subscribe to changes by webhook",
        description="Answers 201 with the subscription and, this once, its `secret`.\n\n" + WEBHOOK_DOCS,
    ),
    update=extend_schema(
        summary="Change a webhook subscription",
        description="Sets the fields sent (`target_url` is required; the others keep their value when left out); "
        "the target is checked again (SSRF). The secret stays the same.\n\n" + WEBHOOK_DOCS,
    ),
    partial_update=extend_schema(
        summary="Change some fields of a webhook subscription",
        description='Changes only the fields sent, e.g. `{"active": false}` to pause deliveries.\n\n' + WEBHOOK_DOCS,
    ),
    destroy=extend_schema(summary="Delete a webhook subscription", description="Its delivery log goes with it."),
)
class SubscriptionViewSet(viewsets.ModelViewSet):
    """Webhook subscriptions to the change feed (editors only; each sees
    their own)."""

    who_may_read = "any signed-in user or token holder, for their own subscriptions (others' are 404); anonymous: 401."
    serializer_class = SubscriptionSerializer
    permission_classes = [IsAuthenticated, ModelPermissionsOrReadOnly]
    parser_classes = [JSONParser]
    pagination_class = PageNumberPagination
    filter_backends = []
    queryset = Subscription.objects.none()

    def get_queryset(self):
        if not self.request.user.is_authenticated:
            return Subscription.objects.none()
        return Subscription.objects.filter(owner=self.request.user).order_by("id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["show_secret"] = self.action == "create"
        return context

    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.save()

    @extend_schema(
        summary="Delivery log of a webhook subscription",
        description="Newest first, paginated: each change sent, its status (`pending`, `succeeded`, `failed` "
        "after the last try), attempts, last HTTP status and error, and when the next try is due.",
        responses={200: DeliveryPageSerializer},
    )
    @action(detail=True, methods=["get"], serializer_class=DeliverySerializer)
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        page = self.paginate_queryset(Delivery.objects.filter(subscription=subscription).order_by("-id"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
