"""``make prod``: the production stack on this machine, without Docker.

nginx on ``HOST:PORT`` (default 127.0.0.1:8000) buffering in front of
gunicorn (``gunicorn.conf.py``) on a free loopback port, against
``DATABASE_URL``, debug off: the same pair docker-compose.yml runs. Before
starting it applies migrations and collects static files (``--no-setup``
skips both). Ctrl-C (SIGINT) or
SIGTERM stops nginx gracefully, then gunicorn, and exits 0; if either dies
the other is stopped and the exit status is 1.

Needs DJANGO_SECRET_KEY and nginx (Debian: ``apt-get install nginx``).
TRUSTED_PROXY_COUNT defaults to 1 here: nginx is the one proxy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
START_SECONDS = 30
STOP_SECONDS = 25


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address nginx listens on")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="port nginx listens on")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx", help="nginx binary")
    parser.add_argument("--no-setup", action="store_true", help="skip migrate and collectstatic")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(f"[prod] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_nginx(run_dir: Path, listen: str, upstream: str) -> Path:
    """Fill the template's ${NAME}s (only those: nginx's $variables stay)."""
    max_body = os.environ.get("DJANGO_MAX_BODY_BYTES", str(1024 * 1024))
    values = {
        "RUN_DIR": str(run_dir),
        "LISTEN": listen,
        "UPSTREAM": upstream,
        "MAX_BODY_BYTES": max_body,
        # As root nginx would drop its workers to "nobody"; Debian's package makes www-data.
        "USER_DIRECTIVE": "user www-data;" if os.geteuid() == 0 else "",
    }
    conf = run_dir / "nginx.conf"
    conf.write_text(string.Template(TEMPLATE.read_text()).safe_substitute(values))
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / name).mkdir()
        if os.geteuid() == 0:
            shutil.chown(run_dir / name, "www-data", "www-data")
    run_dir.chmod(0o755)
    return conf


def wait_until_up(url: str, processes: list[subprocess.Popen]) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a server exited while starting (its log is above)")
        try:
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {START_SECONDS} s")


def stop(process: subprocess.Popen, sig: int, name: str) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in {STOP_SECONDS} s; killing it")
            process.kill()
            process.wait(timeout=5)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not Path(args.nginx).exists():
        sys.exit(f"nginx not found at {args.nginx}: apt-get install nginx (see README)")
    env = {**os.environ, "DJANGO_DEBUG": "0", "PYTHONUNBUFFERED": "1"}
    env.setdefault("TRUSTED_PROXY_COUNT", "1")

    if not args.no_setup:
        steps = [["migrate", "--no-input"], ["collectstatic", "--no-input", "-v0"]]
        for number, step in enumerate(steps, 1):
            say(f"[{number}/{len(steps)}] manage.py {' '.join(step)}")
            subprocess.run([PYTHON, "manage.py", *step], cwd=ROOT, env=env, check=True)

    app_port = free_port()
    run_dir = Path(tempfile.mkdtemp(prefix="tracker-prod-"))
    conf = render_nginx(run_dir, f"{args.host}:{args.port}", f"127.0.0.1:{app_port}")
    subprocess.run([args.nginx, "-t", "-q", "-p", str(run_dir), "-e", "stderr", "-c", str(conf)], check=True)

    stopping = {"signal": None}

    def on_signal(signum, frame):
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    # Own sessions: a terminal's Ctrl-C reaches only this script, which then
    # stops the two in order (nginx first, so no request reaches a closing app).
    gunicorn = subprocess.Popen(
        [GUNICORN, "tracker.wsgi", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{app_port}",
         "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    nginx = subprocess.Popen(
        [args.nginx, "-p", str(run_dir), "-e", "stderr", "-c", str(conf), "-g", "daemon off;"],
        cwd=run_dir, start_new_session=True,
    )  # fmt: skip
    status = 0
    try:
        wait_until_up(f"http://{args.host}:{args.port}/healthz", [gunicorn, nginx])
        say(f"up: http://{args.host}:{args.port}/ (nginx) -> gunicorn on 127.0.0.1:{app_port}; Ctrl-C stops")
        while stopping["signal"] is None:
            if gunicorn.poll() is not None or nginx.poll() is not None:
                say("a server exited by itself; stopping the other")
                status = 1
                break
            time.sleep(0.2)
    except RuntimeError as exc:
        say(str(exc))
        status = 1
    finally:
        stop(nginx, signal.SIGQUIT, "nginx")  # graceful: finish requests in flight
        stop(gunicorn, signal.SIGTERM, "gunicorn")  # graceful within graceful_timeout
        shutil.rmtree(run_dir, ignore_errors=True)
        say(f"stopped (nginx {nginx.returncode}, gunicorn {gunicorn.returncode}); exit {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
