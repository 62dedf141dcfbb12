"""Every write to the tracker's records: the one path the admin, the API and
the seed loader share.

Each public function is keyword-only and typed, and runs inside a
transaction. Generic saves take an explicit whitelist of fields per model
(``EDITABLE_FIELDS``), so a rule such as "the status changes only by adding a
status event" cannot be bypassed by naming the field.

Writes are followed by their *effects*, applied once, when the outermost
service call returns (a "write batch"):

* a proposal whose parts changed (quotes, proponents, events, relations,
  topics, parties) gets a new ``version`` and ``updated_at``;
* a record whose representation embeds another record's name (a proposal
  shows its venue's and its actors' names, the title of each quote's source,
  the slug, title and status of the proposals it relates to; an actor shows
  its affiliation; a venue its organisation; a source counts its quotes) is
  marked changed when that name changes.

So a representation's ETag (``"<id>-<version>"``) and ``updated_at`` move
whenever any byte of it would (RFC 9110 §8.8.3: a strong validator changes
with every change to the representation). ``docs/INVARIANTS.md`` lists
each promise with the test that proves it.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from .changes import models as change_log
from .models import (
    Actor,
    ActorAlias,
    DatePrecision,
    Evidence,
    Participation,
    Proponent,
    Proposal,
    ProposalAlias,
    ProposalRelation,
    Source,
    Status,
    StatusEvent,
    Topic,
    TopicAlias,
    Venue,
    VenueAlias,
    check_one_primary,
)
from .representations import stored

#: What each generic save may set, per model. Anything else (``status``,
#: ``version``, ``sha256``, timestamps) is the server's and is refused.
EDITABLE_FIELDS: dict[type[models.Model], frozenset[str]] = {
    Topic: frozenset({"slug", "name", "description"}),
    Source: frozenset(
        {
            "slug",
            "title",
            "authors",
            "outlet",
            "published_on",
            "published_precision",
            "published_note",
            "url",
            "language",
            "text",
        }
    ),
    Actor: frozenset({"slug", "name", "named", "kind", "description", "affiliation", "country_code"}),
    Venue: frozenset({"slug", "name", "kind", "organisation", "place", "starts_on", "ends_on", "note"}),
    Proposal: frozenset({"slug", "title", "summary", "venue", "proposed_on", "proposed_precision", "proposed_note"}),
    Evidence: frozenset({"proposal", "source", "quote", "start", "end", "note"}),
    Proponent: frozenset({"proposal", "actor", "role", "is_primary", "evidence", "note"}),
    ProposalRelation: frozenset({"from_proposal", "to_proposal", "relation_type", "note"}),
    StatusEvent: frozenset({"proposal", "status", "occurred_on", "precision", "note", "evidence"}),
    Participation: frozenset({"proposal", "party", "action", "occurred_on", "precision", "evidence", "note"}),
    ActorAlias: frozenset({"actor", "name", "language"}),
    VenueAlias: frozenset({"venue", "name", "language"}),
    TopicAlias: frozenset({"topic", "name", "language"}),
    ProposalAlias: frozenset({"proposal", "name", "language"}),
}

#: Fields of a record that other records' representations show. Changing
#: one marks those other records changed (see ``_dependents``).
EMBEDDED_FIELDS: dict[type[models.Model], frozenset[str]] = {
    # slug: a participation row's party is {id, slug, name, kind}.
    Actor: frozenset({"name", "kind", "slug"}),
    Venue: frozenset({"name"}),
    Topic: frozenset({"slug", "name"}),
    # text: a quote's start_utf16/end_utf16 are counted in its source's text.
    Source: frozenset({"title", "text"}),
    Proposal: frozenset({"slug", "title", "status"}),
}

#: The part models and the foreign keys naming the proposal(s) whose
#: representation shows them.
PART_OWNERS: dict[type[models.Model], tuple[str, ...]] = {
    Evidence: ("proposal_id",),
    Proponent: ("proposal_id",),
    StatusEvent: ("proposal_id",),
    ProposalRelation: ("from_proposal_id",),
    Participation: ("proposal_id",),
    ProposalAlias: ("proposal_id",),
    ActorAlias: ("actor_id",),
    VenueAlias: ("venue_id",),
    TopicAlias: ("topic_id",),
}

#: The field of the owner's representation that shows each part model
#: (named in the owner's history row's ``changed_fields``).
PART_FIELDS: dict[type[models.Model], str] = {
    Evidence: "evidence",
    Proponent: "proponents",
    StatusEvent: "events",
    ProposalRelation: "related",
    Participation: "participation",
    ProposalAlias: "aliases",
    ActorAlias: "aliases",
    VenueAlias: "aliases",
    TopicAlias: "aliases",
}

#: The owner model of part models whose owner is not a proposal.
PART_OWNER_MODELS: dict[type[models.Model], type[models.Model]] = {
    ActorAlias: Actor,
    VenueAlias: Venue,
    TopicAlias: Topic,
}


def _part_reason(instance, verb: str) -> str:
    """``"participation added: China ratified, 2017-06-09"``: the part's
    kind, what happened to it and, where the model gives one
    (``history_label()``), which row it was."""
    label = getattr(instance, "history_label", None)
    return f"{instance._meta.verbose_name} {verb}" + (f": {label()}" if label is not None else "")


#: Rows per UPDATE when a batch bumps many records (a rename's fan-out):
#: Django's bulk_update is one CASE per column with a branch per row, which
#: PostgreSQL evaluates per row, so one statement for 4,000 proposals took
#: longer than the 10 s statement timeout (docs/PERFORMANCE.md).
BUMP_BATCH = 500


def _clip(reason: str) -> str:
    """A history reason that fits its column (100 characters)."""
    return reason if len(reason) <= 100 else reason[:99] + "…"


def _acting(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """The user to credit, or ``None`` for anonymous or system writes."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None


# --------------------------------------------------------------------------
# Write batches: effects applied once, when the outermost service returns
# --------------------------------------------------------------------------


