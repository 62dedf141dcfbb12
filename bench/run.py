"""Throughput benchmark of the proposals API against PostgreSQL (``make bench``).

1. Ensures a scratch PostgreSQL database (default ``tracker_bench``) is
   migrated and holds N synthetic proposals (``generate_synthetic``); reuses
   it when it already does, so reruns start in seconds.
2. Starts gunicorn on 127.0.0.1 (debug off, throttling out of the way, the
   ``bench.urls`` URLconf that adds a baseline view).
3. Drives it from this process with ``bench/load.py`` (bounded in requests
   and time, loopback only) and prints requests/s, p50/p99 latency and errors
   per endpoint. The list, the ``.values()`` baseline, a plain-DRF peer
   (``bench/urls.py``), polling with the list's ETag (304), the detail and a
   one-row detail baseline are measured in rotating rounds in the same run;
   every ratio is printed as the median of its per-round values with the
   spread. ``--sizes 100k,1M`` repeats it all per size, each size in its own
   database; ``bench/writes.py`` times a rename's fan-out (rolled back).
4. Captures ``EXPLAIN (ANALYZE, BUFFERS)`` of the SQL each endpoint really
   runs (``bench/explain.py``) and writes everything to
   ``bench/results/<UTC timestamp>.json``.

See docs/PERFORMANCE.md for the method and the figures. Run with ``--help``
for the knobs; ``--quick`` is a short smoke run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402

PYTHON = sys.executable
API = "/api/v1/proposals/"

# ---------------------------------------------------------------------------
# The API's keyset cursor (`?cursor=`, empty to start). The benchmark follows
# `next` links down to --deep-fraction of all proposals and measures fetching
# that deep cursor page as "deep_cursor". "deep_page" is the deepest page
# number the capped count allows (page numbers reach the first 10,000 matches).
CURSOR_PARAM: str | None = "cursor"
# ---------------------------------------------------------------------------

TARGETS = {
    "list_vs_baseline_min": 0.8,
    "list_vs_drf_plain_min": 1.6,
    "detail_vs_baseline_min": 0.5,
    "detail_queries_max": 3,
    "poll_304_vs_baseline_min": 2.0,
    "search_p95_ms_max": 10.0,
    "search_p99_ms_max": 50.0,
    "deep_page_vs_page1_max": 2.0,
    "errors_max": 0,
}

#: Search words of different frequencies in the synthetic corpus (a topic
#: subject, rarer and commoner ones, an instrument, a filler word), asked in
#: turn by the search_words measurement; their match counts are printed.
SEARCH_WORDS = ("extradition", "piracy", "hawala", "biosecurity", "sanctions", "treaty", "cooperation", "summit")

#: Measured in alternating rounds, in a rotating order, so that each ratio
#: compares endpoints measured in the same minutes on a shared machine.
ROUND_ENDPOINTS = ("list", "baseline", "drf_plain", "poll_304", "detail", "detail_baseline")
#: Throughput ratios printed and recorded: name -> (numerator, denominator).
RATIOS = {
    "list_vs_baseline": ("list", "baseline"),
    "drf_plain_vs_baseline": ("drf_plain", "baseline"),
    "list_vs_drf_plain": ("list", "drf_plain"),
    "detail_vs_baseline": ("detail", "detail_baseline"),
    "poll_304_vs_baseline": ("poll_304", "baseline"),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--proposals", type=int, default=100_000, help="synthetic proposals in the database (100000)")
    p.add_argument(
        "--sizes",
        default="",
        help="run once per size, e.g. 100k,1M; each size uses its own database <--db>_<size> (100k -> _100k)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("BENCH_PORT", "0")),
        help="gunicorn's port (BENCH_PORT; 0, the default, takes a free one)",
    )
    p.add_argument("--seed", type=int, default=1, help="generate_synthetic seed (1)")
    p.add_argument("--db", default=os.environ.get("BENCH_DB", "tracker_bench"), help="scratch database name")
    p.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without the database name",
    )
    p.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS", "auto"),
        help="REDIS_URL for the server's cache (throttle counters, cached counts), as in production; "
        "BENCH_REDIS; 'auto' (the default): database 15 of a Redis answering on 127.0.0.1:6379, else the "
        "embedded file cache; empty: the embedded file cache",
    )
    p.add_argument("--recreate", action="store_true", help="drop and recreate the scratch database first")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (2, one per core)")
    p.add_argument("--concurrency", type=int, default=2, help="client threads, i.e. requests in flight (2)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint (10)")
    p.add_argument("--max-requests", type=int, default=20_000, help="request cap per endpoint (20000)")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds of the compared endpoints (5)")
    p.add_argument("--round-duration", type=float, default=3.0, help="seconds per endpoint per round (3)")
    p.add_argument("--no-writes", action="store_true", help="skip measuring write costs (rename fan-out)")
    p.add_argument("--warmup", type=int, default=30, help="discarded requests per endpoint first (30)")
    p.add_argument("--search-word", default="extradition", help="?q= word: about 2%% of synthetic proposals")
    p.add_argument("--broad-search-word", default="treaty", help="?q= word matching ~10%% (extra endpoint)")
    p.add_argument(
        "--search-words",
        default=",".join(SEARCH_WORDS),
        help="comma-separated ?q= words of different frequencies for the search_words measurement",
    )
    p.add_argument("--search-repeats", type=int, default=5, help="times each of --search-words is asked (5)")
    p.add_argument(
        "--only-search",
        action="store_true",
        help="measure only the search endpoints and search_words (and their EXPLAIN); no rounds, no writes",
    )
    p.add_argument("--status", default="under_discussion", help="status for the filtered list")
    p.add_argument("--topic", default="extradition", help="topic for the filtered list (slug after syn-<seed>-topic-)")
    p.add_argument("--deep-fraction", type=float, default=0.9, help="how deep the deep page is (0.9 = 90%%)")
    p.add_argument("--cursor-param", default=CURSOR_PARAM, help="the API's cursor query parameter, once it has one")
    p.add_argument("--no-explain", action="store_true", help="skip EXPLAIN (ANALYZE, BUFFERS)")
    p.add_argument("--profile", action="store_true", help="pyinstrument profiles per endpoint (pip install it)")
    p.add_argument("--output-dir", default=str(ROOT / "bench" / "results"))
    p.add_argument("--quick", action="store_true", help="smoke run: 2 s per endpoint, 1 round")
    args = p.parse_args(argv)
    if args.redis == "auto":
        args.redis = _local_redis()
        print(
            f"Cache: {'Redis ' + args.redis if args.redis else 'the embedded file cache (no Redis on 127.0.0.1:6379)'}"
        )
    if args.quick:
        args.duration, args.rounds, args.round_duration, args.warmup = 2.0, 1, 2.0, 5
    return args


def _local_redis() -> str:
    """``redis://127.0.0.1:6379/15`` when a Redis answers PING there (the
    production cache: throttle counters and counts shared by the workers),
    else ``""`` (the embedded file cache)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            if conn.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/15"
    except OSError:
        pass
    return ""


# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------


def _pg(url: str, dbname: str):
    import psycopg

    return psycopg.connect(f"{url}/{dbname}", autocommit=True, connect_timeout=5)


def ensure_database(args) -> dict:
    """Create, migrate and fill the scratch database as needed; return facts about it."""
    info = {"name": args.db, "generated": False}
    with _pg(args.pg, "postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db]).fetchone()
        if exists and args.recreate:
            _drop(conn, args.db)
            exists = None
        if not exists:
            print(f"Creating database {args.db}")
            conn.execute(f'CREATE DATABASE "{args.db}"')
    env = _django_env(args)
    print("Migrating")
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    prefix = f"syn-{args.seed}-"
    with _pg(args.pg, args.db) as conn:
        have = conn.execute("SELECT count(*) FROM proposals_proposal WHERE slug LIKE %s", [prefix + "%"]).fetchone()[0]
    if have not in (0, args.proposals):
        if not args.db.startswith("tracker_bench"):
            sys.exit(
                f"{args.db} holds {have} proposals of seed {args.seed}, not {args.proposals}; "
                "rerun with --recreate to rebuild it (only for a scratch database)."
            )
        print(f"{args.db} holds {have} proposals of seed {args.seed}, not {args.proposals}: rebuilding it")
        with _pg(args.pg, "postgres") as conn:
            _drop(conn, args.db)
            conn.execute(f'CREATE DATABASE "{args.db}"')
        subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
        have = 0
    if have == 0:
        print(f"Generating {args.proposals} synthetic proposals (seed {args.seed})")
        t0 = time.perf_counter()
        subprocess.run(
            [PYTHON, "manage.py", "generate_synthetic", "--proposals", str(args.proposals), "--seed", str(args.seed)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        info["generated"] = True
        info["generate_seconds"] = round(time.perf_counter() - t0, 1)
        with _pg(args.pg, args.db) as conn:
            # What autovacuum would do soon after a bulk load: visibility map and statistics.
            conn.execute("VACUUM (ANALYZE)")
    else:
        print(f"Reusing {args.db}: {have} synthetic proposals of seed {args.seed}")
    with _pg(args.pg, args.db) as conn:
        stale = conn.execute(
            "SELECT count(*) FROM proposals_proposal WHERE list_json_at IS DISTINCT FROM updated_at"
        ).fetchone()[0]
    if stale:
        # The synthetic loader writes with COPY, around the services: render
        # the stored list rows as a deploy would (rebuild_representations).
        print(f"Rendering {stale} stored list rows (rebuild_representations)")
        t0 = time.perf_counter()
        subprocess.run([PYTHON, "manage.py", "rebuild_representations"], cwd=ROOT, env=env, check=True)
        info["rebuild_seconds"] = round(time.perf_counter() - t0, 1)
        with _pg(args.pg, args.db) as conn:
            conn.execute("VACUUM (ANALYZE) proposals_proposal")
    with _pg(args.pg, args.db) as conn:
        info["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        info["version"] = conn.execute("SELECT version()").fetchone()[0]
        info["settings"] = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
                [["shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit", "max_connections"]],
            ).fetchall()
        )
        info["rows"] = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "proposals_proposal",
                "proposals_evidence",
                "proposals_proponent",
                "proposals_statusevent",
                "proposals_source",
                "proposals_actor",
                "proposals_venue",
                "proposals_topic",
                "proposals_proposal_topics",
            )
        }
        info["size"] = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    return info


