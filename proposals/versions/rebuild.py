"""Rebuild a proposal's representation as it was at one of its versions.

Nothing is rendered or stored at write time (an earlier attempt rendered
each bumped proposal inside the write batch, and one actor rename fanning
out to thousands of proposals took 18-37 s at 100k rows). Instead the
history tables are read *as of the end of the write batch* that made the
version (``batch_end_seq``, see ``proposals.changes.models``): the
proposal's own row, its parts (quotes, proponent links, status events,
relations) and the neighbours it shows (venue, actors, topics, quoted
sources, related proposals), each the latest row of its record with a
sequence number at or below that point, deletions dropped. The rows become
unsaved model instances wired together as the live queryset's prefetches
would be, and the live ``ProposalSerializer`` renders them: the same code,
so the same bytes. About ten queries, whatever the proposal's size.

A version is *published* when it was the last proposal row of its write
batch: a batch that saved a proposal and then moved its status wrote two
rows, and only the second was ever served.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Subquery

from ..models import (
    Actor,
    Evidence,
    Participation,
    Proponent,
    Proposal,
    ProposalAlias,
    ProposalRelation,
    Source,
    StatusEvent,
    Topic,
    Venue,
)


def proposal_history():
    return Proposal.history.model._default_manager


def published_versions(proposal_id: int):
    """The proposal's history rows that were served as a version (not
    deletions, not superseded within their own batch), oldest first."""
    history = proposal_history()
    later_in_batch = history.filter(
        id=OuterRef("id"), batch_end_seq=OuterRef("batch_end_seq"), change_seq__gt=OuterRef("change_seq")
    )
    return (
        history.filter(id=proposal_id).exclude(history_type="-").filter(~Exists(later_in_batch)).order_by("change_seq")
    )


def _latest(model, seq: int, **lookup) -> dict[int, object]:
    """``{id: history row}`` of each record matching ``lookup`` at some
    point, as it stood at ``seq``: its latest row at or before it, if that
    row still matches and is not a deletion."""
    history = model.history.model._default_manager
    ids = history.filter(change_seq__lte=seq, **lookup).values("id")
    rows = history.filter(change_seq__lte=seq, id__in=Subquery(ids)).order_by("id", "-change_seq")
    return _first_each(rows, lookup)


def _by_ids(model, seq: int, ids) -> dict[int, object]:
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    history = model.history.model._default_manager
    return _first_each(history.filter(change_seq__lte=seq, id__in=ids).order_by("id", "-change_seq"), {})


def _first_each(rows, lookup) -> dict[int, object]:
    out, seen = {}, set()
    for row in rows:
        if row.id in seen:
            continue
        seen.add(row.id)
        if row.history_type == "-" or any(getattr(row, k) != v for k, v in lookup.items()):
            continue
        out[row.id] = row.instance
    return out


def rebuild(row) -> Proposal:
    """The proposal of history row ``row`` (a published version), with its
    parts and neighbours as they stood when the version was served, ready
    for ``ProposalSerializer``."""
    seq = row.batch_end_seq or row.change_seq
    proposal = row.instance
    links = _links_at(row)
    proponents = _latest(Proponent, seq, proposal_id=proposal.pk)
    evidence = _latest(Evidence, seq, proposal_id=proposal.pk)
    events = _latest(StatusEvent, seq, proposal_id=proposal.pk)
    relations = _latest(ProposalRelation, seq, from_proposal_id=proposal.pk)
    participation = _latest(Participation, seq, proposal_id=proposal.pk)
    aliases = _latest(ProposalAlias, seq, proposal_id=proposal.pk)
    actor_ids = (
        {link.actor_id for link in proponents.values()}
        | set(links.get("parties", []))
        | {row.party_id for row in participation.values()}
    )
    actors = _by_ids(Actor, seq, actor_ids)
    topics = _by_ids(Topic, seq, links.get("topics", []))
    sources = _by_ids(Source, seq, {quote.source_id for quote in evidence.values()})
    venues = _by_ids(Venue, seq, [proposal.venue_id])
    related = _by_ids(Proposal, seq, {relation.to_proposal_id for relation in relations.values()})

    proposal.venue = venues.get(proposal.venue_id) if proposal.venue_id else None
    for link in proponents.values():
        link.actor = actors[link.actor_id]
    for row in participation.values():
        row.party = actors[row.party_id]
    for quote in evidence.values():
        quote.source = sources[quote.source_id]
        # What Evidence.objects.with_source_prefix() annotates.
        quote.source_prefix = quote.source.text[: quote.start]
    kept_relations = []
    for relation in relations.values():
        target = related.get(relation.to_proposal_id)
        if target is not None:
            relation.to_proposal = target
            kept_relations.append(relation)
    # The orders of the live prefetches (each model's Meta.ordering).
    proposal._prefetched_objects_cache = {
        "proponents": sorted(proponents.values(), key=lambda p: (not p.is_primary, p.pk)),
        "topics": sorted((topics[pk] for pk in links.get("topics", []) if pk in topics), key=lambda t: t.name),
        "parties": sorted(
            (actors[pk] for pk in links.get("parties", []) if pk in actors), key=lambda a: (a.name, a.pk)
        ),
        "evidence": sorted(evidence.values(), key=lambda e: (e.source_id, e.start, e.pk)),
        "events": sorted(events.values(), key=lambda e: (e.occurred_on, e.recorded_at, e.pk)),
        "relations_out": sorted(kept_relations, key=lambda r: (r.relation_type, r.to_proposal_id)),
        # Meta.ordering of each; the serializer groups participation per party.
        "participation": sorted(
            participation.values(),
            key=lambda r: (r.proposal_id, r.party_id, r.occurred_on is None, r.occurred_on, r.pk),
        ),
        "aliases": sorted(aliases.values(), key=lambda a: (a.name, a.pk)),
    }
    return proposal


def _links_at(row) -> dict:
    """The topic and party ids the proposal had at ``row``: from the
    latest of its rows up to ``row`` that recorded them (the change log
    records them whenever they change; see ``changes.models.seal``)."""
    if row.links is not None:
        return row.links
    earlier = (
        proposal_history()
        .filter(id=row.id, change_seq__lte=row.change_seq, links__isnull=False)
        .order_by("-change_seq")
        .values_list("links", flat=True)
        .first()
    )
    return earlier or {}