class _Batch:
    """What one outermost service call changed, and what must follow."""

    def __init__(self, user):
        self.user = _acting(user)
        self.now = timezone.now()
        self.saved: set[tuple[type, int]] = set()
        self.touch: dict[tuple[type, int], list[str]] = defaultdict(list)
        self.resync: set[int] = set()
        self.instances: dict[tuple[type, int], list[models.Model]] = defaultdict(list)
        #: Versioned records saved in this batch whose history row is
        #: written at the end, once (value: whether they were created), so
        #: that one save is one history row with every reason, however many
        #: parts, statuses and neighbours it also moved.
        self.deferred: dict[tuple[type, int], bool] = {}
        #: A reason a person gave for the whole batch (the admin's "reason
        #: for this change" box); it leads the reasons of every record the
        #: batch changed itself (not of neighbours that only show a change).
        self.note: str = ""
        #: Fields the batch's saves changed on a deferred record, for its
        #: history row's ``changed_fields`` (the change feed).
        self.changed_fields: dict[tuple[type, int], set[str]] = defaultdict(set)

    def mark(self, model, pk, reason: str, *, resync: bool = False, fields: Iterable[str] = ()) -> None:
        """Record that ``pk`` changed for ``reason``; ``fields`` names the
        fields of its representation that changed (``"participation"``,
        ``"aliases"``...), for its history row's ``changed_fields``."""
        if pk is None:
            return
        reasons = self.touch[(model, pk)]
        if reason not in reasons:
            reasons.append(reason)
        if fields:
            self.changed_fields[(model, pk)].update(fields)
        if resync:
            self.resync.add(pk)

    def mark_many(self, model, pks: Iterable[int], reason: str, *, fields: Iterable[str] = ()) -> None:
        for pk in pks:
            self.mark(model, pk, reason, fields=fields)

    def flush(self) -> None:
        """Re-derive statuses, then give every marked record a new version,
        ``updated_at`` and a history row naming why. A status change marks
        the proposals that show it in their relations, so this loops until
        nothing new is marked (one extra round at most)."""
        done: set[tuple[type, int]] = set()
        while True:
            pending = {key: reasons for key, reasons in self.touch.items() if key not in done}
            if not pending:
                break
            by_model: dict[type, list[int]] = defaultdict(list)
            for model, pk in pending:
                by_model[model].append(pk)
            for model, pks in by_model.items():
                self._bump(model, sorted(pks), pending)
            done.update(pending)
        # Stored list rows of every proposal saved or marked, then the change
        # sequence (last: its row lock is held until commit). A batch that
        # wrote no history row changed nothing (an admin page is read inside
        # one): it must not move the sequence, which would turn every
        # client's list ETag stale and lock the row for a read.
        stored.refresh_list_rows(pk for model, pk in self.saved if model is Proposal)
        if change_log.rows_written():
            stored.bump_sequence()

    def defer_history(self, instance, *, adding: bool, reason: str, changed_fields=None) -> None:
        """``instance`` was just saved without its history row (with
        ``skip_history_when_saving``): ``flush`` writes it, once, with
        ``reason``, the names of the fields it changed (``changed_fields``,
        for the change feed) and whatever else the batch did to the record."""
        key = (type(instance), instance.pk)
        self.deferred.setdefault(key, adding)
        if changed_fields:
            self.changed_fields[key].update(changed_fields)
        self.mark(type(instance), instance.pk, reason)

    def _reason(self, key, reasons: list[str]) -> str:
        # The note is about what this batch did, not about neighbours that
        # only show something that changed.
        if self.note and not all(r.startswith(NEIGHBOUR_REASON_PREFIX) for r in reasons):
            reasons = [self.note, *reasons]
        return _clip("; ".join(reasons))

    def _bump(self, model, pks: list[int], pending) -> None:
        queryset = model._base_manager.select_for_update().filter(pk__in=pks).order_by("pk")
        if model is Proposal:
            queryset = queryset.defer("search_vector", "list_json", "detail_json")
        latest = {}
        if model is Proposal:
            resync = [pk for pk in pks if pk in self.resync]
            if resync:
                latest = _latest_statuses(resync)
        changed = []
        # (created?, changed fields) -> saved records whose history row is still due
        history_only: dict[tuple[bool, tuple[str, ...]], list] = defaultdict(list)
        moved: dict[int, str] = {}  # proposals whose status changed: pk -> slug
        for obj in queryset:
            key = (model, obj.pk)
            fields = ["version"]
            new_status = latest.get(obj.pk, obj.status) if model is Proposal else None
            status_moved = model is Proposal and new_status != obj.status
            if key in self.saved and not status_moved:
                # Saved in this batch already: its version moved once. Its
                # one history row, if deferred, is written now.
                if key in self.deferred:
                    obj._change_reason = self._reason(key, pending[key])
                    if self.user is not None:
                        obj._history_user = self.user
                    adding = self.deferred.pop(key)
                    history_only[(adding, () if adding else tuple(sorted(self.changed_fields[key])))].append(obj)
                continue
            if status_moved:
                obj.status = new_status
                fields.append("status")
                moved[obj.pk] = obj.slug
            obj.version += 1
            if hasattr(obj, "updated_at"):
                obj.updated_at = self.now
                fields.append("updated_at")
            obj._change_reason = self._reason(key, pending[key])
            if self.user is not None:
                obj._history_user = self.user
            if self.deferred.pop(key, None):
                # Created in this batch: its one history row says "created".
                model._base_manager.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in fields})
                history_only[(True, ())].append(obj)
                self._refresh(model, obj, fields)
            else:
                changed.append((obj, tuple(fields), tuple(sorted(set(fields) | self.changed_fields.get(key, set())))))
            self.saved.add(key)
        # Their status shows in the related lists of the proposals relating to them.
        relating = ProposalRelation.objects.filter(to_proposal_id__in=list(moved))
        for from_id, to_id in relating.values_list("from_proposal_id", "to_proposal_id"):
            self.mark(
                Proposal,
                from_id,
                f"{NEIGHBOUR_REASON_PREFIX}related proposal {moved[to_id]}, whose status changed",
                fields=("related",),
            )
        by_fields = defaultdict(list)
        for obj, fields, history_fields in changed:
            by_fields[(fields, history_fields)].append(obj)
        for (fields, history_fields), objs in by_fields.items():
            bulk_update_with_history(
                objs,
                model,
                list(fields),
                batch_size=BUMP_BATCH,
                default_user=self.user,
                default_date=self.now,
                custom_historical_attrs={"changed_fields": list(history_fields)},
            )
            for obj in objs:
                self._refresh(model, obj, fields)
        for (adding, history_fields), objs in history_only.items():
            model.history.bulk_history_create(
                objs,
                update=not adding,
                default_user=self.user,
                default_date=self.now,
                custom_historical_attrs=None if adding else {"changed_fields": list(history_fields)},
            )

    def _refresh(self, model, obj, fields) -> None:
        """Copy what the batch wrote onto the callers' instances."""
        for instance in self.instances.get((model, obj.pk), ()):
            for name in fields:
                setattr(instance, name, getattr(obj, name))


