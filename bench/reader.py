"""The source reader at size (issue #13.7): ``python bench/reader.py``
(DATABASE_URL as for the app; the database must be migrated). Builds a
100 KB source with 200 quotes (some overlapping, with emoji and CJK text)
inside a transaction that is rolled back, then times the reader page
through Django's test client (in-process, no HTTP) and prints the median
and the worst of 20 renders, in milliseconds, plus its query count."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

SIZE = 100_000
QUOTES = 200
RUNS = 20


class _Rollback(Exception):
    pass


def main() -> int:
    import django

    django.setup()
    from django.conf import settings

    # Static URLs without collectstatic's manifest (the page links them; the bench does not fetch them).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from tqdm import tqdm

    from proposals import services
    from proposals.models import Source

    sentence = "The parties agreed 😀 to a joint mechanism on border security 中文引文 and extradition. "
    text = (sentence * (SIZE // len(sentence) + 1))[:SIZE]
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_superuser("bench-reader", "b@example.org", "x")
            source = services.record_save(instance=Source(), slug="bench-reader-source", title="Bench", text=text)
            step = SIZE // QUOTES
            with services.write_batch(user):
                proposals = [
                    services.proposal_create(slug=f"bench-reader-{i}", title=f"Bench proposal {i}") for i in range(20)
                ]
                for i in tqdm(range(QUOTES), desc="quotes", unit="quote"):
                    start = i * step
                    end = start + (step * 2 if i % 3 == 0 else step // 2)  # every third overlaps the next
                    services.evidence_attach(
                        proposal=proposals[i % 20], source=source, quote=text[start:end], start=start, end=end
                    )
            client = Client(HTTP_HOST="localhost")
            client.force_login(user)
            url = reverse("admin:proposals_source_reader", args=[source.pk])
            client.get(url)  # warm the template cache
            timings = []
            for _ in tqdm(range(RUNS), desc="renders", unit="render"):
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (response.status_code, response.get("Location"))
            size = len(response.content)
            raise _Rollback
    except _Rollback:
        pass
    print(
        f"reader, {SIZE // 1000} KB source, {QUOTES} quotes: median {statistics.median(timings):.0f} ms, "
        f"worst {max(timings):.0f} ms over {RUNS} renders; {len(queries.captured_queries)} queries; "
        f"page {size // 1024} KiB ({connection.vendor})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
