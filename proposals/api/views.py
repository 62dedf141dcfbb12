"""API v1 viewsets. Thin: each declares its queryset, serializer, filters
and lookup; writes go through ``proposals.services``."""

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotAcceptable, ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

from .. import services
from ..models import Actor, Evidence, Proposal, Source, StatusEvent, Topic, Venue
from ..representations import stored
from ..tracking.export import with_tracking_columns
from ..versions.views import as_of_response
from .export import proposal_csv_response
from .filters import ActorFilterSet, ProposalFilterSet, SourceFilterSet, VenueFilterSet
from .mixins import (
    ConditionalWriteMixin,
    HistoryMixin,
    ProtectedDeleteMixin,
    SlugOrIdLookupMixin,
    check_if_match,
    etag_for,
)
from .pagination import ProposalPagination
from .parsers import JSONParser
from .renderers import CSVRenderer
from .serializers import (
    ActorSerializer,
    EvidenceSerializer,
    ProposalListSerializer,
    ProposalSerializer,
    SourceListSerializer,
    SourceSerializer,
    StatusEventSerializer,
    TopicSerializer,
    VenueSerializer,
)

#: Bodies are JSON only, as the docs say: a form-encoded or multipart body is
#: refused with 415. The browsable API then offers its raw-data form with a
#: JSON body instead of HTML forms (DRF shows those only for form parsers).
JSON_ONLY = [JSONParser]

PROPOSAL_EXAMPLE = {
    "slug": "sco-anti-extremism-treaty",
    "title": "SCO anti-extremism treaty",
    "summary": "Premier Li Keqiang called for SCO members to sign a treaty against extremism.",
    "initial_status": "proposed",
    "venue": {"id": 1},
    "proponents": [{"id": 1, "role": "called_for", "primary": True}],
    "topics": [{"slug": "legal-instruments"}],
    "parties": [{"id": 2}],
    "proposed_on": "2015-12-15",
    "proposed_precision": "day",
    "proposed_note": "",
    "related": [],
}


