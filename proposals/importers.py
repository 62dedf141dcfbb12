"""The seed loader: curated YAML in ``seeds/data/`` into the database.

* Idempotent: records are matched by natural key (slugs; a quote by its
  source and offsets) and only what differs is written, so a second run
  creates and updates nothing.
* All or nothing: the whole file is checked first (structure, references,
  every quote against its source text), then written in one transaction.
* Staff edits win: every write is credited to the ``seed-loader`` user, so a
  record whose latest history row belongs to anyone else was changed by
  staff after seeding. Such records are skipped and reported, unless the
  caller asks to overwrite them.
* Errors name the file, the record and the field.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from . import services
from .models import (
    Actor,
    ActorKind,
    DatePrecision,
    Evidence,
    PartyAction,
    Proponent,
    ProponentRole,
    Proposal,
    ProposalRelation,
    RelationType,
    Source,
    Status,
    StatusEvent,
    Topic,
    Venue,
    VenueKind,
    check_one_primary,
    locate_quote,
)
from .representations import stored
from .tracking import services as tracking

SEEDS_DIR = Path(settings.BASE_DIR) / "seeds"
LOADER_USERNAME = "seed-loader"
KINDS = [
    "topics",
    "sources",
    "actors",
    "venues",
    "proposals",
    "evidence",
    "proponents",
    "events",
    "relations",
    "participation",
    "aliases",
]


class SeedError(Exception):
    """Bad seed data. The message names the file, the record and the field."""

    def __init__(self, file: Path | str, record: str, field_name: str, message: str):
        self.file, self.record, self.field, self.message = str(file), record, field_name, message
        super().__init__(f"{file}: {record}: {field_name}: {message}")


@dataclass
class Report:
    counts: dict = field(default_factory=lambda: {kind: defaultdict(int) for kind in KINDS})
    skipped: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str, n: int = 1) -> None:
        self.counts[kind][outcome] += n

    @property
    def changed(self) -> int:
        return sum(c["created"] + c["updated"] + c["deleted"] for c in self.counts.values())

    def table(self) -> str:
        lines = [f"{'kind':<14}{'created':>9}{'updated':>9}{'deleted':>9}{'unchanged':>11}{'skipped':>9}"]
        for kind in KINDS:
            c = self.counts[kind]
            lines.append(
                f"{kind:<14}{c['created']:>9}{c['updated']:>9}{c['deleted']:>9}{c['unchanged']:>11}{c['skipped']:>9}"
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Reading and checking the file
# --------------------------------------------------------------------------

REQUIRED = {
    "topics": {"slug", "name"},
    "sources": {"slug", "file", "title"},
    "actors": {"slug", "name", "kind"},
    "venues": {"slug", "name", "kind"},
    "proposals": {"slug", "title", "evidence", "proponents", "events"},
    "retired_proposals": {"slug", "reason"},
}
ALLOWED = {
    "topics": REQUIRED["topics"] | {"description", "aliases"},
    "sources": REQUIRED["sources"]
    | {"authors", "outlet", "published_on", "published_precision", "published_note", "url", "language"},
    "actors": REQUIRED["actors"] | {"named", "description", "affiliation", "country_code", "aliases"},
    "venues": REQUIRED["venues"] | {"organisation", "place", "starts_on", "ends_on", "note", "aliases"},
    "proposals": REQUIRED["proposals"]
    | {
        "summary",
        "venue",
        "topics",
        "parties",
        "proposed_on",
        "proposed_precision",
        "proposed_note",
        "relations",
        "aliases",
        "participation",
    },
    "retired_proposals": REQUIRED["retired_proposals"],
    "evidence": {"key", "source", "quote", "start", "end", "note"},
    "proponents": {"actor", "role", "primary", "evidence", "note"},
    "events": {"status", "date", "precision", "note", "evidence"},
    "relations": {"type", "to", "note"},
    "aliases": {"name", "language"},
    "participation": {"party", "action", "date", "precision", "evidence", "note"},
}
CHOICES = {
    ("actors", "kind"): ActorKind.values,
    ("venues", "kind"): VenueKind.values,
    ("sources", "published_precision"): DatePrecision.values,
    ("proposals", "proposed_precision"): DatePrecision.values,
    ("proponents", "role"): ProponentRole.values,
    ("events", "status"): Status.values,
    ("events", "precision"): DatePrecision.values,
    ("relations", "type"): RelationType.values,
    ("participation", "action"): PartyAction.values,
    ("participation", "precision"): DatePrecision.values,
}


class SeedFile:
    """The parsed data file, with helpers that raise located errors."""

    def __init__(self, path: Path):
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SeedError(path, "(file)", "(file)", f"cannot be read: {exc}") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SeedError(path, "(file)", "(syntax)", f"is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise SeedError(path, "(file)", "(top level)", "must be a mapping of kinds to lists of records")
        unknown = set(data) - set(REQUIRED)
        if unknown:
            raise SeedError(path, "(file)", ", ".join(sorted(unknown)), f"unknown kind; expected {sorted(REQUIRED)}")
        self.data = {kind: data.get(kind) or [] for kind in REQUIRED}
        for kind, records in self.data.items():
            if not isinstance(records, list):
                raise SeedError(path, kind, "(list)", "must be a list of records")

    def error(self, record: str, field_name: str, message: str) -> SeedError:
        return SeedError(self.path, record, field_name, message)

    def check_record(self, kind: str, record, label: str) -> None:
        if not isinstance(record, dict):
            raise self.error(label, "(record)", "must be a mapping of fields")
        missing = REQUIRED.get(kind, set()) - set(record)
        if missing:
            raise self.error(label, sorted(missing)[0], "is required")
        unknown = set(record) - ALLOWED[kind]
        if unknown:
            raise self.error(label, sorted(unknown)[0], f"unknown field; allowed: {', '.join(sorted(ALLOWED[kind]))}")
        for (choice_kind, name), values in CHOICES.items():
            if choice_kind == kind and name in record and record[name] not in values:
                raise self.error(label, name, f"{record[name]!r} is not one of {', '.join(values)}")

    def date(self, record: dict, name: str, label: str) -> dt.date | None:
        value = record.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise self.error(label, name, f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _slug_index(seed: SeedFile, kind: str) -> dict[str, dict]:
    index = {}
    for position, record in enumerate(seed.data[kind]):
        label = f"{kind}[{position}]"
        seed.check_record(kind, record, label)
        slug = record["slug"]
        if slug in index:
            raise seed.error(f"{kind}[{slug}]", "slug", "is used twice")
        index[slug] = record
    return index


def check(seed: SeedFile, sources_dir: Path) -> dict[str, dict]:
    """Check the whole file before anything is written: structure, choices,
    dates, references between records, and every quote against its text."""
    idx = {kind: _slug_index(seed, kind) for kind in REQUIRED}
    texts = {}
    for slug, record in idx["sources"].items():
        label = f"sources[{slug}]"
        path = sources_dir / record["file"]
        if not path.is_file():
            raise seed.error(label, "file", f"{path} does not exist")
        with path.open(encoding="utf-8", newline="") as handle:
            texts[slug] = handle.read()
        seed.date(record, "published_on", label)

    def ref(kind: str, value, label: str, name: str):
        if value in (None, ""):
            return
        if value not in idx[kind]:
            raise seed.error(label, name, f"refers to unknown {kind[:-1]} {value!r}")

    for kind in ("topics", "actors", "venues", "proposals"):
        for slug, record in idx[kind].items():
            for position, item in enumerate(record.get("aliases") or []):
                item_label = f"{kind}[{slug}].aliases[{position}]"
                seed.check_record("aliases", item, item_label)
                if "name" not in item:
                    raise seed.error(item_label, "name", "is required")
    for slug, record in idx["actors"].items():
        ref("actors", record.get("affiliation"), f"actors[{slug}]", "affiliation")
    for slug, record in idx["venues"].items():
        label = f"venues[{slug}]"
        ref("actors", record.get("organisation"), label, "organisation")
        seed.date(record, "starts_on", label)
        seed.date(record, "ends_on", label)

    for slug, record in idx["proposals"].items():
        label = f"proposals[{slug}]"
        ref("venues", record.get("venue"), label, "venue")
        for topic in record.get("topics") or []:
            ref("topics", topic, label, "topics")
        for party in record.get("parties") or []:
            ref("actors", party, label, "parties")
        seed.date(record, "proposed_on", label)
        keys = set()
        if not record["evidence"]:
            raise seed.error(label, "evidence", "needs at least one quote")
        for position, item in enumerate(record["evidence"]):
            item_label = f"{label}.evidence[{item.get('key', position) if isinstance(item, dict) else position}]"
            seed.check_record("evidence", item, item_label)
            for name in ("key", "source", "quote", "start", "end"):
                if name not in item:
                    raise seed.error(item_label, name, "is required")
            ref("sources", item["source"], item_label, "source")
            if item["key"] in keys:
                raise seed.error(item_label, "key", "is used twice in this proposal")
            keys.add(item["key"])
            try:
                locate_quote(texts[item["source"]], item["quote"], item["start"], item["end"])
            except ValidationError as exc:
                name, messages = next(iter(exc.message_dict.items()))
                raise seed.error(item_label, name, " ".join(messages)) from exc
        for position, item in enumerate(record["proponents"] or []):
            item_label = f"{label}.proponents[{position}]"
            seed.check_record("proponents", item, item_label)
            if "actor" not in item:
                raise seed.error(item_label, "actor", "is required")
            ref("actors", item["actor"], item_label, "actor")
            if item.get("evidence") not in (None, *keys):
                raise seed.error(item_label, "evidence", f"refers to unknown evidence key {item['evidence']!r}")
        try:
            check_one_primary(item.get("primary") for item in record["proponents"] or [])
        except ValidationError as exc:
            raise seed.error(label, "proponents", " ".join(exc.messages)) from exc
        if not record["events"]:
            raise seed.error(label, "events", "needs at least one status event")
        for position, item in enumerate(record["events"]):
            item_label = f"{label}.events[{position}]"
            seed.check_record("events", item, item_label)
            for name in ("status", "date"):
                if name not in item:
                    raise seed.error(item_label, name, "is required")
            seed.date(item, "date", item_label)
            if item.get("evidence") not in (None, *keys):
                raise seed.error(item_label, "evidence", f"refers to unknown evidence key {item['evidence']!r}")
        for position, item in enumerate(record.get("participation") or []):
            item_label = f"{label}.participation[{position}]"
            seed.check_record("participation", item, item_label)
            for name in ("party", "action"):
                if name not in item:
                    raise seed.error(item_label, name, "is required")
            ref("actors", item["party"], item_label, "party")
            seed.date(item, "date", item_label)
            if item.get("evidence") not in (None, *keys):
                raise seed.error(item_label, "evidence", f"refers to unknown evidence key {item['evidence']!r}")
        for position, item in enumerate(record.get("relations") or []):
            item_label = f"{label}.relations[{position}]"
            seed.check_record("relations", item, item_label)
            for name in ("type", "to"):
                if name not in item:
                    raise seed.error(item_label, name, "is required")
            ref("proposals", item["to"], item_label, "to")
            if item["to"] == slug:
                raise seed.error(item_label, "to", "a proposal cannot relate to itself")
    for slug in idx["retired_proposals"]:
        if slug in idx["proposals"]:
            raise seed.error(f"retired_proposals[{slug}]", "slug", "is also listed under proposals")
    idx["_texts"] = texts
    return idx


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


class Loader:
    def __init__(self, seed: SeedFile, idx: dict, *, overwrite: bool, report: Report):
        self.seed, self.idx, self.overwrite, self.report = seed, idx, overwrite, report
        User = get_user_model()
        self.user, _ = User.objects.get_or_create(
            username=LOADER_USERNAME, defaults={"is_active": False, "first_name": "Seed loader"}
        )
        if self.user.has_usable_password():
            self.user.set_unusable_password()
            self.user.save(update_fields=["password"])

    # -- helpers ----------------------------------------------------------

    def staff_edited(self, instance) -> bool:
        """True when someone other than the loader changed the record last.
        Rows that only say something the record shows changed elsewhere (a
        renamed venue: ``services.is_neighbour_reason``) are not its edits."""
        rows = instance.history.order_by("-history_date", "-history_id").values_list(
            "history_user_id", "history_change_reason"
        )
        for user_id, reason in rows.iterator():
            if services.is_neighbour_reason(reason):
                continue
            return user_id is not None and user_id != self.user.pk
        return False

    def upsert(self, kind: str, model, slug: str, values: dict):
        """Create or update one simple record by slug; returns the instance."""
        instance = model.objects.filter(slug=slug).first()
        label = f"{kind}[{slug}]"
        if instance is None:
            instance = self._save(label, model(slug=slug), values)
            self.report.add(kind, "created")
            return instance
        differs = {name: value for name, value in values.items() if getattr(instance, name) != value}
        if not differs:
            self.report.add(kind, "unchanged")
        elif self.staff_edited(instance) and not self.overwrite:
            self.report.add(kind, "skipped")
            self.report.skipped.append(f"{label}: changed by staff since seeding; kept ({', '.join(sorted(differs))})")
        else:
            self._save(label, instance, differs)
            self.report.add(kind, "updated")
        return instance

    def _save(self, label: str, instance, values: dict):
        try:
            return services.record_save(instance=instance, user=self.user, **values)
        except ValidationError as exc:
            raise self._located(label, exc) from exc

    def _located(self, label: str, exc: ValidationError) -> SeedError:
        if hasattr(exc, "message_dict"):
            name, messages = next(iter(exc.message_dict.items()))
        else:
            name, messages = "(record)", exc.messages
        return self.seed.error(label, name, " ".join(messages))

    # -- kinds ------------------------------------------------------------

    def run(self) -> None:
        idx = self.idx
        self.topics = {
            slug: self.upsert("topics", Topic, slug, {"name": r["name"], "description": r.get("description", "")})
            for slug, r in idx["topics"].items()
        }
        for slug, r in idx["topics"].items():
            self.sync_aliases(f"topics[{slug}]", self.topics[slug], r)
        self.sources = {}
        for slug, r in idx["sources"].items():
            self.sources[slug] = self.upsert(
                "sources",
                Source,
                slug,
                {
                    "title": r["title"],
                    "authors": r.get("authors") or "",
                    "outlet": r.get("outlet") or "",
                    "published_on": self.seed.date(r, "published_on", slug),
                    "published_precision": r.get("published_precision") or DatePrecision.DAY,
                    "published_note": r.get("published_note") or "",
                    "url": r.get("url") or "",
                    "language": r.get("language") or "en",
                    "text": idx["_texts"][slug],
                },
            )
        # Actors in two passes, so an affiliation may name an actor listed later.
        self.actors = {}
        for slug, r in idx["actors"].items():
            self.actors[slug] = self.upsert(
                "actors",
                Actor,
                slug,
                {
                    "name": r["name"],
                    "named": r.get("named", True),
                    "kind": r["kind"],
                    "description": r.get("description") or "",
                    "country_code": r.get("country_code") or "",
                },
            )
        for slug, r in idx["actors"].items():
            wanted = self.actors.get(r.get("affiliation")) if r.get("affiliation") else None
            actor = self.actors[slug]
            if actor.affiliation_id != (wanted.pk if wanted else None):
                if self.staff_edited(actor) and not self.overwrite:
                    self.report.skipped.append(f"actors[{slug}]: affiliation changed by staff; kept")
                else:
                    self._save(f"actors[{slug}]", actor, {"affiliation": wanted})
        for slug, r in idx["actors"].items():
            self.sync_aliases(f"actors[{slug}]", self.actors[slug], r)
        self.venues = {}
        for slug, r in idx["venues"].items():
            org = r.get("organisation")
            self.venues[slug] = self.upsert(
                "venues",
                Venue,
                slug,
                {
                    "name": r["name"],
                    "kind": r["kind"],
                    "organisation": self.actors[org] if org else None,
                    "place": r.get("place") or "",
                    "starts_on": self.seed.date(r, "starts_on", slug),
                    "ends_on": self.seed.date(r, "ends_on", slug),
                    "note": r.get("note") or "",
                },
            )
            self.sync_aliases(f"venues[{slug}]", self.venues[slug], r)
        self.retire_proposals()
        self.proposals = {}
        for slug, r in idx["proposals"].items():
            self.proposals[slug] = self.load_proposal(slug, r)
        # Relations last: their targets must exist.
        for slug, r in idx["proposals"].items():
            proposal = self.proposals[slug]
            if proposal is None:
                continue
            self.sync_relations(slug, proposal, r.get("relations") or [])

    def load_proposal(self, slug: str, r: dict) -> Proposal | None:
        label = f"proposals[{slug}]"
        fields = {
            "title": r["title"],
            "summary": r.get("summary") or "",
            "venue": self.venues[r["venue"]] if r.get("venue") else None,
            "proposed_on": self.seed.date(r, "proposed_on", label),
            "proposed_precision": r.get("proposed_precision") or DatePrecision.DAY,
            "proposed_note": r.get("proposed_note") or "",
        }
        topics = [self.topics[t] for t in r.get("topics") or []]
        parties = [self.actors[a] for a in r.get("parties") or []]
        proposal = Proposal.objects.filter(slug=slug).first()
        if proposal is not None and self.staff_edited(proposal) and not self.overwrite:
            self.report.add("proposals", "skipped")
            self.report.skipped.append(f"{label}: changed by staff since seeding; kept with its quotes and timeline")
            return None
        try:
            # One write batch per proposal: its version moves once, however
            # many of its parts the file changed.
            with transaction.atomic(), services.write_batch(self.user):
                if proposal is None:
                    proposal = services.proposal_create(
                        user=self.user, initial_status=None, slug=slug, topics=topics, parties=parties, **fields
                    )
                    outcome = "created"
                else:
                    before = proposal.version
                    services.proposal_update(
                        proposal=proposal, user=self.user, topics=topics, parties=parties, **fields
                    )
                    outcome = None
                # Each part written marks the proposal changed (and an event
                # re-derives its status) when the batch ends.
                self.sync_children(label, proposal, r)
                self.sync_participation(label, proposal, r)
                self.sync_aliases(label, proposal, r, check_staff=False)
        except ValidationError as exc:
            raise self._located(label, exc) from exc
        if outcome is None:
            outcome = "updated" if proposal.version != before else "unchanged"
        self.report.add("proposals", outcome)
        return proposal

    def upsert_child(self, kind: str, label: str, instance, model, identity: dict, values: dict) -> tuple[object, bool]:
        """Create (from ``identity`` and ``values``) or update (``values``)
        one part of a proposal through the services; returns the instance
        and whether anything was written."""
        try:
            if instance is None:
                if model is StatusEvent:
                    instance = services.status_event_record(user=self.user, **identity, **values)
                else:
                    instance = services.record_save(instance=model(), user=self.user, **identity, **values)
                outcome = "created"
            else:
                differs = {name: value for name, value in values.items() if getattr(instance, name) != value}
                if not differs:
                    self.report.add(kind, "unchanged")
                    return instance, False
                services.record_save(instance=instance, user=self.user, **differs)
                outcome = "updated"
        except ValidationError as exc:
            raise self._located(label, exc) from exc
        self.report.add(kind, outcome)
        return instance, True

    def delete_leftovers(self, kind: str, existing: dict, wanted) -> bool:
        """Delete the parts the file no longer lists; returns whether any were."""
        changed = False
        for key, instance in existing.items():
            if key not in wanted:
                services.record_delete(instance=instance, user=self.user)
                self.report.add(kind, "deleted")
                changed = True
        return changed

    def sync_children(self, label: str, proposal: Proposal, r: dict) -> bool:
        changed = False
        # Evidence, by (source, start, end).
        evidence_by_key = {}
        existing = {(e.source_id, e.start, e.end): e for e in proposal.evidence.all()}
        wanted = set()
        for item in r["evidence"]:
            source = self.sources[item["source"]]
            key = (source.pk, item["start"], item["end"])
            wanted.add(key)
            ev, wrote = self.upsert_child(
                "evidence",
                f"{label}.evidence[{item['key']}]",
                existing.get(key),
                Evidence,
                {
                    "proposal": proposal,
                    "source": source,
                    "quote": item["quote"],
                    "start": item["start"],
                    "end": item["end"],
                },
                {"note": item.get("note") or ""},
            )
            changed |= wrote
            evidence_by_key[item["key"]] = ev
        changed |= self.delete_leftovers("evidence", existing, wanted)
        self.evidence_by_key = evidence_by_key  # for sync_participation

        # Proponents, by (actor, role). Clear stale primaries before setting new ones.
        existing = {(p.actor_id, p.role): p for p in proposal.proponents.all()}
        wanted = {}
        for item in r["proponents"]:
            role = item.get("role") or ProponentRole.PROPOSED
            wanted[(self.actors[item["actor"]].pk, role)] = item
        changed |= self.delete_leftovers("proponents", existing, wanted)
        for key, link in existing.items():
            if key in wanted and link.is_primary and not wanted[key].get("primary"):
                try:
                    services.record_save(instance=link, user=self.user, is_primary=False)
                except ValidationError as exc:
                    raise self._located(f"{label}.proponents", exc) from exc
        for (actor_pk, role), item in wanted.items():
            actor = self.actors[item["actor"]]
            _, wrote = self.upsert_child(
                "proponents",
                f"{label}.proponents[{item['actor']}]",
                existing.get((actor_pk, role)),
                Proponent,
                {"proposal": proposal, "actor": actor, "role": role},
                {
                    "is_primary": bool(item.get("primary")),
                    "evidence": evidence_by_key.get(item.get("evidence")),
                    "note": item.get("note") or "",
                },
            )
            changed |= wrote

        # Status events, by (status, date).
        existing = {(e.status, e.occurred_on): e for e in proposal.events.all()}
        wanted = set()
        for position, item in enumerate(r["events"]):
            occurred_on = self.seed.date(item, "date", f"{label}.events[{position}]")
            key = (item["status"], occurred_on)
            wanted.add(key)
            _, wrote = self.upsert_child(
                "events",
                f"{label}.events[{position}]",
                existing.get(key),
                StatusEvent,
                {"proposal": proposal, "status": item["status"], "occurred_on": occurred_on},
                {
                    "precision": item.get("precision") or DatePrecision.DAY,
                    "note": item.get("note") or "",
                    "evidence": evidence_by_key.get(item.get("evidence")),
                },
            )
            changed |= wrote
        changed |= self.delete_leftovers("events", existing, wanted)
        return changed

    def sync_aliases(self, label: str, owner, r: dict, *, check_staff: bool = True) -> None:
        """Make the owner's aliases exactly the file's (``aliases``: ``[{name,
        language}]``), through ``tracking.aliases_sync``: only what differs
        is written, so a second run writes nothing. Skipped, and reported,
        for a record staff changed since seeding."""
        wanted = [{"name": a["name"], "language": a.get("language") or ""} for a in r.get("aliases") or []]
        have = sorted((a.name, a.language) for a in owner.aliases.all())
        if have == sorted((a["name"], a["language"]) for a in wanted):
            self.report.add("aliases", "unchanged", len(wanted))
            return
        if check_staff and self.staff_edited(owner) and not self.overwrite:
            self.report.skipped.append(f"{label}: aliases kept (record changed by staff since seeding)")
            return
        try:
            tracking.aliases_sync(owner=owner, aliases=wanted, user=self.user)
        except ValidationError as exc:
            raise self._located(f"{label}.aliases", exc) from exc
        kept = set(have) & {(a["name"], a["language"]) for a in wanted}
        self.report.add("aliases", "created", len(wanted) - len(kept))
        self.report.add("aliases", "deleted", len(have) - len(kept))
        self.report.add("aliases", "unchanged", len(kept))

    def sync_participation(self, label: str, proposal: Proposal, r: dict) -> None:
        """Participation rows by (party, action, date), through
        ``tracking.participation_record``; rows the file no longer lists
        are deleted."""
        keys = self.evidence_by_key  # this proposal's quotes by key, from sync_children
        existing = {(p.party_id, p.action, p.occurred_on): p for p in proposal.participation.all()}
        wanted = set()
        for position, item in enumerate(r.get("participation") or []):
            item_label = f"{label}.participation[{position}]"
            party = self.actors[item["party"]]
            occurred_on = self.seed.date(item, "date", item_label)
            key = (party.pk, item["action"], occurred_on)
            wanted.add(key)
            values = {
                "precision": item.get("precision") or DatePrecision.DAY,
                "evidence": keys.get(item.get("evidence")),
                "note": item.get("note") or "",
            }
            row = existing.get(key)
            if row is not None and all(getattr(row, name) == value for name, value in values.items()):
                self.report.add("participation", "unchanged")
                continue
            try:
                tracking.participation_record(
                    proposal=proposal,
                    party=party,
                    action=item["action"],
                    occurred_on=occurred_on,
                    user=self.user,
                    participation=row,
                    **values,
                )
            except ValidationError as exc:
                raise self._located(item_label, exc) from exc
            self.report.add("participation", "created" if row is None else "updated")
        self.delete_leftovers("participation", existing, wanted)

    def retire_proposals(self) -> None:
        """Delete the proposals listed under ``retired_proposals`` (records a
        later curation withdrew from the corpus, each with its reason) if
        they exist, through ``services.proposal_delete`` (restorable from
        history); kept, and reported, when staff changed them since."""
        for slug, r in self.idx["retired_proposals"].items():
            proposal = Proposal.objects.filter(slug=slug).first()
            if proposal is None:
                continue
            if self.staff_edited(proposal) and not self.overwrite:
                self.report.skipped.append(f"retired_proposals[{slug}]: changed by staff since seeding; kept")
                continue
            services.proposal_delete(proposal=proposal, user=self.user)
            self.report.add("proposals", "deleted")
            # The deletion row says why (the loader's own reason, not staff's).
            newest = Proposal.history.filter(id=proposal.pk).order_by("-history_id").values_list("history_id")[:1]
            Proposal.history.filter(history_id__in=newest).update(
                history_change_reason=services._clip(f"retired from the seed corpus: {r['reason']}")
            )

    def sync_relations(self, slug: str, proposal: Proposal, relations: list[dict]) -> None:
        existing = {(r.to_proposal_id, r.relation_type): r for r in proposal.relations_out.all()}
        wanted = {}
        for item in relations:
            target = self.proposals.get(item["to"]) or Proposal.objects.filter(slug=item["to"]).first()
            wanted[(target.pk, item["type"])] = (target, item.get("note") or "")
        with services.write_batch(self.user):
            self.delete_leftovers("relations", existing, wanted)
            for key, (target, note) in wanted.items():
                self.upsert_child(
                    "relations",
                    f"proposals[{slug}].relations",
                    existing.get(key),
                    ProposalRelation,
                    {"from_proposal": proposal, "to_proposal": target, "relation_type": key[1]},
                    {"note": note},
                )


def load_seeds(
    data_file: Path | None = None, *, sources_dir: Path | None = None, overwrite_staff_edits: bool = False
) -> Report:
    """Load the curated seed data. Raises ``SeedError`` (and writes nothing)
    when the data is bad; returns a ``Report`` of what it did."""
    data_file = data_file or SEEDS_DIR / "data" / "corpus.yaml"
    sources_dir = sources_dir or SEEDS_DIR / "sources"
    seed = SeedFile(data_file)
    idx = check(seed, sources_dir)
    report = Report()
    # One change-sequence bump at the end: one per proposal would hold its
    # row lock, and block every other writer, for the whole load.
    with transaction.atomic(), stored.one_sequence_bump():
        Loader(seed, idx, overwrite=overwrite_staff_edits, report=report).run()
    return report
