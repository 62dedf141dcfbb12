"""API for suggestions: run the suggestion step on a source, list and read
suggestions, accept or reject one. Views are thin; the rules are in
``proposals.suggestions.services``."""

import django_filters
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..api.errors import Conflict
from ..api.parsers import JSONParser
from ..api.schema import ProblemSerializer
from ..api.serializers import StrictFieldsMixin, strict_string_field
from ..models import (
    Actor,
    DatePrecision,
    PartyAction,
    Proposal,
    Source,
    Status,
    Suggestion,
    SuggestionKind,
    SuggestionState,
)
from . import services

ALREADY_DECIDED = OpenApiResponse(ProblemSerializer, description="The suggestion was already accepted or rejected.")


class SuggestionSerializer(serializers.ModelSerializer):
    """One suggestion. ``start``/``end`` count Unicode code points
    (``source.text[start:end] == quote``)."""

    source = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    proposal = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    party = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    proponent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    alternatives = serializers.ListField(child=serializers.DictField(), read_only=True)
    # "" where the kind has none (a mention has no action; no date, no precision).
    status = serializers.ChoiceField(choices=Status.choices, allow_blank=True, read_only=True)
    action = serializers.ChoiceField(choices=PartyAction.choices, allow_blank=True, read_only=True)
    precision = serializers.ChoiceField(choices=DatePrecision.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "source",
            "kind",
            "quote",
            "start",
            "end",
            "proposal",
            "alternatives",
            "title",
            "status",
            "action",
            "occurred_on",
            "precision",
            "date_note",
            "party",
            "party_name",
            "proponent",
            "proponent_name",
            "confidence",
            "explanation",
            "state",
            "created_at",
            "decided_at",
            "evidence",
            "status_event",
            "participation",
        ]
        read_only_fields = fields


_Str = strict_string_field(serializers.CharField)


class SuggestionAcceptSerializer(StrictFieldsMixin, serializers.Serializer):
    """Corrections applied before accepting; every field is optional."""

    proposal = serializers.SlugRelatedField(
        slug_field="slug", queryset=Proposal.objects.all(), required=False, help_text="Slug of the proposal concerned."
    )
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    action = serializers.ChoiceField(choices=PartyAction.choices, required=False)
    occurred_on = serializers.DateField(required=False)
    precision = serializers.ChoiceField(choices=DatePrecision.choices, required=False)
    party = serializers.SlugRelatedField(
        slug_field="slug", queryset=Actor.objects.all(), required=False, help_text="Slug of the party (an actor)."
    )
    proponent = serializers.SlugRelatedField(
        slug_field="slug", queryset=Actor.objects.all(), required=False, help_text="Slug of the proponent (an actor)."
    )
    title = _Str(max_length=300, required=False, help_text="A new proposal's title.")
    slug = serializers.SlugField(max_length=120, required=False, help_text="A new proposal's slug.")
    note = _Str(required=False, allow_blank=True, help_text="Added to the notes of the records created.")


class SuggestionFilterSet(django_filters.FilterSet):
    source = django_filters.CharFilter(
        method="filter_source",
        help_text="Slug of the source (a number that is no source's slug is taken as its id); unknown: 400.",
    )
    kind = django_filters.ChoiceFilter(choices=SuggestionKind.choices)
    state = django_filters.ChoiceFilter(choices=SuggestionState.choices)
    proposal = django_filters.CharFilter(field_name="proposal__slug", help_text="Slug of the proposal concerned.")

    class Meta:
        model = Suggestion
        fields = []

    def filter_source(self, queryset, name, value):
        # As the sources endpoints: by slug, else a number as an id; an
        # unknown source is a 400 like ``proposals/?party=nope``.
        source = Source.objects.filter(slug=value).values_list("pk", flat=True).first()
        if source is None and value.isdigit():
            source = Source.objects.filter(pk=int(value)).values_list("pk", flat=True).first()
        if source is None:
            raise serializers.ValidationError({"source": f"No source {value!r}."})
        return queryset.filter(source_id=source)