_current: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("proposals_write_batch", default=None)


@contextlib.contextmanager
def write_batch(user: AbstractBaseUser | None = None) -> Iterator[_Batch]:
    """Group writes so their effects are applied once, at the end, in the
    same transaction. Nested calls join the outermost batch."""
    batch = _current.get()
    if batch is not None:
        yield batch
        return
    batch = _Batch(user)
    token = _current.set(batch)
    try:
        with transaction.atomic(), change_log.recording():
            yield batch
            batch.flush()
    finally:
        _current.reset(token)


def _latest_statuses(proposal_ids: list[int]) -> dict[int, str]:
    """Each proposal's status as its latest event says (by date, then by
    when it was recorded); ``proposed`` when it has no events."""
    statuses = dict.fromkeys(proposal_ids, Status.PROPOSED)
    rows = (
        StatusEvent.objects.filter(proposal_id__in=proposal_ids)
        .order_by("proposal_id", "-occurred_on", "-recorded_at", "-id")
        .values_list("proposal_id", "status")
    )
    seen = set()
    for proposal_id, status in rows:
        if proposal_id not in seen:
            statuses[proposal_id] = status
            seen.add(proposal_id)
    return statuses


def _relating_proposals(proposal_ids: Iterable[int]) -> set[int]:
    """Proposals whose ``related`` list shows one of these."""
    return set(
        ProposalRelation.objects.filter(to_proposal_id__in=list(proposal_ids)).values_list(
            "from_proposal_id", flat=True
        )
    )


#: History reasons of a record bumped because something it *shows* changed
#: (not the record itself) start with this; see ``is_neighbour_reason``.
NEIGHBOUR_REASON_PREFIX = "shows "


def is_neighbour_reason(reason: str | None) -> bool:
    """Whether a history row's reason says only that something the record
    shows changed elsewhere (a renamed venue, a related proposal's status).
    The seed loader does not count such rows as staff edits."""
    return bool(reason) and all(part.startswith(NEIGHBOUR_REASON_PREFIX) for part in reason.split("; "))


def _dependents(instance, changed: Iterable[str]) -> list[tuple[type, set[int], str, tuple[str, ...]]]:
    """Records whose representation shows ``changed`` fields of ``instance``:
    ``(model, pks, reason, fields of their representation showing it)``."""
    model = type(instance)
    if not set(changed) & EMBEDDED_FIELDS.get(model, frozenset()):
        return []
    name = model._meta.verbose_name
    reason = f"{NEIGHBOUR_REASON_PREFIX}{name} {instance}, which changed"
    pk = instance.pk
    if model is Actor:
        return [
            (
                Proposal,
                set(Proposal.objects.filter(proponents__actor_id=pk).values_list("pk", flat=True)),
                reason,
                ("proponents",),
            ),
            (Proposal, set(Proposal.objects.filter(parties=pk).values_list("pk", flat=True)), reason, ("parties",)),
            (
                Proposal,
                set(Participation.objects.filter(party_id=pk).values_list("proposal_id", flat=True)),
                reason,
                ("participation",),
            ),
            (
                Actor,
                set(Actor.objects.filter(affiliation_id=pk).values_list("pk", flat=True)),
                reason,
                ("affiliation",),
            ),
            (
                Venue,
                set(Venue.objects.filter(organisation_id=pk).values_list("pk", flat=True)),
                reason,
                ("organisation",),
            ),
        ]
    if model is Venue:
        return [(Proposal, set(Proposal.objects.filter(venue_id=pk).values_list("pk", flat=True)), reason, ("venue",))]
    if model is Topic:
        return [(Proposal, set(Proposal.objects.filter(topics=pk).values_list("pk", flat=True)), reason, ("topics",))]
    if model is Source:
        return [
            (
                Proposal,
                set(Evidence.objects.filter(source_id=pk).values_list("proposal_id", flat=True)),
                reason,
                ("evidence",),
            )
        ]
    if model is Proposal:
        return [
            (
                Proposal,
                _relating_proposals([pk]),
                f"{NEIGHBOUR_REASON_PREFIX}related proposal {instance.slug}, which changed",
                ("related",),
            )
        ]
    return []


def _part_effects(batch: _Batch, instance, before: dict | None, reason: str, verb: str = "changed") -> None:
    """Mark the proposal(s) showing a part, before and after the write, and
    the source(s) whose quote count it moves (their history says which
    quote: "quote added: “…” (120–180)")."""
    model = type(instance)
    resync = model is StatusEvent
    owner = PART_OWNER_MODELS.get(model, Proposal)
    for attname in PART_OWNERS[model]:
        for pk in {getattr(instance, attname), (before or {}).get(attname)}:
            batch.mark(owner, pk, reason, resync=resync, fields=(PART_FIELDS[model],))
    if model is Evidence:
        old_source = (before or {}).get("source_id")
        if before is None or old_source != instance.source_id or before.get("proposal_id") != instance.proposal_id:
            said = f"quote {verb}: {_clip_value(instance.quote, 40)} ({instance.start}–{instance.end})"
            for pk in {instance.source_id, old_source}:
                batch.mark(Source, pk, said, fields=("evidence_count",))


