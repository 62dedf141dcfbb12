"""Writes of participation rows and aliases, through the one write path
(``proposals.services``): each joins the caller's write batch, so the
owning record (the proposal, or the actor, venue or topic an alias names)
gets a new ``version`` and ``updated_at`` (its ETag changes) and one
history row whose reason names the change ("participation added: China
ratified, 2017-06-09", "actor alias added: 李克强 (zh)")."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from ..models import Actor, DatePrecision, Evidence, Proposal, Topic, Venue
from ..services import record_delete, record_save, write_batch
from .models import ALIAS_MODELS, AliasBase, Participation


def participation_record(
    *,
    proposal: Proposal,
    party: Actor,
    action: str,
    occurred_on: dt.date | None = None,
    precision: str = DatePrecision.DAY,
    evidence: Evidence | None = None,
    note: str = "",
    user: AbstractBaseUser | None = None,
    participation: Participation | None = None,
) -> Participation:
    """Record what ``party`` did about ``proposal`` (``action``, a
    ``PartyAction`` code), or, given ``participation``, change that row to
    these values.

    Runs ``Participation.full_clean()`` first: raises ``ValidationError``
    naming the field for an unknown action or precision, a date after
    tomorrow (UTC) or before the proposal's ``proposed_on``, a quote of
    another proposal, or the same party, action and date twice; nothing is
    written then. A new row credits ``user`` as its recorder. Changing no
    value writes nothing."""
    fields = {
        "proposal": proposal,
        "party": party,
        "action": action,
        "occurred_on": occurred_on,
        "precision": precision,
        "evidence": evidence,
        "note": note,
    }
    with write_batch(user) as batch:
        if participation is None:
            participation = Participation(recorded_by=batch.user)
        elif participation.pk is None:
            raise ValidationError("This participation row was never saved; leave participation out to add one.")
        saved = record_save(instance=participation, user=user, **fields)
        batch.instances[(Proposal, proposal.pk)].append(proposal)
    return saved


def participation_delete(*, participation: Participation, user: AbstractBaseUser | None = None) -> None:
    """Remove a participation row recorded in error; its proposal moves on
    to a new version, with the removal in its history."""
    record_delete(instance=participation, user=user)


def alias_add(
    *, owner: Actor | Venue | Topic | Proposal, name: str, language: str = "", user: AbstractBaseUser | None = None
) -> AliasBase:
    """Give ``owner`` (an actor, venue, topic or proposal) another name.

    ``language`` is a BCP 47 tag (RFC 5646: ``zh``, ``zh-Hans``, ``en``) or
    empty when unspecified. Raises ``ValidationError`` for a blank or
    padded name, an invalid tag, the owner's own name, or an alias the
    owner already has in that language; ``TypeError`` for an owner of
    another kind (a programming error)."""
    model = ALIAS_MODELS.get(type(owner))
    if model is None:
        raise TypeError(f"{type(owner).__name__} records have no aliases.")
    with write_batch(user) as batch:
        alias = record_save(
            instance=model(), user=user, **{model.owner_field: owner, "name": name, "language": language}
        )
        batch.instances[(type(owner), owner.pk)].append(owner)
    return alias


def alias_delete(*, alias: AliasBase, user: AbstractBaseUser | None = None) -> None:
    """Remove an alias; its owner moves on to a new version."""
    record_delete(instance=alias, user=user)


def aliases_sync(
    *, owner: Actor | Venue | Topic | Proposal, aliases: list[dict], user: AbstractBaseUser | None = None
) -> bool:
    """Make ``owner``'s aliases exactly ``aliases`` (``[{"name": ...,
    "language": ...}]``): add the missing, remove the others, keep the
    rest untouched. Returns whether anything changed. Raises
    ``ValidationError`` (``aliases``) when the list names one alias twice,
    or as ``alias_add`` does; nothing is written then."""
    wanted = [(item["name"], item.get("language", "")) for item in aliases]
    if len(set(wanted)) != len(wanted):
        raise ValidationError({"aliases": "The same alias (name and language) is listed twice."})
    changed = False
    with write_batch(user):
        existing = {(a.name, a.language): a for a in owner.aliases.all()}
        for key, alias in existing.items():
            if key not in wanted:
                alias_delete(alias=alias, user=user)
                changed = True
        for name, language in wanted:
            if (name, language) not in existing:
                try:
                    alias_add(owner=owner, name=name, language=language, user=user)
                except ValidationError as exc:
                    # Name the list and the alias, not a top-level "name".
                    messages = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in exc.message_dict.items())
                    raise ValidationError({"aliases": f"{name!r} ({language or 'no language'}): {messages}"}) from exc
                changed = True
    return changed


def aliases_index() -> dict[str, list[tuple[str, int]]]:
    """Every name a live record goes by, for matchers: ``{"actor": [(text,
    pk), ...], "venue": ..., "topic": ..., "proposal": ...}``, where text
    is a name (a proposal's title), a slug or an alias. One query per
    model and one per alias model; records without aliases still appear by
    name and slug."""
    index: dict[str, list[tuple[str, int]]] = {}
    for model, alias_model in ALIAS_MODELS.items():
        name_field = "title" if model is Proposal else "name"
        rows: list[tuple[str, int]] = []
        for name, slug, pk in model._base_manager.values_list(name_field, "slug", "pk").order_by("pk"):
            rows.append((name, pk))
            rows.append((slug, pk))
        owner_id = f"{alias_model.owner_field}_id"
        rows.extend(alias_model.objects.order_by(owner_id, "pk").values_list("name", owner_id))
        index[model._meta.model_name] = rows
    return index


__all__ = [
    "alias_add",
    "alias_delete",
    "aliases_index",
    "aliases_sync",
    "participation_delete",
    "participation_record",
]
