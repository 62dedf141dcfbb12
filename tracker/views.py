"""Liveness and readiness probes for load balancers and orchestrators."""

import functools

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.utils import DatabaseError, OperationalError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    """The process is up and serving. Touches no database, so a database
    outage does not get healthy workers restarted."""
    return JsonResponse({"status": "ok"})


@functools.cache
def _latest_migrations() -> frozenset[tuple[str, str]]:
    """The (app, name) leaf of every app's migration graph, read from disk
    once per process: a database holding all of them is migrated."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())


def _unavailable(detail: str):
    return JsonResponse(
        {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": detail},
        status=503,
        content_type="application/problem+json",
        headers={"Retry-After": "5"},
    )


@never_cache
@require_safe
def readyz(request):
    """The process can serve API requests: its database answers and holds
    every migration this code ships (one query against
    ``django_migrations``). 503 problem JSON otherwise, naming which: a
    database recreated empty answers ``SELECT 1`` yet fails every API call."""
    latest = _latest_migrations()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = set(cursor.fetchall())
    except OperationalError as exc:
        if "no such table" in str(exc):  # SQLite's word for a missing table
            return _unavailable("The database is not migrated: no django_migrations table.")
        return _unavailable(f"The database is unreachable: {exc.__class__.__name__}.")
    except DatabaseError as exc:  # e.g. ProgrammingError: no django_migrations table
        return _unavailable(f"The database is not migrated: {exc.__class__.__name__}.")
    missing = sorted(f"{app}.{name}" for app, name in latest - applied)
    if missing:
        return _unavailable(f"The database is not migrated: missing {', '.join(missing[:5])}.")
    return JsonResponse({"status": "ok", "database": "ok"})


def _api_or(default_view, status_code):
    """Errors outside DRF (an unknown URL, a crash) keep the API's JSON
    error format under /api/, and Django's pages elsewhere."""
    from proposals.api.errors import json_error_view

    api_view = json_error_view(status_code)

    def view(request, *args, **kwargs):
        if request.path.startswith("/api/"):
            return api_view(request)
        return default_view(request, *args, **kwargs)

    return view


def _handlers():
    from django.views import defaults

    return {
        "handler400": _api_or(defaults.bad_request, 400),
        "handler403": _api_or(defaults.permission_denied, 403),
        "handler404": _api_or(defaults.page_not_found, 404),
        "handler500": _api_or(defaults.server_error, 500),
    }


handlers = _handlers()
