"""Request guards that must hold whatever parser later reads the body."""

from django.conf import settings

from proposals.api.errors import PROBLEM_CONTENT_TYPE, problem


class BodySizeLimitMiddleware:
    """Refuse API bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413.

    Django enforces that cap only when code reads ``request.body``; DRF's
    parsers read the stream directly and would accept any size. Checking
    the declared length here covers every parser, and a body without a
    declared length is read no further than the cap plus one byte.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and request.method in ("POST", "PUT", "PATCH"):
            cap = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > cap:
                return self._too_large(cap)
        return self.get_response(request)

    @staticmethod
    def _too_large(cap):
        from django.http import JsonResponse

        return JsonResponse(
            problem(413, f"The request body is larger than the {cap}-byte limit."),
            status=413,
            content_type=PROBLEM_CONTENT_TYPE,
        )


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


class ApiOptionalSlashMiddleware:
    """Serve every API URL with or without its trailing slash; never redirect.

    Django's ``APPEND_SLASH`` answers ``POST /api/v1/topics`` with a 301 (or,
    with ``DEBUG`` on, a 500 page). HTTP clients follow a 301 with a ``GET``
    (RFC 9110 §15.4.2 allows it, and curl, requests and browsers do), so the
    client saw the list, 200, and its write was silently lost. Here, a path
    under ``/api/`` that matches no route but does with a ``/`` appended is
    served as that route, internally, for every method: a write to
    ``/api/v1/proposals/{slug}`` works as it does on ``.../{slug}/``. URLs
    the API builds (``url``, ``next``, ``Location``) keep the slash. Runs
    before ``CommonMiddleware``, which then finds the path valid.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if _is_api(request) and not path.endswith("/"):
            from django.urls import is_valid_path

            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(path, urlconf) and is_valid_path(f"{path}/", urlconf):
                request.path_info = f"{path}/"
                request.path = f"{request.path}/"
        return self.get_response(request)


class ApiProblemMiddleware:
    """Every error under ``/api/`` is RFC 9457 problem JSON, debug on or off.

    DRF's exception handler and ``handler404``/``handler500`` cover the
    views and a production server. What they miss is HTML from Django
    itself: with ``DEBUG`` on, an unknown URL gets the technical 404 page
    (13 KB of HTML) and a crash the technical 500 page, and the CSRF check
    answers 403 in HTML. Such a response (a 4xx or 5xx that is not DRF's
    and not JSON) is replaced by a problem of the same status; the
    traceback of a 500 is still logged by Django (``django.request``). The
    browsable API's own HTML error pages (DRF responses) are kept.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not _is_api(request):
            return response
        from rest_framework.response import Response

        content_type = response.get("Content-Type", "")
        if isinstance(response, Response) or "json" in content_type:
            return response
        from http import HTTPStatus

        from django.http import JsonResponse

        try:
            detail = HTTPStatus(response.status_code).description
        except ValueError:
            return response  # a code problem() cannot name; none of Django's
        replacement = JsonResponse(
            problem(response.status_code, detail), status=response.status_code, content_type=PROBLEM_CONTENT_TYPE
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement
