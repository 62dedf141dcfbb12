"""Suggestions from a new document: run the engine on a source, store what
it finds, and turn an accepted suggestion into records through the usual
services (``proposals.services``, ``proposals.tracking.services``)."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from .. import services
from ..models import (
    Actor,
    ActorAlias,
    Evidence,
    Proponent,
    ProponentRole,
    Proposal,
    ProposalAlias,
    Source,
    Status,
    Suggestion,
    SuggestionKind,
    SuggestionState,
    locate_quote,
)
from ..tracking import services as tracking
from .engine import Engine, Found, Knowledge, KnownActor, KnownProposal


class SuggestionConflict(Exception):
    """The suggestion was already decided: accepting or rejecting it again
    is refused (the API answers 409)."""


#: Fields ``suggestion_accept`` takes as corrections, with what each is.
CORRECTABLE = {
    "proposal": "Proposal: the existing proposal it concerns",
    "status": "Status code of the status event (or a new proposal's opening status)",
    "action": "PartyAction code of the participation",
    "occurred_on": "date",
    "precision": "DatePrecision code",
    "party": "Actor: the party (participation)",
    "proponent": "Actor: who put it forward (new proposal, mention)",
    "title": "a new proposal's title",
    "slug": "a new proposal's slug (made from the title when left out)",
    "note": "note added to the records created",
}


def knowledge() -> Knowledge:
    """What the engine matches against: every proposal's title, aliases,
    evidence quotes and their spans; every actor's name and aliases. Five
    queries, whatever the number of records."""
    names = defaultdict(list)
    slugs = {}
    for pk, slug, title in Proposal.objects.order_by("pk").values_list("pk", "slug", "title"):
        slugs[pk] = slug
        names[pk].append(title)
    for pk, name in ProposalAlias.objects.order_by("pk").values_list("proposal_id", "name"):
        names[pk].append(name)
    quotes = defaultdict(list)
    spans = defaultdict(set)
    for pk, source_id, quote, start, end in Evidence.objects.order_by("pk").values_list(
        "proposal_id", "source_id", "quote", "start", "end"
    ):
        quotes[pk].append(quote)
        spans[pk].add((source_id, start, end))
    proposals = [
        KnownProposal(pk=pk, slug=slug, names=tuple(names[pk]), quotes=tuple(quotes[pk]), spans=frozenset(spans[pk]))
        for pk, slug in slugs.items()
    ]
    actor_names = defaultdict(list)
    rows = list(Actor.objects.order_by("pk").values_list("pk", "slug", "name", "kind", "country_code", "named"))
    for pk, name in ActorAlias.objects.order_by("pk").values_list("actor_id", "name"):
        actor_names[pk].append(name)
    actors = [
        # An unnamed actor's "name" is a description ("one Chinese scholar"):
        # it is matched as written too, since that is how texts refer to it.
        KnownActor(pk=pk, slug=slug, names=(name, *actor_names[pk]), kind=kind, country_code=code)
        for pk, slug, name, kind, code, _named in rows
    ]
    return Knowledge(proposals=proposals, actors=actors)


def fingerprint(found: Found) -> str:
    """What makes two suggestions the same: a span gets at most one
    new-proposal-or-mention suggestion (a later accept turns a new proposal
    into a known one, and must not bring the sentence back as a mention);
    events are told apart by kind, action or status, and party as written."""
    family = "proposal" if found.kind in (SuggestionKind.NEW_PROPOSAL, SuggestionKind.MENTION) else found.kind
    key = "|".join(
        [family, str(found.start), str(found.end), found.action or found.status, found.party_name.casefold()]
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


#: Longest source text the suggestion step reads, in code points. The step
#: runs inside the request (``POST /sources/{slug}/suggest/``) and reads
#: about 100 KB a second on the benchmark's hardest texts
#: (``bench/suggest_speed.py``, docs/SUGGESTIONS.md), so a longer text would
#: hold the request past a proxy's timeout: split it into several sources.
MAX_SUGGEST_CHARS = 400_000


def suggest_for_source(source: Source, user: AbstractBaseUser | None = None, *, progress=None) -> list[Suggestion]:
    """Run the engine on ``source`` and store what is new; returns the
    suggestions created (``[]`` on a re-run: a suggestion whose fingerprint
    the source already has, pending, accepted or rejected, is not added
    again). Every quote is verified against the text with ``locate_quote``,
    as evidence is (offsets in code points). ``progress``, when given, is
    called with ``(sentences done, sentences in all)`` as the engine reads.

    Raises ``ValidationError`` (``text``, code ``too_large``) for a text
    longer than ``MAX_SUGGEST_CHARS`` code points; nothing is stored."""
    if len(source.text) > MAX_SUGGEST_CHARS:
        raise ValidationError(
            {
                "text": ValidationError(
                    f"The source's text is {len(source.text)} code points long; the suggestion step reads at most "
                    f"{MAX_SUGGEST_CHARS}. Split it into several sources.",
                    code="too_large",
                )
            }
        )
    found = Engine(knowledge()).run(
        source.text,
        published_on=source.published_on,
        published_precision=source.published_precision,
        source_id=source.pk,
        progress=progress,
    )
    with transaction.atomic():
        # Lock the source row: two runs at once would both see a
        # fingerprint as new and the second would hit the unique constraint.
        Source.objects.select_for_update().filter(pk=source.pk).values_list("pk").first()
        known = set(Suggestion.objects.filter(source=source).values_list("fingerprint", flat=True))
        new = []
        for item in found:
            mark = fingerprint(item)
            if mark in known:
                continue
            known.add(mark)
            locate_quote(source.text, item.quote, item.start, item.end)  # raises if the engine erred
            suggestion = Suggestion(
                source=source,
                kind=item.kind,
                quote=item.quote,
                start=item.start,
                end=item.end,
                proposal_id=item.proposal,
                alternatives=item.alternatives,
                title=item.title[:300],
                status=item.status,
                action=item.action,
                occurred_on=item.occurred_on,
                precision=item.precision,
                date_note=item.date_note,
                party_id=item.party,
                party_name=item.party_name[:300],
                proponent_id=item.proponent,
                proponent_name=item.proponent_name[:300],
                confidence=item.confidence,
                explanation=item.explanation,
                fingerprint=mark,
            )
            new.append(suggestion)
        created = bulk_create_with_history(new, Suggestion, default_user=user, default_change_reason="suggested")
    # bulk_create sets primary keys on PostgreSQL and on SQLite 3.35+.
    return list(Suggestion.objects.filter(pk__in=[s.pk for s in created]).with_related().order_by("start", "id"))


def _locked_pending(suggestion: Suggestion) -> Suggestion:
    locked = Suggestion.objects.select_for_update().select_related("source").get(pk=suggestion.pk)
    if locked.state != SuggestionState.PENDING:
        raise SuggestionConflict(f"This suggestion was already {locked.state}; a decided suggestion cannot change.")
    return locked


def _unique_slug(title: str) -> str:
    base = (slugify(title)[:100].strip("-") or "proposal").lower()
    slug, n = base, 2
    while Proposal.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _evidence(proposal: Proposal, suggestion: Suggestion, note: str, user) -> Evidence:
    """The suggestion's quote as the proposal's evidence; reused when the
    same span already backs it (several suggestions from one sentence)."""
    existing = Evidence.objects.filter(
        proposal=proposal, source=suggestion.source, start=suggestion.start, end=suggestion.end
    ).first()
    if existing is not None:
        return existing
    return services.evidence_attach(
        proposal=proposal,
        source=suggestion.source,
        quote=suggestion.quote,
        start=suggestion.start,
        end=suggestion.end,
        note=note,
        user=user,
    )


def suggestion_accept(*, suggestion: Suggestion, user: AbstractBaseUser | None = None, **corrections) -> Suggestion:
    """Turn a pending suggestion into records, after applying
    ``corrections`` (names in ``CORRECTABLE``; ``TypeError`` for others):

    - ``new_proposal``: ``proposal_create`` (title, slug, proposed_on =
      occurred_on, the proponent as primary), then the quote as evidence;
    - ``mention``: the quote as evidence of ``proposal`` (a proponent not
      yet linked is added with role ``called_for``);
    - ``status_event``: evidence, then ``status_event_record``;
    - ``participation``: evidence, then ``participation_record``.

    All in one write batch: a ``ValidationError`` (a missing date, an
    unknown party, a future date...) changes nothing. Raises
    ``SuggestionConflict`` when the suggestion is not pending. Returns the
    suggestion, accepted, linked to what was created."""
    refused = sorted(set(corrections) - set(CORRECTABLE))
    if refused:
        raise TypeError(f"suggestion_accept cannot correct {', '.join(refused)}.")
    note_extra = corrections.pop("note", "")
    title = corrections.pop("title", None)
    slug = corrections.pop("slug", None)
    with services.write_batch(user):
        suggestion = _locked_pending(suggestion)
        suggested_date = (suggestion.occurred_on, suggestion.precision)
        for name, value in corrections.items():
            setattr(suggestion, name, value)
        if (suggestion.occurred_on, suggestion.precision) != suggested_date:
            # The engine's note said how it found its date ("taken from an
            # earlier sentence"...); it is false of a date staff gave.
            was = f"{suggested_date[0]} ({suggested_date[1]})" if suggested_date[0] else "no date"
            suggestion.date_note = f"Date given on accept; the text's suggestion was {was}."
        if title is not None:
            suggestion.title = title
        if "party" in corrections and corrections["party"] is not None:
            suggestion.party_name = corrections["party"].name
        if "proponent" in corrections and corrections["proponent"] is not None:
            suggestion.proponent_name = corrections["proponent"].name
        note = " ".join(
            part
            for part in (
                f"Accepted from suggestion #{suggestion.pk} ({suggestion.explanation}).",
                suggestion.date_note,
                note_extra,
            )
            if part
        )
        kind = suggestion.kind
        if kind != SuggestionKind.NEW_PROPOSAL and suggestion.proposal_id is None:
            raise ValidationError({"proposal": "Name the proposal this concerns (its slug)."})
        if kind == SuggestionKind.NEW_PROPOSAL:
            if not suggestion.title.strip():
                raise ValidationError({"title": "A new proposal needs a title."})
            proponents = None
            if suggestion.proponent_id:
                proponents = [{"actor": suggestion.proponent, "role": ProponentRole.PROPOSED, "is_primary": True}]
            proposal = services.proposal_create(
                user=user,
                initial_status=suggestion.status or Status.PROPOSED,
                proponents=proponents,
                slug=slug or _unique_slug(suggestion.title),
                title=suggestion.title.strip(),
                proposed_on=suggestion.occurred_on,
                proposed_precision=suggestion.precision or "day",
                proposed_note=suggestion.date_note,
            )
            suggestion.proposal = proposal
            suggestion.evidence = _evidence(proposal, suggestion, note, user)
        elif kind == SuggestionKind.MENTION:
            proposal = suggestion.proposal
            suggestion.evidence = _evidence(proposal, suggestion, note, user)
            if (
                suggestion.proponent_id
                and not Proponent.objects.filter(proposal=proposal, actor_id=suggestion.proponent_id).exists()
            ):
                links = [
                    {"actor": link.actor, "role": link.role, "is_primary": link.is_primary}
                    for link in proposal.proponents.select_related("actor")
                ]
                links.append({"actor": suggestion.proponent, "role": ProponentRole.CALLED_FOR, "is_primary": False})
                services.proposal_update(proposal=proposal, user=user, proponents=links)
        elif kind == SuggestionKind.STATUS_EVENT:
            if not suggestion.status:
                raise ValidationError({"status": "Give the status this event sets."})
            if suggestion.occurred_on is None:
                raise ValidationError({"occurred_on": "The text gives no date; give the date the event occurred."})
            evidence = _evidence(suggestion.proposal, suggestion, note, user)
            suggestion.evidence = evidence
            suggestion.status_event = services.status_event_record(
                proposal=suggestion.proposal,
                status=suggestion.status,
                occurred_on=suggestion.occurred_on,
                precision=suggestion.precision or "day",
                note=note,
                evidence=evidence,
                user=user,
            )
        else:
            if suggestion.party_id is None and suggestion.party_name:
                # The party was only a name when suggested; it may be an
                # actor by now.
                suggestion.party = _actor_named(suggestion.party_name)
            if suggestion.party_id is None:
                raise ValidationError(
                    {
                        "party": f"“{suggestion.party_name}” is not a recorded actor; create it, "
                        "then accept with party set to its slug."
                    }
                )
            if not suggestion.action:
                raise ValidationError({"action": "Give the party's action."})
            evidence = _evidence(suggestion.proposal, suggestion, note, user)
            suggestion.evidence = evidence
            suggestion.participation = tracking.participation_record(
                proposal=suggestion.proposal,
                party=suggestion.party,
                action=suggestion.action,
                occurred_on=suggestion.occurred_on,
                precision=suggestion.precision or "day",
                evidence=evidence,
                note=note,
                user=user,
            )
        suggestion.state = SuggestionState.ACCEPTED
        suggestion.decided_at = timezone.now()
        suggestion.decided_by = user if getattr(user, "is_authenticated", False) else None
        suggestion._change_reason = "accepted"
        suggestion.full_clean(exclude=["fingerprint"])
        suggestion.save()
    return suggestion


def _actor_named(name: str) -> Actor | None:
    """The one actor whose name or an alias is ``name`` (case-insensitive),
    or None when there is none or more than one."""
    ids = set(Actor.objects.filter(name__iexact=name).values_list("pk", flat=True))
    ids |= set(ActorAlias.objects.filter(name__iexact=name).values_list("actor_id", flat=True))
    return Actor.objects.get(pk=ids.pop()) if len(ids) == 1 else None


def suggestion_reject(*, suggestion: Suggestion, user: AbstractBaseUser | None = None) -> Suggestion:
    """Reject a pending suggestion; it stays on record (so a re-run does
    not suggest it again). Raises ``SuggestionConflict`` when it is not
    pending."""
    with transaction.atomic():
        suggestion = _locked_pending(suggestion)
        suggestion.state = SuggestionState.REJECTED
        suggestion.decided_at = timezone.now()
        suggestion.decided_by = user if getattr(user, "is_authenticated", False) else None
        suggestion._change_reason = "rejected"
        suggestion.save()
    return suggestion


def suggestion_marks(source: Source) -> list[dict]:
    """Highlights for the source reader (a ``proposals.reader`` mark
    provider): ``[{start, end, kind, label, url, id, accept_url,
    reject_url}]`` for each pending suggestion on ``source``, by offset
    (code points). ``kind`` is ``"suggestion"`` (styled apart from quotes),
    ``id`` the anchor ``s<pk>``, ``url`` the suggestion's admin page and the
    two others its accept and reject pages. One query."""
    from django.urls import reverse

    marks = []
    for s in (
        source.suggestions.filter(state=SuggestionState.PENDING).select_related("proposal").order_by("start", "id")
    ):
        what = s.get_kind_display()
        detail = s.proposal.slug if s.proposal_id else s.title
        extra = " ".join(x for x in (s.action or s.status, s.party_name, str(s.occurred_on or "")) if x)
        label = f"Suggested {what.lower()}: {detail}" + (f" ({extra})" if extra else "")
        marks.append(
            {
                "start": s.start,
                "end": s.end,
                "kind": "suggestion",
                "label": label,
                "url": reverse("admin:proposals_suggestion_change", args=[s.pk]),
                "id": f"s{s.pk}",
                "accept_url": reverse("admin:proposals_suggestion_accept", args=[s.pk]) + "?back=reader",
                "reject_url": reverse("admin:proposals_suggestion_reject", args=[s.pk]) + "?back=reader",
            }
        )
    return marks
