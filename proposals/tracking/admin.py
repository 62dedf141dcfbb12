"""Admin inlines for participation rows and aliases. Their rows are saved
through the services, like every other admin write: the proposal page's
``save_formset`` sends participation rows to
``tracking.services.participation_record``, and ``save_inline_rows`` (used
by the other pages) sends alias rows to ``services.record_save`` /
``record_delete``, so the owner gets one new version and a history row that
names each change."""

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect

from .. import services
from ..models import Actor, Evidence
from .models import ActorAlias, Participation, ProposalAlias, TopicAlias, VenueAlias


class KnownLabelsAutocomplete(AutocompleteSelect):
    """The admin's autocomplete select, taking the selected value's label
    from ``labels`` (read once per page) instead of one query per inline
    row, so the page's query count does not grow with its rows."""

    labels: dict[str, str] = {}

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not all(v in self.labels for v in selected):
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for v in selected:
            options.append(self.create_option(name, v, self.labels[v], True, len(options)))
        return [(None, options, 0)]


class ParticipationInline(admin.TabularInline):
    """Per party, its dated actions on the proposal (signature,
    ratification, accession, entry into force for it...). The evidence
    choices and the parties' labels are read once per page, not per row."""

    model = Participation
    extra = 0
    autocomplete_fields = ["party"]
    fields = ["party", "action", "occurred_on", "precision", "evidence", "note", "recorded_by"]
    readonly_fields = ["recorded_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("party", "evidence", "recorded_by")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if db_field.name == "evidence":
            # Offer only this proposal's own quotes.
            kwargs["queryset"] = (
                Evidence.objects.filter(proposal_id=object_id) if object_id else Evidence.objects.none()
            )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "evidence":
            # Evaluated once here; each row's select reuses the list.
            field.choices = list(field.choices)
        elif db_field.name == "party" and isinstance(field.widget, AutocompleteSelect):
            widget = KnownLabelsAutocomplete(db_field, self.admin_site, using=field.widget.db)
            parties = Actor.objects.filter(participation__proposal_id=object_id) if object_id else Actor.objects.none()
            widget.labels = {str(pk): name for pk, name in parties.values_list("pk", "name").distinct()}
            field.widget = widget
        return field


class _AliasInline(admin.TabularInline):
    extra = 0
    fields = ["name", "language"]


class ActorAliasInline(_AliasInline):
    model = ActorAlias


class VenueAliasInline(_AliasInline):
    model = VenueAlias


class TopicAliasInline(_AliasInline):
    model = TopicAlias


class ProposalAliasInline(_AliasInline):
    model = ProposalAlias


def save_inline_rows(request, owner, formset) -> None:
    """Write an inline formset's deletions, additions and changes through
    ``services.record_delete`` / ``record_save`` (the caller's write batch
    applies their effects once)."""
    model = formset.model
    editable = services.EDITABLE_FIELDS[model]
    formset.save(commit=False)
    for obj in formset.deleted_objects:
        services.record_delete(instance=obj, user=request.user)
    for obj in formset.new_objects:
        data = {name: getattr(obj, name) for name in editable if name in formset.form.base_fields}
        data[formset.fk.name] = owner
        services.record_save(instance=model(), user=request.user, **data)
    for obj, changed in formset.changed_objects:
        data = {name: getattr(obj, name) for name in changed if name in editable}
        services.record_save(instance=model._base_manager.get(pk=obj.pk), user=request.user, **data)