def _clip_value(value, limit: int = 24) -> str:
    """A field value as a history reason shows it: dates in ISO 8601,
    text quoted (repr, so an empty note shows as ''), cut at ``limit``."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and len(value) > limit:
        value = value[: limit - 1] + "…"
    return repr(value) if isinstance(value, str) else str(value)


def _part_label(instance) -> str:
    """Which part a history reason is about: a status event by its status
    and date, a quote by its start, anything else by its name."""
    if isinstance(instance, StatusEvent):
        return f"{instance.status}, {instance.occurred_on.isoformat()}"
    if isinstance(instance, Evidence):
        return _clip_value(instance.quote)
    label = getattr(instance, "history_label", None)  # participation, aliases
    return label() if label is not None else str(instance)


# --------------------------------------------------------------------------
# Generic saves and deletes
# --------------------------------------------------------------------------


def _field_values(instance, names: Iterable[str]) -> dict:
    """``{attname: value}`` for the named fields (foreign keys by id)."""
    opts = instance._meta
    return {opts.get_field(name).attname: getattr(instance, opts.get_field(name).attname) for name in names}


def record_save(*, instance: models.Model, user: AbstractBaseUser | None = None, **fields) -> models.Model:
    """Create or update one record, setting only whitelisted ``fields``.

    ``fields`` maps field names to values (related records as instances).
    Names outside ``EDITABLE_FIELDS`` for the model raise ``TypeError``
    (a programming error, never user input). The model's ``full_clean()``
    runs first, so an invalid value raises ``ValidationError`` naming the
    field and nothing is written. An update that changes no value writes
    nothing: no new version, no history row.

    New proposals are created with ``proposal_create`` (they open a
    timeline), status events with ``status_event_record``.
    """
    model = type(instance)
    allowed = EDITABLE_FIELDS.get(model)
    if allowed is None:
        raise TypeError(f"record_save does not write {model.__name__} records.")
    refused = sorted(set(fields) - allowed)
    if refused:
        raise TypeError(f"record_save may not set {', '.join(refused)} on {model.__name__}.")
    if instance.pk is None and model is Proposal:
        raise TypeError("Create proposals with proposal_create, which opens their timeline.")
    if instance.pk is None and model is StatusEvent:
        raise TypeError("Record status events with status_event_record, which credits the recorder.")
    with write_batch(user) as batch:
        adding = instance.pk is None
        before = None
        if not adding:
            names = set(allowed)
            before = model._base_manager.filter(pk=instance.pk).values(*_field_values(instance, names)).first()
            if before is None:
                raise ValidationError(f"This {model._meta.verbose_name} no longer exists.")
        for name, value in fields.items():
            setattr(instance, name, value)
        if adding:
            changed = list(fields)
        else:
            now = _field_values(instance, allowed)
            changed = [
                instance._meta.get_field(name).name
                for name, value in now.items()
                if value != before[name] and instance._meta.get_field(name).name in allowed
            ]
            if not changed:
                return instance
        instance.full_clean()
        _credit(instance, batch.user)
        reason = "created" if adding else "changed " + ", ".join(changed)
        versioned = hasattr(instance, "version")
        # The change feed lists an update's fields (bookkeeping included) on its history row.
        changed_fields = (
            None if adding else sorted(changed + [f for f in ("version", "updated_at") if hasattr(instance, f)])
        )
        if versioned:
            # Its one history row is written when the batch ends.
            instance.skip_history_when_saving = True
        else:
            instance._change_reason = _clip(reason)
            instance._changed_fields = changed_fields
        if adding:
            instance.save(force_insert=True)
        else:
            bookkeeping = [f for f in ("version", "updated_at", "sha256") if hasattr(instance, f)]
            attnames = [instance._meta.get_field(name).attname for name in changed]
            instance.save(update_fields=[*attnames, *bookkeeping])
        if versioned:
            del instance.skip_history_when_saving
            batch.defer_history(instance, adding=adding, reason=reason, changed_fields=changed_fields)
            batch.saved.add((model, instance.pk))
            batch.instances[(model, instance.pk)].append(instance)
        if model in PART_OWNERS:
            if adding:
                said = _part_reason(instance, "added")
            else:
                # e.g. "status event (stalled, 2016-03-01) note: '' → 'x'"
                said = f"{instance._meta.verbose_name} ({_part_label(instance)}) " + "; ".join(
                    f"{instance._meta.get_field(name).verbose_name}: "
                    f"{_clip_value(before[instance._meta.get_field(name).attname])} → "
                    f"{_clip_value(now[instance._meta.get_field(name).attname])}"
                    for name in changed
                )
            _part_effects(batch, instance, before, said, "added" if adding else "changed")
        for dep_model, pks, reason, shown_in in _dependents(instance, [] if adding else changed):
            batch.mark_many(dep_model, pks - {instance.pk} if dep_model is model else pks, reason, fields=shown_in)
    return instance


def _credit(instance, user) -> None:
    if user is not None:
        instance._history_user = user


def record_delete(*, instance: models.Model, user: AbstractBaseUser | None = None) -> None:
    """Delete a record, with its effects on the records that show it.

    Raises ``ProtectedError`` while proposals still rely on it: foreign keys
    that must not dangle are ``on_delete=PROTECT``, and many-to-many links
    are checked through the model's ``delete_blockers()``, so every caller
    reports both the same way. Proposals are deleted by ``proposal_delete``.
    """
    model = type(instance)
    if model is Proposal:
        proposal_delete(proposal=instance, user=user)
        return
    with write_batch(user) as batch:
        blockers = getattr(instance, "delete_blockers", None)
        if blockers is not None:
            linked = list(blockers()[:10])
            if linked:
                raise ProtectedError(
                    f"{instance._meta.verbose_name} {instance} is still linked to {len(linked)} proposal(s).",
                    set(linked),
                )
        if model in PART_OWNERS:
            _part_effects(batch, instance, None, _part_reason(instance, "removed"), "removed")
        if model is Evidence:
            # SET_NULL: proponent links and events citing the quote lose it.
            citing = set(Proponent.objects.filter(evidence_id=instance.pk).values_list("proposal_id", flat=True))
            citing |= set(StatusEvent.objects.filter(evidence_id=instance.pk).values_list("proposal_id", flat=True))
            citing |= set(Participation.objects.filter(evidence_id=instance.pk).values_list("proposal_id", flat=True))
            batch.mark_many(Proposal, citing, "a quote it cites was removed")
        if model is Actor:
            # SET_NULL: members lose their affiliation, venues their organisation.
            reason = f"{NEIGHBOUR_REASON_PREFIX}{instance._meta.verbose_name} {instance}, which was deleted"
            batch.mark_many(
                Actor,
                Actor.objects.filter(affiliation_id=instance.pk).values_list("pk", flat=True),
                reason,
                fields=("affiliation",),
            )
            batch.mark_many(
                Venue,
                Venue.objects.filter(organisation_id=instance.pk).values_list("pk", flat=True),
                reason,
                fields=("organisation",),
            )
        _credit(instance, batch.user)
        instance.delete()
        batch.touch.pop((model, instance.pk), None)


# --------------------------------------------------------------------------
# Proposals and their parts
# --------------------------------------------------------------------------


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
    """Add a dated event to a proposal's timeline and re-derive its status.

    This is the one way to change a proposal's status. Raises
    ``ValidationError`` for a future date or a quote of another proposal.
    """
    with write_batch(user) as batch:
        event = StatusEvent(
            proposal=proposal,
            status=status,
            occurred_on=occurred_on,
            precision=precision,
            note=note,
            evidence=evidence,
            recorded_by=batch.user,
            recorded_by_role=user_role(batch.user),
        )
        event.full_clean()
        _credit(event, batch.user)
        event._change_reason = "created"
        event.save(force_insert=True)
        _part_effects(batch, event, None, f"status event added: {status}, {occurred_on.isoformat()}")
        batch.instances[(Proposal, proposal.pk)].append(proposal)
    return event


def status_event_delete(*, event: StatusEvent, user: AbstractBaseUser | None = None) -> None:
    """Remove an event recorded in error and re-derive the current status."""
    record_delete(instance=event, user=user)


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

    The quote must occur in the source (offsets count Unicode code points);
    missing offsets are found, and an absent or ambiguous quote is refused
    with a ``ValidationError``.
    """
    with write_batch(user) as batch:
        evidence = record_save(
            instance=Evidence(),
            user=user,
            proposal=proposal,
            source=source,
            quote=quote,
            start=start,
            end=end,
            note=note,
        )
        batch.instances[(Proposal, proposal.pk)].append(proposal)
    return evidence


