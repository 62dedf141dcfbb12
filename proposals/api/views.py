"""API v1 viewsets. Thin: each declares its queryset, serializer, filters
and lookup; writes go through ``proposals.services``."""

from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

from .. import services
from ..models import Actor, Evidence, Proposal, Source, StatusEvent, Topic, Venue
from .filters import ActorFilterSet, ProposalFilterSet, SourceFilterSet, VenueFilterSet
from .mixins import ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, check_if_match, etag_for
from .pagination import ProposalPagination
from .renderers import CSVRenderer, proposal_csv_rows
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
        summary="Get a proposal", description="One proposal with its quotes, timeline and relations."
    ),
    create=extend_schema(
        summary="Create a proposal",
        description="Creates the proposal and opens its status timeline with `initial_status` (default `proposed`).",
        examples=[OpenApiExample("A new proposal", value=PROPOSAL_EXAMPLE, request_only=True)],
    ),
    update=extend_schema(
        summary="Replace a proposal",
        description="Replaces the writable fields. `status` is read-only: add a status event.",
    ),
    partial_update=extend_schema(summary="Change some fields of a proposal"),
    destroy=extend_schema(
        summary="Delete a proposal", description="Deletes it with its quotes and timeline; its history is kept."
    ),
)
class ProposalViewSet(ConditionalWriteMixin, HistoryMixin, viewsets.ModelViewSet):
    """Policy proposals: who put each forward, where, its current status and
    its dated timeline, each claim backed by verbatim quotes.

    Proposals are addressed by their stable `slug`. The status changes only
    by adding a status event (`POST /proposals/{slug}/events/`)."""

    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_class = ProposalFilterSet
    ordering_fields = ["title", "proposed_on", "updated_at", "created_at", "status", "slug"]
    ordering = ["-updated_at", "-id"]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    pagination_class = ProposalPagination

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

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            queryset = self.filter_queryset(self.get_queryset())
            prefix = request.build_absolute_uri(reverse("proposal-detail", kwargs={"slug": "x"}))[:-2]
            response = StreamingHttpResponse(
                proposal_csv_rows(queryset.iterator(chunk_size=2000), prefix), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = 'attachment; filename="proposals.csv"'
            return response
        return super().list(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.proposal_delete(proposal=instance, user=self.request.user)


def _proposal_for(view) -> Proposal:
    return get_object_or_404(
        Proposal.objects.only("id", "slug", "status", "version"), slug=view.kwargs["proposal_slug"]
    )


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
    list=extend_schema(summary="A proposal's status timeline", description="Oldest first.", tags=["proposals"]),
    create=extend_schema(
        summary="Add a status event",
        description=(
            "The one way to change a proposal's status: the proposal's current status becomes the status "
            "of its latest event (by date, then by when it was recorded)."
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

    serializer_class = StatusEventSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return StatusEvent.objects.filter(proposal=_proposal_for(self)).select_related("recorded_by")

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
    list=extend_schema(summary="A proposal's evidence quotes", tags=["proposals"]),
    create=extend_schema(
        summary="Attach an evidence quote",
        description=(
            "The quote must occur verbatim in the source. Leave `start`/`end` out to have them found; a quote "
            "that occurs several times needs `start`. An absent or ambiguous quote, or offsets that do not hold "
            "it, is a 400 naming the field."
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

    serializer_class = EvidenceSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Evidence.objects.filter(proposal=_proposal_for(self)).select_related("source").defer("source__text")

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


def _crud_schema(noun: str, plural: str):
    return extend_schema_view(
        list=extend_schema(summary=f"List {plural}"),
        retrieve=extend_schema(summary=f"Get {noun}"),
        create=extend_schema(summary=f"Create {noun}"),
        update=extend_schema(summary=f"Replace {noun}"),
        partial_update=extend_schema(summary=f"Change some fields of {noun}"),
        destroy=extend_schema(summary=f"Delete {noun}", description="Refused with 409 while proposals refer to it."),
    )


@_crud_schema("an actor", "actors")
class ActorViewSet(ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, viewsets.ModelViewSet):
    """People, organisations, states and intergovernmental bodies that put
    proposals forward or are party to them. Unnamed actors ("one Chinese
    scholar") are listed with `named: false`."""

    queryset = Actor.objects.with_related()
    serializer_class = ActorSerializer
    filterset_class = ActorFilterSet
    ordering_fields = ["name", "updated_at", "kind"]
    ordering = ["name", "id"]


@_crud_schema("a venue", "venues")
class VenueViewSet(ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, viewsets.ModelViewSet):
    """Summits, meetings, standing bodies, bilateral channels, frameworks and
    publications where proposals are put forward or taken up."""

    queryset = Venue.objects.with_related()
    serializer_class = VenueSerializer
    filterset_class = VenueFilterSet
    ordering_fields = ["name", "starts_on", "updated_at"]
    ordering = ["name", "id"]


@_crud_schema("a source", "sources")
class SourceViewSet(ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, viewsets.ModelViewSet):
    """The texts proposals are drawn from. A source's detail includes its
    full `text`, so a client can highlight every quote by its offsets
    (`text[start:end] == quote`). Lists leave the text out."""

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


@_crud_schema("a topic", "topics")
class TopicViewSet(ConditionalWriteMixin, HistoryMixin, ProtectedDeleteMixin, viewsets.ModelViewSet):
    """Policy areas that classify proposals, addressed by slug."""

    queryset = Topic.objects.all()
    serializer_class = TopicSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_fields = []
    ordering_fields = ["name", "slug"]
    ordering = ["name", "id"]
