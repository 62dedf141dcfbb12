"""The participation and alias columns of the proposal list's CSV export.

``with_tracking_columns`` loads what the two cells need in a fixed number
of queries: on PostgreSQL as JSON arrays computed in the row's own query
(as ``ProposalQuerySet.with_list_related`` does for proponents and
topics), elsewhere by two prefetches per chunk of rows.
"""

from django.db import connections, models
from django.db.models import Prefetch
from django.db.models.expressions import RawSQL

from .models import Participation, ProposalAlias

# Arrays, not objects: jsonb reorders object keys, arrays keep their order.
PARTICIPATION_ROWS_SQL = """
    SELECT jsonb_agg(jsonb_build_array(a.name, pa.action, pa.occurred_on)
                     ORDER BY a.name, a.id, pa.occurred_on NULLS LAST, pa.id)
      FROM proposals_participation pa JOIN proposals_actor a ON a.id = pa.party_id
     WHERE pa.proposal_id = proposals_proposal.id
"""
ALIAS_ROWS_SQL = """
    SELECT jsonb_agg(jsonb_build_array(al.name, al.language) ORDER BY al.name, al.id)
      FROM proposals_proposalalias al
     WHERE al.proposal_id = proposals_proposal.id
"""


def with_tracking_columns(queryset):
    """``queryset`` (proposals) with what ``participation_cell`` and
    ``aliases_cell`` read."""
    if connections[queryset.db].vendor == "postgresql":
        return queryset.annotate(
            participation_rows=RawSQL(PARTICIPATION_ROWS_SQL, (), output_field=models.JSONField()),
            alias_rows=RawSQL(ALIAS_ROWS_SQL, (), output_field=models.JSONField()),
        )
    return queryset.prefetch_related(
        Prefetch(
            "participation",
            queryset=Participation.objects.select_related("party")
            .only("id", "proposal_id", "party_id", "action", "occurred_on", "party__id", "party__name")
            .order_by("party__name", "party_id", "occurred_on", "id"),
        ),
        Prefetch("aliases", queryset=ProposalAlias.objects.only("id", "proposal_id", "name", "language")),
    )


def _participation_rows(proposal) -> list[tuple]:
    rows = getattr(proposal, "participation_rows", None)
    if rows is not None or hasattr(proposal, "participation_rows"):
        return [tuple(row) for row in rows or ()]
    return [
        (row.party.name, row.action, row.occurred_on.isoformat() if row.occurred_on else None)
        for row in sorted(
            proposal.participation.all(),
            key=lambda r: (r.party.name, r.party_id, r.occurred_on is None, r.occurred_on or "", r.pk),
        )
    ]


def participation_cell(proposal) -> str:
    """``"China: signed 2017-06-09, ratified 2017-11-01; Russia: signed"``:
    each party by name, its actions with their dates (``YYYY-MM-DD``, the
    first day of the period at month or year precision)."""
    parts: dict[str, list[str]] = {}
    for name, action, occurred_on in _participation_rows(proposal):
        parts.setdefault(name, []).append(f"{action} {occurred_on}" if occurred_on else action)
    return "; ".join(f"{name}: {', '.join(actions)}" for name, actions in parts.items())


def aliases_cell(proposal) -> str:
    """``"SCO Convention on Countering Extremism (en); 反极端主义公约 (zh)"``."""
    rows = getattr(proposal, "alias_rows", None)
    if rows is None and not hasattr(proposal, "alias_rows"):
        rows = sorted(((a.name, a.language) for a in proposal.aliases.all()), key=lambda r: r[0])
    return "; ".join(f"{name} ({language})" if language else name for name, language in rows or ())
