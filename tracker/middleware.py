"""Request guards that must hold whatever parser later reads the body,
response headers the framework does not set itself, and the API's own
answers where Django would send HTML or a redirect."""

import io
import time

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream

from proposals.api.errors import PROBLEM_CONTENT_TYPE, problem


class BodySizeLimitMiddleware:
    """Refuse API bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413, and
    read chunked bodies instead of dropping them.

    Django enforces that cap only when code reads ``request.body``; DRF's
    parsers read the stream directly and would accept any size. Checking
    the declared length here covers every parser.

    A body sent with ``Transfer-Encoding: chunked`` (RFC 9112 section 7.1)
    has no ``Content-Length``, and Django, seeing none, reads it as empty:
    a valid JSON body became "slug: This field is required". When the WSGI
    server de-chunks the body and marks its end (``wsgi.input_terminated``,
    as gunicorn does), it is read here, no further than the cap plus one
    byte (413 past the cap), and handed on with its real length. Under a
    server that does not, the request is refused with 411 Length Required
    (RFC 9110 section 15.5.12) rather than silently emptied.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            cap = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
                refused = self._read_chunked(request, cap)
                if refused is not None:
                    return refused
            elif request.path.startswith("/api/"):
                try:
                    declared = int(request.META.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    declared = 0
                if declared > cap:
                    return self._refuse(413, f"The request body is larger than the {cap}-byte limit.")
        return self.get_response(request)

    def _read_chunked(self, request, cap):
        if not request.META.get("wsgi.input_terminated"):
            return self._refuse(411, "Send the body with a Content-Length header; chunked bodies are not accepted.")
        stream, parts, size = request.META["wsgi.input"], [], 0
        while size <= cap:
            part = stream.read(min(64 * 1024, cap + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        if size > cap:
            return self._refuse(413, f"The request body is larger than the {cap}-byte limit.")
        body = b"".join(parts)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None

    @staticmethod
    def _refuse(status, detail):
        from django.http import JsonResponse

        return JsonResponse(problem(status, detail), status=status, content_type=PROBLEM_CONTENT_TYPE)


#: The strictest policy the admin and DRF's browsable API work under: every
#: script and stylesheet from this server, no inline script, no plugins, no
#: framing, forms posting only here. Inline styles stay allowed: both use
#: ``style=`` attributes. (OWASP Content Security Policy Cheat Sheet.)
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Adds ``STRICT_CSP`` to HTML pages of the admin and the browsable API
    (``/admin/``, ``/api/v1/``) unless the view set its own (the API docs
    pages need a looser one, tracker/urls.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(("/admin/", "/api/"))
            and response.get("Content-Type", "").startswith("text/html")
            and "Content-Security-Policy" not in response
        ):
            response["Content-Security-Policy"] = STRICT_CSP
        return response


def _is_api(request) -> bool:
    return request.path_info == "/api" or request.path_info.startswith("/api/")


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

    def process_exception(self, request, exception):
        """A request Django itself finds suspicious (over
        ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` parameters, a malformed multipart
        body...) is the client's 400, said plainly. With ``DEBUG`` on,
        Django's technical page for it re-read the same request and
        crashed (a text/plain 500)."""
        from django.core.exceptions import SuspiciousOperation

        if not _is_api(request) or not isinstance(exception, SuspiciousOperation):
            return None
        from django.http import JsonResponse

        return JsonResponse(problem(400, str(exception)), status=400, content_type=PROBLEM_CONTENT_TYPE)


class ConcurrencyGuardMiddleware:
    """Keeps a worker thread free for the liveness probe.

    Under gunicorn's gthread worker each request holds one of the worker's
    threads while it waits: on a database that never answers (the connect
    timeout) or that froze with connections open (no bound at all), every
    thread ended up waiting and ``/healthz`` queued behind them (a hostile
    review measured 2–4 s, and 504s until the database came back), so a
    liveness probe would kill a healthy process.

    Here at most ``APP_MAX_CONCURRENT_REQUESTS`` requests per process run at
    once (the threads less two). A request that finds no free place within
    ``APP_QUEUE_WAIT_SECONDS`` gets 503 with ``Retry-After`` at once (problem
    JSON under ``/api/``) instead of waiting for a thread. ``/healthz``
    bypasses the guard, so it always has the spare thread; ``/readyz`` does
    not, so a saturated process reports itself not ready.
    """

    EXEMPT = ("/healthz",)

    #: A place held this long means requests are stuck, not busy: then a
    #: request that finds no place is refused at once rather than waiting,
    #: so the spare threads stay free for /healthz.
    STUCK_SECONDS = 0.5

    def __init__(self, get_response):
        import threading

        self.get_response = get_response
        self.places = threading.BoundedSemaphore(max(1, settings.APP_MAX_CONCURRENT_REQUESTS))
        self.lock = threading.Lock()
        self.started: dict[int, float] = {}

    def __call__(self, request):
        if request.path_info.rstrip("/") in self.EXEMPT:
            return self.get_response(request)
        if not self._take_place():
            return self._busy(request)
        token = id(request)
        with self.lock:
            self.started[token] = time.monotonic()
        try:
            return self.get_response(request)
        finally:
            with self.lock:
                self.started.pop(token, None)
            self.places.release()

    def _take_place(self) -> bool:
        """A place now; else, unless the holders look stuck, one within
        ``APP_QUEUE_WAIT_SECONDS`` (a burst of fast requests frees one)."""
        if self.places.acquire(blocking=False):
            return True
        wait = settings.APP_QUEUE_WAIT_SECONDS
        if wait <= 0 or self._stuck():
            return False
        return self.places.acquire(timeout=wait)

    def _stuck(self) -> bool:
        with self.lock:
            oldest = min(self.started.values(), default=None)
        return oldest is not None and time.monotonic() - oldest > self.STUCK_SECONDS

    @staticmethod
    def _busy(request):
        from django.http import HttpResponse, JsonResponse

        detail = "The server is busy with slow requests. Try again shortly."
        if _is_api(request):
            response = JsonResponse(problem(503, detail), status=503, content_type=PROBLEM_CONTENT_TYPE)
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "2"
        return response
