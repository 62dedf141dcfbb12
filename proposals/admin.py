"""The staff's main tool. One ModelAdmin per model.

Status changes made here go through ``proposals.services`` like everywhere
else; quotes are verified by ``Evidence.clean``, so a bad quote or offset is
a form error, never a 500. Every changelist loads its relations up front, so
no list does a query per row.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, F, Value
from django.db.models.functions import Greatest, Substr
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .bulk import admin as bulk_admin
from .models import (
    STATUS_EXPLANATIONS,
    Actor,
    Evidence,
    Participation,
    Proponent,
    Proposal,
    ProposalRelation,
    Source,
    Status,
    StatusEvent,
    Topic,
    Venue,
    check_one_primary,
)
from .suggestions.admin import SourceSuggestionsMixin
from .tracking import services as tracking
from .tracking.admin import (
    ActorAliasInline,
    ParticipationInline,
    ProposalAliasInline,
    TopicAliasInline,
    VenueAliasInline,
    save_inline_rows,
)

# --------------------------------------------------------------------------
# Optimistic locking: a stale admin save is refused, not silently applied.
# --------------------------------------------------------------------------


class VersionCheckedForm(forms.ModelForm):
    """Carries the row's ``version`` through the form and refuses the save if
    someone else saved the row since this form was opened.

    The check locks the row (``select_for_update``) inside the admin's own
    transaction, so two staff saving at the same instant cannot both pass.
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_reason = forms.CharField(
        required=False,
        max_length=100,
        label="Reason for this change",
        help_text="Shown in the history. Left empty, the history says what changed.",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    #: Set by the history (revert) view: the live row's version when the
    #: page was opened. The form's instance there is an old version, whose
    #: own version number would make every revert look stale.
    live_version: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.live_version or self.instance.version

    def clean(self):
        cleaned = super().clean()
        seen = cleaned.get("seen_version")
        if self.instance.pk and seen is not None:
            model = type(self.instance)
            current = (
                model.objects.select_for_update().filter(pk=self.instance.pk).values_list("version", flat=True).first()
            )
            if current is not None and current != seen:
                raise ValidationError(
                    f"Someone else saved this {model._meta.verbose_name} while you were editing it "
                    f"(version {seen} → {current}). Your changes were not saved: open it again, "
                    "then re-apply them."
                )
        return cleaned


def _adopt(target, saved) -> None:
    """Make the admin's own object (``target``) the one a service saved, so
    the admin's log entry, message and redirect name the saved record."""
    state = target._state
    target.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
    state.adding, state.db = False, saved._state.db


def _read_only_init(form_class):
    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **kwargs)
        for field in self.fields.values():
            field.disabled = True

    return __init__


def _form_data(form, model) -> dict:
    """The cleaned values of a form's fields that the services let it set."""
    editable = services.EDITABLE_FIELDS[model]
    return {name: value for name, value in form.cleaned_data.items() if name in editable}


#: The part counts of a restore, said of one.
_SINGULAR = {
    "topics": "topic",
    "parties": "party",
    "proponents": "proponent",
    "status events": "status event",
    "relations": "relation",
    "aliases": "alias",
}


def _history_label(row) -> str:
    """A deleted record's name from its history row, without building the
    instance (a proposal's would load its excluded search vector: a query
    per row)."""
    for name in ("title", "name", "quote"):
        value = getattr(row, name, None)
        if value:
            return value if len(value) <= 80 else value[:77] + "..."
    return str(row.instance)


#: Fields that change on every save; the history's "Changes" column leaves
#: them out (the row itself says that it is a new version).
_BOOKKEEPING = ["version", "updated_at", "created_at", "sha256", "search_vector", "recorded_at"]


def _note_reason(request, form) -> None:
    """The reason staff typed, for every history row this request writes."""
    reason = (getattr(form, "cleaned_data", None) or {}).get("change_reason", "").strip()
    if reason:
        with services.write_batch(request.user) as batch:
            batch.note = f"{reason}; {batch.note}" if batch.note else reason


