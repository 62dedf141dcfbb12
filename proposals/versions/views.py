"""``/api/v1/proposals/{slug}/versions/``, ``…/versions/{n}/``,
``…/{slug}/?as_of=`` and ``…/cite/``: citable versions of a proposal.

Caching (RFC 9111, RFC 9110 §8.8.3): a version never changes, so
``versions/{n}/`` answers with the strong ETag the live record had while
it was current (``"<id>-<n>"``: the same bytes, the same tag) and
``Cache-Control: max-age=31536000, immutable``. ``If-None-Match`` naming
it gets 304.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .. import services
from ..api.mixins import if_none_match_hits, may_change
from ..api.pagination import PageNumberPagination
from ..api.serializers import ProposalSerializer, version_url
from ..changes.feed import AUTHOR_ROLES
from ..models import Proposal
from . import cite
from .rebuild import proposal_history, published_versions, rebuild

IMMUTABLE = "max-age=31536000, immutable"
MAX_VERSION = 2**31 - 1  # the column is a 32-bit integer


def proposal_id_for(request, slug: str) -> int:
    """The proposal ``slug`` names now: the live one, else (for editors, as
    the history endpoint does) the last deleted one that had it, or the one
    that last had it before a rename. 404 otherwise. A convenience: slugs
    can be renamed and reused, so permanent addresses use the id
    (:func:`checked_proposal_id`)."""
    pk = Proposal._base_manager.filter(slug=slug).values_list("pk", flat=True).first()
    if pk is not None:
        return pk
    pk = proposal_history().filter(slug=slug).order_by("-change_seq").values_list("id", flat=True).first()
    if pk is None:
        raise NotFound()
    return checked_proposal_id(request, pk)


def checked_proposal_id(request, pk: int) -> int:
    """``pk`` if that proposal exists, or existed and the user may see
    deletions (editors, as in ``…/history/``); else 404."""
    if Proposal._base_manager.filter(pk=pk).exists():
        return pk
    if may_change(request.user, Proposal) and proposal_history().filter(id=pk).exists():
        return pk
    raise NotFound()


def proposal_id_at(request, slug: str, moment: dt.datetime) -> int:
    """The proposal that had ``slug`` at ``moment`` (slugs can be renamed and
    reused, so not necessarily the one that has it now); 404 if none did."""
    history = proposal_history()
    for pk in history.filter(slug=slug, history_date__lte=moment).values_list("id", flat=True).distinct():
        last = (
            history.filter(id=pk, history_date__lte=moment)
            .order_by("-change_seq")
            .only("slug", "history_type", "change_seq")
            .first()
        )
        if last.slug == slug and last.history_type != "-":
            return checked_proposal_id(request, pk)
    raise NotFound("No proposal had this slug at that time.")


def version_row(proposal_id: int, number: int):
    if not 1 <= number <= MAX_VERSION:
        raise NotFound(f"No version {number}: versions count from 1.")
    row = published_versions(proposal_id).filter(version=number).select_related(None).first()
    if row is None:
        raise NotFound(f"This proposal has no version {number}.")
    return row


def render_version(request, row, *, cacheable: bool) -> Response:
    """The representation of version ``row``, as ``GET`` served it then."""
    tag = f'"{row.id}-{row.version}"'
    headers = {"ETag": tag}
    if cacheable:
        headers["Cache-Control"] = IMMUTABLE
    headers["Content-Location"] = permalink(request, row.id, row.version)
    if if_none_match_hits(request.headers.get("If-None-Match", ""), tag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    proposal = rebuild(row)
    return Response(ProposalSerializer(proposal, context={"request": request}).data, headers=headers)


def permalink(request, proposal_id: int, version: int) -> str:
    """A version's permanent address (by the record's id, never its slug)."""
    return version_url({"request": request}, proposal_id, version)


def parse_as_of(value: str) -> dt.datetime:
    """``as_of``: an ISO 8601 date-time (a missing offset means UTC) or a
    date (its start, UTC); not in the future. Else a 400 naming it."""
    moment = None
    try:
        moment = parse_datetime(value)
        if moment is None and (day := parse_date(value)) is not None:
            moment = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError({"as_of": ["Give an ISO 8601 date-time such as 2026-03-03T00:00:00Z, or a date."]})
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        moment = moment.astimezone(dt.UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 has no UTC equivalent
        raise ValidationError({"as_of": ["Out of range: in UTC it must fall within years 1 to 9999."]}) from None
    if moment > timezone.now():
        raise ValidationError({"as_of": ["This time is in the future; the record cannot be known as of then."]})
    return moment


def as_of_response(request, slug: str) -> Response:
    """``GET /proposals/{slug}/?as_of=``: the version that was current at
    that time (404 if the proposal did not exist then)."""
    moment = parse_as_of(request.query_params["as_of"])
    proposal_id = proposal_id_at(request, slug, moment)
    last = (
        proposal_history()
        .filter(id=proposal_id, history_date__lte=moment)
        .order_by("-change_seq")
        .only("history_type", "batch_end_seq", "change_seq")
        .first()
    )
    if last is None or last.history_type == "-":
        raise NotFound("The proposal did not exist at that time.")
    row = published_versions(proposal_id).filter(change_seq__lte=last.batch_end_seq or last.change_seq).last()
    return render_version(request, row, cacheable=False)


class VersionSerializer(serializers.Serializer):
    """One published version of a proposal."""

    version = serializers.IntegerField(help_text="The version number (the ETag the record had then).")
    date = serializers.DateTimeField(help_text="When it became current.")
    type = serializers.ChoiceField(
        choices=[("created", "created"), ("changed", "changed")], help_text="`created` also for a restore."
    )
    role = serializers.ChoiceField(
        choices=AUTHOR_ROLES,
        help_text="The author's role (usernames are not shown here).",
    )
    reason = serializers.CharField(allow_null=True)
    url = serializers.URLField(help_text="The version's permanent address (its representation, as served then).")
    cite = serializers.URLField(help_text="Its citation (add `?format=bibtex` or `ris`; CSL-JSON by default).")


class VersionListView(ListAPIView):
    """Every version of a proposal that was ever served, oldest first, with
    when it became current, the author's role and the reason, and its
    permanent address."""

    queryset = Proposal.objects.none()  # for the permission class; rows come from the history
    serializer_class = VersionSerializer
    extra_error_codes = ("400", "404")
    pagination_class = PageNumberPagination
    filter_backends = []

    @extend_schema(
        operation_id="proposals_versions_list",
        summary="Versions of a proposal",
        description=(
            "Every version of the proposal that was served, oldest first, paginated (`page`, `page_size`). "
            "Each has its number (the `version` and ETag the record had then), the time it became current, the "
            "author's role, the reason for the change, its permanent `url` (`/proposals/versions/{id}/{n}/`, by "
            "the record's id so it survives renames) and its citation. The slug names the proposal that has it "
            "now; a renamed proposal's old slug still works until another record takes it. A deleted "
            "proposal's versions are shown to editors only (404 for others), as its history is."
        ),
    )
    def get(self, request, proposal_slug):
        return self.list(request, proposal_slug)

    def list(self, request, proposal_slug):
        proposal_id = proposal_id_for(request, proposal_slug)
        rows = published_versions(proposal_id).select_related("history_user")
        page = self.paginate_queryset(rows)
        entries = [
            {
                "version": row.version,
                "date": row.history_date,
                "type": "created" if row.history_type == "+" else "changed",
                "role": services.user_role(row.history_user),
                "reason": row.history_change_reason or None,
                "url": permalink(request, row.id, row.version),
                "cite": f"{permalink(request, row.id, row.version)}cite/",
            }
            for row in page
        ]
        return self.get_paginated_response(VersionSerializer(entries, many=True).data)


class VersionDetailView(GenericAPIView):
    queryset = Proposal.objects.none()
    serializer_class = ProposalSerializer
    extra_error_codes = ("404",)
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "number",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="The version number, from 1 (a proposal's `version` and the ETag it had then).",
            )
        ],
        operation_id="proposals_versions_retrieve",
        summary="A proposal as it was at one version",
        description=(
            "The proposal's representation exactly as `GET /proposals/{slug}/` served it while version `n` was "
            "current, parts included (quotes, proponents, status events, relations, topics, parties) and the "
            "names it showed then, rebuilt from the recorded history. Versions never change: the answer has "
            "the strong `ETag` the record had then (`If-None-Match` gets 304) and "
            "`Cache-Control: max-age=31536000, immutable`. 404 for `n` = 0 or a version the proposal never had."
        ),
    )
    def get(self, request, proposal_slug, number):
        # The slug may be reused by another record later: not immutable here.
        return render_version(request, version_row(proposal_id_for(request, proposal_slug), number), cacheable=False)


class VersionPermalinkView(VersionDetailView):
    @extend_schema(
        parameters=[
            OpenApiParameter("proposal_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The proposal's id."),
            OpenApiParameter(
                "number",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="The version number, from 1 (a proposal's `version` and the ETag it had then).",
            ),
        ],
        operation_id="proposals_versions_permalink",
        summary="A version's permanent address",
        description=(
            "The proposal with this `id` exactly as `GET /proposals/{slug}/` served it while version `n` was "
            "current, parts included (quotes, proponents, status events, relations, topics, parties) and the "
            "names it showed then, rebuilt from the recorded history. This is the `permalink` every "
            "representation carries: it uses the record's id, which never changes, so a rename, or another "
            "record taking the old slug, does not move it. Versions never change: the answer has the strong "
            "`ETag` the record had then (`If-None-Match` gets 304) and `Cache-Control: max-age=31536000, "
            "immutable`. 404 for `n` = 0, a version the proposal never had, or an unknown id (a deleted "
            "proposal's versions are shown to editors only)."
        ),
    )
    def get(self, request, proposal_id, number):
        return render_version(request, version_row(checked_proposal_id(request, proposal_id), number), cacheable=True)


class _JSONOnly(DefaultContentNegotiation):
    """``format`` names the citation format here, not a renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type


