"""A real PostgreSQL going away and coming back under a running gunicorn.

The test builds a throwaway cluster (initdb, its own port, 127.0.0.1 only,
fsync off), migrates a database in it, and serves the app with gunicorn
exactly as production does (DEBUG off, persistent connections kept for
600 s). Then it stops the cluster under the running server and starts it
again, and checks what clients see:

* down: the API answers 503 ``application/problem+json`` with Retry-After
  (never Django's HTML 500), ``/readyz`` answers 503 and ``/healthz`` still
  answers 200, so an orchestrator takes the instance out of rotation
  without restarting it;
* back up: the same gunicorn worker recovers by itself, without a restart;
* restarted with no traffic in between: the worker's persistent connection
  died unnoticed, and ``CONN_HEALTH_CHECKS`` must catch that before the
  next request uses it, so not even one request fails.

Nothing is mocked and all traffic stays on 127.0.0.1.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("TRACKER_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_TOOLS = ("initdb", "pg_ctl", "postgres", "createdb")
DB_NAME = "tracker_faults"
PROBLEM_JSON = "application/problem+json"

# Every wait is bounded; these are generous for a loaded CI machine and
# are only reached when something is wrong.
PG_START_TIMEOUT = 30
HTTP_TIMEOUT = 10
SERVER_START_TIMEOUT = 20
RECOVERY_TIMEOUT = 20


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**overrides) -> dict:
    """The inherited environment minus what settings.py and libpq (PG*) read."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "API_", "DATABASE_URL", "PG"))
    }
    env.update(overrides)
    return env


class Cluster:
    """A throwaway PostgreSQL cluster in a temp dir, run by the ``postgres``
    OS user when the tests run as root (initdb refuses root)."""

    def __init__(self, root: Path, port: int):
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = port
        self.as_user = []
        if os.geteuid() == 0:
            # Imported here: pwd is POSIX-only, like the rest of this test.
            import pwd

            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root, and there is no 'postgres' OS user to run the test cluster as")
            os.chown(root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args, timeout=60):
        result = subprocess.run(
            [*self.as_user, *args],
            env=clean_env(LC_ALL="C"),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}\n{self.log_tail()}"
        return result

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def init(self):
        self._run(
            str(PG_BIN / "initdb"),
            "-D", str(self.data),
            "-U", "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )  # fmt: skip
        # Listen on loopback TCP only, the socket in our temp dir (not the
        # system's /var/run/postgresql), and trade durability for speed.
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "max_connections": "20",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self):
        self._run(
            str(PG_BIN / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log),
            "-w", "-t", str(PG_START_TIMEOUT),
            timeout=PG_START_TIMEOUT + 10,
        )  # fmt: skip

    def stop(self, mode="fast"):
        self._run(
            str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data), "-m", mode, "-w", "-t", str(PG_START_TIMEOUT),
            timeout=PG_START_TIMEOUT + 10,
        )  # fmt: skip

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def kill(self):
        """Best-effort cleanup: an immediate stop, then SIGKILL the postmaster
        we started (its pid from postmaster.pid), never anything else."""
        if not self.is_running():
            return
        try:
            self.stop(mode="immediate")
            return
        except (AssertionError, subprocess.TimeoutExpired):
            pass
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass

    def createdb(self, name):
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DB_NAME}"


def request(port, method, path, body=None, headers=None):
    """One HTTP request; returns (status, headers, parsed JSON or raw text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    try:
        all_headers = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        raw = response.read().decode("utf-8", errors="replace")
        response_headers = {key.lower(): value for key, value in response.getheaders()}
    finally:
        conn.close()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = raw
    return response.status, response_headers, payload


def wait_for(check, timeout, what):
    """Poll ``check()`` until it returns a truthy value; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last and last[0]:
                return last
        except OSError as exc:  # connection refused/reset while a process starts
            last = (False, repr(exc))
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def assert_problem(result, status, what):
    code, headers, body = result
    assert code == status, f"{what}: expected {status}, got {code}: {body!r}"
    assert headers.get("content-type", "").startswith(PROBLEM_JSON), f"{what}: {headers.get('content-type')}"
    assert isinstance(body, dict), f"{what}: body is not JSON: {body!r}"
    assert body["status"] == status, body
    assert body["title"], body
    return body