def _set_links(proposal: Proposal, *, topics, parties, proponents, relations, user) -> list[str]:
    """Replace the proposal's many-valued links with the given ones (``None``
    leaves a kind of link unchanged). Returns what changed, for the history
    ("topic added: Counter-terrorism"); empty when nothing did. (Proponent
    and relation rows are parts: their own saves say what changed.)"""
    said: list[str] = []
    # The write batch records the change once, with a history row; the
    # many-to-many signal would add one per add/remove.
    for name, records in (("topics", topics), ("parties", parties)):
        if records is not None and len({r.pk for r in records}) != len(records):
            raise ValidationError({name: f"The same {name[:-1] if name == 'topics' else 'party'} is listed twice."})
    proposal.skip_history_when_saving = True
    try:
        for kind, records, manager in (("topic", topics, proposal.topics), ("party", parties, proposal.parties)):
            if records is None:
                continue
            had = dict(manager.values_list("pk", "name"))
            wanted = {r.pk: r.name for r in records}
            if set(wanted) != set(had):
                manager.set(records)
                said += [f"{kind} added: {name}" for pk, name in wanted.items() if pk not in had]
                said += [f"{kind} removed: {name}" for pk, name in had.items() if pk not in wanted]
    finally:
        del proposal.skip_history_when_saving
    if proponents is not None:
        check_one_primary(p["is_primary"] for p in proponents)
        wanted = {(p["actor"].pk, p["role"]): p for p in proponents}
        existing = {(link.actor_id, link.role): link for link in proposal.proponents.all()}
        for key, link in existing.items():
            if key not in wanted:
                record_delete(instance=link, user=user)
        # Clear primaries first, so the one-primary rule holds at every step.
        for key, link in existing.items():
            if key in wanted and link.is_primary and not wanted[key]["is_primary"]:
                record_save(instance=link, user=user, is_primary=False)
        for key, data in wanted.items():
            link = existing.get(key)
            if link is None:
                record_save(
                    instance=Proponent(),
                    user=user,
                    proposal=proposal,
                    actor=data["actor"],
                    role=data["role"],
                    is_primary=data["is_primary"],
                )
            elif link.is_primary != data["is_primary"]:
                record_save(instance=link, user=user, is_primary=data["is_primary"])
    if relations is not None:
        keys = [(r["to_proposal"].pk, r["relation_type"]) for r in relations]
        if len(keys) != len(set(keys)):
            raise ValidationError({"related": "The same relation to the same proposal is listed twice."})
        wanted = {(r["to_proposal"].pk, r["relation_type"]): r for r in relations}
        for relation in proposal.relations_out.all():
            if (relation.to_proposal_id, relation.relation_type) not in wanted:
                record_delete(instance=relation, user=user)
            else:
                wanted.pop((relation.to_proposal_id, relation.relation_type))
        for data in wanted.values():
            record_save(
                instance=ProposalRelation(),
                user=user,
                from_proposal=proposal,
                to_proposal=data["to_proposal"],
                relation_type=data["relation_type"],
                note=data.get("note", ""),
            )
    return said


