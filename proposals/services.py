"""Writes that enforce rules or touch several rows.

The admin, the API and the seed loader call these functions instead of
saving models directly, so each rule lives here once. They are keyword-only
and run inside a transaction.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from .models import DatePrecision, Evidence, Proponent, Proposal, ProposalRelation, Source, Status, StatusEvent


def _full_save(instance, *, user: AbstractBaseUser | None = None) -> None:
    """Validate and save, crediting ``user`` in the history row when given."""
    instance.full_clean()
    if user is not None and getattr(user, "is_authenticated", False):
        instance._history_user = user
    instance.save()


@transaction.atomic
def proposal_sync_status(
    *, proposal: Proposal, user: AbstractBaseUser | None = None, reason: str | None = None
) -> Proposal:
    """Re-derive ``proposal.status`` from its latest status event and mark the
    proposal as changed.

    This is the only code that writes ``Proposal.status``. Every write to a
    proposal's parts (events, evidence, links) ends here, so the proposal's
    ``version`` (its ETag) and ``updated_at`` (what sync clients poll) move
    whenever anything in its representation does. The row is locked first,
    so two writers cannot leave it stale.
    """
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    latest = StatusEvent.objects.filter(proposal_id=proposal.pk).latest_first().only("status").first()
    locked.status = latest.status if latest else Status.PROPOSED
    if user is not None and getattr(user, "is_authenticated", False):
        locked._history_user = user
    # Says in the history what changed when no field of the row did.
    locked._change_reason = reason
    locked.save(update_fields=["status", "version", "updated_at"])
    proposal.status, proposal.version, proposal.updated_at = locked.status, locked.version, locked.updated_at
    return proposal


@transaction.atomic
def status_event_record(
    *,
    proposal: Proposal,
    status: str,
    occurred_on: dt.date,
    precision: str = DatePrecision.DAY,
    note: str = "",
    evidence: Evidence | None = None,
    user: AbstractBaseUser | None = None,
) -> StatusEvent:
    """Add a dated event to a proposal's timeline and update its current status.

    This is the one way to change a proposal's status.
    """
    event = StatusEvent(
        proposal=proposal,
        status=status,
        occurred_on=occurred_on,
        precision=precision,
        note=note,
        evidence=evidence,
        recorded_by=user if getattr(user, "is_authenticated", False) else None,
    )
    _full_save(event, user=user)
    proposal_sync_status(proposal=proposal, user=user, reason="status event recorded")
    return event


@transaction.atomic
def status_event_delete(*, event: StatusEvent, user: AbstractBaseUser | None = None) -> None:
    """Remove an event recorded in error and re-derive the current status."""
    proposal = event.proposal
    if user is not None and getattr(user, "is_authenticated", False):
        event._history_user = user
    event.delete()
    proposal_sync_status(proposal=proposal, user=user, reason="status event removed")


@transaction.atomic
def evidence_attach(
    *,
    proposal: Proposal,
    source: Source,
    quote: str,
    start: int | None = None,
    end: int | None = None,
    note: str = "",
    user: AbstractBaseUser | None = None,
) -> Evidence:
    """Attach a verbatim quote to a proposal.

    The quote must occur in the source; missing offsets are found, and an
    absent or ambiguous quote is refused with a ``ValidationError``.
    """
    evidence = Evidence(proposal=proposal, source=source, quote=quote, start=start, end=end, note=note)
    _full_save(evidence, user=user)
    proposal_sync_status(proposal=proposal, user=user, reason="evidence attached")
    return evidence


@transaction.atomic
def record_save(*, instance, user: AbstractBaseUser | None = None, **fields):
    """Set ``fields`` on any simple record (actor, venue, source, topic),
    validate it with the model's rules and save it."""
    if _assign(instance, fields) or instance.pk is None:
        _full_save(instance, user=user)
    return instance


def _assign(instance, fields: dict) -> bool:
    """Set ``fields`` on ``instance``; return whether any value changed, so an
    unchanged PUT writes nothing (no new version, no history row)."""
    changed = False
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


