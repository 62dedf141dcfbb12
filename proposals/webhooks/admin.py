"""Admin pages for webhook subscriptions and their delivery log."""

from django.contrib import admin

from .models import Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Staff see every subscription; the form runs the model's checks
    (SSRF, resource types) through ``full_clean``."""

    list_display = ["id", "target_url", "owner", "active", "resource_types", "proposal_pk", "dispatched_seq"]
    list_filter = ["active"]
    list_select_related = ["owner"]
    search_fields = ["target_url", "owner__username"]
    readonly_fields = ["secret", "dispatched_seq", "created_at"]
    raw_id_fields = ["owner"]


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