def proposal_create(
    *,
    user: AbstractBaseUser | None = None,
    initial_status: str | None = Status.PROPOSED,
    topics=None,
    parties=None,
    proponents=None,
    relations=None,
    **fields,
) -> Proposal:
    """Create a proposal with its links and open its timeline with
    ``proposal_open_timeline`` (see there for the dating rule).

    ``initial_status=None`` opens no timeline: the caller (the seed loader,
    the admin) adds the events itself in the same batch. Raises
    ``ValidationError`` naming ``proposed_on`` for a future date, or for an
    ``initial_status`` other than ``proposed`` without a date.
    """
    refused = sorted(set(fields) - EDITABLE_FIELDS[Proposal])
    if refused:
        raise TypeError(f"proposal_create may not set {', '.join(refused)}.")
    with write_batch(user) as batch:
        proposal = Proposal(**fields)
        proposal.full_clean()
        _credit(proposal, batch.user)
        proposal.skip_history_when_saving = True
        proposal.save(force_insert=True)
        del proposal.skip_history_when_saving
        batch.defer_history(proposal, adding=True, reason="created")
        batch.saved.add((Proposal, proposal.pk))
        batch.instances[(Proposal, proposal.pk)].append(proposal)
        _set_links(proposal, topics=topics, parties=parties, proponents=proponents, relations=relations, user=user)
        if initial_status is not None:
            proposal_open_timeline(proposal=proposal, status=initial_status, user=user)
    return proposal


