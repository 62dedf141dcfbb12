"""What the change feed and versions cost where it hurts: one venue rename
fanning out to N proposals (every one gets a history row, numbered at the
end of the batch), then a page of the feed and one rebuilt version.

    DATABASE_URL=postgres://…/scratch python bench/change_feed.py 3000

Needs an empty scratch database (it migrates it and adds N proposals).
Prints seconds per step; ``seal`` is the share of the rename spent
numbering the rows and recording links.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from tqdm import tqdm  # noqa: E402

from proposals import services  # noqa: E402
from proposals.changes import models as change_log  # noqa: E402
from proposals.models import Proposal, Venue, VenueKind  # noqa: E402


def main(n: int) -> None:
    call_command("migrate", verbosity=0)
    venue = services.record_save(instance=Venue(), slug=f"bench-venue-{time.time_ns()}", name="Bench", kind="summit")
    from tests.factories import create_proposals_in_bulk

    for _ in tqdm(range(n // 500 or 1), desc="proposals"):
        create_proposals_in_bulk(min(500, n), venue=venue)
    spent = {"seal": 0.0}
    original = change_log.seal

    def timed_seal(*args, **kwargs):
        start = time.perf_counter()
        original(*args, **kwargs)
        spent["seal"] += time.perf_counter() - start

    change_log.seal = timed_seal
    start = time.perf_counter()
    services.record_save(instance=Venue.objects.get(pk=venue.pk), name=f"Bench {kind_suffix()}")
    rename = time.perf_counter() - start
    change_log.seal = original
    client = Client()
    client.get("/api/v1/changes/?limit=1", HTTP_HOST="localhost")  # warm up: URLconf, DRF, connections
    start = time.perf_counter()
    assert client.get("/api/v1/changes/?limit=1000", HTTP_HOST="localhost").status_code == 200
    page = time.perf_counter() - start
    proposal = Proposal.objects.filter(venue=venue).first()
    start = time.perf_counter()
    url = f"/api/v1/proposals/{proposal.slug}/versions/{proposal.version}/"
    assert client.get(url, HTTP_HOST="localhost").status_code == 200
    version = time.perf_counter() - start
    print(
        f"rename fanning out to {Proposal.objects.filter(venue=venue).count()} proposals: {rename:.2f} s "
        f"(seal {spent['seal']:.3f} s); feed page of 1000: {page:.3f} s; one version: {version:.3f} s"
    )


def kind_suffix() -> str:
    return VenueKind.SUMMIT[:3] + str(time.time_ns())[-4:]


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
