"""Liveness and readiness probes for load balancers and orchestrators."""

from django.db import connection
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    """The process is up and serving. Touches no database, so a database
    outage does not get healthy workers restarted."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """The process can reach its database (``SELECT 1``); 503 when it cannot."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse(
            {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": f"The database is unreachable: {exc.__class__.__name__}.",
            },
            status=503,
            content_type="application/problem+json",
        )
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
