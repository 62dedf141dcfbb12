"""Admin pages for webhook subscriptions and their delivery log."""

from django.contrib import admin, messages

from .models import Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Staff see every subscription; the form runs the model's checks
    (SSRF, resource types) through ``full_clean``. The signing secret is
    never displayed on its pages: it is shown once, in the message after
    the subscription is added (as the API shows it once, at creation)."""

    list_display = ["id", "target_url", "owner", "active", "resource_types", "proposal_pk", "dispatched_seq"]
    list_filter = ["active"]
    list_select_related = ["owner"]
    search_fields = ["target_url", "owner__username"]
    readonly_fields = ["dispatched_seq", "created_at"]
    raw_id_fields = ["owner"]

    def response_add(self, request, obj, post_url_continue=None):
        messages.warning(
            request,
            f"The signing secret of subscription {obj.pk} is {obj.secret}. Copy it now: it is not shown again.",
        )
        return super().response_add(request, obj, post_url_continue)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only."""

    list_display = ["id", "event_type", "seq", "subscription", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status"]
    list_select_related = ["subscription__owner"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
