"""The production stack (`make prod`: nginx in front of gunicorn, debug off)
under abuse and faults, for real, on loopback only.

One stack serves the module: a throwaway PostgreSQL database on the server
at 127.0.0.1:5432, the shared cache on the machine's Redis when one answers
(REDIS_URL, else redis://127.0.0.1:6379/0; keys under a prefix of this run's
own) or in files otherwise, two gunicorn workers, nginx on a free port.
Attack traffic and probes come from different loopback addresses
(127.0.0.x), so one test's budget does not spend another's.

Slow clients are held ~10 s, not the 30 s of the issue's scenario: nginx
drops a client whose headers are not complete within 10 s
(client_header_timeout), so 10 s already covers the whole attack window.
Another fixture starts the stack against a database that accepts TCP and
never answers. Every wait is bounded; each test takes seconds.
"""

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from psycopg import sql

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
START_SECONDS = 60
HOLD_SECONDS = 10  # how long slow clients hold their connections (see the module docstring)
ANON_RATE = 300  # per minute, for the whole module's stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port, method, path, *, source="127.0.0.1", body=None, headers=None, chunked=False, timeout=10):
    """One HTTP/1.1 request from loopback address ``source``; returns
    (status, lower-cased headers, body bytes, seconds taken)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    started = time.monotonic()
    try:
        if chunked:
            conn.request(method, path, body=iter([body[:7], body[7:]]), headers=headers or {}, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data, time.monotonic() - started
    finally:
        conn.close()


def clean_env(**overrides) -> dict:
    """This shell's environment minus anything that configures the app,
    gunicorn or libpq, plus ``overrides``."""
    drop = ("DJANGO_", "API_", "DATABASE_URL", "REDIS_URL", "TRUSTED_PROXY", "GUNICORN", "WEB_CONCURRENCY", "PG")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    env.update(overrides)
    return env


def shared_redis_url() -> str | None:
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


class Stack:
    """``python deploy/prod.py`` (what `make prod` runs) and its log."""

    def __init__(self, env: dict, log_path: Path, setup: bool = True):
        self.port = int(env["PORT"])
        self.env = env
        self.log_path = log_path
        args = [sys.executable, "deploy/prod.py", "--nginx", NGINX] + ([] if setup else ["--no-setup"])
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while "[prod] up:" not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"make prod did not come up:\n{self.log()[-4000:]}")
            time.sleep(0.2)
        self.app_port = int(re.search(r"gunicorn on 127\.0\.0\.1:(\d+)", self.log())[1])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def manage(self, *args) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env={**self.env, "DJANGO_DEBUG": "0"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


@pytest.fixture(scope="module")
def pg_database():
    """A fresh PostgreSQL database named after the suite's own (so parallel
    runs do not meet), dropped afterwards; its URL."""
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {PG_SERVER} ({exc})")
    base = urlparse(os.environ.get("DATABASE_URL", "")).path.strip("/") or "tracker"
    name = f"{base}_stack_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"{PG_SERVER}/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def stack(pg_database, tmp_path_factory):
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run does)")
    root = tmp_path_factory.mktemp("stack")
    redis_url = shared_redis_url()
    env = clean_env(
        DATABASE_URL=pg_database,
        DJANGO_SECRET_KEY="stack-test-only",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_STATIC_ROOT=str(root / "static"),
        DJANGO_CACHE_DIR=str(root / "cache"),
        DJANGO_CACHE_KEY_PREFIX=f"stack-{uuid.uuid4().hex[:12]}",
        API_THROTTLE_ANON=f"{ANON_RATE}/minute",
        WEB_CONCURRENCY="2",
        PORT=str(free_port()),
        PYTHONDONTWRITEBYTECODE="1",
        **({"REDIS_URL": redis_url} if redis_url else {}),
    )
    running = Stack(env, root / "prod.log")
    running.redis = redis_url
    try:
        yield running
    finally:
        running.stop()


# ---------------------------------------------------------------- slow clients


def _slow_headers(port, source, hold_until, open_at_half):
    """Sends a request's header lines one every 2 s and never ends them."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=HOLD_SECONDS + 5, source_address=(source, 0)) as s:
            s.sendall(b"GET /api/v1/proposals/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            counted = False
            while time.monotonic() < hold_until:
                time.sleep(2)
                s.sendall(b"X-Slow: 1\r\n")
                if not counted and time.monotonic() > hold_until - HOLD_SECONDS / 2:
                    open_at_half.append(1)
                    counted = True
    except OSError:
        pass  # nginx closed it (408): the point


def _stalled_body(port, source, hold_until, open_at_half):
    """Declares a 1000-byte body, sends 10 bytes, then nothing."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=HOLD_SECONDS + 5, source_address=(source, 0)) as s:
            s.sendall(
                b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=a"
            )
            time.sleep(HOLD_SECONDS / 2)
            s.sendall(b"&")  # still there
            open_at_half.append(1)
            time.sleep(max(0, hold_until - time.monotonic()))
    except OSError:
        pass


def test_probes_and_reads_stay_fast_while_slow_clients_hold_connections(stack):
    hold_until = time.monotonic() + HOLD_SECONDS
    open_at_half: list[int] = []
    attackers = [
        threading.Thread(target=target, args=(stack.port, "127.0.0.2", hold_until, open_at_half), daemon=True)
        for target in [_slow_headers] * 20 + [_stalled_body] * 20
    ]
    for thread in attackers:
        thread.start()
    time.sleep(1)  # all 40 connected and stalling

    latencies, failures = [], []
    paths = ["/healthz", "/api/v1/proposals/?page_size=1"]
    while time.monotonic() < hold_until - 0.5:
        path = paths[len(latencies) % 2]
        try:
            status, _, body, seconds = request(stack.port, "GET", path, source="127.0.0.3", timeout=5)
            latencies.append(seconds)
            if status != 200:
                failures.append((path, status, body[:200]))
        except OSError as exc:
            failures.append((path, repr(exc)))
        time.sleep(0.1)
    for thread in attackers:
        thread.join(timeout=HOLD_SECONDS + 10)

    assert len(open_at_half) >= 30, f"the attack did not hold its connections ({len(open_at_half)} of 40)"
    assert not failures, failures[:5]
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(  # noqa: T201 - the figures docs/OPERATIONS.md records (pytest -s)
        f"\nprobes under 20 slow-header + 20 stalled-body connections: n={len(latencies)} "
          f"p50={latencies[len(latencies) // 2] * 1000:.1f} ms p99={p99 * 1000:.1f} ms "
          f"max={latencies[-1] * 1000:.1f} ms"
    )  # fmt: skip
    assert len(latencies) >= 40
    assert p99 < 1.0, latencies[-5:]


# ---------------------------------------------------------------- shared throttle state


def test_the_anonymous_limit_holds_across_workers(stack):
    if not stack.redis:
        pytest.skip("no Redis answering: the file cache shares counts too, but not atomically")
    results: list[int] = []
    lock = threading.Lock()

    def client(count):
        for _ in range(count):
            status = request(stack.port, "GET", "/api/v1/topics/", source="127.0.0.4")[0]
            with lock:
                results.append(status)

    threads = [threading.Thread(target=client, args=(ANON_RATE // 4 * 3 // 2,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    answered, throttled = results.count(200), results.count(429)
    print(f"\n{len(results)} requests at {ANON_RATE}/minute, 2 workers: {answered} x 200, {throttled} x 429")  # noqa: T201
    assert answered + throttled == len(results) == 4 * (ANON_RATE // 4 * 3 // 2)
    # Before the shared cache each worker counted alone: about twice the rate got through.
    assert abs(answered - ANON_RATE) <= ANON_RATE * 0.03, answered


def test_ordinary_concurrent_clients_are_not_refused(stack):
    """16 clients reading at once (below the limit) get answers, not the
    concurrency guard's 503: with 7 places a worker a review saw 77% refused.
    The guard sheds load by design when requests pile up (a place held for
    0.5 s counts as stuck), so on this shared 2-core machine a rare refusal
    remains; at most 1 in 100."""
    results: list[int] = []
    lock = threading.Lock()

    def client(number):
        for _ in range(12):
            status = request(stack.port, "GET", "/api/v1/topics/", source=f"127.0.1.{number + 1}")[0]
            with lock:
                results.append(status)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 16 * 12
    assert results.count(503) <= len(results) // 100, f"{results.count(503)} of {len(results)} refused"
    assert set(results) <= {200, 503}


def test_forged_forwarded_for_does_not_escape_the_failed_token_throttle(stack):
    statuses = []
    for n in range(25):
        headers = {"Authorization": f"Token {n:064x}", "X-Forwarded-For": f"198.51.100.{n}"}
        statuses.append(request(stack.port, "GET", "/api/v1/topics/", source="127.0.0.5", headers=headers)[0])
    assert statuses == [401] * 20 + [429] * 5, statuses


# ---------------------------------------------------------------- request bodies and nginx's own errors


@pytest.fixture(scope="module")
def token(stack):
    stack.manage("shell", "-c", "from django.contrib.auth.models import User; User.objects.create_superuser('ops')")
    return stack.manage("issue_token", "ops").strip()


@pytest.mark.parametrize("via", ["nginx", "gunicorn"])
def test_a_chunked_json_body_is_created(stack, token, via):
    port = stack.port if via == "nginx" else stack.app_port
    body = json.dumps({"slug": f"chunked-{via}", "name": f"Chunked via {via}"}).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    status, _, answer, _ = request(port, "POST", "/api/v1/topics/", body=body, headers=headers, chunked=True)
    assert status == 201, answer
    assert json.loads(answer)["name"] == f"Chunked via {via}"


@pytest.mark.parametrize(
    ("status", "what"),
    [(414, "request line"), (400, "header"), (413, "body")],
)
def test_nginx_refuses_oversized_requests_with_problem_json(stack, status, what):
    long = "a" * 9000
    path, headers, body = "/api/v1/proposals/", {}, None
    if what == "request line":
        path += f"?q={long}"
    elif what == "header":
        headers = {"X-Long": long}
    else:
        body = b"{" + b" " * (1024 * 1024 + 10) + b"}"
        headers = {"Content-Type": "application/json"}
    code, answer_headers, answer, _ = request(stack.port, "POST" if body else "GET", path, body=body, headers=headers)
    assert code == status, answer[:300]
    assert answer_headers["content-type"] == "application/problem+json"
    assert json.loads(answer)["status"] == status


def test_a_long_request_line_under_8k_reaches_the_app(stack):
    # gunicorn's default limit (4094) answered these with an HTML 400.
    path = "/api/v1/topics/?" + "&".join(f"p{n}=v" for n in range(1000))
    assert 6000 < len(path) < 8000
    status, headers, body, _ = request(stack.port, "GET", path)
    assert status == 200, body[:300]
    assert headers["content-type"] == "application/json"


# ---------------------------------------------------------------- a hung database


@pytest.fixture
def hung_database():
    """A 'PostgreSQL' on a free loopback port that accepts connections and
    never says a word; its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"postgres://postgres@127.0.0.1:{listener.getsockname()[1]}/hung"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_hung_database_fails_requests_fast_and_never_slows_healthz(hung_database, tmp_path):
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run does)")
    connect_timeout = 2
    env = clean_env(
        DATABASE_URL=hung_database,
        DJANGO_DB_CONNECT_TIMEOUT=str(connect_timeout),
        DJANGO_SECRET_KEY="stack-test-only",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_CACHE_DIR=str(tmp_path / "cache"),
        DJANGO_CACHE_KEY_PREFIX=f"hung-{uuid.uuid4().hex[:12]}",
        WEB_CONCURRENCY="2",
        PORT=str(free_port()),
    )
    stack = Stack(env, tmp_path / "prod.log", setup=False)
    try:
        api_results = []

        def api_call():
            api_results.append(request(stack.port, "GET", "/api/v1/proposals/", timeout=20))

        # More callers than the two workers have threads (2 x 16): before the
        # concurrency guard the probes queued behind them (2-4 s measured).
        callers = [threading.Thread(target=api_call) for _ in range(40)]
        for thread in callers:
            thread.start()
        time.sleep(0.2)  # the first ones are waiting on the database now
        probes = []
        while any(thread.is_alive() for thread in callers):
            probes.append(request(stack.port, "GET", "/healthz")[3])
            time.sleep(0.05)
        for thread in callers:
            thread.join()

        for status, headers, body, seconds in api_results:
            assert status == 503, body[:300]
            assert headers["content-type"] == "application/problem+json"
            # 5: the database is unavailable; 2: no place free (the guard).
            assert headers["retry-after"] in ("5", "2")
            assert seconds < connect_timeout + 1.5, f"took {seconds:.1f} s with a {connect_timeout} s connect timeout"
        status, _, body, _ = request(stack.port, "GET", "/readyz", timeout=20)
        assert status == 503, body
        print(  # noqa: T201 - the figures docs/OPERATIONS.md records (pytest -s)
            f"\nhealthz under a hung database: n={len(probes)} max={max(probes) * 1000:.1f} ms; "
              f"API 503 after {max(r[3] for r in api_results):.2f} s"
        )  # fmt: skip
        assert len(probes) >= 5
        assert max(probes) < 0.1, sorted(probes)[-5:]
    finally:
        stack.stop()


# ---------------------------------------------------------------- stopping (keep last: it ends the stack)


def test_ctrl_c_stops_the_whole_stack(stack):
    assert request(stack.port, "GET", "/healthz")[0] == 200
    assert stack.stop() == 0, stack.log()[-3000:]
    for port in (stack.port, stack.app_port):
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    assert "[prod] stopped (nginx 0, gunicorn 0); exit 0" in stack.log()
