"""Deployment: the Dockerfile, docker-compose.yml and .env.example, and the
production path run for real without Docker.

The production-path test creates a throwaway database on the PostgreSQL
server at 127.0.0.1:5432 (user postgres), whatever database the rest of the
suite uses, runs ``migrate``, ``load_seeds`` and ``collectstatic``, starts
gunicorn with the Dockerfile's own command line (debug off) and makes HTTP
requests to it.
They skip, with the reason, only when that server is unreachable. No Docker
engine is needed; all traffic stays on 127.0.0.1.
"""

import ast
import contextlib
import json
import os
import re
import runpy
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
SETTINGS_FILE = REPO / "tracker" / "settings.py"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
GUNICORN = Path(sys.executable).parent / "gunicorn"
STARTUP_SECONDS = 20
COMMAND_SECONDS = 180


# ---------------------------------------------------------------- helpers


def settings_env_vars() -> set[str]:
    """Names of the environment variables tracker/settings.py reads, found in
    its syntax tree: ``os.environ.get("X")``, ``os.environ["X"]``,
    ``os.getenv("X")``, ``"X" in os.environ``, any module-level helper that
    reads os.environ (``env_bool("X")``, ``env_list("X")``...), and
    ``dj_database_url.config()`` (DATABASE_URL unless given ``env=``)."""
    tree = ast.parse(SETTINGS_FILE.read_text(encoding="utf-8"))
    helpers = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and re.search(r"os\.(environ|getenv)", ast.unparse(node))
    }
    readers = {"os.environ.get", "os.getenv", "os.environ.setdefault", "os.environ.pop"}

    def text(node):
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            if (func in readers or func in helpers) and node.args and text(node.args[0]):
                names.add(text(node.args[0]))
            if func == "dj_database_url.config":
                env = next((kw.value for kw in node.keywords if kw.arg == "env"), None)
                names.add(text(env) if env is not None else "DATABASE_URL")
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" and text(node.slice):
            names.add(text(node.slice))
        elif isinstance(node, ast.Compare) and text(node.left) and ast.unparse(node.comparators[0]) == "os.environ":
            names.add(text(node.left))
    return names


ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example_entries() -> list[dict]:
    """Each ``NAME=value`` line of .env.example, active or commented out
    (``# NAME=value``: optional), with the line before it."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    entries = []
    for number, line in enumerate(lines):
        match = ASSIGNMENT.match(line.strip())
        if match:
            entries.append(
                {
                    "name": match[2],
                    "value": match[3],
                    "active": match[1] is None,
                    "line": number + 1,
                    "before": lines[number - 1].strip() if number else "",
                }
            )
    return entries


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(args.split())))
        pending = ""
    return instructions


def dockerfile_cmd() -> list[str]:
    cmds = [args for keyword, args in dockerfile_instructions() if keyword == "CMD"]
    assert cmds, "the Dockerfile has no CMD"
    return json.loads(cmds[-1])  # exec form only: gunicorn must be PID 1 to get SIGTERM


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A direct opener: no HTTP proxy from the environment gets between us and 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, headers: dict | None = None, timeout: float = 10):
    assert url.startswith("http://127.0.0.1:"), url
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The process environment of a production deployment: this shell's
    environment minus anything that configures the app or gunicorn, plus
    the deployment's own values."""
    configures = settings_env_vars() | {
        "WEB_CONCURRENCY",
        "GUNICORN_CMD_ARGS",
        "GUNICORN_THREADS",
        "FORWARDED_ALLOW_IPS",
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in configures and not key.startswith(("DJANGO_", "API_"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "test",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "WEB_CONCURRENCY": "1",
            "PYTHONUNBUFFERED": "1",
            # Counters and export slots of this server's own, in whatever cache it uses.
            "DJANGO_CACHE_KEY_PREFIX": f"deploy-{uuid.uuid4().hex[:12]}",
            **extra,
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log_path: Path):
    """Runs the Dockerfile's CMD (this venv's gunicorn, bound to a free port on
    127.0.0.1 instead of 0.0.0.0:8000); yields (base URL, port)."""
    cmd = dockerfile_cmd()
    assert cmd[0] == "gunicorn", cmd
    port = free_port()
    args = [f"127.0.0.1:{port}" if arg == "0.0.0.0:8000" else arg for arg in cmd[1:]]
    assert f"127.0.0.1:{port}" in args, f"no --bind 0.0.0.0:8000 to replace in {cmd}"
    assert GUNICORN.exists(), f"{GUNICORN} missing: gunicorn is pinned in requirements.txt"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(GUNICORN), *args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def log_text():
        return log_path.read_text(encoding="utf-8", errors="replace")

    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode} while starting:\n{log_text()}")
            try:
                fetch(base + "/healthz", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn not answering on {base} after {STARTUP_SECONDS} s:\n{log_text()}")
                time.sleep(0.2)
        yield base, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def compose_healthcheck(env: dict[str, str], port: int) -> None:
    """Runs docker-compose.yml's web healthcheck command against a server on
    ``port`` with the server's environment, as it runs inside the container."""
    script = compose()["services"]["web"]["healthcheck"]["test"][3]
    assert "127.0.0.1:8000" in script
    probe = subprocess.run(
        [sys.executable, "-c", script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")],
        env=env,
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert probe.returncode == 0, f"the compose healthcheck fails:\n{probe.stderr}"


@pytest.fixture
def pg_database():
    """A fresh, uniquely named PostgreSQL database, dropped afterwards; its URL."""
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {PG_SERVER} ({exc}); the production-path test needs it")
    name = f"tracker_deploy_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"{PG_SERVER}/{name}"
        finally:
            # FORCE: a worker's persistent connection must not keep it alive.
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ---------------------------------------------------------------- .env.example


def test_settings_parser_finds_the_variables():
    # Guards the completeness test below against a parser that finds nothing.
    names = settings_env_vars()
    assert {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"} <= names
    assert len(names) >= 15, names


def test_env_example_lists_every_variable_settings_reads():
    listed = {entry["name"] for entry in env_example_entries()}
    missing = sorted(settings_env_vars() - listed)
    assert not missing, f"tracker/settings.py reads {missing}; add them to .env.example with a comment"


def test_env_example_lists_every_variable_compose_interpolates():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    assert {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD"} <= interpolated
    listed = {entry["name"] for entry in env_example_entries()}
    assert not interpolated - listed, sorted(interpolated - listed)


def test_env_example_entries_are_documented_once():
    entries = env_example_entries()
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), f"listed twice: {sorted({n for n in names if names.count(n) > 1})}"
    for entry in entries:
        described = entry["before"].startswith("#") and not ASSIGNMENT.match(entry["before"])
        assert described, f".env.example line {entry['line']}: {entry['name']} needs a comment line right above it"


def test_env_example_holds_no_usable_secret():
    values = {entry["name"]: entry["value"] for entry in env_example_entries()}
    # Empty: compose's ${VAR:?} and the settings' check both refuse to start until someone sets a real one.
    assert values["DJANGO_SECRET_KEY"] == ""
    assert values["POSTGRES_PASSWORD"] == ""
    assert values["DJANGO_DEBUG"] == "0"


def _clear_app_env(monkeypatch):
    for name in settings_env_vars():
        monkeypatch.delenv(name, raising=False)


def test_env_example_values_are_accepted_by_settings(monkeypatch):
    """Executes tracker/settings.py afresh with the example's values: the
    active ones as shipped, then with every optional example switched on."""
    entries = env_example_entries()
    settings_names = settings_env_vars()

    _clear_app_env(monkeypatch)
    for entry in entries:
        if entry["active"] and entry["name"] in settings_names:
            monkeypatch.setenv(entry["name"], entry["value"])
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        runpy.run_path(str(SETTINGS_FILE))  # as shipped: no key, no start

    monkeypatch.setenv("DJANGO_SECRET_KEY", "example-key")
    shipped = runpy.run_path(str(SETTINGS_FILE))
    assert shipped["DEBUG"] is False
    assert shipped["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]

    for entry in entries:
        if entry["name"] in settings_names and entry["value"]:
            monkeypatch.setenv(entry["name"], entry["value"])
    everything = runpy.run_path(str(SETTINGS_FILE))
    assert everything["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert everything["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] > 0
    assert everything["SECURE_SSL_REDIRECT"] is True
    assert everything["SECURE_HSTS_SECONDS"] > 0
    assert everything["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert everything["CSRF_TRUSTED_ORIGINS"] == ["https://tracker.example.org"]


# ---------------------------------------------------------------- docker-compose.yml


def test_compose_wires_db_and_web():
    spec = compose()
    db, web = spec["services"]["db"], spec["services"]["web"]

    # PostgreSQL 15 with the rum extension (the search's RUM index, migration 0014).
    assert db["build"] == "deploy/postgres"
    postgres_dockerfile = (REPO / "deploy" / "postgres" / "Dockerfile").read_text()
    assert re.search(r"^FROM (docker\.io/library/)?postgres:15\b", postgres_dockerfile, re.MULTILINE)
    assert "postgresql-${PG_MAJOR}-rum" in postgres_dockerfile
    assert "POSTGRES_PASSWORD" in db["environment"]
    volume, _, target = db["volumes"][0].partition(":")
    assert volume in spec["volumes"], "the db volume must be a declared named volume"
    assert target == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])

    assert web["build"] == "."
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    command = web["command"] if isinstance(web["command"], str) else " ".join(web["command"])
    order = [command.find("manage.py migrate"), command.find("manage.py load_seeds"), command.find("gunicorn")]
    assert -1 not in order, f"want migrate, load_seeds and gunicorn: {command}"
    assert order == sorted(order), f"want migrate, load_seeds, gunicorn in that order: {command}"
    assert re.search(r"gunicorn tracker\.wsgi\b.*--bind[ =]0\.0\.0\.0:8000", command), command
    assert "--config gunicorn.conf.py" in command, "the one committed gunicorn configuration"
    assert " && " in command, "a failed migration must stop the start"
    # Only the buffering proxy is published; gunicorn is reached through it.
    assert "ports" not in web
    proxy = spec["services"]["proxy"]
    assert "8000:8000" in [str(port) for port in proxy["ports"]]
    assert proxy["image"].split(":")[0] == "nginx"
    assert "./deploy/nginx.conf.template:/etc/tracker/nginx.conf.template:ro" in proxy["volumes"]
    assert proxy["environment"]["UPSTREAM"] == "web:8000"
    assert web["environment"]["TRUSTED_PROXY_COUNT"] == "1"
    assert web["environment"]["REDIS_URL"].startswith("redis://redis:6379/")
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"

    environment = web["environment"]
    assert re.fullmatch(r"postgres(ql)?://[^@]+@db:5432/\w+", environment["DATABASE_URL"])
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", environment["DJANGO_SECRET_KEY"])
    assert "DJANGO_ALLOWED_HOSTS" in environment
    assert str(environment.get("DJANGO_DEBUG", "0")) in {"0", "false", "False"}

    healthcheck = web["healthcheck"]["test"]
    assert healthcheck[:3] == ["CMD", "python", "-c"], "slim has no curl: python's urllib"
    assert "urllib" in healthcheck[3]
    assert "/healthz" in healthcheck[3]


def test_compose_database_credentials_match():
    spec = compose()
    db_env = spec["services"]["db"]["environment"]
    url = spec["services"]["web"]["environment"]["DATABASE_URL"]
    user, password = re.match(r"postgres(?:ql)?://([^:]+):(.+)@db:5432/(\w+)$", url).group(1, 2)
    assert user == db_env["POSTGRES_USER"]
    assert password == db_env["POSTGRES_PASSWORD"]
    assert url.rsplit("/", 1)[1] == db_env["POSTGRES_DB"]


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_builds_the_production_image():
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]

    def index(predicate):
        return next(i for i, instruction in enumerate(instructions) if predicate(*instruction))

    assert instructions[0][0] == "FROM"
    assert instructions[0][1].startswith("python:3.11-slim")

    pip = index(lambda k, a: k == "RUN" and "pip install" in a and "-r requirements.txt" in a)
    copy_all = index(lambda k, a: k == "COPY" and a.split()[-2:] == [".", "."])
    assert pip < copy_all, "install requirements before copying the code, for the layer cache"

    collect = index(lambda k, a: k == "RUN" and "manage.py collectstatic --no-input" in a)
    assert copy_all < collect
    assert "DJANGO_SECRET_KEY=" in instructions[collect][1], "collectstatic needs a (dummy) key"
    for keyword, args in instructions:
        if keyword in {"ENV", "ARG"}:
            assert "DJANGO_SECRET_KEY" not in args, "the dummy key must not reach the runtime image"

    users = [i for i, keyword in enumerate(keywords) if keyword == "USER"]
    assert users, "run as a non-root user"
    assert instructions[users[-1]][1].split(":")[0] not in {"root", "0"}, "run as a non-root user"
    # The code stays root-owned and read-only to the app; collectstatic writes as root, before USER.
    assert collect < users[-1]
    assert "8000" in [args for keyword, args in instructions if keyword == "EXPOSE"]


def test_dockerfile_cmd_runs_gunicorn():
    cmd = dockerfile_cmd()
    assert cmd[:2] == ["gunicorn", "tracker.wsgi"]
    assert cmd[cmd.index("--config") + 1] == "gunicorn.conf.py"
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"
    # The worker count comes from WEB_CONCURRENCY, which gunicorn reads itself.
    assert not {"-w", "--workers"} & set(cmd)
    assert any(k == "ENV" and "WEB_CONCURRENCY=" in a for k, a in dockerfile_instructions())


def test_dockerignore_keeps_local_state_out():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip()[:1] not in {"", "#"}
    ]
    for needed in [".venv", "db.sqlite3", ".git", ".env", ".pytest_cache", ".ruff_cache", "test-artifacts"]:
        assert needed in patterns, f"{needed} belongs in .dockerignore"
    assert any("__pycache__" in pattern for pattern in patterns)
    assert "!.env.example" in patterns or ".env.*" not in patterns
    # What the image needs stays in the context.
    for kept in ["requirements.txt", "manage.py", "tracker", "proposals", "seeds", "*", "**"]:
        assert kept not in patterns, f"{kept} is needed in the image"


# ---------------------------------------------------------------- the production path, for real


@pytest.mark.slow
def test_production_path_on_postgresql(pg_database, tmp_path):
    env = app_env(pg_database, DJANGO_STATIC_ROOT=str(tmp_path / "static"))
    manage(env, "migrate", "--no-input")
    # docker-compose.yml runs it on every start: a second run (a restart) must succeed too.
    manage(env, "load_seeds")
    manage(env, "load_seeds")
    manage(env, "collectstatic", "--no-input")  # as in the image, into a folder of this test's own
    assert (tmp_path / "static" / "staticfiles.json").is_file()

    with gunicorn(env, tmp_path / "gunicorn.log") as (base, port):
        status, _, body = fetch(base + "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})

        status, _, body = fetch(base + "/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})

        # The migrated, seeded database answers through the API.
        status, _, body = fetch(base + "/api/v1/proposals/", headers={"Accept": "application/json"})
        assert status == 200, body[:500]
        assert json.loads(body)["count"] > 0

        status, headers, body = fetch(base + "/admin/login/")
        assert status == 200
        assert headers.get_content_type() == "text/html"
        html = body.decode()
        match = re.search(r"/static/admin/css/base\.[0-9a-f]{12}\.css", html)
        assert match, "the admin must link the hashed (manifest) stylesheet"

        status, headers, css = fetch(base + match[0])
        assert status == 200
        assert headers.get_content_type() == "text/css"
        assert b"body" in css
        assert "immutable" in headers.get("Cache-Control", ""), "WhiteNoise caches hashed files forever"

        status, headers, _ = fetch(base + match[0], headers={"Accept-Encoding": "gzip"})
        assert (status, headers.get("Content-Encoding")) == (200, "gzip"), "compressed copies are served"

        # Debug really is off, and the host check is on.
        status, _, body = fetch(base + "/no-such-page/")
        assert status == 404
        assert b"URLconf" not in body, "debug 404 page"
        assert b"Traceback" not in body
        status, _, _ = fetch(base + "/healthz", headers={"Host": "evil.example"})
        assert status == 400

        compose_healthcheck(env, port)


@pytest.mark.slow
def test_readyz_503_when_database_unreachable(tmp_path):
    # Nothing listens on that port: connections are refused at once.
    env = app_env(
        f"postgresql://postgres@127.0.0.1:{free_port()}/tracker",
        DJANGO_DB_CONNECT_TIMEOUT="2",
        # Only a domain wildcard: the compose healthcheck must send a Host it allows.
        DJANGO_ALLOWED_HOSTS=".tracker.example",
    )
    host = {"Host": "api.tracker.example"}
    with gunicorn(env, tmp_path / "gunicorn.log") as (base, port):
        status, _, body = fetch(base + "/healthz", headers=host)
        assert (status, json.loads(body)) == (200, {"status": "ok"}), "liveness must not depend on the database"

        started = time.monotonic()
        status, headers, body = fetch(base + "/readyz", headers=host)
        assert status == 503
        assert headers.get_content_type() == "application/problem+json"
        problem = json.loads(body)
        assert problem["status"] == 503
        assert "database" in problem["detail"].lower()
        assert time.monotonic() - started < 8, "the connect timeout must keep /readyz quick"

        # The container stays healthy through a database outage: no restart loop.
        compose_healthcheck(env, port)


# ---------------------------------------------------------------- gunicorn.conf.py and the proxy


GUNICORN_CONF = REPO / "gunicorn.conf.py"


def _gunicorn_conf(monkeypatch, **env) -> dict:
    for name in ("TRUSTED_PROXY_COUNT", "FORWARDED_ALLOW_IPS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_config_does_not_hold_a_worker_per_connection(monkeypatch):
    conf = _gunicorn_conf(monkeypatch)
    assert conf["worker_class"] == "gthread"
    assert conf["threads"] >= 4
    assert conf["timeout"] <= 30
    # Long filter URLs: gunicorn's maximum, nginx in front refuses longer ones with a JSON 414.
    assert conf["limit_request_line"] == 8190


def test_gunicorn_trusts_forwarded_headers_only_from_declared_proxies(monkeypatch):
    # gunicorn's own default trusts loopback whatever the deployment says.
    assert _gunicorn_conf(monkeypatch)["forwarded_allow_ips"] == ""
    assert _gunicorn_conf(monkeypatch, TRUSTED_PROXY_COUNT="0")["forwarded_allow_ips"] == ""
    assert _gunicorn_conf(monkeypatch, TRUSTED_PROXY_COUNT="1")["forwarded_allow_ips"] == "127.0.0.1,::1"
    conf = _gunicorn_conf(monkeypatch, TRUSTED_PROXY_COUNT="1", FORWARDED_ALLOW_IPS="10.0.0.5")
    assert conf["forwarded_allow_ips"] == "10.0.0.5"


def test_every_gunicorn_start_uses_the_one_config_file():
    assert "--config gunicorn.conf.py" in " ".join(dockerfile_cmd())
    assert '"--config",\n        "gunicorn.conf.py"' in (REPO / "bench" / "run.py").read_text()
    assert '"-c", "gunicorn.conf.py"' in (REPO / "deploy" / "prod.py").read_text()


@pytest.mark.slow
def test_readyz_503_on_an_unmigrated_database(pg_database, tmp_path):
    """A database recreated empty answers SELECT 1; /readyz must still say
    not ready, since every API call would fail."""
    env = app_env(pg_database)
    with gunicorn(env, tmp_path / "gunicorn.log") as (base, _):
        status, headers, body = fetch(base + "/readyz")
        assert status == 503, body
        assert headers.get_content_type() == "application/problem+json"
        assert "not migrated" in json.loads(body)["detail"]
        assert fetch(base + "/healthz")[0] == 200


def test_a_gunicorn_worker_accepts_twice_its_threads_so_the_spare_one_can_refuse_the_rest(monkeypatch):
    conf = _gunicorn_conf(monkeypatch, GUNICORN_THREADS="6")
    assert conf["threads"] == 6
    assert conf["worker_connections"] == 12