def gunicorn_pids(server: subprocess.Popen) -> set[int]:
    """The arbiter and its worker(s): the worker holds the DB connection."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    try:
        workers = {int(pid) for pid in children.read_text().split()}
    except OSError:  # not Linux: the arbiter's pid alone still proves no restart
        workers = set()
    return {server.pid, *workers}


@pytest.fixture
def pg_cluster():
    missing = [tool for tool in PG_TOOLS if not (PG_BIN / tool).is_file()]
    if missing:
        pytest.skip(
            f"PostgreSQL server binaries not found in {PG_BIN} (missing: {', '.join(missing)}); "
            "install PostgreSQL 15 or set TRACKER_PG_BIN to its bin directory"
        )
    root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    cluster = Cluster(root, free_port())
    try:
        cluster.init()
        cluster.start()
        cluster.createdb(DB_NAME)
        yield cluster
    finally:
        try:
            cluster.kill()
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def server(pg_cluster):
    env = clean_env(
        DATABASE_URL=pg_cluster.url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="test",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_DB_CONNECT_TIMEOUT="2",
        # Long-lived connections: recovery must cope with a dead one.
        DJANGO_CONN_MAX_AGE="600",
        PYTHONDONTWRITEBYTECODE="1",
        # Served like production, from collected (hashed) files: the
        # browsable API's error page needs them.
        DJANGO_STATIC_ROOT=str(pg_cluster.root / "static"),
        # Export slots and throttle counters of this server's own.
        DJANGO_CACHE_DIR=str(pg_cluster.root / "cache"),
    )
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert collect.returncode == 0, collect.stdout + collect.stderr
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    port = free_port()
    log_path = pg_cluster.root / "gunicorn.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "tracker.wsgi",
                "--config", "gunicorn.conf.py",
                "--bind", f"127.0.0.1:{port}",
                "--workers", "1",
                "--timeout", "30",
                "--graceful-timeout", "5",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    workers = set()
    try:

        def up():
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}")
            return (request(port, "GET", "/healthz")[0] == 200,)

        wait_for(up, SERVER_START_TIMEOUT, "gunicorn to answer /healthz")
        workers = gunicorn_pids(proc) - {proc.pid}
        proc.port = port
        proc.log_path = log_path
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        # An arbiter killed the hard way leaves its worker behind: end the
        # one we saw booting (only if it is still a gunicorn process).
        for pid in workers:
            try:
                if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def test_api_survives_database_outage_and_recovers_without_restart(pg_cluster, server):
    port = server.port
    try:
        # -- healthy ---------------------------------------------------------
        assert request(port, "GET", "/healthz")[:1] == (200,)
        status, _, body = request(port, "GET", "/readyz")
        assert (status, body) == (200, {"status": "ok", "database": "ok"})
        status, headers, body = request(port, "GET", "/api/v1/proposals/")
        assert status == 200, body
        assert headers["content-type"].startswith("application/json")
        assert body["results"] == []
        assert request(port, "GET", "/api/v1/proposals/no-such-proposal/")[0] == 404
        pids_before = gunicorn_pids(server)
        assert len(pids_before) == 2, pids_before  # arbiter + 1 worker

        # -- database down ---------------------------------------------------
        pg_cluster.stop("fast")

        for path in ("/api/v1/proposals/", "/api/v1/proposals/some-slug/", "/api/v1/actors/"):
            # Twice: the first request still holds the persistent connection
            # the server killed; the second starts without one.
            for attempt in (1, 2):
                result = request(port, "GET", path)
                body = assert_problem(result, 503, f"GET {path} #{attempt} while the database is down")
                assert result[1].get("retry-after") == "5", result[1]
                assert "database" in body["detail"].lower(), body

        # The CSV export checks the database before its first byte: a 503
        # problem, not "200 text/csv" with a header row and a cut stream.
        # Three times: a failed export must not keep one of its two slots.
        for attempt in (1, 2, 3):
            result = request(port, "GET", "/api/v1/proposals/?format=csv", headers={"Accept": "text/csv"})
            assert_problem(result, 503, f"CSV export #{attempt} while the database is down")
            assert result[1].get("retry-after") == "5", result[1]

        # A client sending a (bogus) token: checking it needs the database.
        result = request(port, "GET", "/api/v1/proposals/", headers={"Authorization": "Token " + "0" * 64})
        assert_problem(result, 503, "GET with a token while the database is down")

        # A signed-in browser: its session cookie is looked up in the database.
        result = request(port, "GET", "/api/v1/proposals/", headers={"Cookie": "sessionid=" + "a" * 32})
        assert_problem(result, 503, "GET with a session cookie while the database is down")

        # The browsable API, for people: the 503 may be an HTML page, but a
        # 503 all the same. With a session cookie, rendering that page asks
        # for request.user again (the auth context processor), so the lost
        # connection is raised a second time *outside* DRF's exception
        # handler, and only handler500 can still turn it into a 503.
        for cookie in ({}, {"Cookie": "sessionid=" + "a" * 32}):
            for path in ("/api/v1/proposals/", "/api/v1/proposals/some-slug/"):
                code, headers, body = request(port, "GET", path, headers={"Accept": "text/html", **cookie})
                what = f"GET {path} as HTML {'with' if cookie else 'without'} a session while the database is down"
                assert code == 503, f"{what}: {code} {str(body)[:300]!r}"
                assert headers.get("retry-after") == "5", f"{what}: {headers}"

        # An anonymous write is refused before the database is needed (401),
        # or fails as unavailable (503); either way, problem JSON.
        result = request(port, "POST", "/api/v1/proposals/", body={"title": "x"})
        assert result[0] in (401, 503), result
        assert_problem(result, result[0], "anonymous POST while the database is down")

        result = request(port, "GET", "/readyz")
        body = assert_problem(result, 503, "/readyz while the database is down")
        assert "unreachable" in body["detail"], body

        status, _, body = request(port, "GET", "/healthz")
        assert (status, body) == (200, {"status": "ok"}), "liveness must not depend on the database"

        # -- database back ---------------------------------------------------
        pg_cluster.start()

        wait_for(lambda: (request(port, "GET", "/readyz")[0] == 200,), RECOVERY_TIMEOUT, "/readyz to recover")
        status, _, body = request(port, "GET", "/api/v1/proposals/")
        assert status == 200, body
        assert body["results"] == []
        assert_problem(request(port, "GET", "/api/v1/proposals/some-slug/"), 404, "GET unknown slug after recovery")
        status, headers, body = request(port, "GET", "/api/v1/proposals/?format=csv", headers={"Accept": "text/csv"})
        assert (status, headers["content-type"]) == (200, "text/csv; charset=utf-8"), body
        assert body.startswith("\ufeffslug,title,status"), body  # UTF-8 BOM first, for Excel
        assert request(port, "POST", "/api/v1/proposals/", body={"title": "x"})[0] == 401

        # -- a restart nobody saw ----------------------------------------------
        # Stop and start with no request in between: the worker's persistent
        # connection is dead but nothing has failed on it yet, so only the
        # per-request health check (CONN_HEALTH_CHECKS) can catch it. The
        # very first request afterwards must succeed, not be sacrificed.
        pg_cluster.stop("fast")
        pg_cluster.start()
        status, _, body = request(port, "GET", "/api/v1/proposals/")
        assert status == 200, f"first request after a database restart: {status} {body!r}"

        assert server.poll() is None, "gunicorn exited"
        assert gunicorn_pids(server) == pids_before, "gunicorn restarted its worker instead of recovering in place"
    except BaseException:
        # The server's own account of what happened, next to the failure.
        sys.stderr.write("---- gunicorn log ----\n" + server.log_path.read_text(errors="replace")[-6000:])
        sys.stderr.write("\n---- postgres log ----\n" + pg_cluster.log_tail())
        raise
