"""Admin for suggestions: a list with filters, accept/reject actions and
confirmation pages that call the services, and a read-only table of a
source's suggestions on the source's page (``SuggestionInline``)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ..models import Suggestion, SuggestionState
from ..reader import MARK_PROVIDERS
from . import services


def _decide(request, suggestion, verb: str) -> bool:
    """Call the service; report the outcome as an admin message."""
    try:
        if verb == "accept":
            services.suggestion_accept(suggestion=suggestion, user=request.user)
        else:
            services.suggestion_reject(suggestion=suggestion, user=request.user)
    except services.SuggestionConflict as exc:
        messages.error(request, f"#{suggestion.pk}: {exc}")
        return False
    except ValidationError as exc:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in getattr(exc, "message_dict", {"": exc.messages}).items())
        messages.error(request, f"#{suggestion.pk} not accepted: {detail} Correct it through the API's accept body.")
        return False
    return True


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "source", "proposal", "short_quote", "what", "occurred_on", "confidence", "state"]
    list_filter = ["state", "kind", "source"]
    list_select_related = ["source", "proposal"]
    search_fields = ["quote", "title", "party_name", "proponent_name"]
    readonly_fields = [f.name for f in Suggestion._meta.fields]
    actions = ["accept_selected", "reject_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("source__text")

    def has_add_permission(self, request):
        return False  # suggestions come from the engine (manage.py suggest, the API)

    def has_change_permission(self, request, obj=None):
        # Viewing only: a suggestion changes by being accepted or rejected.
        return False

    @admin.display(description="quote")
    def short_quote(self, obj):
        return obj.quote if len(obj.quote) <= 80 else obj.quote[:77] + "..."

    @admin.display(description="what")
    def what(self, obj):
        return " ".join(x for x in (obj.title, obj.status, obj.action, obj.party_name) if x)

    def _may_decide(self, request):
        return request.user.has_perm("proposals.change_suggestion")

    @admin.action(description="Accept the selected suggestions")
    def accept_selected(self, request, queryset):
        if not self._may_decide(request):
            raise PermissionDenied
        done = sum(_decide(request, s, "accept") for s in queryset)
        messages.info(request, f"{done} suggestion(s) accepted.")

    @admin.action(description="Reject the selected suggestions")
    def reject_selected(self, request, queryset):
        if not self._may_decide(request):
            raise PermissionDenied
        done = sum(_decide(request, s, "reject") for s in queryset)
        messages.info(request, f"{done} suggestion(s) rejected.")

    def get_urls(self):
        return [
            path(
                "<int:pk>/accept/",
                self.admin_site.admin_view(self.decide_view),
                {"verb": "accept"},
                name="proposals_suggestion_accept",
            ),
            path(
                "<int:pk>/reject/",
                self.admin_site.admin_view(self.decide_view),
                {"verb": "reject"},
                name="proposals_suggestion_reject",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk, verb):
        """GET: a confirmation page; POST: accept or reject, back to the source."""
        if not self._may_decide(request):
            raise PermissionDenied
        suggestion = get_object_or_404(Suggestion.objects.select_related("source", "proposal"), pk=pk)
        # From the reader's list (?back=reader), back to the reader.
        page = "reader" if request.GET.get("back") == "reader" else "change"
        back = reverse(f"admin:proposals_source_{page}", args=[suggestion.source_id])
        if request.method == "POST":
            if _decide(request, suggestion, verb):
                messages.success(request, f"Suggestion #{suggestion.pk} {verb}ed.")
            return redirect(back)
        context = {**self.admin_site.each_context(request), "suggestion": suggestion, "verb": verb, "back": back}
        return TemplateResponse(request, "admin/proposals/suggestion/decide.html", context)


# The reader highlights pending suggestions beside the quotes.
if services.suggestion_marks not in MARK_PROVIDERS:
    MARK_PROVIDERS.append(services.suggestion_marks)


class SourceSuggestionsMixin:
    """For the source's admin page: a read-only table of its suggestions,
    with accept and reject links (a field, not an inline, so the source's
    form posts nothing new). One query, however many suggestions."""

    @admin.display(description="suggestions")
    def suggestions_table(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        rows = obj.suggestions.select_related("proposal").order_by("start", "id")
        cells = []
        for s in rows:
            target = s.proposal.slug if s.proposal_id else s.title
            what = " ".join(x for x in (s.status, s.action, s.party_name, str(s.occurred_on or "")) if x)
            if s.state == SuggestionState.PENDING:
                decide = format_html(
                    '<a href="{}">accept</a> · <a href="{}">reject</a>',
                    reverse("admin:proposals_suggestion_accept", args=[s.pk]),
                    reverse("admin:proposals_suggestion_reject", args=[s.pk]),
                )
            else:
                decide = s.state
            cells.append(
                format_html(
                    '<tr><td><a href="{}">{}</a></td><td><a href="{}" title="In the reader">{}–{}</a></td>'
                    "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    reverse("admin:proposals_suggestion_change", args=[s.pk]),
                    s.get_kind_display(),
                    # The reader highlights pending suggestions (anchor s<pk>); a
                    # decided one is shown there by its quote, if accepted.
                    reverse("admin:proposals_source_reader", args=[obj.pk])
                    + (f"#s{s.pk}" if s.state == SuggestionState.PENDING else ""),
                    s.start,
                    s.end,
                    s.quote if len(s.quote) <= 120 else s.quote[:117] + "...",
                    target,
                    what,
                    f"{s.confidence:.2f}",
                    decide,
                )
            )
        if not cells:
            return "None yet: run manage.py suggest or POST /api/v1/sources/{slug}/suggest/."
        head = format_html(
            "<table><thead><tr><th>kind</th><th>offsets</th><th>quote</th><th>proposal / title</th><th>what</th>"
            "<th>confidence</th><th>decide</th></tr></thead><tbody>{}</tbody></table>",
            format_html("".join(["{}"] * len(cells)), *cells),
        )
        return head
