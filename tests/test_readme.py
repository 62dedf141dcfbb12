"""Every command README.md shows runs as printed (issue item 12).

The shell examples are read out of the README's ``sh`` blocks. The ``curl``
examples run against a live ``make run`` (migrate, seed corpus, runserver)
on a free port with a throw-away SQLite database, from a shell that has no
``DJANGO_SECRET_KEY``, as a newcomer's would. ``make superuser`` and
``make token`` run for real against the same database; the other ``make``
commands are checked to exist (``make -n``) rather than run, since they
are this suite or CI itself. A line the test does not know how to check
fails it, so a new example cannot go unchecked.
"""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEFAULT_ORIGIN = "http://127.0.0.1:8000"
PORTS = range(18300, 18400)
START_TIMEOUT = 90  # seconds for migrate + load_seeds + runserver on a slow machine
COMMAND_TIMEOUT = 60

# Commands that are this suite or CI itself: checked to exist, not run.
# `make prod` runs for real in tests/test_prod_stack.py (nginx + gunicorn, Ctrl-C).
DRY_RUN_ONLY = re.compile(r"^(?:DATABASE_URL=\S+ )?make (?:run|test|lint|schema|prod)$")


def readme_commands() -> list[str]:
    """The commands in README.md's ``sh`` blocks, comments stripped."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 18300-18399")


@pytest.fixture(scope="module")
def newcomer_env(tmp_path_factory):
    """A shell like a newcomer's: no secret key, no debug flag set, a fresh
    database and development key file of its own."""
    home = tmp_path_factory.mktemp("readme")
    # Nothing from this run's environment: no Django settings, and no state of
    # the `make test` this suite may run under (MAKEFLAGS etc.).
    dropped = {"DATABASE_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k not in dropped}
    env.update(
        DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}",
        DEV_KEY_FILE=str(home / "dev-secret-key"),
        PYTHONUNBUFFERED="1",
    )
    return env, home


@pytest.fixture(scope="module")
def make_run_server(newcomer_env):
    env, home = newcomer_env
    port = free_port()
    log = (home / "run.log").open("w")
    # Its own process group, so the autoreloader's child is stopped with it.
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"make run exited with {process.returncode}:\n{(home / 'run.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{origin}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"make run did not answer within {START_TIMEOUT}s:\n{(home / 'run.log').read_text()}")
            time.sleep(0.5)
        yield origin
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def run(command: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )


def test_the_readme_has_examples_of_every_kind():
    commands = readme_commands()
    assert any(c.startswith("curl ") for c in commands)
    assert "make superuser" in commands
    assert any(c.startswith("make token ") for c in commands)


@pytest.mark.slow
def test_every_readme_command_runs_as_printed(make_run_server, newcomer_env, tmp_path):
    env, home = newcomer_env
    env = {**env, "PATH": f"{ROOT / '.venv' / 'bin'}:{env['PATH']}"}
    env_superuser = {
        **env,
        "DJANGO_SUPERUSER_USERNAME": "newcomer",
        "DJANGO_SUPERUSER_PASSWORD": "pw-newcomer-1",
        "DJANGO_SUPERUSER_EMAIL": "newcomer@example.org",
    }
    unchecked = []
    for command in readme_commands():
        if DRY_RUN_ONLY.match(command):
            result = run(command.replace("make ", "make -n ", 1), env, ROOT)
            assert result.returncode == 0, (command, result.stderr)
        elif command == "make superuser":
            # Interactive as printed; --noinput reads the same answers from DJANGO_SUPERUSER_*.
            result = run("make superuser ARGS=--noinput", env_superuser, ROOT)
            assert result.returncode == 0, (command, result.stdout, result.stderr)
        elif command.startswith("make token "):
            result = run(command.replace("USERNAME", "newcomer"), env, ROOT)
            assert result.returncode == 0, (command, result.stdout, result.stderr)
            assert re.fullmatch(r"[0-9a-f]{64}\n", result.stdout), result.stdout  # the token alone
        elif command.startswith("curl "):
            result = run(command.replace(DEFAULT_ORIGIN, make_run_server), env, tmp_path)
            assert result.returncode == 0, (command, result.stderr)
            redirect = re.search(r">\s*(\S+)$", command)
            output = (tmp_path / redirect.group(1)).read_text() if redirect else result.stdout
            assert output.strip(), f"{command} printed nothing"
            if "format=csv" in command:
                assert output.startswith("\ufeffslug,title,status"), output[:200]  # UTF-8 BOM first, for Excel
                assert len(output.splitlines()) > 1, command
            else:
                body = json.loads(output)
                assert body.get("slug") or body.get("count", 0) >= 1, (command, output[:300])
        elif command == "bash .ci/run":
            assert os.access(ROOT / ".ci" / "run", os.R_OK)
        else:
            unchecked.append(command)
    assert unchecked == [], f"README commands this test cannot check: {[shlex.quote(c) for c in unchecked]}"


def test_make_run_prints_only_commands_the_readme_shows_and_checks():
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nrun:", 1)[1].split("\n\n", 1)[0]
    printed = [m.strip() for m in re.findall(r"@echo \".*?:\s+(make [^\"]+)\"", recipe)]
    assert printed, recipe
    assert "manage.py" not in "".join(re.findall(r"@echo \"(.*)\"", recipe))
    shown = readme_commands()
    for command in printed:
        assert command.replace("<username>", "USERNAME") in shown, command


@pytest.mark.slow
def test_the_development_key_is_kept_and_never_used_with_debug_off(make_run_server, newcomer_env):
    env, _home = newcomer_env
    key_file = Path(env["DEV_KEY_FILE"])
    key = key_file.read_text()
    assert len(key.strip()) >= 50
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    result = run("DJANGO_DEBUG=0 make -s token FOR=newcomer", env, ROOT)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    run("make -s token FOR=nobody", env, ROOT)  # a second command, like a restart: same key
    assert key_file.read_text() == key