FORMATS = {
    "csl-json": ("application/vnd.citationstyles.csl+json; charset=utf-8", cite.csl_json, "json"),
    "bibtex": ("application/x-bibtex; charset=utf-8", cite.bibtex, "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", cite.ris, "ris"),
}


CITE_RESPONSES = {
    (200, "application/vnd.citationstyles.csl+json"): OpenApiResponse(
        {"type": "array", "items": {"type": "object"}}, description="CSL-JSON: a list of CSL items"
    ),
    (200, "application/x-bibtex"): OpenApiResponse(OpenApiTypes.STR, description="BibTeX"),
    (200, "application/x-research-info-systems"): OpenApiResponse(OpenApiTypes.STR, description="RIS"),
}
FORMAT_PARAMETER = OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), description="Citation format.")


def citation_format(request) -> str:
    name = request.query_params.get("format") or "csl-json"
    if name not in FORMATS:
        raise ValidationError({"format": [f"Use one of: {', '.join(FORMATS)}."]})
    return name


def citation(request, name: str, row) -> HttpResponse:
    """The citation of version ``row`` in format ``name``: the record (at
    its permanent, id-based address), then each source of its quotes."""
    proposal = rebuild(row)
    sources = {quote.source_id: quote.source for quote in proposal._prefetched_objects_cache["evidence"]}
    items = [cite.record_item(proposal, permalink(request, row.id, row.version), row.history_date, timezone.now())]
    items += [cite.source_item(source) for source in sorted(sources.values(), key=lambda s: s.slug)]
    media_type, write, extension = FORMATS[name]
    response = HttpResponse(write(items), content_type=media_type)
    response["Content-Disposition"] = f'inline; filename="{row.slug}-v{row.version}.{extension}"'
    return response