class HistoryAdmin(SimpleHistoryAdmin):
    """Every model keeps its history; staff see it from each change page,
    revert to any version, and find deleted records under "Deleted records"
    to restore them.

    Every write goes through ``proposals.services`` (saves, deletes, the
    "delete selected" action, reverts and restores), so the admin obeys the
    same rules and has the same effects (versions, ETags, history) as the
    API and the loader. Each request is one write batch: its effects are
    applied once, in its transaction.
    """

    change_list_template = "admin/proposals/change_list_with_deleted.html"
    # Notes and descriptions start at three lines (Django's default is ten);
    # the boxes grow by dragging.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 80})}}
    object_history_list_template = "admin/proposals/object_history_list.html"
    object_history_form_template = "admin/proposals/object_history_form.html"

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each row's changes against the row before it, old → new, without
        the bookkeeping fields that change on every save."""
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current,
                    excluded_fields=[f for f in _BOOKKEEPING if hasattr(current, f)],
                    foreign_keys_are_objs=foreign_keys_are_objs,
                )
                helper = self.get_historical_record_context_helper(request, previous)
                changes = helper.context_for_delta_changes(delta)
                # The status is not editable (it follows the status events),
                # so simple-history's diff leaves it out; it is the news.
                if getattr(previous, "status", None) != getattr(current, "status", None):
                    changes.insert(
                        0,
                        {
                            "field": "Status",
                            "old": current.get_status_display(),
                            "new": previous.get_status_display(),
                        },
                    )
                previous.history_delta_changes = changes
            previous = current

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The version check locks the row; the lock must last until the save.
        with services.write_batch(request.user):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        with services.write_batch(request.user):
            return super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        # Actions ("delete selected") write from here.
        if request.method == "POST":
            with services.write_batch(request.user):
                return super().changelist_view(request, extra_context)
        return super().changelist_view(request, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Revert a live record to a version (the form is saved through
        ``save_model``), or restore a deleted one exactly as it was when it
        was deleted (``services.record_restore``)."""
        deleted = not (str(object_id).isdigit() and self.model._base_manager.filter(pk=object_id).exists())
        request._history_mode = "restore" if deleted else "revert"
        if deleted and request.method == "POST":
            # Outside any batch: the service commits before the message is
            # queued, so a failed restore never reports success.
            return self._restore(request, object_id)
        live = None
        if not deleted:
            queryset = self.model._base_manager.filter(pk=object_id)
            if self.model is Proposal:
                queryset = queryset.defer("search_vector")
            live = queryset.first()
        extra_context = {**(extra_context or {}), "restore_mode": deleted, "live_label": str(live) if live else ""}
        with services.write_batch(request.user) as batch:
            if request.method == "POST" and live is not None:
                old = self.model.history.filter(history_id=version_id).values("history_date").first()
                if old is not None:
                    batch.note = f"reverted to the version of {old['history_date']:%Y-%m-%d %H:%M}"
            return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        """No Revert/Restore button for a user who may not change these
        records (the POST would be refused with a 403 anyway)."""
        return super().revert_disabled(request, obj) or not self.has_change_permission(request)

    def history_form_view_title(self, request, obj):
        if getattr(request, "_history_mode", None) == "restore" and not self.revert_disabled(request, obj):
            return f"Restore {obj}"
        return super().history_form_view_title(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        mode = getattr(request, "_history_mode", None)
        if mode == "revert" and obj is not None and issubclass(form, VersionCheckedForm):
            live = type(obj)._base_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
            form = type(form.__name__, (form,), {"live_version": live})
        elif mode == "restore":
            # A restore brings the record back as it was deleted; the page
            # shows those values, read-only, above the button.
            form = type(form.__name__, (form,), {"__init__": _read_only_init(form)})
        return form

    def _restore(self, request, object_id):
        opts = self.model._meta
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            restored = services.record_restore(model=self.model, pk=int(object_id), user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_deleted")
        parts = getattr(restored, "_restored_parts", None)
        detail = ""
        if parts:
            detail = " with " + ", ".join(
                f"{n} {_SINGULAR.get(kind, kind) if n == 1 else kind}" for kind, n in parts.items()
            )
        messages.success(request, f"Restored {opts.verbose_name} “{restored}”{detail}, as it was when deleted.")
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", restored.pk)

    def get_urls(self):
        opts = self.model._meta
        extra = [
            path(
                "deleted/",
                self.admin_site.admin_view(self.deleted_view),
                name=f"{opts.app_label}_{opts.model_name}_deleted",
            )
        ]
        return extra + super().get_urls()

    def deleted_view(self, request):
        """Records of this kind that were deleted and can be restored,
        newest deletion first, each linked to its restore page."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        opts = self.model._meta
        rows = list(services.deleted_records(self.model)[:500])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deleted {opts.verbose_name_plural}",
            "opts": opts,
            "rows": [
                {
                    "label": _history_label(row),
                    "id": row.id,
                    "date": row.history_date,
                    "user": row.history_user,
                    "restore_url": reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=(row.id, row.history_id)
                    ),
                }
                for row in rows
            ],
        }
        return TemplateResponse(request, "admin/proposals/deleted_records.html", context)

    def save_model(self, request, obj, form, change):
        _note_reason(request, form)
        model = type(obj)
        data = _form_data(form, model)
        if change:
            saved = services.record_save(instance=model._base_manager.get(pk=obj.pk), user=request.user, **data)
        else:
            saved = services.record_save(instance=model(), user=request.user, **data)
        _adopt(obj, saved)

    def delete_model(self, request, obj):
        services.record_delete(instance=obj, user=request.user)

    def save_formset(self, request, form, formset, change):
        """Inline rows (aliases) are written through the services too."""
        save_inline_rows(request, form.instance, formset)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.record_delete(instance=obj, user=request.user)

    def get_deleted_objects(self, objs, request):
        # Many-to-many links the model protects (``delete_blockers``) are
        # shown as protected, so the admin refuses the delete as the API does.
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        for obj in objs:
            blockers = getattr(obj, "delete_blockers", None)
            if blockers is not None:
                protected = [*protected, *(f"Proposal: {p}" for p in blockers()[:20])]
        return deleted, counts, perms, protected


# --------------------------------------------------------------------------
# Inlines on the proposal page
# --------------------------------------------------------------------------


class EvidenceForm(forms.ModelForm):
    # strip=False: a trimmed quote would no longer match its offsets.
    quote = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))

    class Meta:
        model = Evidence
        fields = ["source", "quote", "start", "end", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The box shows the whole quote: as many rows as it needs.
        quote = self.instance.quote or ""
        rows = sum(len(line) // 90 + 1 for line in quote.split("\n")) if quote else 3
        self.fields["quote"].widget.attrs["rows"] = max(3, min(rows, 30))


#: Characters of the source shown on each side of a quote in context (about
#: two lines of the proposal page's quote box each).
CONTEXT_CHARS = 160


def with_context(queryset):
    """Evidence with ``context_before``/``context_after``: up to
    ``CONTEXT_CHARS`` code points of the source on each side of the quote,
    cut by the database (no query per row, never the whole text).
    ``context_after`` holds one code point more when the text goes on past
    the shown context (``quote_in_context`` drops it and shows "…")."""
    begin = Greatest(F("start") - (CONTEXT_CHARS - 1), Value(1))
    return queryset.annotate(
        context_before=Substr("source__text", begin, F("start") + 1 - begin),
        context_after=Substr("source__text", F("end") + 1, Value(CONTEXT_CHARS + 1)),
    )


@admin.display(description="in context")
def quote_in_context(obj):
    """The quote highlighted in a few lines of its source, with a link to the
    reader at that spot; "…" only where the text goes on (not before a quote
    that starts the text, nor after one that ends it)."""
    if obj is None or obj.pk is None or getattr(obj, "context_before", None) is None:
        return "—"
    reader = reverse("admin:proposals_source_reader", args=[obj.source_id])
    # Both lengths count code points, in the database's Substr and here.
    before = "…" if len(obj.context_before) < obj.start else ""
    after_text = obj.context_after[:CONTEXT_CHARS]
    after = "…" if len(obj.context_after) > CONTEXT_CHARS else ""
    return format_html(
        '<div class="quote-context">{}{}<mark>{}</mark>{}{}</div><a href="{}#q{}" class="readerlink">{}</a>',
        before,
        obj.context_before,
        obj.quote,
        after_text,
        after,
        reader,
        obj.pk,
        "Open in the reader at this quote",
    )


def _prefetched_optgroups(self, name, value, attr=None):
    """``AutocompleteSelect.optgroups`` from labels the formset loaded once
    (Django's queries the selected record for every row)."""
    default = (None, [], 0)
    selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
    if not self.is_required and not self.allow_multiple_selected:
        default[1].append(self.create_option(name, "", "", False, 0))
    for pk in selected:
        if pk in self.prefetched_labels:
            default[1].append(self.create_option(name, pk, self.prefetched_labels[pk], True, len(default[1])))
    return [default]


class SharedChoicesFormSet(forms.BaseInlineFormSet):
    """Loads the options of every row's relation fields once for the whole
    inline, not once per row: plain selects share one list of choices,
    autocomplete fields one query for the records the rows name. So the
    proposal page's queries do not grow with its quotes and events."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        shared = self.__dict__.setdefault("_shared_choices", {})
        for name, field in form.fields.items():
            if not isinstance(field, forms.ModelChoiceField) or isinstance(field, forms.ModelMultipleChoiceField):
                continue
            if field.widget.is_hidden:
                # The row's own "id": its choices are every row of the model
                # in the database, and a hidden input never lists them.
                continue
            widget = getattr(field.widget, "widget", field.widget)
            if isinstance(widget, admin.widgets.AutocompleteSelect):
                if name not in shared:
                    ids = {getattr(obj, f"{name}_id", None) for obj in self.get_queryset()} - {None}
                    queryset = field.queryset.filter(pk__in=ids)
                    if field.queryset.model is Source:
                        queryset = queryset.defer("text")
                    shared[name] = {str(obj.pk): field.label_from_instance(obj) for obj in queryset}
                widget.prefetched_labels = shared[name]
                widget.optgroups = _prefetched_optgroups.__get__(widget)
            elif name != formset_fk_name(self):
                if name not in shared:
                    shared[name] = list(field.choices)
                field.widget.choices = widget.choices = shared[name]
        return form


def formset_fk_name(formset) -> str:
    return formset.fk.name


class EvidenceFormSet(SharedChoicesFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.errors or not form.cleaned_data:
                continue
            key = (form.instance.source_id, form.instance.start, form.instance.end)
            if key in seen:
                form.add_error("quote", "The same quote at the same offsets is entered twice.")
            seen.add(key)


class EvidenceInline(admin.StackedInline):
    model = Evidence
    form = EvidenceForm
    formset = EvidenceFormSet
    extra = 0
    autocomplete_fields = ["source"]
    fields = [("source", "start", "end"), "quote", "in_context", "note"]
    readonly_fields = ["in_context"]
    show_change_link = True

    def get_queryset(self, request):
        return with_context(super().get_queryset(request).select_related("source").defer("source__text"))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "source" and isinstance(field.widget, admin.widgets.RelatedFieldWidgetWrapper):
            # Only the "view" link per quote: add/change/delete-source popups
            # on every row made a 200-quote page 1.6 MB (the source list
            # and the reader are a click away).
            wrapper = field.widget
            wrapper.can_add_related = wrapper.can_change_related = wrapper.can_delete_related = False
        return field

    def in_context(self, obj):
        return quote_in_context(obj)

    in_context.short_description = "in context"


class ProponentFormSet(SharedChoicesFormSet):
    """Checks the primary-proponent rule over all rows at once
    (``check_one_primary``): a row-by-row check against the database would
    refuse moving the primary mark from one row to another in one save."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.primary_checked_by_caller = True
        return form

    def clean(self):
        super().clean()
        check_one_primary(
            form.cleaned_data.get("is_primary")
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        )


class ProponentInline(admin.TabularInline):
    model = Proponent
    formset = ProponentFormSet
    extra = 0
    autocomplete_fields = ["actor"]
    fields = ["actor", "role", "is_primary", "evidence", "note"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "evidence")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "evidence":
            # Offer only this proposal's own quotes.
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = (
                Evidence.objects.filter(proposal_id=object_id) if object_id else Evidence.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StatusEventInline(admin.TabularInline):
    """The timeline. New rows go through ``services.status_event_record``,
    which moves the proposal's current status."""

    model = StatusEvent
    formset = SharedChoicesFormSet
    extra = 0
    fields = ["occurred_on", "precision", "status", "note", "evidence", "recorded"]
    readonly_fields = ["recorded"]

    @admin.display(description="recorded")
    def recorded(self, obj):
        # One column for who and when: the timeline fits 1280 px.
        if obj is None or obj.pk is None:
            return "—"
        return f"{obj.recorded_by or obj.recorded_by_role or 'system'}, {obj.recorded_at:%Y-%m-%d}"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by", "evidence")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "evidence":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = (
                Evidence.objects.filter(proposal_id=object_id) if object_id else Evidence.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RelationInline(admin.TabularInline):
    model = ProposalRelation
    formset = SharedChoicesFormSet
    fk_name = "from_proposal"
    extra = 0
    autocomplete_fields = ["to_proposal"]
    fields = ["relation_type", "to_proposal", "note"]
    verbose_name = "related proposal"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("to_proposal")


# --------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------


class ProposalForm(VersionCheckedForm):
    class Meta:
        model = Proposal
        fields = [
            "slug",
            "title",
            "summary",
            "venue",
            "topics",
            "parties",
            "proposed_on",
            "proposed_precision",
            "proposed_note",
        ]


#: What the proposal list's search box looks in: titles, summaries, quotes
#: and slugs. Another name a proposal is known by (aliases) joins here as
#: one more lookup, e.g. "aliases__name".
PROPOSAL_SEARCH_FIELDS = ("title", "summary", "evidence__quote", "slug", "aliases__name")


@admin.register(Proposal)
class ProposalAdmin(HistoryAdmin):
    form = ProposalForm
    list_display = ["title", "status_badge", "venue", "primary_proponent_name", "proposed_on", "updated_at"]
    list_filter = ["status", "venue", "topics", ("proponents__actor", admin.RelatedOnlyFieldListFilter)]
    search_fields = PROPOSAL_SEARCH_FIELDS
    list_select_related = ["venue"]
    autocomplete_fields = ["venue", "topics", "parties"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "status_explained", "created_at", "updated_at", "version"]
    date_hierarchy = "proposed_on"
    list_per_page = 50
    inlines = [
        ProponentInline,
        EvidenceInline,
        StatusEventInline,
        RelationInline,
        ParticipationInline,
        ProposalAliasInline,
    ]
    actions = [bulk_admin.add_status_event, bulk_admin.attach_topic]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "seen_version", "change_reason"]}),
        ("Status", {"fields": ["status", "status_explained"], "description": "Add a status event below to change it."}),
        ("Where and when", {"fields": ["venue", ("proposed_on", "proposed_precision"), "proposed_note"]}),
        ("Classification", {"fields": ["topics", "parties"]}),
        ("Record", {"fields": ["created_at", "updated_at", "version"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("proponents__actor")

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and request.POST.get("action") in bulk_admin.BULK_ACTIONS:
            # A bulk action is its own write batch: all or nothing, and a
            # refusal leaves no marks behind in the changelist's batch.
            return admin.ModelAdmin.changelist_view(self, request, extra_context)
        return super().changelist_view(request, extra_context)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return obj.get_status_display()

    @admin.display(description="primary proponent")
    def primary_proponent_name(self, obj):
        link = obj.primary_proponent
        return link.actor.name if link else "—"

    @admin.display(description="meaning")
    def status_explained(self, obj):
        return STATUS_EXPLANATIONS.get(obj.status, "")

    def save_model(self, request, obj, form, change):
        _note_reason(request, form)
        data = _form_data(form, Proposal)
        links = {"topics": form.cleaned_data.get("topics"), "parties": form.cleaned_data.get("parties")}
        if change:
            saved = services.proposal_update(
                proposal=Proposal.objects.defer("search_vector").get(pk=obj.pk), user=request.user, **links, **data
            )
        else:
            # The timeline is opened in save_related, after the inline events.
            saved = services.proposal_create(user=request.user, initial_status=None, **links, **data)
        _adopt(obj, saved)
        # The links were written by the service; the admin (and
        # simple-history's revert view) would write them again directly.
        form.save_m2m = lambda: None

    def delete_model(self, request, obj):
        services.proposal_delete(proposal=obj, user=request.user)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        proposal = form.instance
        if not change and not proposal.events.exists():
            # Opened dated proposed_on, or left empty without a date (the service's rule).
            if services.proposal_open_timeline(proposal=proposal, status=Status.PROPOSED, user=request.user):
                messages.info(request, "No status event was given, so the proposal starts as “Proposed”.")

    def save_formset(self, request, form, formset, change):
        """Each inline row is written through the services, like the API's."""
        proposal = form.instance
        model = formset.model
        editable = services.EDITABLE_FIELDS[model]
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.record_delete(instance=obj, user=request.user)
        # Unmarking a primary proponent comes before marking another.
        writes = [(obj, None) for obj in formset.new_objects] + list(formset.changed_objects)
        writes.sort(key=lambda item: bool(getattr(item[0], "is_primary", False)))
        for obj, changed in writes:
            if changed is None:
                data = {name: getattr(obj, name) for name in editable if name in formset.form.base_fields}
                data[formset.fk.name] = proposal
                if model is StatusEvent:
                    services.status_event_record(user=request.user, **data)
                elif model is Participation:
                    tracking.participation_record(user=request.user, **data)
                else:
                    services.record_save(instance=model(), user=request.user, **data)
            else:
                data = {name: getattr(obj, name) for name in changed if name in editable}
                services.record_save(instance=model._base_manager.get(pk=obj.pk), user=request.user, **data)


# --------------------------------------------------------------------------
# Sources, actors, venues, topics
# --------------------------------------------------------------------------


class SourceForm(VersionCheckedForm):
    # strip=False: the text must be kept byte for byte; offsets index into it.
    text = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 20, "cols": 100}))

    class Meta:
        model = Source
        fields = [
            "slug",
            "title",
            "authors",
            "outlet",
            "published_on",
            "published_precision",
            "published_note",
            "url",
            "language",
            "text",
        ]


@admin.register(Source)
class SourceAdmin(SourceSuggestionsMixin, HistoryAdmin):
    form = SourceForm
    list_display = ["title", "authors", "outlet", "published_on", "published_precision", "evidence_count"]
    list_filter = ["published_precision", "language", "outlet"]
    search_fields = ["title", "authors", "outlet", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_on"
    # The autocomplete pages through sources; a total order keeps pages stable.
    ordering = ["title", "id"]

    def get_queryset(self, request):
        # The list never needs the (large) text column.
        return super().get_queryset(request).annotate(evidence_total=Count("evidence"))

    # The text stays editable: ``Source.clean`` refuses an edit that moves
    # any quote off its offsets, as it does for the API and the loader.
    readonly_fields = ["cited_by", "suggestions_table", "sha256", "created_at", "updated_at", "version"]

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        for name in (
            "seen_version",
            "change_reason",
            "cited_by",
            "suggestions_table",
            "sha256",
            "created_at",
            "updated_at",
            "version",
        ):
            if name in fields:
                fields.remove(name)
            fields.append(name)
        return fields

    @admin.display(description="evidence", ordering="evidence_total")
    def evidence_count(self, obj):
        return obj.evidence_total

    change_form_template = "admin/proposals/source/change_form.html"

    def get_urls(self):
        from .reader.views import source_reader_view

        reader = path(
            "<path:object_id>/reader/",
            self.admin_site.admin_view(lambda request, object_id: source_reader_view(self, request, object_id)),
            name="proposals_source_reader",
        )
        return [reader, *super().get_urls()]

    @admin.display(description="cited by")
    def cited_by(self, obj):
        """The proposals quoting this source, each with its number of quotes."""
        if obj is None or obj.pk is None:
            return "—"
        rows = (
            Evidence.objects.filter(source_id=obj.pk)
            .values("proposal_id", "proposal__title")
            .annotate(n=Count("id"))
            .order_by("proposal__title")
        )
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> ({})</li>',
            (
                (reverse("admin:proposals_proposal_change", args=[r["proposal_id"]]), r["proposal__title"], r["n"])
                for r in rows
            ),
        )
        reader = reverse("admin:proposals_source_reader", args=[obj.pk])
        return format_html(
            '<ul class="cited-by">{}</ul><a href="{}">Read the text with its quotes highlighted</a>',
            items or "—",
            reader,
        )


class ActorForm(VersionCheckedForm):
    class Meta:
        model = Actor
        fields = ["slug", "name", "named", "kind", "description", "affiliation", "country_code"]


@admin.register(Actor)
class ActorAdmin(HistoryAdmin):
    form = ActorForm
    list_display = ["name", "kind", "named", "affiliation", "country_code", "proposal_count"]
    list_filter = ["kind", "named"]
    search_fields = ["name", "description", "slug", "aliases__name"]
    list_select_related = ["affiliation"]
    inlines = [ActorAliasInline]
    autocomplete_fields = ["affiliation"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(proposal_total=Count("proponent_links__proposal", distinct=True))

    @admin.display(description="proposals", ordering="proposal_total")
    def proposal_count(self, obj):
        return obj.proposal_total


class VenueForm(VersionCheckedForm):
    class Meta:
        model = Venue
        fields = ["slug", "name", "kind", "organisation", "place", "starts_on", "ends_on", "note"]


@admin.register(Venue)
class VenueAdmin(HistoryAdmin):
    form = VenueForm
    list_display = ["name", "kind", "organisation", "place", "starts_on", "ends_on"]
    list_filter = ["kind"]
    search_fields = ["name", "place", "slug", "aliases__name"]
    inlines = [VenueAliasInline]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]
    prepopulated_fields = {"slug": ["name"]}


class TopicForm(VersionCheckedForm):
    class Meta:
        model = Topic
        fields = ["slug", "name", "description"]


@admin.register(Topic)
class TopicAdmin(HistoryAdmin):
    form = TopicForm
    list_display = ["name", "slug", "proposal_count"]
    search_fields = ["name", "description", "slug", "aliases__name"]
    inlines = [TopicAliasInline]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(proposal_total=Count("proposals"))

    @admin.display(description="proposals", ordering="proposal_total")
    def proposal_count(self, obj):
        return obj.proposal_total


# --------------------------------------------------------------------------
# The link tables, for staff who work across proposals
# --------------------------------------------------------------------------


class EvidenceAdminForm(EvidenceForm):
    class Meta(EvidenceForm.Meta):
        fields = ["proposal", *EvidenceForm.Meta.fields]


@admin.register(Evidence)
class EvidenceAdmin(HistoryAdmin):
    form = EvidenceAdminForm
    list_display = ["short_quote", "proposal", "source_title", "start", "end"]
    list_filter = [("source", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["quote", "proposal__title"]
    autocomplete_fields = ["proposal", "source"]
    fields = ["proposal", "source", "quote", ("start", "end"), "in_context", "note"]
    readonly_fields = ["in_context"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("proposal", "source").defer("source__text")

    def get_object(self, request, object_id, from_field=None):
        # The change page shows the quote in context; the list does not need it.
        queryset = with_context(self.get_queryset(request))
        model = queryset.model
        field = model._meta.pk if from_field is None else model._meta.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (model.DoesNotExist, ValidationError, ValueError):
            return None

    def in_context(self, obj):
        return quote_in_context(obj)

    in_context.short_description = "in context"

    @admin.display(description="quote")
    def short_quote(self, obj):
        return str(obj)

    @admin.display(description="source", ordering="source__title")
    def source_title(self, obj):
        return obj.source.title


@admin.register(StatusEvent)
class StatusEventAdmin(HistoryAdmin):
    """Events added or removed here go through the services, like the inline."""

    list_display = ["proposal", "status", "occurred_on", "precision", "recorded_by", "recorded_at"]
    list_filter = ["status", "precision"]
    search_fields = ["proposal__title", "note"]
    list_select_related = ["proposal", "recorded_by"]
    autocomplete_fields = ["proposal"]
    readonly_fields = ["recorded_by", "recorded_at"]
    fields = ["proposal", "status", ("occurred_on", "precision"), "note", "evidence", "recorded_by", "recorded_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "evidence":
            kwargs["queryset"] = Evidence.objects.select_related("source").defer("source__text")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            _adopt(obj, services.status_event_record(user=request.user, **_form_data(form, StatusEvent)))


@admin.register(Proponent)
class ProponentAdmin(HistoryAdmin):
    list_display = ["proposal", "actor", "role", "is_primary"]
    list_filter = ["role", "is_primary"]
    search_fields = ["proposal__title", "actor__name"]
    list_select_related = ["proposal", "actor"]
    autocomplete_fields = ["proposal", "actor"]
    raw_id_fields = ["evidence"]


@admin.register(ProposalRelation)
class ProposalRelationAdmin(HistoryAdmin):
    list_display = ["from_proposal", "relation_type", "to_proposal"]
    list_filter = ["relation_type"]
    search_fields = ["from_proposal__title", "to_proposal__title"]
    list_select_related = ["from_proposal", "to_proposal"]
    autocomplete_fields = ["from_proposal", "to_proposal"]


# API tokens (knox): issued and revoked from the admin; see proposals/tokens/admin.py.
from .tokens import admin as _tokens_admin  # noqa: E402, F401
from .webhooks import admin as webhooks_admin  # noqa: E402, F401 (registers the webhook pages)
