"""``/proposals/{slug}/participation/``: who did what about a proposal,
one dated row per party and action (proposals.tracking).

A row has no version of its own: it is part of the proposal's
representation, so the proposal's ETag is the validator for every write,
as for the events and evidence sub-resources (RFC 9110 §13.1.1):

* ``POST`` honours ``If-Match`` with the proposal's ETag when sent (412 when
  stale), like ``/events/`` and ``/evidence/``;
* ``PUT``, ``PATCH`` and ``DELETE`` of one row must send it: without it 428,
  stale 412, as every replacing write in this API;
* every write answers with the proposal's new tag in ``X-Proposal-ETag``;
  ``GET`` of a row gives the current one there too.

The check runs on the proposal's row locked for the write's transaction.
"""

from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError

from ..models import Evidence, Participation, Proposal
from ..tracking import services as tracking
from .errors import PreconditionRequired
from .mixins import check_if_match, etag_for
from .serializers import ParticipationSerializer
from .views import JSON_ONLY, ProposalPartWriteMixin, _proposal_for

_RULES = (
    "`action` is one of `signed`, `ratified`, `accepted`, `approved`, `acceded`, `entered_into_force` (for that "
    "party), `supported`, `opposed`, `reservation`, `withdrew`. `party` names an actor by slug "
    '(`{"slug": "china"}`; an unknown slug is a 400). `occurred_on` (optional, with `precision` day, month or '
    "year) may not be after tomorrow (UTC) nor before the proposal's `proposed_on`; `evidence`, when given, must "
    "be the id of one of this proposal's quotes; the same party, action and date twice is a 400."
)


@extend_schema_view(
    list=extend_schema(
        summary="A proposal's participation rows",
        description=(
            "Every party's dated actions on the proposal as a flat list, by party then date (undated last), not "
            "paginated. The proposal's representation shows the same rows grouped per party (`participation`)."
        ),
        tags=["proposals"],
    ),
    create=extend_schema(
        summary="Record a party's action",
        description=(
            f"{_RULES} Honours `If-Match` with the proposal's `ETag`; the 201 carries the row, and the proposal's "
            "new tag in `X-Proposal-ETag`."
        ),
        tags=["proposals"],
        examples=[
            OpenApiExample(
                "Signature",
                value={"party": {"slug": "china"}, "action": "signed", "occurred_on": "2017-06-09"},
                request_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get one participation row",
        description="The row, and the proposal's current `ETag` in `X-Proposal-ETag` (send it as `If-Match`).",
        tags=["proposals"],
    ),
    update=extend_schema(
        summary="Change a participation row, required fields included",
        description=(
            f"Sets the row's writable fields. {_RULES} Needs `If-Match` with the proposal's `ETag` (428 without, "
            "412 when stale); the proposal's new tag comes in `X-Proposal-ETag`."
        ),
        tags=["proposals"],
    ),
    partial_update=extend_schema(
        summary="Change some fields of a participation row",
        description=(
            "Changes only the fields sent, under the same rules and the same `If-Match` requirement as `PUT`."
        ),
        tags=["proposals"],
    ),
    destroy=extend_schema(
        summary="Remove a participation row",
        description=(
            "Removes a row recorded in error; the removal stays in the proposal's history. Needs `If-Match` with "
            "the proposal's `ETag` (428 without, 412 when stale); 204, with the new tag in `X-Proposal-ETag`."
        ),
        tags=["proposals"],
    ),
)
class ProposalParticipationViewSet(
    ProposalPartWriteMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Per-party dated actions on one proposal: signature, ratification,
    accession, entry into force for that party, support, opposition,
    reservation, withdrawal."""

    parser_classes = JSON_ONLY
    part_conditional_writes = True  # PUT/PATCH/DELETE need If-Match (proposals.api.schema documents it)

    serializer_class = ParticipationSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return (
            Participation.objects.filter(proposal=_proposal_for(self))
            .select_related("party")
            .order_by("party__name", "party_id", F("occurred_on").asc(nulls_last=True), "id")
        )

    def _evidence(self, data, proposal, current=None):
        if "evidence_id" not in data:
            return current
        if data["evidence_id"] is None:
            return None
        evidence = Evidence.objects.filter(pk=data["evidence_id"], proposal=proposal).first()
        if evidence is None:
            raise ValidationError({"evidence": [f"No evidence with id {data['evidence_id']} on this proposal."]})
        return evidence

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = tracking.participation_record(
            proposal=self.proposal,
            party=data["party"],
            action=data["action"],
            occurred_on=data.get("occurred_on"),
            precision=data.get("precision", "day"),
            evidence=self._evidence(data, self.proposal),
            note=data.get("note", ""),
            user=self.request.user,
        )

    def perform_update(self, serializer):
        row, data = serializer.instance, serializer.validated_data
        serializer.instance = tracking.participation_record(
            proposal=self.proposal,
            party=data.get("party", row.party),
            action=data.get("action", row.action),
            occurred_on=data.get("occurred_on", row.occurred_on),
            precision=data.get("precision", row.precision),
            evidence=self._evidence(data, self.proposal, row.evidence),
            note=data.get("note", row.note),
            user=self.request.user,
            participation=row,
        )

    def perform_destroy(self, instance):
        tracking.participation_delete(participation=instance, user=self.request.user)

    def _locked_proposal(self, request):
        """The proposal, locked for this write; 404 first, then 428 without
        ``If-Match``, then 412 when stale."""
        proposal = get_object_or_404(
            Proposal.objects.select_for_update().only("id", "slug", "status", "version", "proposed_on"),
            slug=self.kwargs["proposal_slug"],
        )
        self._url_proposal = proposal
        self.get_object()  # 404 for a row of another proposal, before the precondition
        if not request.headers.get("If-Match"):
            raise PreconditionRequired("This write needs an If-Match header with the proposal's ETag.")
        check_if_match(request, proposal)
        return proposal

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["X-Proposal-ETag"] = etag_for(_proposal_for(self))
        return response

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            self.proposal = self._locked_proposal(request)
            response = super().update(request, *args, **kwargs)
        # participation_record moved self.proposal's version with the write.
        response["X-Proposal-ETag"] = etag_for(self.proposal)
        return response

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            self.proposal = self._locked_proposal(request)
            response = super().destroy(request, *args, **kwargs)
        response["X-Proposal-ETag"] = self._new_tag()
        return response

    def _new_tag(self) -> str:
        self.proposal.version = Proposal.objects.filter(pk=self.proposal.pk).values_list("version", flat=True).get()
        return etag_for(self.proposal)
