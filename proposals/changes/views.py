"""``GET /api/v1/changes/``: the change feed."""

from __future__ import annotations

from django.core.validators import slug_re
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from ..api.filters import MAX_ID
from ..models import Proposal
from .feed import KINDS, RESOURCE_TYPES, build_entries, proposal_id_for_slug, read_page, route_prefix
from .models import ChangeCounter

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

MIRROR_GUIDE = """
**Mirroring the tracker.** (1) Note the newest `seq`: `GET /api/v1/changes/?limit=1&after=<huge>` is not
needed; read `last_seq` from `GET /api/v1/changes/?limit=1` pages or start at `after=0`. (2) Take a
snapshot of every list (`/proposals/?cursor=`, `/actors/`, `/venues/`, `/sources/`, `/topics/`).
(3) Follow the feed from the `seq` you noted: for each change of a `proposal`, `actor`, `venue`,
`source` or `topic`, `GET` its `url` and store the body under its `resource_type` and `id`
(a 404 means a later change deletes it); for `change: "delete"` remove it (a tombstone). Changes of
a part of a proposal (`evidence`, `proponent`, `status_event`, `relation`, `participation`,
`proposal_alias`) are followed in the same batch by a change of the `proposal` that shows it, and
changes of an alias of a record (`actor_alias`, `venue_alias`, `topic_alias`) by a change of that
`actor`, `venue` or `topic` (its `changed_fields` name the part, e.g. `participation`, `aliases`),
so a mirror of the representations may skip part changes. Keep
`last_seq` and resume with `?after=<last_seq>`. Replaying from the start, or from any `seq` a client
stopped at, ends with exactly the server's data.
"""


class ChangeSerializer(serializers.Serializer):
    """One change: a create, update or delete of one record, from its history row."""

    seq = serializers.IntegerField(help_text="Position in the feed; strictly increasing, with gaps.")
    resource_type = serializers.ChoiceField(choices=RESOURCE_TYPES)
    id = serializers.IntegerField(help_text="The record's id (ids are never reused).")
    slug = serializers.CharField(
        allow_null=True, help_text="The record's slug now (for a deleted record, its last); null for parts."
    )
    url = serializers.URLField(
        allow_null=True,
        help_text="Where the record's representation is now; for a part, its proposal's. "
        "Still given in a tombstone (it answers 404 then).",
    )
    proposal = serializers.CharField(
        allow_null=True, help_text="Slug of the proposal this record is or belongs to; null for the others."
    )
    change = serializers.ChoiceField(
        choices=[("create", "create"), ("update", "update"), ("delete", "delete")],
        help_text="`delete` is a tombstone. A restored record reappears with `create`.",
    )
    version = serializers.IntegerField(
        allow_null=True, help_text="The record's version after the change (its ETag's); null for parts."
    )
    time = serializers.DateTimeField()
    changed_fields = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="For updates, the fields that changed; null for creates, deletes and changes recorded before "
        "the feed existed.",
    )
    reason = serializers.CharField(allow_null=True, help_text="Why, when the change was a consequence of another.")


class ChangePageSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    last_seq = serializers.IntegerField(help_text="The `seq` to resume from (`?after=`): the last one on this page.")
    next = serializers.URLField(allow_null=True, help_text="The next page, while more changes follow.")


def parse_after(value: str | None) -> int:
    """``?after=``: a whole number from 0 to 2**63-1; else a 400 naming it."""
    if value is None or value == "":
        return 0
    if not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
        raise ValidationError({"after": [f"Give a whole number from 0 to {MAX_ID} (a seq from this feed)."]})
    return int(value)


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Give a whole number from 1 to {MAX_LIMIT}."]})
    return int(value)


class ChangeFeedView(GenericAPIView):
    # DjangoModelPermissions needs a model; reading is public like the
    # records (unless API_READ_REQUIRES_AUTH), and this view only reads.
    queryset = Proposal.objects.none()
    serializer_class = ChangePageSerializer
    extra_error_codes = ("400",)
    query_allows_empty = True
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="Follow every change (the change feed)",
        description=(
            "Every create, update and delete of every record — proposals and their parts (evidence quotes, "
            "proponent links, status events, relations, participation, aliases), actors, venues, sources and "
            "topics (and their aliases) — in one total "
            "order, oldest first. Built on the recorded history: each history row is one change. Deletions "
            'appear as tombstones (`change: "delete"`). A change\'s `seq` is assigned when its transaction '
            "commits, in commit order, so a client that read up to `seq` N never misses a change later numbered "
            "below N.\n\nPaging is by sequence: `?after=<seq>` (default 0), `limit` (default 100, at most 1000); "
            "follow `next`, or poll with `after=<last_seq>`. Filters: `resource_type` (repeatable or "
            "comma-separated) and `proposal` (a slug: the proposal and its parts; a deleted or renamed "
            "proposal's old slug still works). A malformed `after` or `limit`, an `after` beyond the last `seq` "
            "handed out, an unknown `resource_type` or `proposal` is a 400 naming the parameter.\n" + MIRROR_GUIDE
        ),
        parameters=[
            OpenApiParameter("after", OpenApiTypes.INT, description="Only changes with a greater `seq` (0-2**63-1)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"Page size, 1-{MAX_LIMIT} (default 100)."),
            OpenApiParameter(
                "resource_type",
                OpenApiTypes.STR,
                many=True,
                enum=list(KINDS),
                description="Only these kinds of record (repeatable, or comma-separated).",
            ),
            OpenApiParameter("proposal", OpenApiTypes.STR, description="Slug: only this proposal and its parts."),
        ],
        responses={200: ChangePageSerializer},
    )
    def get(self, request):
        params = request.query_params
        after = parse_after(params.get("after"))
        limit = parse_limit(params.get("limit"))
        kinds = [k for value in params.getlist("resource_type") for k in value.split(",") if k]
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValidationError({"resource_type": [f"Unknown: {', '.join(unknown)}. Known: {', '.join(KINDS)}."]})
        proposal_id = None
        slug = params.get("proposal")
        if slug is not None:
            # A slug's characters only: a NUL byte reached PostgreSQL as an error.
            proposal_id = proposal_id_for_slug(slug) if len(slug) <= 120 and slug_re.match(slug) else None
            if proposal_id is None:
                raise ValidationError({"proposal": [f"No proposal has had the slug {slug[:120]!r}."]})
        rows, more = read_page(
            after=after, limit=limit, kinds=[k for k in KINDS if not kinds or k in kinds], proposal_id=proposal_id
        )
        if not rows and after:
            # An empty page: is ``after`` a position this feed has reached?
            # (Beyond it, a client would wait for ever.) Only then a query.
            reached = ChangeCounter.objects.filter(pk=1).values_list("value", flat=True).first()
            if reached is not None and after > reached:
                raise ValidationError({"after": [f"Beyond the end of the feed: the last seq handed out is {reached}."]})
        base = request.build_absolute_uri("/").rstrip("/")
        results = build_entries(rows, lambda route: route_prefix(route, base))
        last_seq = results[-1]["seq"] if results else after
        next_url = None
        if more:
            query = params.copy()
            query["after"] = str(last_seq)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        # Plain dicts in the serializer's shape (the schema documents it):
        # DRF's encoder writes datetimes as DateTimeField does, and skipping
        # ~11 field objects per entry makes a 1000-entry page ~5x cheaper.
        return Response({"results": results, "last_seq": last_seq, "next": next_url})
