"""The settings module under the environments it documents (.env.example).

Each case runs ``manage.py`` in a fresh subprocess with an explicit
environment, because settings are read once at import: the test process's
own settings (and its DJANGO_* variables) must not leak into the case.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
MANAGE = str(BASE_DIR / "manage.py")

# Everything settings.py reads; stripped from the inherited environment so a
# developer's shell (or CI) cannot change what a case tests.
SETTINGS_VARS_PREFIXES = ("DJANGO_", "API_", "DATABASE_URL")

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # 67 characters, random per run
    "DJANGO_ALLOWED_HOSTS": "tracker.example.org",
    "DJANGO_SECURE": "1",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def _env(**overrides) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(SETTINGS_VARS_PREFIXES)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(overrides)
    return env


def manage(*args, **env_overrides) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        cwd=BASE_DIR,
        env=_env(**env_overrides),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_json(code: str, **env_overrides) -> dict:
    """Evaluate ``code`` (an expression over ``settings``) in a fresh process."""
    result = manage(
        "shell",
        "--no-startup",
        "-c",
        f"import json; from django.conf import settings; print(json.dumps({code}, default=str))",
        **env_overrides,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_environment_passes_deploy_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_production_environment_security_settings():
    """What the deploy check cannot see: the values themselves."""
    values = settings_json(
        "{k: getattr(settings, k) for k in ["
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER', "
        "'X_FRAME_OPTIONS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_REFERRER_POLICY', 'ALLOWED_HOSTS']}",
        **PRODUCTION_ENV,
    )
    assert values == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "ALLOWED_HOSTS": ["tracker.example.org"],
    }


@pytest.mark.parametrize("debug", [None, "0"], ids=["debug-unset", "debug-0"])
def test_missing_secret_key_with_debug_off_refuses_to_start(debug):
    overrides = {} if debug is None else {"DJANGO_DEBUG": debug}
    result = manage("check", **overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_empty_secret_key_counts_as_missing():
    result = manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_is_off_by_default():
    assert settings_json("settings.DEBUG", DJANGO_SECRET_KEY="x") is False


def test_debug_on_without_secret_key_gets_a_random_one():
    assert settings_json("len(settings.SECRET_KEY)", DJANGO_DEBUG="1") >= 50


def test_database_url_unset_uses_sqlite_in_the_project_folder():
    db = settings_json("settings.DATABASES['default']", DJANGO_SECRET_KEY="x")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(db["NAME"]) == BASE_DIR / "db.sqlite3"


def test_postgres_database_url_uses_postgresql_with_health_checks():
    db = settings_json(
        "settings.DATABASES['default']",
        DJANGO_SECRET_KEY="x",
        DATABASE_URL="postgres://tracker:pw@db.internal:6543/trackerdb",
        DJANGO_CONN_MAX_AGE="600",
        DJANGO_DB_CONNECT_TIMEOUT="2",
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["HOST"], db["PORT"]) == ("trackerdb", "tracker", "db.internal", 6543)
    assert db["CONN_HEALTH_CHECKS"] is True
    assert db["CONN_MAX_AGE"] == 600
    assert db["OPTIONS"]["connect_timeout"] == 2
