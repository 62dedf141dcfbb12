"""Runs inside Django (``python bench/writes.py OUT.json`` with DATABASE_URL
set to a bench database): what the write path's fan-out costs. Renames the
actor that the most proposals show, through ``services.record_save``, inside
a transaction that is rolled back, twice: with the stored list rows
refreshed in the flush (as deployed) and with that step skipped (what the
write cost before it). Writes ``{name: {...}}`` to OUT.json."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")


class _Rollback(Exception):
    pass


def _rename(actor_pk: int, name: str) -> float:
    from django.db import transaction

    from proposals import services
    from proposals.models import Actor

    t0 = time.perf_counter()
    try:
        with transaction.atomic():
            services.record_save(instance=Actor.objects.get(pk=actor_pk), name=name)
            elapsed = time.perf_counter() - t0
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.db.models import Count

    from proposals.models import Actor, Proposal
    from proposals.representations import stored

    out = Path(argv[0])
    linked = Actor.objects.annotate(n=Count("proponent_links__proposal", distinct=True))
    actor = linked.order_by("-n").values("pk", "n").first()
    shown = Proposal.objects.filter(proponents__actor_id=actor["pk"]).distinct().count()
    report = {}
    real = stored.refresh_list_rows
    for label, refresh in (("rename_with_stored_rows", real), ("rename_without_stored_rows", lambda pks: 0)):
        stored.refresh_list_rows = refresh
        try:
            times = [_rename(actor["pk"], f"Renamed for the benchmark {i}") for i in range(2)]
        finally:
            stored.refresh_list_rows = real
        report[label] = {"proposals_fanned_out": shown, "seconds": [round(t, 2) for t in times]}
        print(f"  {label}: {shown} proposals, {', '.join(f'{t:.2f}' for t in times)} s")
    out.write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
