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
