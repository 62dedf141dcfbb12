"""Bulk work on proposals for a corpus update (issue #13.6), used by the
admin's actions: one status event (with the same optional quote) on many
proposals, or one topic on many. Each is one write batch: all or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from .. import services
from ..models import DatePrecision, Evidence, Proposal, Source, StatusEvent, Topic, locate_quote


def _named(proposal: Proposal, exc: ValidationError) -> ValidationError:
    return ValidationError(f"{proposal.title} ({proposal.slug}): {' '.join(exc.messages)}")


def proposals_add_status_event(
    *,
    proposals: Iterable[Proposal],
    status: str,
    occurred_on: dt.date,
    precision: str = DatePrecision.DAY,
    note: str = "",
    source: Source | None = None,
    quote: str = "",
    start: int | None = None,
    user: AbstractBaseUser | None = None,
) -> tuple[int, list[Proposal]]:
    """Record the same status event on every proposal, each backed by the
    same quote when ``source`` and ``quote`` are given (offsets in code
    points; ``start`` picks among several occurrences). A proposal that
    already holds that quote at those offsets reuses it. A proposal that
    already has this very event (same status, date and precision: the rule
    of ``StatusEvent.check_not_duplicate``) is skipped, so a re-run action
    adds nothing. Returns ``(events recorded, proposals skipped)``. Raises
    ``ValidationError`` naming the first proposal that refuses (e.g. an
    event dated before it was proposed); then nothing is written."""
    proposals = list(proposals)
    having = set(
        StatusEvent.objects.filter(
            proposal__in=proposals, status=status, occurred_on=occurred_on, precision=precision
        ).values_list("proposal_id", flat=True)
    )
    skipped = [proposal for proposal in proposals if proposal.pk in having]
    proposals = [proposal for proposal in proposals if proposal.pk not in having]
    span = None
    if quote or source is not None:
        if not (quote and source is not None):
            raise ValidationError("Give both the source and the quote, or neither.")
        span = locate_quote(source.text, quote, start)
    existing = {}
    if span is not None:
        existing = {
            ev.proposal_id: ev
            for ev in Evidence.objects.filter(proposal__in=proposals, source=source, start=span[0], end=span[1]).defer(
                "quote"
            )
        }
    with services.write_batch(user):
        for proposal in proposals:
            try:
                evidence = existing.get(proposal.pk)
                if span is not None and evidence is None:
                    evidence = services.evidence_attach(
                        proposal=proposal, source=source, quote=quote, start=span[0], end=span[1], user=user
                    )
                services.status_event_record(
                    proposal=proposal,
                    status=status,
                    occurred_on=occurred_on,
                    precision=precision,
                    note=note,
                    evidence=evidence,
                    user=user,
                )
            except ValidationError as exc:
                raise _named(proposal, exc) from exc
    return len(proposals), skipped


def proposals_add_topic(*, proposals: Iterable[Proposal], topic: Topic, user: AbstractBaseUser | None = None) -> int:
    """Add ``topic`` to every proposal that lacks it (one write batch).
    Returns how many proposals gained it."""
    proposals = list(proposals)
    having = set(topic.proposals.filter(pk__in=[p.pk for p in proposals]).values_list("pk", flat=True))
    changed = 0
    with services.write_batch(user):
        for proposal in proposals:
            if proposal.pk in having:
                continue
            try:
                services.proposal_update(proposal=proposal, topics=[*proposal.topics.all(), topic], user=user)
            except ValidationError as exc:
                raise _named(proposal, exc) from exc
            changed += 1
    return changed