@extend_schema_view(
    list=extend_schema(
        summary="List suggestions",
        description=(
            "Suggestions the engine made from sources, by source then offset, 50 a page (`page_size` up to 200). "
            "Filter by `source` (slug), `kind` (`new_proposal`, `mention`, `status_event`, `participation`), "
            "`state` (`pending`, `accepted`, `rejected`) and `proposal` (slug). A bad filter value is a 400."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a suggestion",
        description=(
            "One suggestion: its quote and offsets (Unicode code points; `text[start:end] == quote`), the proposal "
            "it concerns (for `mention`, the best match, with ranked `alternatives` `[{slug, score}]`), the status "
            "or party action, the date (`occurred_on` at `precision`, with `date_note` saying how a relative date "
            "was resolved against the source's date), the party or proponent (an actor's slug, and the name as "
            "written), `confidence` (0-1), `explanation` (which words led to it), its `state`, and, once accepted, "
            "the ids of the `evidence`, `status_event` or `participation` created."
        ),
    ),
)
class SuggestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Suggested records from sources, waiting for staff to accept or reject them."""

    parser_classes = [JSONParser]
    queryset = Suggestion.objects.with_related()
    serializer_class = SuggestionSerializer
    filterset_class = SuggestionFilterSet
    ordering_fields = ["created_at", "confidence", "start"]
    ordering = ["source_id", "start", "id"]

    @extend_schema(
        summary="Accept a suggestion",
        description=(
            "Editors only (401 anonymous, 403 without permission). Creates the records through the same services "
            "as every other write, with the quote as their evidence: a `new_proposal` becomes a proposal (its "
            "`title`, `slug` made from it unless given, `proposed_on` = `occurred_on`), a `mention` evidence for "
            "its proposal (and the proponent, if an actor, is linked as `called_for`), a `status_event` a status "
            "event, a `participation` a party's row. The body may correct the suggestion first: `proposal`, "
            "`party`, `proponent` (slugs), `status`, `action`, `occurred_on`, `precision`, `title`, `slug`, `note`. "
            "A bad or missing value (no date for a status event, a party the tracker does not know, a future "
            "date) is a 400 and changes nothing. Accepting a suggestion already accepted or rejected is refused "
            "with `409`. "
            "Answers 200 with the suggestion, now `accepted`, linking what was created."
        ),
        request=SuggestionAcceptSerializer,
        responses={200: SuggestionSerializer, (409, "application/problem+json"): ALREADY_DECIDED},
        examples=[
            OpenApiExample(
                "Kazakhstan's ratification, dated by hand",
                value={"party": "kazakhstan", "occurred_on": "2018-03-12", "precision": "day"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        suggestion = self.get_object()
        if suggestion.state != SuggestionState.PENDING:
            # The state first: a decided suggestion is a 409 whatever the body.
            raise Conflict(f"This suggestion was already {suggestion.state}; a decided suggestion cannot change.")
        body = SuggestionAcceptSerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        try:
            accepted = services.suggestion_accept(suggestion=suggestion, user=request.user, **body.validated_data)
        except services.SuggestionConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response(SuggestionSerializer(Suggestion.objects.with_related().get(pk=accepted.pk)).data)

    @extend_schema(
        summary="Reject a suggestion",
        description=(
            "Editors only. Marks it `rejected`; it stays on record, so running the suggestion step again never "
            "brings it back. No body. A suggestion already accepted or rejected is refused with `409`. "
            "Answers 200 with it."
        ),
        request=None,
        responses={200: SuggestionSerializer, (409, "application/problem+json"): ALREADY_DECIDED},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        suggestion = self.get_object()
        try:
            rejected = services.suggestion_reject(suggestion=suggestion, user=request.user)
        except services.SuggestionConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response(SuggestionSerializer(Suggestion.objects.with_related().get(pk=rejected.pk)).data)


@extend_schema(
    summary="Suggest records from a source",
    description=(
        "Editors only (401 anonymous, 403 without permission). Runs the suggestion step on the source's text, "
        "offline and deterministically: sentences that propose or commit to something (`new_proposal`), that "
        "name a recorded proposal (`mention`), and events in its life (`status_event`: signed, in force; "
        "`participation`: a party's signature, ratification, accession, entry into force...). Answers 201 with "
        "the suggestions it created, or 200 with `[]` when a re-run finds nothing new: a suggestion the source "
        "already has, pending, accepted or rejected, is never added again. No body (a body is a 400). The source is "
        "named by slug (or, for older links, id); 404 for an unknown one. A source longer than 400,000 code points "
        "is refused with a 400 (`text`, code `too_large`): split it into several sources."
    ),
    request=None,
    parameters=[
        OpenApiParameter(
            "source_slug",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            description="The source's slug, e.g. `scmp-2015-china-on-is-threat`; a number that is no source's slug "
            "is taken as its `id` (older links).",
        )
    ],
    responses={
        201: OpenApiResponse(SuggestionSerializer(many=True), description="The suggestions created."),
        200: OpenApiResponse(SuggestionSerializer(many=True), description="Nothing new: an empty list."),
    },
    tags=["sources"],
)
class SourceSuggestView(viewsets.GenericViewSet):
    """Runs the suggestion step on one source."""

    parser_classes = [JSONParser]
    queryset = Suggestion.objects.none()
    serializer_class = SuggestionSerializer
    pagination_class = None
    filter_backends = []

    def create(self, request, source_slug=None):
        if request.data not in (None, {}, b"", ""):
            raise serializers.ValidationError({"non_field_errors": ["This endpoint takes no body."]})
        # By slug; a number that is no source's slug is taken as its id, as
        # the sources endpoints do (older links).
        source = Source.objects.filter(slug=source_slug).first()
        if source is None and source_slug.isdigit():
            source = Source.objects.filter(pk=int(source_slug)).first()
        if source is None:
            raise Http404
        created = services.suggest_for_source(source, user=request.user)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(SuggestionSerializer(created, many=True).data, status=code)
