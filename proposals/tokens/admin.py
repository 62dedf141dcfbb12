"""The admin's page for API tokens: issue one for a user (shown once),
list every user's tokens with their expiry, revoke them. Replaces knox's
own admin, which asks for a digest and a token key (so a token could only
be issued from a shell) and shows the digests."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from knox.models import AuthToken
from knox.settings import knox_settings

from . import MAX_DAYS, token_issue


class TokenIssueForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        help_text="The token acts with this user's permissions.",
    )
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        label="Expires after (days)",
        help_text=f"1 to {MAX_DAYS}; empty: the configured lifetime ({knox_settings.TOKEN_TTL.days} days).",
    )


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(expiry__gt=now)
        if self.value() == "expired":
            return queryset.filter(expiry__lte=now)
        return queryset


admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """Tokens by user, newest first. No digest or key is shown or asked
    for; "Add" issues a token and shows it once; "Revoke" deletes. No
    change, view, history or delete page (see ``get_urls``)."""

    list_display = ["user", "created", "expiry", "state"]
    list_display_links = None
    list_filter = [TokenStateFilter]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    ordering = ["-created"]
    actions = ["revoke_selected"]
    list_per_page = 50

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle" aria-label="Select all">'))
    def action_checkbox(self, obj):
        # Django's names the token by str(), which is its digest.
        label = f"Select the token of {obj.user} created {obj.created:%Y-%m-%d %H:%M}"
        checkbox = forms.CheckboxInput({"class": "action-select", "aria-label": label}, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))

    @admin.display(description="state")
    def state(self, obj):
        return "expired" if obj.expiry and obj.expiry <= timezone.now() else "live"

    def has_change_permission(self, request, obj=None):
        return False  # a token is issued or revoked, never edited

    change_list_template = "admin/proposals/token_change_list.html"

    def get_urls(self):
        """The list (with the Revoke action) and the Issue page only: a
        token is never edited, and knox's primary key is the token's digest,
        which would be the address of a view or delete page. (The digest is
        a hash of the token, not the token, but it is not shown anywhere but
        as the list checkbox's value, which the Revoke action posts.)"""
        from django.urls import path

        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("", self.admin_site.admin_view(self.changelist_view), name=f"{name}_changelist"),
            path("add/", self.admin_site.admin_view(self.add_view), name=f"{name}_add"),
        ]

    def changelist_view(self, request, extra_context=None):
        # Django's title is "Select auth token to view".
        return super().changelist_view(request, {"title": "API tokens", **(extra_context or {})})

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # its confirmation page would list the digests
        return actions

    @admin.action(description="Revoke selected tokens", permissions=["delete"])
    def revoke_selected(self, request, queryset):
        count, _ = queryset.delete()
        self.message_user(request, f"Revoked {count} token(s). Clients using them get 401 from now on.")

    def add_view(self, request, form_url="", extra_context=None):
        """Issue a token: pick the user (and a lifetime), see the token once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TokenIssueForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Issue an API token",
            "opts": self.model._meta,
            "form": form,
            "issued": None,
        }
        if request.method == "POST" and form.is_valid():
            try:
                instance, token = token_issue(
                    user=form.cleaned_data["user"], days=form.cleaned_data["days"], issued_by=request.user
                )
            except ValidationError as exc:
                form.add_error(None, exc)  # a dict of field errors lands on those fields
            else:
                context.update({"issued": instance, "token": token, "title": "Token issued"})
                messages.success(request, f"Issued a token for {instance.user}. Copy it now: it is not shown again.")
        response = TemplateResponse(request, "admin/proposals/token_issue.html", context)
        # The token must not be kept by the browser's or a proxy's cache.
        response["Cache-Control"] = "no-store"
        return response
