"""Reading the change feed out of the history tables.

Each history table is one kind of resource. A page is read with one
index-backed query per table (``change_seq > after ORDER BY change_seq
LIMIT n``), merged by sequence, plus one query per kind of slug it shows:
the cost is the same at any depth and does not grow with the page size.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from django.db.models import Q

from ..models import (
    Actor,
    ActorAlias,
    Evidence,
    Participation,
    Proponent,
    Proposal,
    ProposalAlias,
    ProposalRelation,
    Source,
    StatusEvent,
    Topic,
    TopicAlias,
    Venue,
    VenueAlias,
)


@dataclass(frozen=True)
class Kind:
    """One resource type of the feed: its model, the route of its detail
    URL (``None`` for parts of a proposal, shown in the proposal's
    representation) and the column naming its proposal. ``owner`` names
    the kind and column of the record a part without a proposal belongs to
    (an actor's aliases are shown in the actor's representation): its entry's
    ``url`` is that record's."""

    name: str
    model: type
    route: str | None
    proposal_column: str | None
    owner: tuple[str, str] | None = None


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("proposal", Proposal, "proposal-detail", "id"),
        Kind("evidence", Evidence, None, "proposal_id"),
        Kind("proponent", Proponent, None, "proposal_id"),
        Kind("status_event", StatusEvent, None, "proposal_id"),
        Kind("relation", ProposalRelation, None, "from_proposal_id"),
        Kind("participation", Participation, None, "proposal_id"),
        Kind("proposal_alias", ProposalAlias, None, "proposal_id"),
        Kind("actor", Actor, "actor-detail", None),
        Kind("venue", Venue, "venue-detail", None),
        Kind("source", Source, "source-detail", None),
        Kind("topic", Topic, "topic-detail", None),
        Kind("actor_alias", ActorAlias, None, None, owner=("actor", "actor_id")),
        Kind("venue_alias", VenueAlias, None, None, owner=("venue", "venue_id")),
        Kind("topic_alias", TopicAlias, None, None, owner=("topic", "topic_id")),
    )
}

CHANGE_TYPES = {"+": "create", "~": "update", "-": "delete"}

#: Choice sets the API's schema names once (``ENUM_NAME_OVERRIDES``).
RESOURCE_TYPES = [(name, name) for name in KINDS]
AUTHOR_ROLES = [("staff", "staff"), ("editor", "editor"), ("system", "system")]


def read_page(*, after: int, limit: int, kinds: list[str], proposal_id: int | None) -> tuple[list[dict], bool]:
    """Up to ``limit`` changes with ``change_seq > after``, oldest first,
    and whether more follow. Each is a dict of the history row's columns
    plus ``kind``; ``proposal_id`` limits them to one proposal and its
    parts."""
    streams = []
    for name in kinds:
        kind = KINDS[name]
        history = kind.model.history.model
        queryset = history._default_manager.filter(change_seq__gt=after)
        if proposal_id is not None:
            if kind.proposal_column is None:
                continue
            queryset = queryset.filter(**{kind.proposal_column: proposal_id})
        columns = ["change_seq", "id", "history_type", "history_date", "changed_fields", "history_change_reason"]
        columns += [c for c in ("version", "slug") if _has(history, c)]
        if kind.proposal_column and kind.proposal_column != "id":
            columns.append(kind.proposal_column)
        if kind.owner:
            columns.append(kind.owner[1])
        rows = list(queryset.order_by("change_seq").values(*columns)[: limit + 1])
        for row in rows:
            row["kind"] = name
            if kind.proposal_column:
                row["proposal_id"] = row[kind.proposal_column]
            if kind.owner:
                row["owner_id"] = row[kind.owner[1]]
        streams.append(rows)
    merged = list(heapq.merge(*streams, key=lambda row: row["change_seq"]))
    return merged[:limit], len(merged) > limit


def _has(model, name: str) -> bool:
    return any(f.attname == name for f in model._meta.concrete_fields)


def current_slugs(rows: list[dict]) -> dict[tuple[str, int], str]:
    """``{(kind, id): slug}`` for every record the rows name (and each
    part's proposal): the live slug, or for a deleted record the one it had
    when it was deleted. One query per kind of record named, and one more
    for deleted proposals."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        kind = KINDS[row["kind"]]
        if kind.route is not None:
            wanted.setdefault(row["kind"], set()).add(row["id"])
        if row.get("proposal_id") is not None:
            wanted.setdefault("proposal", set()).add(row["proposal_id"])
        if kind.owner and row.get("owner_id") is not None:
            wanted.setdefault(kind.owner[0], set()).add(row["owner_id"])
    slugs: dict[tuple[str, int], str] = {}
    for name, ids in wanted.items():
        model = KINDS[name].model
        for pk, slug in model._base_manager.filter(pk__in=ids).values_list("pk", "slug"):
            slugs[(name, pk)] = slug
        gone = [pk for pk in ids if (name, pk) not in slugs]
        if gone:
            history = model.history.model._default_manager.filter(id__in=gone).order_by("id", "-change_seq")
            for pk, slug in history.values_list("id", "slug"):
                slugs.setdefault((name, pk), slug)
    return slugs


def proposal_id_for_slug(slug: str) -> int | None:
    """The proposal a slug names now, or, if none does, the last proposal
    that had it (deleted or renamed since): the feed keeps its changes."""
    pk = Proposal._base_manager.filter(slug=slug).values_list("pk", flat=True).first()
    if pk is None:
        pk = Proposal.history.filter(Q(slug=slug)).order_by("-change_seq").values_list("id", flat=True).first()
    return pk


def build_entries(rows: list[dict], prefix_for) -> list[dict]:
    """The feed's entries for history ``rows`` (from ``read_page``).
    ``prefix_for(route)`` gives the absolute URL of ``route`` up to the
    slug (a request's host for the API, ``PUBLIC_BASE_URL`` for webhooks)."""
    slugs = current_slugs(rows)
    prefixes: dict[str, str] = {}

    def url(route, slug):
        if slug is None:
            return None
        if route not in prefixes:
            prefixes[route] = prefix_for(route)
        return f"{prefixes[route]}{slug}/"

    out = []
    for row in rows:
        kind = KINDS[row["kind"]]
        own_slug = slugs.get((row["kind"], row["id"])) if kind.route else None
        proposal_slug = slugs.get(("proposal", row["proposal_id"])) if row.get("proposal_id") else None
        out.append(
            {
                "seq": row["change_seq"],
                "resource_type": row["kind"],
                "id": row["id"],
                "slug": own_slug,
                "url": _entry_url(kind, row, own_slug, proposal_slug, slugs, url),
                "proposal": proposal_slug,
                "change": CHANGE_TYPES[row["history_type"]],
                "version": row.get("version"),
                "time": row["history_date"],
                "changed_fields": row["changed_fields"],
                "reason": row["history_change_reason"] or None,
            }
        )
    return out


def _entry_url(kind: Kind, row: dict, own_slug, proposal_slug, slugs, url):
    """Where a client re-reads what changed: the record itself, its
    proposal (a part), or the record it belongs to (an actor's alias)."""
    if kind.route:
        return url(kind.route, own_slug)
    if kind.owner:
        owner = KINDS[kind.owner[0]]
        return url(owner.route, slugs.get((owner.name, row.get("owner_id"))))
    return url("proposal-detail", proposal_slug)


def route_prefix(route: str, base: str) -> str:
    """``base`` + the path of ``route`` up to its slug."""
    from django.urls import reverse

    return base + reverse(route, kwargs={"slug": "__slug__"}).split("__slug__")[0]
