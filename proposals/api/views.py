"""API v1 viewsets. Thin: each declares its queryset, serializer, filters
and lookup; writes go through ``proposals.services``."""

from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from .. import services
from ..models import Actor, Evidence, Proposal, Source, StatusEvent, Topic, Venue
from .export import proposal_csv_response
from .filters import ActorFilterSet, ProposalFilterSet, SourceFilterSet, VenueFilterSet
from .pagination import ProposalPagination
from .renderers import CSVRenderer
from .serializers import (
    ActorSerializer,
    EvidenceSerializer,
    HistoryEntrySerializer,
    ProposalListSerializer,
    ProposalSerializer,
    SourceListSerializer,
    SourceSerializer,
    StatusEventSerializer,
    TopicSerializer,
    VenueSerializer,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record is still referenced by other records."
    default_code = "conflict"


class ProtectedDeleteMixin:
    """A delete refused by ``on_delete=PROTECT`` is a 409 that says why."""

    def perform_destroy(self, instance):
        try:
            services.record_delete(instance=instance, user=self.request.user)
        except (ProtectedError, RestrictedError) as exc:
            # str(): a model without an explicit verbose_name_plural has a lazy
            # translation proxy there, which ", ".join() refuses (TypeError, a 500).
            blockers = (
                {str(obj._meta.verbose_name_plural) for obj in exc.protected_objects}
                if hasattr(exc, "protected_objects")
                else set()
            )
            raise Conflict(
                f"This {instance._meta.verbose_name} is still referenced by "
                f"{', '.join(sorted(blockers)) or 'other records'}; remove those references first."
            ) from exc


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = (
        "This write needs an If-Match header with the ETag you last read, so it cannot overwrite a change blindly."
    )
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since you read it (If-Match does not match its ETag). Read it again."
    default_code = "precondition_failed"


def etag_for(instance) -> str:
    """A strong ETag: the record's id and version, which every save bumps."""
    return f'"{instance.pk}-{instance.version}"'


def _etag_matches(header: str, current: str) -> bool:
    tags = [tag.strip() for tag in header.split(",")]
    # Weak tags never match in If-Match (RFC 9110 strong comparison).
    return "*" in tags or current in tags


class ConditionalWriteMixin:
    """Optimistic concurrency for a versioned resource.

    Reads and writes return a strong ``ETag``; ``If-None-Match`` with the
    current tag gets 304. ``PUT``, ``PATCH`` and ``DELETE`` must send
    ``If-Match``: without it 428, with a stale tag 412 and nothing changes.
    The check runs on the row locked with ``SELECT … FOR UPDATE`` inside the
    write's transaction, so of two racing writers holding the same tag
    exactly one wins.
    """

    conditional_writes = True

    def get_object(self):
        if self.request.method not in ("PUT", "PATCH", "DELETE"):
            return super().get_object()
        if_match = self.request.headers.get("If-Match")
        if not if_match:
            # Still 404 first for a record that does not exist.
            super().get_object()
            raise PreconditionRequired()
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        queryset = self.filter_queryset(self.get_queryset())
        # Lock the row with a plain query on its own table, then read it
        # through the view's queryset. Locking the view's queryset itself
        # fails on PostgreSQL when it aggregates ("FOR UPDATE is not allowed
        # with GROUP BY clause": Source annotates its evidence count), and
        # the related rows are read, not written, so they need no lock.
        # DRF's get_object_or_404: a malformed id ("abc") is a 404, not a 500.
        locked = queryset.model._base_manager.select_for_update().values_list("pk", flat=True)
        generics.get_object_or_404(locked, **lookup)
        obj = generics.get_object_or_404(queryset, **lookup)
        self.check_object_permissions(self.request, obj)
        if not _etag_matches(if_match, etag_for(obj)):
            raise PreconditionFailed()
        return obj

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        tag = etag_for(instance)
        if _etag_matches(request.headers.get("If-None-Match", ""), tag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        return Response(self.get_serializer(instance).data, headers={"ETag": tag})

    def perform_create(self, serializer):
        super().perform_create(serializer)
        self._etag = etag_for(serializer.instance)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        instance = serializer.instance
        instance.version = type(instance).objects.filter(pk=instance.pk).values_list("version", flat=True).get()
        self._etag = etag_for(instance)

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            response = super().create(request, *args, **kwargs)
        response["ETag"] = self._etag
        return response

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            response = super().update(request, *args, **kwargs)
        response["ETag"] = self._etag
        return response

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)


class HistoryMixin:
    """``GET …/{id}/history/``: who changed the record, when, and how.

    The history outlives the record: once it is deleted, users who may
    change records of its kind (editors) still read its history at the same
    URL, ending with the deletion. Everyone else gets the 404 a record that
    never existed gets, so deletions are not disclosed.
    """

    @extend_schema(
        summary="Change history",
        description=(
            "Every saved version, newest first, with the user, the kind of change and field-level differences. "
            "For a deleted record, users who may change such records (editors) still get its history, the "
            "deletion first; others get 404."
        ),
        responses={200: HistoryEntrySerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, *args, **kwargs):
        try:
            records = self.get_object().history.all()
        except Http404:
            records = self._deleted_record_history()
            if records is None:
                raise
        entries = services.history_entries(records)
        return Response(HistoryEntrySerializer(entries, many=True).data)

    def _deleted_record_history(self):
        """The history rows of the deleted record the URL names, for users
        with the model's change permission; ``None`` when there is none or
        the user may not see it. A slug reused since the deletion names the
        live record (served above), not this one."""
        model = self.get_queryset().model
        opts = model._meta
        if not self.request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}"):
            return None
        field = opts.pk.attname if self.lookup_field == "pk" else self.lookup_field
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            deletion = (
                model.history.filter(**{field: value}, history_type="-")
                .order_by("-history_date", "-history_id")
                .values_list(opts.pk.attname, flat=True)
                .first()
            )
        except (TypeError, ValueError, DjangoValidationError):
            return None  # e.g. a non-numeric id
        if deletion is None or model._base_manager.filter(pk=deletion).exists():
            return None
        return model.history.filter(**{opts.pk.attname: deletion})


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
            "proposed_precision, updated_at, url."
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
            return proposal_csv_response(self, request, queryset, prefix)
        return super().list(request, *args, **kwargs)

    def perform_destroy(self, instance):
        instance._history_user = self.request.user
        instance.delete()


def _proposal_for(view) -> Proposal:
    return get_object_or_404(
        Proposal.objects.only("id", "slug", "status", "version"), slug=view.kwargs["proposal_slug"]
    )


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
class ProposalEventViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The dated status timeline of one proposal."""

    serializer_class = StatusEventSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return StatusEvent.objects.filter(proposal=_proposal_for(self)).select_related("recorded_by")

    def perform_create(self, serializer):
        proposal = _proposal_for(self)
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
class ProposalEvidenceViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The verbatim quotes backing one proposal, with their offsets."""

    serializer_class = EvidenceSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Evidence.objects.filter(proposal=_proposal_for(self)).select_related("source").defer("source__text")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.evidence_attach(
            proposal=_proposal_for(self),
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