@transaction.atomic
def record_delete(*, instance, user: AbstractBaseUser | None = None) -> None:
    """Delete a record, unless proposals still link to it.

    Foreign keys that must not dangle are ``on_delete=PROTECT`` (Django
    raises ``ProtectedError``); many-to-many links are checked here through
    the model's ``delete_blockers()``, raising the same error, so every
    caller reports both the same way.
    """
    blockers = getattr(instance, "delete_blockers", None)
    if blockers is not None:
        linked = list(blockers()[:10])
        if linked:
            raise ProtectedError(
                f"{instance._meta.verbose_name} {instance} is still linked to {len(linked)} proposal(s).",
                set(linked),
            )
    if user is not None and getattr(user, "is_authenticated", False):
        instance._history_user = user
    instance.delete()


def _set_links(proposal: Proposal, *, topics, parties, proponents, relations, user) -> bool:
    """Replace the proposal's many-valued links with the given ones (``None``
    leaves a kind of link unchanged). Returns whether anything changed."""
    changed = False
    if topics is not None and {t.pk for t in topics} != set(proposal.topics.values_list("pk", flat=True)):
        proposal.topics.set(topics)
        changed = True
    if parties is not None and {a.pk for a in parties} != set(proposal.parties.values_list("pk", flat=True)):
        proposal.parties.set(parties)
        changed = True
    if proponents is not None:
        wanted = {(p["actor"].pk, p["role"]): p for p in proponents}
        existing = {(link.actor_id, link.role): link for link in proposal.proponents.all()}
        for key, link in existing.items():
            if key not in wanted:
                link._history_user = user
                link.delete()
                changed = True
        # Clear primaries first, so the one-primary constraint holds at every step.
        for key, link in existing.items():
            if key in wanted and link.is_primary and not wanted[key]["is_primary"]:
                link.is_primary = False
                _full_save(link, user=user)
                changed = True
        for key, data in wanted.items():
            link = existing.get(key) or Proponent(proposal=proposal, actor=data["actor"], role=data["role"])
            if link.pk is None or link.is_primary != data["is_primary"]:
                link.is_primary = data["is_primary"]
                _full_save(link, user=user)
                changed = True
    if relations is not None:
        wanted = {(r["to_proposal"].pk, r["relation_type"]): r for r in relations}
        for relation in proposal.relations_out.all():
            if (relation.to_proposal_id, relation.relation_type) not in wanted:
                relation._history_user = user
                relation.delete()
                changed = True
            else:
                wanted.pop((relation.to_proposal_id, relation.relation_type))
        for data in wanted.values():
            _full_save(
                ProposalRelation(
                    from_proposal=proposal, to_proposal=data["to_proposal"], relation_type=data["relation_type"]
                ),
                user=user,
            )
            changed = True
    return changed


@transaction.atomic
def proposal_create(
    *,
    user: AbstractBaseUser | None = None,
    initial_status: str = Status.PROPOSED,
    topics=None,
    parties=None,
    proponents=None,
    relations=None,
    **fields,
) -> Proposal:
    """Create a proposal with its links and its first status event, so every
    proposal has a timeline from the start. The event is dated
    ``proposed_on`` (or today) with the same precision."""
    proposal = Proposal(**fields)
    _full_save(proposal, user=user)
    _set_links(proposal, topics=topics, parties=parties, proponents=proponents, relations=relations, user=user)
    status_event_record(
        proposal=proposal,
        status=initial_status,
        occurred_on=proposal.proposed_on or timezone.now().date(),
        precision=proposal.proposed_precision if proposal.proposed_on else DatePrecision.DAY,
        note="Status when the proposal was recorded.",
        user=user,
    )
    return proposal


