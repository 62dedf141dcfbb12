"""Conditional GETs of the proposal list answered before the rest of the
stack: sessions, CSRF, authentication, messages and DRF have nothing to add
to a 304 for a public JSON list (``stored.early_list_not_modified`` decides;
anything else passes through untouched). Placed after the security, CORS,
problem-JSON, concurrency-guard, optional-slash and body-size middleware,
so a 304 still carries their headers and counts against the guard."""

from django.urls import reverse

from . import stored


class ListNotModifiedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._path = None

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.META.get("HTTP_IF_NONE_MATCH"):
            if self._path is None:
                self._path = reverse("proposal-list")
            if request.path_info == self._path and stored.stored_path_applies():
                request._list_not_modified_checked = True
                response = stored.early_list_not_modified(request)
                if response is not None:
                    return response
        return self.get_response(request)