def proposal_open_timeline(
    *, proposal: Proposal, status: str = Status.PROPOSED, user: AbstractBaseUser | None = None
) -> StatusEvent | None:
    """Record a new proposal's opening status event, dated ``proposed_on``
    with its precision.

    No date is ever invented: without ``proposed_on`` the timeline stays
    empty and the status is ``proposed`` (true of any proposal, and the
    model's default); any other opening status needs the date it held
    from, so it raises ``ValidationError`` on ``proposed_on``. Returns the
    event, or ``None`` when none was recorded.
    """
    if proposal.proposed_on is None:
        if status == Status.PROPOSED:
            return None
        raise ValidationError(
            {
                "proposed_on": (
                    f"Required to open the timeline with {status!r}: the opening status event is dated "
                    "proposed_on (give month or year precision if that is all that is known). "
                    "Without a date, leave initial_status out and add dated status events."
                )
            }
        )
    return status_event_record(
        proposal=proposal,
        status=status,
        occurred_on=proposal.proposed_on,
        precision=proposal.proposed_precision,
        note="Status when the proposal was recorded.",
        user=user,
    )


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
    status event instead (``TypeError`` if named)."""
    with write_batch(user) as batch:
        if fields:
            record_save(instance=proposal, user=user, **fields)
        said = _set_links(
            proposal, topics=topics, parties=parties, proponents=proponents, relations=relations, user=user
        )
        if said:
            # Proponent and relation rows are parts (their saves name their
            # fields); what is said here is about topics and parties.
            fields = {"topics" if line.startswith("topic") else "parties" for line in said}
            batch.mark(Proposal, proposal.pk, "; ".join(said), fields=fields)
        batch.instances[(Proposal, proposal.pk)].append(proposal)
    return proposal


def proposal_delete(*, proposal: Proposal, user: AbstractBaseUser | None = None) -> None:
    """Delete a proposal with its parts, so that it can be restored exactly.

    The parts (quotes, proponent links, status events, relations both ways)
    are deleted one by one, each leaving a history row stamped with the same
    instant as the proposal's own deletion row; that row keeps the topic and
    party ids. ``proposal_restore`` brings back exactly that state.
    Proposals that related to this one are marked changed.
    """
    with write_batch(user) as batch:
        stamp = timezone.now()
        proposal = Proposal._base_manager.select_for_update().defer("search_vector").get(pk=proposal.pk)
        incoming = list(
            ProposalRelation.objects.filter(to_proposal_id=proposal.pk).exclude(from_proposal_id=proposal.pk)
        )
        batch.mark_many(Proposal, {r.from_proposal_id for r in incoming}, f"related proposal {proposal.slug} deleted")
        parts = [
            *StatusEvent.objects.filter(proposal_id=proposal.pk),
            *Proponent.objects.filter(proposal_id=proposal.pk),
            *Participation.objects.filter(proposal_id=proposal.pk),
            *ProposalAlias.objects.filter(proposal_id=proposal.pk),
            *ProposalRelation.objects.filter(from_proposal_id=proposal.pk),
            *incoming,
            *Evidence.objects.filter(proposal_id=proposal.pk).defer("quote"),
        ]
        sources = {part.source_id for part in parts if isinstance(part, Evidence)}
        batch.mark_many(Source, sources, "quotes changed")
        for part in parts:
            part._history_date = stamp
            part._change_reason = _clip(f"deleted with proposal {proposal.slug}")
            _credit(part, batch.user)
            part.delete()
        proposal._history_date = stamp
        proposal._history_links = {
            "topics": sorted(proposal.topics.values_list("pk", flat=True)),
            "parties": sorted(proposal.parties.values_list("pk", flat=True)),
        }
        _credit(proposal, batch.user)
        proposal.delete()
        batch.touch.pop((Proposal, proposal.pk), None)


class _Missing(Exception):
    """A record a restored row refers to (by a protecting foreign key) is
    gone; ``records`` names what to restore first."""

    def __init__(self, records: list[str]):
        super().__init__(records)
        self.records = records


def _refit_references(instance) -> None:
    """Check every foreign key of a row about to be re-inserted.

    A reference whose ``on_delete`` is ``SET_NULL`` is cleared when its
    target is gone, as the delete of that target would have done. Any other
    reference to a missing row raises ``_Missing`` naming it, so the caller
    can refuse the restore with a message instead of letting the database
    refuse it at commit (a 500)."""
    missing = []
    for field in instance._meta.concrete_fields:
        if not field.is_relation or not field.many_to_one:
            continue
        target_id = getattr(instance, field.attname)
        if target_id is None:
            continue
        target = field.related_model
        if target._base_manager.filter(pk=target_id).exists():
            continue
        if field.remote_field.on_delete is models.SET_NULL:
            setattr(instance, field.attname, None)
            continue
        label = target._meta.verbose_name
        row = getattr(target, "history", None)
        last = row.filter(id=target_id).order_by("-history_date").first() if row is not None else None
        missing.append(f"{label} {last.instance if last is not None else target_id} (id {target_id})")
    if missing:
        raise _Missing(missing)


def _reinsert(model, row, *, user, reason: str):
    """Re-insert a deleted row from its last history row, same id, with its
    original creation time (``auto_now_add`` would stamp now, and a status
    event's ``recorded_at`` orders the timeline), and one history row."""
    instance = row.instance
    _refit_references(instance)
    instance.skip_history_when_saving = True
    instance.save(force_insert=True)
    del instance.skip_history_when_saving
    originals = {
        field.attname: getattr(row, field.attname)
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now_add", False)
    }
    if originals:
        model._base_manager.filter(pk=instance.pk).update(**originals)
        for name, value in originals.items():
            setattr(instance, name, value)
    instance._change_reason = _clip(reason)
    model.history.bulk_history_create([instance], default_user=user, default_change_reason=instance._change_reason)
    return instance


def _last_deletion(model, pk):
    return model.history.filter(id=pk, history_type="-").order_by("-history_date", "-history_id").first()


def _stranded_relations(proposal_id: int):
    """Relation rows deleted only because one of their two proposals was
    (their last history row says "deleted with proposal …"), involving this
    proposal, whose other end exists again: a relation lost when A and then
    B were deleted comes back once both are restored."""
    rows = ProposalRelation.history.filter(
        Q(from_proposal_id=proposal_id) | Q(to_proposal_id=proposal_id), history_type="-"
    ).order_by("id", "-history_date", "-history_id")
    seen, out = set(), []
    for row in rows:
        if row.id in seen:
            continue
        seen.add(row.id)
        latest = ProposalRelation.history.filter(id=row.id).order_by("-history_date", "-history_id").first()
        if latest.history_id == row.history_id and (row.history_change_reason or "").startswith(
            "deleted with proposal"
        ):
            out.append(row)
    return out


def proposal_restore(*, proposal_id: int, user: AbstractBaseUser | None = None) -> tuple[Proposal, dict[str, int]]:
    """Bring a deleted proposal back exactly as it was when it was deleted:
    its fields, topics, parties, quotes, proponent links, status events and
    relations, with the same ids (their history continues) and original
    timestamps. Its version continues from the deleted one, so no old ETag
    can match the restored record. Relations to proposals still deleted
    come back when those are restored.

    Returns the proposal and how many of each kind of part came back.
    Raises ``ValidationError`` if the proposal exists or was never deleted,
    if its slug was taken since, or if a record it relies on (its venue, an
    actor, a topic, a quoted source) was deleted since: the message names
    those records, to be restored first. Nothing is written then.
    """
    with write_batch(user) as batch:
        if Proposal._base_manager.filter(pk=proposal_id).exists():
            raise ValidationError("This proposal exists; there is nothing to restore.")
        deletion = _last_deletion(Proposal, proposal_id)
        if deletion is None:
            raise ValidationError("This proposal was never deleted.")
        if Proposal._base_manager.filter(slug=deletion.slug).exists():
            raise ValidationError({"slug": f"Another proposal now uses the slug {deletion.slug!r}; change it first."})
        stamp = deletion.history_date
        kinds = [
            (Evidence, "evidence", Q(proposal_id=proposal_id)),
            (Proponent, "proponents", Q(proposal_id=proposal_id)),
            (StatusEvent, "status events", Q(proposal_id=proposal_id)),
            (Participation, "participation", Q(proposal_id=proposal_id)),
            (ProposalAlias, "aliases", Q(proposal_id=proposal_id)),
            (ProposalRelation, "relations", Q(from_proposal_id=proposal_id) | Q(to_proposal_id=proposal_id)),
        ]
        if deletion.links is not None:
            # Deleted by proposal_delete: its parts carry the exact stamp.
            window = Q(history_date=stamp)
        else:
            # Deleted some other way (before that service existed): Django
            # cascade-deleted the parts just before the proposal's own row.
            window = Q(history_date__gte=stamp - dt.timedelta(seconds=5), history_date__lte=stamp)
        part_rows = {
            model: list(model.history.filter(lookup, window, history_type="-").order_by("history_id"))
            for model, _label, lookup in kinds
        }
        known = {row.history_id for row in part_rows[ProposalRelation]}
        part_rows[ProposalRelation] += [r for r in _stranded_relations(proposal_id) if r.history_id not in known]
        links = deletion.links or {}
        topics = list(Topic.objects.filter(pk__in=links.get("topics", [])))
        parties = list(Actor.objects.filter(pk__in=links.get("parties", [])))
        missing = [f"topic id {pk}" for pk in set(links.get("topics", [])) - {t.pk for t in topics}]
        missing += [f"actor id {pk}" for pk in set(links.get("parties", [])) - {a.pk for a in parties}]

        proposal = deletion.instance
        proposal.version = (
            Proposal.history.filter(id=proposal_id).aggregate(v=models.Max("version"))["v"] or proposal.version
        ) + 1
        try:
            _refit_references(proposal)
        except _Missing as exc:
            missing += exc.records
        for model, rows in part_rows.items():
            for row in rows:
                if model is ProposalRelation:
                    continue  # checked below: a missing other end skips it
                try:
                    _refit_references(row.instance)
                except _Missing as exc:
                    missing += [m for m in exc.records if not m.startswith("proposal ")]
        if missing:
            raise ValidationError(
                "Cannot restore it exactly: these records it relies on were deleted since; restore them first: "
                + "; ".join(sorted(set(missing)))
                + "."
            )

        deletion.version = proposal.version
        proposal = _reinsert(Proposal, deletion, user=batch.user, reason="restored")
        proposal.topics.set(topics)
        proposal.parties.set(parties)
        restored = {"topics": len(topics), "parties": len(parties)}
        for model, label, _lookup in kinds:
            count = 0
            for row in part_rows[model]:
                if model._base_manager.filter(pk=row.id).exists():
                    continue
                if model is ProposalRelation:
                    other = row.to_proposal_id if row.from_proposal_id == proposal_id else row.from_proposal_id
                    if not Proposal._base_manager.filter(pk=other).exists():
                        continue  # comes back when that proposal is restored
                    if other != proposal_id:
                        batch.mark(Proposal, other, f"related proposal {proposal.slug} restored")
                part = _reinsert(model, row, user=batch.user, reason=f"restored with proposal {proposal.slug}")
                if model is Evidence:
                    batch.mark(Source, part.source_id, "quotes changed")
                count += 1
            restored[label] = count
        # The row _reinsert wrote (the newest) says what came back.
        newest = Proposal.history.filter(id=proposal_id).order_by("-history_id").values_list("history_id")[:1]
        Proposal.history.filter(history_id__in=newest).update(
            history_change_reason=_clip("restored: " + ", ".join(f"{n} {kind}" for kind, n in restored.items()))
        )
        batch.mark(Proposal, proposal.pk, "restored", resync=True)
        batch.saved.add((Proposal, proposal.pk))
        batch.instances[(Proposal, proposal.pk)].append(proposal)
    return proposal, restored


def record_restore(*, model: type[models.Model], pk: int, user: AbstractBaseUser | None = None) -> models.Model:
    """Bring back a deleted record of any kind as it was when it was deleted
    (same id, original creation time), through the same checks as any save,
    with the effects of a write on whatever shows it. A proposal is restored
    with its parts (``proposal_restore``; the counts are in
    ``_restored_parts``). Raises ``ValidationError`` if it exists, was never
    deleted, no longer validates (e.g. its slug was taken since), or relies
    on a record deleted since (named in the message)."""
    if model is Proposal:
        proposal, parts = proposal_restore(proposal_id=pk, user=user)
        proposal._restored_parts = parts
        return proposal
    with write_batch(user) as batch:
        if model._base_manager.filter(pk=pk).exists():
            raise ValidationError(f"This {model._meta.verbose_name} exists; there is nothing to restore.")
        deletion = _last_deletion(model, pk)
        if deletion is None:
            raise ValidationError(f"This {model._meta.verbose_name} was never deleted.")
        candidate = deletion.instance
        try:
            _refit_references(candidate)
        except _Missing as exc:
            raise ValidationError(
                f"Cannot restore this {model._meta.verbose_name}: these records it relies on were deleted since; "
                "restore them first: " + "; ".join(exc.records) + "."
            ) from None
        if hasattr(candidate, "version"):
            candidate.version = (model.history.filter(id=pk).aggregate(v=models.Max("version"))["v"] or 0) + 1
        candidate.full_clean(validate_unique=True)
        if hasattr(candidate, "version"):
            deletion.version = candidate.version
        instance = _reinsert(model, deletion, user=batch.user, reason="restored")
        if hasattr(instance, "version"):
            batch.saved.add((model, instance.pk))
        if model in PART_OWNERS:
            _part_effects(batch, instance, None, f"{instance._meta.verbose_name} restored", "restored")
    return instance


def deleted_records(model: type[models.Model]):
    """The last deletion row of every record of ``model`` that is still
    deleted, newest first (a queryset of historical rows)."""
    live = model._base_manager.values("pk")
    latest = (
        model.history.filter(id=models.OuterRef("id")).order_by("-history_date", "-history_id").values("history_id")[:1]
    )
    return (
        model.history.filter(history_type="-")
        .exclude(id__in=live)
        .filter(history_id=models.Subquery(latest))
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )


# --------------------------------------------------------------------------
# History as the API shows it
# --------------------------------------------------------------------------


def user_role(user) -> str:
    """What the public may know of who made a change: ``staff``,
    ``editor`` or ``system`` (the seed loader, or no user)."""
    if user is None or not getattr(user, "is_active", False):
        return "system"
    if user.is_staff or user.is_superuser:
        return "staff"
    return "editor"


def history_entries(records, *, show_users: bool = True) -> list[dict]:
    """Turn a record's simple-history rows into API entries, newest first,
    each with the field-level differences from the version before it.

    ``user`` is the username only when ``show_users`` (editors); everyone
    sees the author's ``role`` (``user_role``)."""
    rows = list(records.select_related("history_user").order_by("history_date", "history_id"))
    if not rows:
        return []
    model = rows[0].instance_type
    tracked = [
        f.attname
        for f in model._meta.concrete_fields
        # Bookkeeping fields change on every save; they are not news.
        if hasattr(rows[0], f.attname)
        and f.attname not in {"search_vector", "version", "updated_at", "created_at", "recorded_by_id"}
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
                "user": row.history_user.get_username() if row.history_user and show_users else None,
                "role": user_role(row.history_user),
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


__all__ = [
    "EDITABLE_FIELDS",
    "deleted_records",
    "evidence_attach",
    "history_entries",
    "proposal_create",
    "proposal_delete",
    "proposal_restore",
    "proposal_update",
    "record_delete",
    "record_restore",
    "record_save",
    "status_event_delete",
    "status_event_record",
    "user_role",
    "write_batch",
]