class CiteView(GenericAPIView):
    queryset = Proposal.objects.none()
    pagination_class = None
    filter_backends = []
    content_negotiation_class = _JSONOnly
    query_allows_empty = True
    extra_error_codes = ("400", "404")

    @extend_schema(
        summary="Cite a proposal",
        description=(
            "A citation of the proposal's current version, or of `version`, with the sources its quotes come "
            "from: first the record (a dataset by the tracker, at the version's permanent address, dated when "
            "the version became current), then each source. `format`: `csl-json` (default; the Citation Style "
            "Language's JSON, for Zotero, Pandoc, citeproc), `bibtex` or `ris`. An unknown `format` or a "
            "malformed `version` is a 400; a version the proposal never had is a 404. The slug names the "
            "proposal that has it now; `/proposals/versions/{id}/{n}/cite/` cites by the record's id."
        ),
        parameters=[
            FORMAT_PARAMETER,
            OpenApiParameter("version", OpenApiTypes.INT, description="The version to cite (default: current)."),
        ],
        responses=CITE_RESPONSES,
    )
    def get(self, request, proposal_slug):
        name = citation_format(request)
        proposal_id = proposal_id_for(request, proposal_slug)
        raw = request.query_params.get("version")
        if raw is None or raw == "":
            row = published_versions(proposal_id).last()
            if row is None:
                raise Http404
        elif raw.isascii() and raw.isdigit():
            row = version_row(proposal_id, int(raw))
        else:
            raise ValidationError({"version": ["Give a version number (a whole number from 1)."]})
        return citation(request, name, row)


class VersionCiteView(CiteView):
    @extend_schema(
        operation_id="proposals_versions_cite",
        summary="Cite one version of a proposal, by id",
        description=(
            "The citation of version `n` of the proposal with this `id` (the permanent address the versions "
            "list gives), with the sources its quotes come from. `format`: `csl-json` (default), `bibtex` or "
            "`ris`; an unknown one is a 400. 404 for an unknown id or a version it never had."
        ),
        parameters=[
            OpenApiParameter("proposal_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The proposal's id."),
            OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="The version number."),
            FORMAT_PARAMETER,
        ],
        responses=CITE_RESPONSES,
    )
    def get(self, request, proposal_id, number):
        name = citation_format(request)
        return citation(request, name, version_row(checked_proposal_id(request, proposal_id), number))