@extend_schema_view(
    list=extend_schema(
        summary="List proposals",
        description=(
            "Proposals, newest change first, 50 a page (`page_size` up to 200). Filters combine with AND; "
            "`q` searches titles, summaries and quotes. Add `format=csv` or send `Accept: text/csv` for a "
            "CSV export of every matching proposal (not paginated) with the columns: slug, title, status, "
            "status_label, venue_id, venue, primary_proponent, proponents, topics, proposed_on, "
            "proposed_precision, updated_at, url. The file is UTF-8 with a byte-order mark (read it as "
            "`utf-8-sig`). Against formula injection (OWASP, CSV Injection), a text cell starting with "
            "`=`, `+`, `-`, `@`, a tab, CR, LF, a full-width `＝＋－＠`, or `'` gets one `'` prepended: "
            "remove one leading `'` to recover the stored value."
        ),
        responses={
            200: OpenApiResponse(ProposalListSerializer(many=True), description="A page of proposals."),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV export."),
        },
    ),
    retrieve=extend_schema(
        summary="Get a proposal",
        description=(
            "One proposal by its slug, with everything about it: venue, proponents with their roles, topics, "
            "parties, its verbatim evidence quotes (offsets in code points and in UTF-16 units), its status "
            "timeline oldest first, and typed relations to other proposals. The strong `ETag` it returns is "
            "what `If-Match` needs for a write; send it as `If-None-Match` to get 304 while nothing changed.\n\n"
            "`permalink` is this version's permanent address, `/proposals/versions/{id}/{n}/`: by the record's "
            "id, so a rename, or another record taking the slug, never moves it. With `as_of` (an ISO 8601 "
            "date-time, UTC when no offset is given, or a date), the answer is the version of the proposal that "
            "had this slug at that time, exactly as it was served then (400 if malformed or in the future, 404 if "
            "no proposal had the slug then); see `versions/`."
        ),
        parameters=[
            OpenApiParameter(
                "as_of", OpenApiTypes.DATETIME, description="Serve the version current at this time (past only)."
            )
        ],
    ),
    create=extend_schema(
        summary="Create a proposal",
        description=(
            "Creates a proposal from a JSON body; `slug` and `title` are required. Related records are given by "
            'reference: `venue` and `parties` as `{"id": …}`, `proponents` as `{"id": <actor id>, "role", '
            '"primary"}`, `topics` as `{"slug": …}`, `related` as `{"relation", "slug"}`. `status` is '
            "read-only.\n\nThe timeline: with `proposed_on`, it opens with one status event dated `proposed_on` "
            "(at `proposed_precision`) with `initial_status` (default `proposed`). Without `proposed_on` no date "
            "is invented: the timeline starts empty, the status is `proposed`, and any other `initial_status` is "
            "a 400 on `proposed_on`. `proposed_on` may not be in the future (400 on `proposed_on`). Answers 201 "
            "with the proposal and its `ETag`."
        ),
        examples=[OpenApiExample("A new proposal", value=PROPOSAL_EXAMPLE, request_only=True)],
    ),
    update=extend_schema(
        summary="Update a proposal, required fields included",
        description=(
            "Sets the writable fields sent in the body; `slug` and `title` are required. This is not a full "
            "replacement: **a writable field left out keeps its current value**. A list that is sent "
            "(`proponents`, `topics`, `parties`, `related`) replaces the whole list: send `[]` to clear one, "
            '`"venue": null` to clear the venue. Read-only fields echoed from a read (`id`, `status`, `evidence`, '
            "`events`, …) are ignored, so a body you read can be sent back unchanged. `status` changes only by "
            "adding a status event; `initial_status` is refused. Send the `ETag` of your last read as `If-Match`."
        ),
    ),
    partial_update=extend_schema(
        summary="Change some fields of a proposal",
        description=(
            "Changes only the fields sent; none is required. A list that is sent replaces the whole list. "
            "`proposed_on` may not be in the future, nor after the proposal's earliest status event (400 on "
            "`proposed_on`). `status` changes only by adding a status event. Send the `ETag` of your last read "
            "as `If-Match`; the answer is the whole proposal with its new `ETag`."
        ),
    ),
    destroy=extend_schema(
        summary="Delete a proposal",
        description=(
            "Deletes the proposal with its quotes, proponent links, status timeline and relations (both ways). "
            "Its history is kept and staff can restore it, parts included, from the admin. Proposals that "
            "related to it change, so their ETags move. Send the `ETag` of your last read as `If-Match`; 204 "
            "on success."
        ),
    ),
)
class ProposalViewSet(stored.StoredRepresentationMixin, ConditionalWriteMixin, HistoryMixin, viewsets.ModelViewSet):
    """Policy proposals: who put each forward, where, its current status and
    its dated timeline, each claim backed by verbatim quotes.

    Proposals are addressed by their stable `slug`. The status changes only
    by adding a status event (`POST /proposals/{slug}/events/`)."""

    parser_classes = JSON_ONLY

    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_class = ProposalFilterSet
    ordering_fields = ["title", "proposed_on", "updated_at", "created_at", "status", "slug"]
    ordering = ["-updated_at", "-id"]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    pagination_class = ProposalPagination
    extra_error_codes = {"retrieve": ("400",)}  # a malformed or future ?as_of=

    def get_queryset(self):
        if self.action == "list":
            return Proposal.objects.with_list_related()
        if self.action == "history":
            return Proposal.objects.defer("search_vector")  # only the row's history is read
        return Proposal.objects.with_related()

    def filter_queryset(self, queryset):
        # Filters and ordering describe lists; a detail or write request
        # skips building the filterset (measured at ~15% of a detail GET).
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        return ProposalListSerializer if self.action == "list" else ProposalSerializer

    def get_renderers(self):
        # CSV is the export of the list. For one proposal, its history or a
        # write it rendered a bare header line, yet the schema advertised
        # ``format=csv`` and text/csv on every proposal operation. Elsewhere
        # ``?format=csv`` is now an unknown format (404) and ``Accept:
        # text/csv`` a 406, as the schema documents.
        renderers = super().get_renderers()
        if self.action != "list":
            renderers = [r for r in renderers if not isinstance(r, CSVRenderer)]
        return renderers

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            # ``?as_of=…&format=csv``: say what is not supported rather
            # than "Not found" (a version is served as JSON only).
            if "as_of" in request.query_params and not force:
                raise NotAcceptable(
                    "A version (`as_of`) is served as JSON only; CSV is the export of the list "
                    "(`GET /api/v1/proposals/?format=csv`)."
                ) from None
            raise

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            queryset = with_tracking_columns(self.filter_queryset(self.get_queryset()))
            prefix = request.build_absolute_uri(reverse("proposal-detail", kwargs={"slug": "x"}))[:-2]
            return proposal_csv_response(self, request, queryset, prefix)
        if request.accepted_renderer.format == "json" and stored.stored_path_applies(request):
            return stored.list_response(self, request)  # the same bytes from stored rows
        return super().list(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.proposal_delete(proposal=instance, user=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        if "as_of" in request.query_params:
            return as_of_response(request, kwargs["slug"])
        return super().retrieve(request, *args, **kwargs)


def _proposal_for(view) -> Proposal:
    """The proposal the URL names, read once per request (the permission
    check and the list both ask for the view's queryset)."""
    proposal = getattr(view, "_url_proposal", None)
    if proposal is None:
        proposal = view._url_proposal = get_object_or_404(
            Proposal.objects.only("id", "slug", "status", "version"), slug=view.kwargs["proposal_slug"]
        )
    return proposal


class ProposalPartWriteMixin:
    """Writes to a proposal's parts change the proposal's representation, so
    they honour ``If-Match`` with the proposal's ETag when the client sends
    it (412 when stale; RFC 9110 §13.1.1), checked on the proposal's row
    locked for the write's transaction. The 201's body is the new part, so
    the proposal's new tag comes in the ``X-Proposal-ETag`` header."""

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            self.proposal = get_object_or_404(
                Proposal.objects.select_for_update().only("id", "slug", "status", "version"),
                slug=self.kwargs["proposal_slug"],
            )
            check_if_match(request, self.proposal)
            response = super().create(request, *args, **kwargs)
        response["X-Proposal-ETag"] = etag_for(self.proposal)
        return response


@extend_schema_view(
    list=extend_schema(
        summary="A proposal's status timeline",
        description=(
            "Every status event of the proposal, oldest first (by date, then by when it was recorded), not "
            "paginated. Each gives the status, the date it occurred at its `precision` (day, month or year; "
            "month and year store the period's first day), a note, the id of the evidence quote backing it, and "
            "the recorder's role. The proposal's `status` is its latest event's."
        ),
        tags=["proposals"],
    ),
    create=extend_schema(
        summary="Add a status event",
        description=(
            "The one way to change a proposal's status: the proposal's current status becomes the status "
            "of its latest event (by date, then by when it was recorded), so an event dated before the latest "
            "one is added to the history without changing the status. `occurred_on` may not be after tomorrow "
            "(UTC) nor before the proposal's `proposed_on` (compared at the coarser precision): either is a 400 "
            "on `occurred_on`. `evidence`, when given, must be the id of one of this proposal's quotes. Honours "
            "`If-Match` with the proposal's `ETag`; the 201 carries the event, and the proposal's new tag in "
            "`X-Proposal-ETag`."
        ),
        tags=["proposals"],
        examples=[
            OpenApiExample(
                "Treaty signed",
                value={
                    "status": "adopted",
                    "occurred_on": "2017-06-09",
                    "precision": "day",
                    "note": "Signed at Astana.",
                },
                request_only=True,
            )
        ],
    ),
)
class ProposalEventViewSet(
    ProposalPartWriteMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The dated status timeline of one proposal."""

    parser_classes = JSON_ONLY

    serializer_class = StatusEventSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return StatusEvent.objects.filter(proposal=_proposal_for(self))

    def perform_create(self, serializer):
        proposal = self.proposal
        data = serializer.validated_data
        evidence = None
        if data.get("evidence_id"):
            evidence = Evidence.objects.filter(pk=data["evidence_id"], proposal=proposal).first()
            if evidence is None:
                raise ValidationError({"evidence": [f"No evidence with id {data['evidence_id']} on this proposal."]})
        serializer.instance = services.status_event_record(
            proposal=proposal,
            status=data["status"],
            occurred_on=data["occurred_on"],
            precision=data.get("precision", "day"),
            note=data.get("note", ""),
            evidence=evidence,
            user=self.request.user,
        )


@extend_schema_view(
    list=extend_schema(
        summary="A proposal's evidence quotes",
        description=(
            "Every verbatim quote backing the proposal, by source then offset, not paginated: the quote, its "
            "source (`{id, title}`), its offsets `start`/`end` in Unicode code points (`text[start:end] == "
            "quote`) and `start_utf16`/`end_utf16` in UTF-16 units (`text.slice(start_utf16, end_utf16)` in "
            "JavaScript), and a note. The source's text is at `GET /api/v1/sources/{slug}/`."
        ),
        tags=["proposals"],
    ),
    create=extend_schema(
        summary="Attach an evidence quote",
        description=(
            'The quote must occur verbatim in the source (`source` as `{"id": …}`). Leave `start`/`end` out '
            "to have them found; a quote that occurs several times needs `start` (in code points). An absent or "
            "ambiguous quote, or offsets that do not hold it, is a 400 naming the field. Honours `If-Match` with "
            "the proposal's `ETag`; the 201 carries the quote with its offsets, and the proposal's new tag in "
            "`X-Proposal-ETag`."
        ),
        tags=["proposals"],
        examples=[
            OpenApiExample(
                "Quote located automatically",
                value={
                    "source": {"id": 1},
                    "quote": "Premier Li Keqiang called for the signing of an anti-extremism treaty",
                },
                request_only=True,
            )
        ],
    ),
)
class ProposalEvidenceViewSet(
    ProposalPartWriteMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The verbatim quotes backing one proposal, with their offsets."""

    parser_classes = JSON_ONLY

    serializer_class = EvidenceSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Evidence.objects.filter(proposal=_proposal_for(self)).with_source_prefix()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.evidence_attach(
            proposal=self.proposal,
            source=data["source"],
            quote=data["quote"],
            start=data.get("start"),
            end=data.get("end"),
            note=data.get("note", ""),
            user=self.request.user,
        )


def _crud_schema(noun: str, plural: str, *, listing: str, shows: str, required: str, delete_refused: str):
    """The six operations of a reference-data resource, each described on
    its own: what it does for this resource, its rules and its errors."""
    name = noun.split(" ", 1)[1]
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {plural}",
            description=f"All {plural}, {listing}, 50 a page (`page_size` up to 200). Filters combine with AND.",
        ),
        retrieve=extend_schema(
            summary=f"Get {noun}",
            description=(
                f"One {name} by its slug (an id that is no slug also finds it): {shows}. The strong `ETag` it "
                "returns is what `If-Match` needs for a write; send it as `If-None-Match` to get 304 while "
                "nothing changed."
            ),
        ),
        create=extend_schema(
            summary=f"Create {noun}",
            description=(
                f"Creates {noun} from a JSON body; required: {required}. A slug already in use is a 400 on "
                f"`slug`. Answers 201 with the new {name} and its `ETag`."
            ),
        ),
        update=extend_schema(
            summary=f"Update {noun}, required fields included",
            description=(
                f"Sets the writable fields of the {name} sent in the body; required: {required}. This is not a "
                "full replacement: **a writable field left out keeps its current value**. Read-only fields echoed "
                "from a read are ignored. Send the `ETag` of your last read as `If-Match`."
            ),
        ),
        partial_update=extend_schema(
            summary=f"Change some fields of {noun}",
            description=(
                f"Changes only the fields of the {name} sent; none is required. Proposals that show the {name} "
                "change with it, so their ETags move. Send the `ETag` of your last read as `If-Match`."
            ),
        ),
        destroy=extend_schema(
            summary=f"Delete {noun}",
            description=(
                f"Deletes the {name}; refused with 409 while {delete_refused}. Its history stays readable by "
                "editors at the same URL. Send the `ETag` of your last read as `If-Match`; 204 on success."
            ),
        ),
    )


@_crud_schema(
    "an actor",
    "actors",
    listing="by name",
    shows="name, whether the texts name it, kind, description, affiliation and country code",
    required="`slug`, `name`, `kind`",
    delete_refused="a proposal names it as proponent or party",
)
class ActorViewSet(
    SlugOrIdLookupMixin, ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, viewsets.ModelViewSet
):
    """People, organisations, states and intergovernmental bodies that put
    proposals forward or are party to them. Unnamed actors ("one Chinese
    scholar") are listed with `named: false`."""

    parser_classes = JSON_ONLY

    queryset = Actor.objects.with_related()
    serializer_class = ActorSerializer
    filterset_class = ActorFilterSet
    ordering_fields = ["name", "updated_at", "kind"]
    ordering = ["name", "id"]


@_crud_schema(
    "a venue",
    "venues",
    listing="by name",
    shows="name, kind, organisation, place, dates and note",
    required="`slug`, `name`, `kind`",
    delete_refused="a proposal was put forward at it",
)
class VenueViewSet(
    SlugOrIdLookupMixin, ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, viewsets.ModelViewSet
):
    """Summits, meetings, standing bodies, bilateral channels, frameworks and
    publications where proposals are put forward or taken up."""

    parser_classes = JSON_ONLY

    queryset = Venue.objects.with_related()
    serializer_class = VenueSerializer
    filterset_class = VenueFilterSet
    ordering_fields = ["name", "starts_on", "updated_at"]
    ordering = ["name", "id"]


@_crud_schema(
    "a source",
    "sources",
    listing="newest publication first, without their texts",
    shows="its metadata, its SHA-256 and its full verbatim `text`, which quote offsets index",
    required="`slug`, `title`, `text`",
    delete_refused="evidence quotes point into it",
)
class SourceViewSet(
    SlugOrIdLookupMixin, ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, viewsets.ModelViewSet
):
    """The texts proposals are drawn from. A source's detail includes its
    full `text`, so a client can highlight every quote by its offsets
    (`text[start:end] == quote`). Lists leave the text out."""

    parser_classes = JSON_ONLY

    filterset_class = SourceFilterSet
    ordering_fields = ["published_on", "title", "updated_at"]
    ordering = ["-published_on", "title", "id"]

    def get_queryset(self):
        queryset = Source.objects.with_related()
        if self.action == "list":
            queryset = queryset.defer("text")
        return queryset

    def get_serializer_class(self):
        return SourceListSerializer if self.action == "list" else SourceSerializer


@_crud_schema(
    "a topic",
    "topics",
    listing="by name",
    shows="name and description",
    required="`slug`, `name`",
    delete_refused="a proposal carries it",
)
class TopicViewSet(ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, viewsets.ModelViewSet):
    """Policy areas that classify proposals, addressed by slug."""

    parser_classes = JSON_ONLY

    queryset = Topic.objects.prefetch_related("aliases")
    serializer_class = TopicSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_fields = []
    ordering_fields = ["name", "slug"]
    ordering = ["name", "id"]
