"""Runs inside Django (``python bench/explain.py OUT.json PATH...`` with
DATABASE_URL set): sends each API path through Django's test client, records
every SQL query it runs, and runs ``EXPLAIN (ANALYZE, BUFFERS)`` on each
SELECT. So the plans are those of the SQL the API really sends today, not a
hand-copied approximation. Also times each path in-process (no HTTP) and,
with ``--profile``, writes a pyinstrument profile per path."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_ROOT_URLCONF", "bench.urls")


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    profile_dir = None
    if "--profile" in argv:
        i = argv.index("--profile")
        profile_dir = Path(argv[i + 1])
        del argv[i : i + 2]
    out, pairs = Path(argv[0]), argv[1:]
    client = Client(HTTP_HOST="127.0.0.1")
    report = {}
    for pair in pairs:
        name, path = pair.split("=", 1)
        client.get(path, HTTP_ACCEPT="application/json")  # warm caches and connections
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path, HTTP_ACCEPT="application/json")
        queries = []
        for q in ctx.captured_queries:
            sql = q["sql"]
            entry = {"sql": sql, "time_ms": round(float(q["time"]) * 1000, 2)}
            if sql.lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    entry["plan"] = [row[0] for row in cursor.fetchall()]
            queries.append(entry)
        # In-process timing: the Django + DRF + database cost without HTTP or gunicorn,
        # split into phases by timing a few framework methods.
        times = []
        with _Phases() as phases, CaptureQueriesContext(connection) as sql:
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                client.get(path, HTTP_ACCEPT="application/json")
                times.append((time.perf_counter() - t0) * 1000)
        breakdown = {name: round(ms / REPEAT, 2) for name, ms in phases.totals.items()}
        breakdown["sql_total"] = round(sum(float(q["time"]) for q in sql.captured_queries) * 1000 / REPEAT, 2)
        breakdown["request_total"] = round(sum(times) / REPEAT, 2)
        report[name] = {
            "path": path,
            "status": response.status_code,
            "query_count": len(queries),
            "in_process_median_ms": round(statistics.median(times), 2),
            "in_process_phases_mean_ms": breakdown,
            "queries": queries,
        }
        if profile_dir is not None:
            report[name]["profile"] = _profile(client, name, path, profile_dir)
    out.write_text(json.dumps(report, indent=1, default=str))
    return 0


REPEAT = 20


class _Phases:
    """Times the outermost call of a few framework methods per request:
    filtering, the pagination COUNT, the page fetch (with prefetches),
    serialization and JSON rendering. Whatever is left of the request is
    middleware, authentication, throttling and the view's own code."""

    def __init__(self):
        from django.db.models.query import QuerySet
        from rest_framework.generics import GenericAPIView
        from rest_framework.renderers import JSONRenderer
        from rest_framework.serializers import ListSerializer, Serializer

        self.targets = [
            ("filter", GenericAPIView, "filter_queryset"),
            ("paginate (count + page + prefetch)", GenericAPIView, "paginate_queryset"),
            ("count", QuerySet, "count"),
            ("serialize", ListSerializer, "to_representation"),
            ("serialize", Serializer, "to_representation"),
            ("render_json", JSONRenderer, "render"),
        ]
        self.totals: dict[str, float] = {}
        self.saved = []
        self.depth: dict[str, int] = {}

    def __enter__(self):
        for name, cls, attr in self.targets:
            original = cls.__dict__[attr]
            self.saved.append((cls, attr, original))
            setattr(cls, attr, self._wrap(name, original))
        return self

    def __exit__(self, *exc):
        for cls, attr, original in reversed(self.saved):
            setattr(cls, attr, original)

    def _wrap(self, name, fn):
        phases = self

        def wrapper(*args, **kwargs):
            depth = phases.depth.get(name, 0)
            phases.depth[name] = depth + 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases.depth[name] = depth
                if depth == 0:
                    phases.totals[name] = phases.totals.get(name, 0.0) + (time.perf_counter() - t0) * 1000

        return wrapper


REQUESTS = 50


def _profile(client, name: str, path: str, directory: Path) -> str | None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(REQUESTS):
        client.get(path, HTTP_ACCEPT="application/json")
    profiler.stop()
    target = directory / f"profile-{name}.txt"
    from pyinstrument.renderers import ConsoleRenderer

    def top(mode: str, lines: int = 60) -> str:
        text = profiler.output(ConsoleRenderer(flat=True, flat_time=mode, time="percent_of_total"))
        return "\n".join(text.splitlines()[:lines])

    target.write_text(
        f"pyinstrument, {REQUESTS} requests of {path} in-process (django.test.Client, no HTTP)\n\n"
        f"Self time by function\n{top('self')}\n\nTotal (inclusive) time by function\n{top('total', 90)}\n"
    )
    return str(target.relative_to(ROOT)) if target.is_relative_to(ROOT) else str(target)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