@transaction.atomic
def proposal_update(
    *,
    proposal: Proposal,
    user: AbstractBaseUser | None = None,
    topics=None,
    parties=None,
    proponents=None,
    relations=None,
    **fields,
) -> Proposal:
    """Change a proposal's own fields and, where given, replace its topics,
    parties, proponents and relations. The status is not among them: add a
    status event instead."""
    if "status" in fields:
        raise ValueError("Change the status with status_event_record, not proposal_update.")
    fields_changed = _assign(proposal, fields)
    if fields_changed:
        _full_save(proposal, user=user)
    links_changed = _set_links(
        proposal, topics=topics, parties=parties, proponents=proponents, relations=relations, user=user
    )
    if links_changed and not fields_changed:
        # Moves version and updated_at, which the links alone do not.
        proposal_sync_status(proposal=proposal, user=user, reason="topics, parties, proponents or relations changed")
    return proposal


def history_entries(records) -> list[dict]:
    """Turn a record's simple-history rows into API entries, newest first,
    each with the field-level differences from the version before it."""
    rows = list(records.select_related("history_user").order_by("history_date", "history_id"))
    if not rows:
        return []
    model = rows[0].instance_type
    tracked = [
        f.attname
        for f in model._meta.concrete_fields
        # Bookkeeping fields change on every save; they are not news.
        if hasattr(rows[0], f.attname) and f.attname not in {"search_vector", "version", "updated_at", "created_at"}
    ]
    kinds = {"+": "created", "~": "changed", "-": "deleted"}
    entries, previous = [], None
    for row in rows:
        changes = []
        for name in tracked:
            new = getattr(row, name)
            old = getattr(previous, name) if previous is not None else None
            if previous is None or old != new:
                if row.history_type == "-" or (previous is None and new in (None, "")):
                    continue
                changes.append({"field": name, "old": _plain(old), "new": _plain(new)})
        entries.append(
            {
                "history_id": row.history_id,
                "date": row.history_date,
                "type": kinds.get(row.history_type, "changed"),
                "user": row.history_user.get_username() if row.history_user else None,
                "reason": row.history_change_reason,
                "changes": changes,
            }
        )
        previous = row
    entries.reverse()
    return entries


def _plain(value):
    """JSON-friendly form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value) if not hasattr(value, "isoformat") else value.isoformat()


@transaction.atomic
def proposal_restore_parts(*, proposal: Proposal, user: AbstractBaseUser | None = None) -> dict:
    """Bring back what was deleted together with a proposal.

    Deleting a proposal cascades to its quotes, proponent links, status
    events and relations; each leaves a final "deleted" row in its own
    history table. Reverting the proposal in the admin re-inserts only its
    own row, so this re-creates those parts as they were when they were
    deleted with it (same ids, so their history continues), then re-derives
    the status. Returns how many of each kind came back.
    """
    deleted_at = (
        Proposal.history.filter(id=proposal.pk, history_type="-")
        .order_by("-history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    restored = {}
    if deleted_at is None:
        return restored
    # Quotes first: proponent links and events point at them. A part deleted
    # on its own earlier stays deleted: only the cascade's rows come back.
    window = deleted_at - dt.timedelta(seconds=5)
    kinds = [
        (Evidence, {"proposal_id": proposal.pk}),
        (Proponent, {"proposal_id": proposal.pk}),
        (StatusEvent, {"proposal_id": proposal.pk}),
        (ProposalRelation, {"from_proposal_id": proposal.pk}),
        (ProposalRelation, {"to_proposal_id": proposal.pk}),
    ]
    for model, lookup in kinds:
        count = 0
        gone = model.history.filter(history_type="-", history_date__gte=window, **lookup).order_by("history_date")
        for row in gone:
            if model.objects.filter(pk=row.id).exists():
                continue
            instance = row.instance
            if isinstance(instance, ProposalRelation):
                other = instance.to_proposal_id if lookup.get("from_proposal_id") else instance.from_proposal_id
                if not Proposal.objects.filter(pk=other).exists():
                    continue
            if getattr(instance, "evidence_id", None) and not Evidence.objects.filter(pk=instance.evidence_id).exists():
                instance.evidence_id = None
            if user is not None and getattr(user, "is_authenticated", False):
                instance._history_user = user
            instance.save(force_insert=True)
            count += 1
        restored[model._meta.verbose_name_plural] = restored.get(model._meta.verbose_name_plural, 0) + count
    proposal_sync_status(proposal=proposal, user=user, reason="restored with its parts")
    return restored
