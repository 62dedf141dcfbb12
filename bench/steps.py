"""What each read-path change buys, in-process (``python bench/steps.py``
with DATABASE_URL, and REDIS_URL for the production cache, set to a bench
database). For each change, requests run through Django's test client with
the change on and off, in alternating blocks, and the median wall and CPU
time per request of each is printed. CPU time is this process's (Django,
DRF, the drivers), not the database's; wall time includes the database.

Changes (each measured against the current code with only it switched off):

* ``stored_rows``: the list from stored rows vs the serializer path;
* ``count_cache``: counts kept per change sequence vs counted per request;
* ``throttle_script``: one Redis script call per throttle vs the portable
  ``add``/``incr`` path (needs REDIS_URL);
* ``stored_detail``: the detail from its stored text vs the serializer;
* ``early_304``: a poll answered at the top of the view, before DRF, vs
  after DRF's authentication, throttling and negotiation.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_ROOT_URLCONF", "bench.urls")

LIST = "/api/v1/proposals/?page_size=50"


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.test import Client

    from proposals.models import Proposal
    from proposals.representations import stored
    from tracker import throttling

    blocks = int(argv[0]) if argv else 5
    per_block = int(argv[1]) if len(argv) > 1 else 100
    client = Client(HTTP_HOST="127.0.0.1")
    slug = Proposal.objects.order_by("pk").values_list("slug", flat=True).first()
    detail = f"/api/v1/proposals/{slug}/"
    client.get(detail, HTTP_ACCEPT="application/json")  # stores the detail
    etag = client.get(LIST, HTTP_ACCEPT="application/json")["ETag"]

    real_applies, real_redis, real_cached = stored.stored_path_applies, throttling._redis_client, stored.cached_count
    real_early = stored.early_list_not_modified

    def uncached(queryset, compute, cap):
        return compute()

    toggles = {
        "stored_rows": (
            LIST,
            {},
            lambda on: setattr(stored, "stored_path_applies", real_applies if on else (lambda request=None: False)),
        ),
        "count_cache": (LIST, {}, lambda on: setattr(stored, "cached_count", real_cached if on else uncached)),
        "throttle_script": (
            LIST,
            {},
            lambda on: setattr(throttling, "_redis_client", real_redis if on else (lambda: None)),
        ),
        "stored_detail": (
            detail,
            {},
            lambda on: setattr(stored, "stored_path_applies", real_applies if on else (lambda request=None: False)),
        ),
        "early_304": (
            LIST,
            {"HTTP_IF_NONE_MATCH": etag},
            lambda on: setattr(stored, "early_list_not_modified", real_early if on else (lambda request: None)),
        ),
    }
    if real_redis() is None:
        del toggles["throttle_script"]
    print(f"{'change':16s} {'on ms (wall/CPU)':>18s} {'off ms (wall/CPU)':>18s} {'saved wall':>10s}")
    for name, (path, headers, switch) in toggles.items():
        walls = {True: [], False: []}
        cpus = {True: [], False: []}
        try:
            for b in range(blocks * 2):
                on = b % 2 == 0
                switch(on)
                for _ in range(10):
                    client.get(path, HTTP_ACCEPT="application/json", **headers)
                w0, c0 = time.perf_counter(), time.process_time()
                for _ in range(per_block):
                    client.get(path, HTTP_ACCEPT="application/json", **headers)
                walls[on].append((time.perf_counter() - w0) * 1000 / per_block)
                cpus[on].append((time.process_time() - c0) * 1000 / per_block)
        finally:
            switch(True)
        on_w, off_w = statistics.median(walls[True]), statistics.median(walls[False])
        on_c, off_c = statistics.median(cpus[True]), statistics.median(cpus[False])
        print(f"{name:16s} {on_w:8.2f} / {on_c:6.2f}   {off_w:8.2f} / {off_c:6.2f}   {off_w - on_w:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
