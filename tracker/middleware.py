"""Request guards that must hold whatever parser later reads the body, and
response headers the framework does not set itself."""

import io

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
