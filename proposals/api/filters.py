"""Query filters for the API, documented in the schema by django-filter.

Every filter validates its value: a malformed one is a 400 naming the
parameter, never silently ignored. Relation filters use ``EXISTS``
subqueries, so a proposal matching twice is still listed once.
"""

import datetime as dt
import re

import django_filters
from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django_filters import rest_framework as rest_framework_filters
from django_filters.utils import translate_validation
from drf_spectacular.drainage import set_override
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from ..models import (
    Actor,
    ActorKind,
    DatePrecision,
    Evidence,
    Participation,
    PartyAction,
    Proponent,
    ProponentRole,
    Proposal,
    Source,
    Status,
    Topic,
    Venue,
    VenueKind,
)
from ..tracking.search import (
    SearchDistance,
    alias_matches,
    exact_alias_first,
    rum_index_present,
    rum_ranked,
    search_with_aliases,
)

MAX_Q_LENGTH = 200


class DjangoFilterBackend(rest_framework_filters.DjangoFilterBackend):
    """django-filter's backend, with two changes:

    * An empty value means "no filter": ``?status=`` is what an HTML form
      sends for an untouched field, and django-filter's convention
      (``EMPTY_VALUES``) is to skip it. Its choice and id filters refused it
      instead (400). Empty values are dropped from every filter parameter
      before the filterset sees them; ``?venue=&venue=3`` is ``venue=3``.
    * A date-time at the calendar's edge (``9999-12-31T23:59:59-05:00``)
      is a 400 naming its parameter: in UTC it is outside Python's range,
      and SQLite's adapter raised OverflowError (a 500) converting it.
    * Skipped when the request names none of the filterset's parameters:
      building and validating an empty filter form cost ~4 ms of every
      unfiltered list request (measured).
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and without_empty_values(
            request.query_params, filterset_class.base_filters
        ).keys().isdisjoint(filterset_class.base_filters):
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        refuse_out_of_range_datetimes(filterset.form.cleaned_data)
        return filterset.qs

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        kwargs["data"] = without_empty_values(kwargs["data"], filterset_class.base_filters)
        return kwargs


def refuse_out_of_range_datetimes(cleaned_data: dict) -> None:
    """Raise a 400 naming each filter whose aware date-time has no UTC
    equivalent within years 1-9999 (what every database adapter needs)."""
    errors = {}
    for name, value in cleaned_data.items():
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                errors[name] = ["Out of range: in UTC it must fall within years 1 to 9999."]
    if errors:
        raise ValidationError(errors)


def _given(value) -> bool:
    """Whether a filter's cleaned value selects anything, without running a
    query. An absent record filter (``proponent``, ``topic``, ``party``,
    ``source``...) cleans to ``queryset.none()``, and testing that for truth
    compiled it: ten of them cost ~1 ms on every search and filtered list
    (measured in-process at 1M). A given one is never empty: the form has
    checked that each id or slug exists."""
    if isinstance(value, QuerySet):
        return not value.query.is_empty()
    return bool(value)


def without_empty_values(params, names):
    """``params`` (a QueryDict) without the empty values of the parameters
    in ``names``; a parameter left with no value is dropped. Others, and
    values that are only whitespace, are kept as sent."""
    if not any(value == "" for name in names for value in params.getlist(name)):
        return params
    params = params.copy()
    for name in names:
        values = [value for value in params.getlist(name) if value != ""]
        if values:
            params.setlist(name, values)
        else:
            params.pop(name, None)
    return params


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` over a whitelist; an unknown field is a 400, not ignored.
    ``id`` is always appended as a tie-breaker so pages never overlap."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        fields = [param.strip() for param in (params or "").split(",") if param.strip()]
        # ``fields``, not ``params``: "?ordering=," used to reach ``fields[-1]``
        # with an empty list (IndexError, a 500); it now means the default.
        if fields:
            allowed = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
            # Strip one leading "-" only: ``lstrip`` let "--title" through to
            # order_by(), which raised FieldError (a 500) instead of this 400.
            unknown = [f for f in fields if f.removeprefix("-") not in allowed]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Unknown ordering field(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}."
                        ]
                    }
                )
            return [*fields, "-id" if fields[-1].startswith("-") else "id"]
        if request.query_params.get("q", "").strip():
            return None  # keep the search's relevance ranking
        return self.get_default_ordering(view)

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        return queryset.order_by(*(self._nulls_last(queryset, term) for term in ordering))

    @staticmethod
    def _nulls_last(queryset, term):
        """Records without a value (an undated proposal) sort last in both
        directions on both databases; by default PostgreSQL put them last
        ascending but first descending, and SQLite the other way round, so
        the same request paged differently per database. Non-null fields stay
        plain names, so their indexes still serve the sort."""
        name = term.removeprefix("-")
        try:
            field = queryset.model._meta.get_field(name)
        except FieldDoesNotExist:
            return term
        if not getattr(field, "null", False):
            return term
        return F(name).desc(nulls_last=True) if term.startswith("-") else F(name).asc(nulls_last=True)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        fields = sorted(name for name, _ in self.get_valid_fields(view.get_queryset(), view, {}))
        for param in params:
            param["description"] = (
                "Comma-separated fields to sort by; prefix with '-' for descending. "
                f"Allowed: {', '.join(fields)}. Unknown fields are a 400."
            )
        return params


#: Ids beyond a 64-bit integer cannot exist. SQLite's driver raises
#: OverflowError for them (a 500) where PostgreSQL just finds nothing.
MAX_ID = 2**63 - 1


class IdsField(django_filters.fields.ModelMultipleChoiceField):
    def _check_values(self, value):
        for pk in value:
            try:
                out_of_range = abs(int(str(pk))) > MAX_ID
            except ValueError:
                continue  # not a number: the parent reports invalid_pk_value
            if out_of_range:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)


class DescribedSchemaMixin:
    """Declares the filter's schema type *with* its ``help_text``: a type
    declared with ``@extend_schema_field`` made drf-spectacular drop the
    description, so these parameters showed none in the docs."""

    schema_type = OpenApiTypes.STR

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schema = build_basic_type(self.schema_type)
        if self.extra.get("help_text"):
            schema["description"] = str(self.extra["help_text"])
        set_override(self, "field", schema)


class RecordsFilter(DescribedSchemaMixin, django_filters.ModelMultipleChoiceFilter):
    """Records named by the parameter; absent, it filters nothing without
    evaluating its empty queryset (see ``_given``)."""

    def filter(self, qs, value):
        if not _given(value):
            return qs
        return super().filter(qs, value)


class IdsFilter(RecordsFilter):
    """One or more record ids (repeat the parameter for several)."""

    field_class = IdsField
    schema_type = OpenApiTypes.INT


class SlugsFilter(RecordsFilter):
    """One or more record slugs (repeat the parameter for several)."""

    def get_filter_predicate(self, v):
        # django-filter compares the field with the value's ``to_field_name``
        # (``venue="sco-summit"``, a ValueError on the id column); the
        # validated record itself is what the foreign key holds.
        return {self.field_name: v}


def _exists(model, **lookups):
    return Exists(model.objects.filter(proposal_id=OuterRef("pk"), **lookups))


class ProposalFilterSet(django_filters.FilterSet):
    """Filters for the proposal list and CSV export; all combine with AND."""

    # distinct=False: a column filter cannot duplicate rows, and DISTINCT made
    # PostgreSQL sort every match by every column (measured: 2x on the page).
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices,
        distinct=False,
        help_text="Current status; repeat to match any of several (status=proposed&status=adopted).",
    )
    # NetBox's convention: each related record is named by its slug under
    # the plain name and by its id under ``<name>_id``; both repeat (any of
    # several) and, when both are given, both must hold.
    venue = SlugsFilter(
        queryset=Venue.objects.all(),
        to_field_name="slug",
        distinct=False,
        help_text="Venue slug; repeat for any of several. An unknown slug is a 400.",
    )
    venue_id = IdsFilter(
        queryset=Venue.objects.all(),
        field_name="venue",
        distinct=False,
        help_text="Venue id; repeat for any of several. An unknown id is a 400.",
    )
    proponent = SlugsFilter(
        queryset=Actor.objects.all(),
        to_field_name="slug",
        method="filter_proponent",
        help_text=(
            "Actor slug of a proponent; repeat for any of several. "
            "Combined with `role`, the same link must have that role."
        ),
    )
    proponent_id = IdsFilter(
        queryset=Actor.objects.all(),
        method="filter_proponent",
        help_text="Actor id of a proponent; repeat for any of several. Combined with `role` as `proponent` is.",
    )
    role = django_filters.MultipleChoiceFilter(
        choices=ProponentRole.choices,
        method="filter_role",
        help_text="Proponent role (proposed, called_for, endorsed, opposed, reported); repeat for any of several.",
    )
    topic = SlugsFilter(
        queryset=Topic.objects.all(),
        to_field_name="slug",
        method="filter_topic",
        help_text="Topic slug; repeat for any of several. An unknown slug is a 400.",
    )
    topic_id = IdsFilter(
        queryset=Topic.objects.all(),
        method="filter_topic",
        help_text="Topic id; repeat for any of several. An unknown id is a 400.",
    )
    party = SlugsFilter(
        queryset=Actor.objects.all(),
        to_field_name="slug",
        method="filter_party",
        help_text=(
            "Actor slug of a party: one the proposal would bind or involve (`parties`) or one with a participation "
            "row; repeat for any of several. Combined with `party_action`, the same participation row must have "
            "that action."
        ),
    )
    party_id = IdsFilter(
        queryset=Actor.objects.all(),
        method="filter_party",
        help_text="Actor id of a party, as `party`; repeat for any of several.",
    )
    party_action = django_filters.MultipleChoiceFilter(
        choices=PartyAction.choices,
        method="filter_party_action",
        help_text=(
            "A party's action in the participation table (signed, ratified, accepted, approved, acceded, "
            "entered_into_force, supported, opposed, reservation, withdrew); repeat for any of several. With "
            "`party`/`party_id`, that party's row must have it."
        ),
    )
    source = SlugsFilter(
        queryset=Source.objects.only("id", "slug"),
        to_field_name="slug",
        method="filter_source",
        help_text="Slug of a source that evidence quotes come from; repeat for any of several.",
    )
    source_id = IdsFilter(
        queryset=Source.objects.only("id"),
        method="filter_source",
        help_text="Id of a source that evidence quotes come from; repeat for any of several.",
    )
    proposed_after = django_filters.DateFilter(
        field_name="proposed_on", lookup_expr="gte", help_text="Put forward on or after this date (YYYY-MM-DD)."
    )
    proposed_before = django_filters.DateFilter(
        field_name="proposed_on", lookup_expr="lte", help_text="Put forward on or before this date (YYYY-MM-DD)."
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after this ISO 8601 date-time."
    )
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=MAX_Q_LENGTH,
        help_text=(
            "Full-text search over titles, summaries and evidence quotes, by whole words (case-insensitive); "
            "also finds the proposals whose own aliases, or aliases of their proponents, parties, venue or topics, "
            "match the whole query (`q=李克强` finds Li Keqiang's proposals). "
            'On PostgreSQL: ranked by relevance, English stemming ("tracings" finds "tracing"), common words '
            'ignored, web-search syntax ("quoted phrase", -exclude, or). On SQLite (development): every word '
            "must appear as a whole word, unstemmed; -word excludes; quotes and `or` are ignored. At most 200 "
            "characters; nothing left to search for matches nothing."
        ),
    )

    class Meta:
        model = Proposal
        fields = []

    def filter_proponent(self, queryset, name, value):
        if not _given(value):
            return queryset
        lookups = {"actor__in": value}
        roles = self.form.cleaned_data.get("role")
        if roles:
            lookups["role__in"] = roles
        return queryset.filter(_exists(Proponent, **lookups))

    def filter_role(self, queryset, name, value):
        data = self.form.cleaned_data
        if not _given(value) or _given(data.get("proponent")) or _given(data.get("proponent_id")):
            return queryset  # applied together with proponent(_id), on the same link
        return queryset.filter(_exists(Proponent, role__in=value))

    def filter_topic(self, queryset, name, value):
        if not _given(value):
            return queryset
        through = Proposal.topics.through
        return queryset.filter(Exists(through.objects.filter(proposal_id=OuterRef("pk"), topic__in=value)))

    def filter_party(self, queryset, name, value):
        if not _given(value):
            return queryset
        actions = self.form.cleaned_data.get("party_action")
        if actions:
            # Applied together with party_action, on the same participation row.
            return queryset.filter(_exists(Participation, party__in=value, action__in=actions))
        through = Proposal.parties.through
        return queryset.filter(
            Exists(through.objects.filter(proposal_id=OuterRef("pk"), actor__in=value))
            | _exists(Participation, party__in=value)
        )

    def filter_party_action(self, queryset, name, value):
        data = self.form.cleaned_data
        if not _given(value) or _given(data.get("party")) or _given(data.get("party_id")):
            return queryset  # applied together with party(_id), on the same row
        return queryset.filter(_exists(Participation, action__in=value))

    def filter_source(self, queryset, name, value):
        if not _given(value):
            return queryset
        return queryset.filter(_exists(Evidence, source__in=value))

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return search(queryset, value)


def search(queryset, text: str):
    """Full-text search; ranked by relevance on PostgreSQL.

    Ordered by relevance, then by id descending. PostgreSQL ranks with
    RUM's ``search_vector <=> query`` where the RUM index exists
    (``rum_index_present``): for a query no alias matches, the page is read
    from the index in rank order (``rum_ranked``: an index scan, an
    incremental sort by id among equal ranks, then the LIMIT), not by
    ranking every match. Without the index it ranks with ``ts_rank`` over
    every match, as before. Either way one query reads the aliases first
    (``alias_matches``); when an alias finds proposals, or equals the whole
    query, the general path ranks every match (a sort of all of them)."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        query = SearchQuery(text, search_type="websearch", config="english")
        aliases = alias_matches(text, queryset.db)
        found = search_with_aliases(queryset, Q(search_vector=query), text, aliases)
        rum = rum_index_present(connections[queryset.db])
        if rum and not aliases.ids and not aliases.exact:
            return rum_ranked(found, text)
        if rum:
            ranked, order = found.annotate(rank=SearchDistance(F("search_vector"), query)), ("rank", "-id")
        else:
            ranked, order = found.annotate(rank=SearchRank(F("search_vector"), query)), ("-rank", "-id")
        if not aliases.exact:
            # No proposal has an alias equal to the query: putting those
            # first would change nothing but cost an EXISTS per match.
            return ranked.order_by(*order)
        return exact_alias_first(ranked, text, *order)
    # SQLite fallback: every word must appear as a whole word (case-insensitive,
    # no stemming) in the title, summary or a quote; "-word" excludes; quotes
    # and "or" are dropped. Whole words, as on PostgreSQL: with substrings
    # ("icontains") `q=or` matched every proposal ("for", "border"...).
    searched = False
    found = Q()
    for word in text.split():
        word = word.strip("\"'")
        if not word or word.lower() == "or":
            continue
        if word.startswith("-") and len(word) > 1:
            queryset = queryset.exclude(_matches(word[1:]))
        else:
            found &= _matches(word)
            searched = True
    # Nothing left to look for matches nothing, as PostgreSQL's empty query does.
    if not searched:
        return queryset.none()
    return exact_alias_first(search_with_aliases(queryset, found, text), text, *queryset.query.order_by)


def _matches(word: str):
    # Django's SQLite backend implements REGEXP with Python's re (Unicode \b).
    pattern = rf"(^|\W){re.escape(word)}($|\W)"
    return Q(title__iregex=pattern) | Q(summary__iregex=pattern) | _exists(Evidence, quote__iregex=pattern)


class StrictBooleanFilter(DescribedSchemaMixin, django_filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400. (django-filter's
    BooleanFilter silently ignores a value like ``maybe``.)"""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)

    schema_type = OpenApiTypes.BOOL


class ActorFilterSet(django_filters.FilterSet):
    """Filters for the actor list."""

    kind = django_filters.ChoiceFilter(choices=ActorKind.choices, help_text="Kind of actor.")
    named = StrictBooleanFilter(help_text="`false` lists the actors the texts do not name.")
    country_code = django_filters.CharFilter(max_length=2, help_text="ISO 3166-1 alpha-2 code.")
    slug = django_filters.CharFilter(help_text="Exact slug: lists the one actor with it, or none.")

    class Meta:
        model = Actor
        fields = []


class VenueFilterSet(django_filters.FilterSet):
    """Filters for the venue list."""

    kind = django_filters.ChoiceFilter(choices=VenueKind.choices, help_text="Kind of venue.")
    organisation = SlugsFilter(
        queryset=Actor.objects.all(),
        to_field_name="slug",
        distinct=False,
        help_text="Actor slug of the organisation that holds the venue; repeat for any of several.",
    )
    organisation_id = IdsFilter(
        queryset=Actor.objects.all(),
        field_name="organisation",
        distinct=False,
        help_text="Actor id of the organisation that holds the venue; repeat for any of several.",
    )
    slug = django_filters.CharFilter(help_text="Exact slug: lists the one venue with it, or none.")

    class Meta:
        model = Venue
        fields = []


class SourceFilterSet(django_filters.FilterSet):
    """Filters for the source list."""

    language = django_filters.CharFilter(
        max_length=16, help_text="BCP 47 language tag of the text, exactly as stored, e.g. `en`, `zh-Hans`."
    )
    published_precision = django_filters.ChoiceFilter(
        choices=DatePrecision.choices, help_text="How much of `published_on` is known: day, month or year."
    )
    slug = django_filters.CharFilter(help_text="Exact slug: lists the one source with it, or none.")

    class Meta:
        model = Source
        fields = []