def _drop(conn, name: str) -> None:
    print(f"Dropping database {name}")
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _django_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{args.pg}/{args.db}",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench",
        DJANGO_ROOT_URLCONF="bench.urls",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_LOG_LEVEL="WARNING",
        # Throttling must not shape the measurement.
        API_THROTTLE_ANON="1000000/minute",
        API_THROTTLE_USER="1000000/minute",
    )
    env.pop("REDIS_URL", None)
    if args.redis:
        env["REDIS_URL"] = args.redis
    return env


# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = args.port or _free_port()
    gunicorn = str(Path(PYTHON).with_name("gunicorn"))
    cmd = [
        gunicorn,
        "tracker.wsgi:application",
        # The production configuration (worker class, threads, limits); only
        # the bind address, worker count and logging are the benchmark's own.
        "--config",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        "--error-logfile",
        str(log_path),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_django_env(args), start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}; see {log_path}")
        try:
            status, _ = get(port, "/readyz")
            if status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    sys.exit(f"gunicorn did not become ready in 30 s; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    return get_full(port, path, headers)[:2]


def get_full(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Accept": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def get_json(port: int, path: str) -> dict:
    status, body = get(port, path)
    if status != 200:
        sys.exit(f"GET {path} answered {status}: {body[:300]!r}")
    return json.loads(body)


class ServerCPU:
    """CPU seconds used by the gunicorn workers and by their PostgreSQL
    backends, read from /proc. Unlike requests/s, CPU per request hardly
    moves when other work shares the machine, so it is the steadier figure
    on a noisy host. (Parallel query workers come and go and are not
    counted, which flatters plans that use them.)"""

    def __init__(self, args, master_pid: int):
        self.master = master_pid
        self.conn = _pg(args.pg, args.db)
        self.tick = os.sysconf("SC_CLK_TCK")

    def close(self):
        self.conn.close()

    def _children(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.master:
                    pids.append(int(entry.name))
        return pids

    def sample(self) -> dict[int, float]:
        backends = [
            row[0]
            for row in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        out = {}
        for pid in [*self._children(), *backends]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / self.tick
        return out

    @staticmethod
    def delta(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(after[pid] - before[pid] for pid in after if pid in before)


# ---------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------


def endpoints(args, port: int) -> tuple[dict, dict]:
    """The paths to measure, checked once each; returns (paths by name, facts)."""
    facts = {}
    first = get_json(port, f"{API}?page_size=50")
    total = first["count"]
    facts["list_count"] = total
    if len(first["results"]) != min(50, total):
        sys.exit("The list did not return a page of 50.")
    deep = max(1, int(-(-total // 50) * args.deep_fraction))
    facts["deep_page"] = deep
    step = max(1, args.proposals // 100)
    details = [f"{API}syn-{args.seed}-{k}/" for k in range(1, args.proposals + 1, step)][:100]
    topic = f"syn-{args.seed}-topic-{args.topic}"
    paths = {
        "list": [f"{API}?page_size=50"],
        "baseline": ["/bench/baseline/?page_size=50"],
        "drf_plain": ["/bench/drf-plain/?page_size=50"],
        "poll_304": [f"{API}?page_size=50"],
        "detail": details,
        "detail_baseline": [d.replace(API, "/bench/detail-baseline/") for d in details],
        "search": [f"{API}?q={args.search_word}&page_size=50"],
        "search_broad": [f"{API}?q={args.broad_search_word}&page_size=50"],
        "filtered": [f"{API}?status={args.status}&topic={topic}&page_size=50"],
        "deep_page": [f"{API}?page={deep}&page_size=50"],
    }
    if args.only_search:
        paths = {name: paths[name] for name in ("search", "search_broad")}
    for name in [n for n in ("search", "search_broad", "filtered", "deep_page") if n in paths]:
        data = get_json(port, paths[name][0])
        facts[f"{name}_count"] = data.get("count")
        if not data.get("results"):
            sys.exit(f"{name} ({paths[name][0]}) returned no rows; pick another word or filter.")
    if args.only_search:
        return paths, facts
    get_json(port, details[0])
    get_json(port, paths["detail_baseline"][0])
    plain = get_json(port, paths["drf_plain"][0])
    if [r["slug"] for r in plain["results"]] != [r["slug"] for r in first["results"]]:
        print("  note: the plain-DRF page and the API's first page differ")
    _, _, headers = get_full(port, paths["list"][0])
    etag = headers.get("ETag")
    if etag:
        status, _ = get(port, paths["poll_304"][0], {"If-None-Match": etag})
        if status != 304:
            sys.exit(f"A poll with the list's ETag answered {status}, not 304.")
        facts["list_etag"] = etag
    else:  # code from before list ETags: nothing to poll
        print("  note: the list answered without an ETag; poll_304 is not measured")
        del paths["poll_304"]
    base = get_json(port, paths["baseline"][0])
    if [r["slug"] for r in base["results"]] != [r["slug"] for r in first["results"]]:
        print("  note: the baseline page and the API's first page differ (data changed between the two calls?)")
    if args.cursor_param:
        paths["deep_cursor"] = [deep_cursor(args, port)]
    return paths, facts


def deep_cursor(args, port: int) -> str:
    """Follow `next` links (200 a page to save requests) down to
    ``--deep-fraction`` of all proposals and return that cursor's URL path
    with page_size=50."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    target = int(args.proposals * args.deep_fraction)
    url = f"{API}?page_size=200"
    data = get_json(port, url)
    if args.cursor_param not in (data.get("next") or ""):
        # Cursor mode may need the parameter present (empty) on the first page.
        url = f"{API}?page_size=200&{args.cursor_param}="
        data = get_json(port, url)
    seen, deadline = 0, time.monotonic() + 180
    while seen + len(data["results"]) <= target:
        seen += len(data["results"])
        nxt = data.get("next")
        if not nxt or time.monotonic() > deadline:
            break
        parts = urlsplit(nxt)
        if args.cursor_param not in dict(parse_qsl(parts.query)):
            sys.exit(f"The next link {nxt} has no {args.cursor_param} parameter.")
        url = parts.path + "?" + parts.query
        data = get_json(port, url)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["page_size"] = "50"
    print(f"  deep cursor after {seen} rows: {parts.path}?{urlencode(query)}")
    return f"{parts.path}?{urlencode(query)}"


def measure(args, port: int, paths: dict, cpu: ServerCPU, facts: dict) -> dict:
    server_cpu: dict[str, float] = {}
    client_cpu: dict[str, float] = {}
    options = {"poll_304": {"headers": {"If-None-Match": facts.get("list_etag", "")}, "expect": 304}}
    compared = tuple(name for name in ROUND_ENDPOINTS if name in paths)

    def one(name, duration):
        before, c0 = cpu.sample(), time.process_time()
        res = load.run(
            name,
            "127.0.0.1",
            port,
            paths[name],
            concurrency=args.concurrency,
            duration=duration,
            max_requests=args.max_requests,
            **options.get(name, {}),
        )
        used = ServerCPU.delta(before, cpu.sample())
        server_cpu[name] = server_cpu.get(name, 0.0) + used
        client_cpu[name] = client_cpu.get(name, 0.0) + time.process_time() - c0
        s = res.summary()
        per = used * 1000 / s["requests"] if s["requests"] else 0.0
        print(
            f"  {name:13s} {s['rps']:8.1f} req/s  p50 {s['p50_ms']:7.1f} ms  p95 {s['p95_ms']:7.1f} ms  "
            f"p99 {s['p99_ms']:7.1f} ms  "
            f"errors {s['errors']}  server CPU {per:5.1f} ms/req  ({s['requests']} requests, {duration:.0f} s)"
        )
        return res

    print(f"Warming up ({args.warmup} requests per endpoint)")
    for name in paths:
        load.run(
            name,
            "127.0.0.1",
            port,
            paths[name],
            concurrency=1,
            duration=30,
            max_requests=args.warmup,
            **options.get(name, {}),
        )

    results: dict[str, load.Result] = {}
    print(f"{', '.join(compared)}: {args.rounds} rounds of {args.round_duration:.0f} s each, order rotating")
    rounds = []
    for r in range(args.rounds if compared else 0):
        shift = r % len(compared)
        order = compared[shift:] + compared[:shift]
        if r % 2:
            order = tuple(reversed(order))
        this = {}
        for name in order:
            res = one(name, args.round_duration)
            this[name] = res.summary()
            if name in results:
                results[name].merge(res)
                results[name].seconds += res.seconds
            else:
                results[name] = res
        rounds.append(
            {
                **{f"{name}_rps": this[name]["rps"] for name in compared},
                **{
                    ratio: round(this[a]["rps"] / this[b]["rps"], 3) if this[b]["rps"] else None
                    for ratio, (a, b) in RATIOS.items()
                    if a in this and b in this
                },
            }
        )
    print("Other endpoints")
    for name in paths:
        if name not in results:
            results[name] = one(name, args.duration)
    summaries = {name: res.summary() for name, res in results.items()}
    cores = os.cpu_count() or 1
    for name, s in summaries.items():
        n = s["requests"] or 1
        s["server_cpu_ms_per_req"] = round(server_cpu[name] * 1000 / n, 2)
        s["client_cpu_ms_per_req"] = round(client_cpu[name] * 1000 / n, 2)
        # What the server could do with every core to itself and no client.
        s["cpu_capacity_rps"] = (
            round(cores * 1000 / s["server_cpu_ms_per_req"], 1) if s["server_cpu_ms_per_req"] else None
        )
    return {"endpoints": summaries, "rounds": rounds}


def measure_search_words(args, port: int) -> dict:
    """Latency of ``?q=`` over several words, not one cached page: each word
    of ``--search-words`` is asked ``--search-repeats`` times, one request
    at a time, in rounds whose word order rotates. Every first ask is
    fresh: the paths carry a parameter the API ignores (``bench_run``,
    new each run) but the count cache keys on (every parameter that does
    not select the page is part of the count's key), so the first ask of
    a word computes its count and later asks read it from the cache, as a
    server's users would see it. Returns per-word and overall figures (ms).
    """
    from urllib.parse import quote

    words = [w.strip() for w in args.search_words.split(",") if w.strip()]
    run = f"{time.time_ns():x}"
    asks: dict[str, list[float]] = {w: [] for w in words}
    counts: dict[str, object] = {}
    errors = 0
    for r in range(args.search_repeats):
        order = words[r % len(words) :] + words[: r % len(words)]
        for word in order:
            path = f"{API}?q={quote(word)}&page_size=50&bench_run={run}"
            t0 = time.perf_counter()
            status, body, _ = get_full(port, path)
            asks[word].append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors += 1
                continue
            if word not in counts:
                data = json.loads(body)
                counts[word] = f"{data['count']}{'+' if data.get('count_capped') else ''}"
    every = sorted(ms for values in asks.values() for ms in values)
    first = sorted(values[0] for values in asks.values() if values)
    later = sorted(ms for values in asks.values() for ms in values[1:])

    def pcts(values):
        return {f"p{p}_ms": round(load.percentile(values, p), 2) for p in (50, 95, 99)} | {
            "max_ms": round(values[-1], 2) if values else 0.0,
            "requests": len(values),
        }

    result = {
        "words": {
            w: {"count": counts.get(w), "first_ms": round(v[0], 2), "later_ms": [round(x, 2) for x in v[1:]]}
            for w, v in asks.items()
        },
        "all": pcts(every),
        "first_asks": pcts(first),
        "later_asks": pcts(later),
        "errors": errors,
        "repeats": args.search_repeats,
    }
    print(f"  search_words: {len(words)} words x {args.search_repeats} asks, one at a time (first ask: fresh count)")
    for w, v in result["words"].items():
        later_txt = ", ".join(f"{x:.1f}" for x in v["later_ms"])
        print(f"    {w:14s} {v['count']!s:>7s} matches  first {v['first_ms']:7.1f} ms  then {later_txt}")
    for part in ("all", "first_asks", "later_asks"):
        f = result[part]
        print(
            f"    {part:11s} p50 {f['p50_ms']:7.1f}  p95 {f['p95_ms']:7.1f}  p99 {f['p99_ms']:7.1f}  "
            f"max {f['max_ms']:7.1f} ms  ({f['requests']} requests)"
        )
    return result


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def machine() -> dict:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import django

    return {
        "nproc": os.cpu_count(),
        "memory": mem,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def ratio_summary(rounds: list[dict]) -> dict:
    """Each ratio's median over the rounds, with its spread (min, max)."""
    out = {}
    for name in RATIOS:
        values = sorted(r[name] for r in rounds if r.get(name) is not None)
        if values:
            out[name] = {"median": round(statistics.median(values), 3), "min": values[0], "max": values[-1]}
    return out


def evaluate(endpoints: dict, ratios: dict, explain: dict | None, search_words: dict | None = None) -> dict:
    """Each target with the measured value and whether it is met."""
    errors = sum(s["errors"] for s in endpoints.values())
    first = endpoints.get("list")
    out = {}

    def target(name, value, op, limit):
        met = value is not None and (value >= limit if op == ">=" else value <= limit)
        out[name] = {"value": value, "target": f"{op} {limit}", "met": met}

    for name, key in (
        ()
        if not ratios
        else (
            ("list_vs_baseline", "list_vs_baseline_min"),
            ("list_vs_drf_plain", "list_vs_drf_plain_min"),
            ("detail_vs_baseline", "detail_vs_baseline_min"),
            ("poll_304_vs_baseline", "poll_304_vs_baseline_min"),
        )
    ):
        target(name, ratios.get(name, {}).get("median"), ">=", TARGETS[key])
    target("search_p95_ms", endpoints["search"]["p95_ms"], "<=", TARGETS["search_p95_ms_max"])
    target("search_p99_ms", endpoints["search"]["p99_ms"], "<=", TARGETS["search_p99_ms_max"])
    if search_words:
        target("search_words_p95_ms", search_words["all"]["p95_ms"], "<=", TARGETS["search_p95_ms_max"])
        target("search_words_p99_ms", search_words["all"]["p99_ms"], "<=", TARGETS["search_p99_ms_max"])
    for deep in ("deep_page", "deep_cursor"):
        if first and deep in endpoints and first["p50_ms"]:
            value = round(endpoints[deep]["p50_ms"] / first["p50_ms"], 2)
            target(f"{deep}_p50_vs_page1_p50", value, "<=", TARGETS["deep_page_vs_page1_max"])
            # Measured minutes apart on a shared host, latencies move with the
            # load; server CPU per request is the steadier comparison.
            if first["server_cpu_ms_per_req"]:
                value = round(endpoints[deep]["server_cpu_ms_per_req"] / first["server_cpu_ms_per_req"], 2)
                target(f"{deep}_cpu_vs_page1_cpu", value, "<=", TARGETS["deep_page_vs_page1_max"])
    if explain and "detail" in explain:
        target("detail_queries", explain["detail"]["query_count"], "<=", TARGETS["detail_queries_max"])
    target("errors", errors, "<=", TARGETS["errors_max"])
    return out


def print_table(endpoints: dict, targets: dict) -> None:
    print()
    print(
        f"{'endpoint':14s} {'req/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'errors':>7s} {'requests':>9s} "
        f"{'CPU ms/req':>10s}  path"
    )
    for name, s in endpoints.items():
        print(
            f"{name:14s} {s['rps']:8.1f} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f} {s['p99_ms']:8.1f} {s['errors']:7d} "
            f"{s['requests']:9d} {s['server_cpu_ms_per_req']:10.2f}  {s['path']}"
        )
    print()
    for name, t in targets.items():
        print(f"  {name:30s} {t['value']!s:>8s}  target {t['target']:8s}  {'met' if t['met'] else 'NOT MET'}")


def run_explain(args, paths: dict, results_dir: Path) -> dict:
    names = ["list", "search", "filtered", "deep_page", "detail", "baseline", "drf_plain", "detail_baseline"]
    names = [n for n in names if n in paths]
    if "deep_cursor" in paths:
        names.append("deep_cursor")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [PYTHON, str(ROOT / "bench" / "explain.py"), str(out), *(f"{n}={paths[n][0]}" for n in names)]
    if args.profile:
        cmd[3:3] = ["--profile", str(results_dir / "profiles")]
    subprocess.run(cmd, cwd=ROOT, env=_django_env(args), check=True)
    data = json.loads(out.read_text())
    out.unlink()
    return data


SIZE_SUFFIXES = {"k": 1_000, "m": 1_000_000}


def parse_size(text: str) -> int:
    """``100k`` -> 100000, ``1M`` -> 1000000, ``2500`` -> 2500."""
    text = text.strip().lower()
    if text and text[-1] in SIZE_SUFFIXES:
        return int(float(text[:-1]) * SIZE_SUFFIXES[text[-1]])
    return int(text)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.sizes:
        return run_one(args)[0]
    worst, summaries = 0, {}
    base_db = args.db
    for label in [part.strip() for part in args.sizes.split(",") if part.strip()]:
        args.proposals = parse_size(label)
        args.db = f"{base_db}_{label.lower()}"
        print(f"\n=== {label}: {args.proposals} proposals in {args.db} ===")
        code, report = run_one(args)
        worst = max(worst, code)
        summaries[label] = report
    print("\n=== Summary by size ===")
    for label, report in summaries.items():
        print(f"{label}:")
        for name, t in report["targets"].items():
            print(f"  {name:30s} {t['value']!s:>8s}  target {t['target']:8s}  {'met' if t['met'] else 'NOT MET'}")
    return worst


def run_one(args) -> tuple[int, dict]:
    results_dir = Path(args.output_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {k: v for k, v in vars(args).items() if k not in ("output_dir",)},
    }
    report["database"] = ensure_database(args)
    log_path = results_dir / "gunicorn.log.tmp"
    proc, port = start_server(args, log_path)
    try:
        print(f"gunicorn on 127.0.0.1:{port}, {args.workers} workers; {args.concurrency} client threads")
        paths, facts = endpoints(args, port)
        report["facts"] = facts
        print("Search over several words (search_words)")
        report["search_words"] = measure_search_words(args, port)
        cpu = ServerCPU(args, proc.pid)
        try:
            measured = measure(args, port, paths, cpu, facts)
        finally:
            cpu.close()
    finally:
        stop_server(proc)
    report.update(measured)
    eps = measured["endpoints"]
    ratios = ratio_summary(measured["rounds"])
    report["ratios"] = ratios
    if "list" in eps:
        report["list_vs_baseline"] = ratios["list_vs_baseline"]["median"]
        list_cpu, base_cpu = eps["list"]["server_cpu_ms_per_req"], eps["baseline"]["server_cpu_ms_per_req"]
        report["list_vs_baseline_by_cpu"] = round(base_cpu / list_cpu, 3) if list_cpu else None
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    if not args.no_explain:
        print("Capturing EXPLAIN (ANALYZE, BUFFERS) of the queries each endpoint runs")
        report["explain"] = run_explain(args, paths, results_dir)
        for name, e in report["explain"].items():
            print(f"  {name:15s} {e['query_count']:2d} queries, {e['in_process_median_ms']:6.1f} ms in-process median")
    if not args.no_writes and not args.only_search:
        print("Write costs (in a transaction that is rolled back)")
        report["writes"] = run_writes(args)
    report["targets"] = evaluate(eps, ratios, report.get("explain"), report.get("search_words"))
    print_table(eps, report["targets"])
    print("\nThroughput ratios, same rounds (median, and min-max over the rounds):")
    for name, r in ratios.items():
        per_round = [round_.get(name) for round_ in measured["rounds"]]
        print(f"  {name:24s} {r['median']:6.2f}  ({r['min']:.2f}-{r['max']:.2f}; rounds {per_round})")
    if "list_vs_baseline_by_cpu" in report:
        by_cpu = report["list_vs_baseline_by_cpu"]
        print(f"  list_vs_baseline_by_cpu  {by_cpu}  (baseline CPU ms/req / list CPU ms/req)")
    for name, w in report.get("writes", {}).items():
        print(f"  write: {name}: {w}")
    load_start, load_end = report["machine"]["loadavg_start"][0], report["machine"]["loadavg_end"][0]
    if load_start > (os.cpu_count() or 1):  # busy before we started: others' work, not ours
        print(
            f"  note: load average {load_start} -> {load_end} on {os.cpu_count()} cores: other work shared the "
            "machine, so requests/s and latencies are depressed; CPU ms/req is the steadier figure."
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = results_dir / f"{stamp}-{args.proposals}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str))
    tmp.rename(target)
    print(f"\nResults: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    errors = sum(s["errors"] for s in eps.values()) + report["search_words"]["errors"]
    return (1 if errors else 0), report


def run_writes(args) -> dict:
    """``bench/writes.py`` against the bench database: the cost of the write
    path's fan-out (renaming the most-linked actor), rolled back."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    subprocess.run([PYTHON, str(ROOT / "bench" / "writes.py"), str(out)], cwd=ROOT, env=_django_env(args), check=True)
    data = json.loads(out.read_text())
    out.unlink()
    return data


if __name__ == "__main__":
    sys.exit(main())
