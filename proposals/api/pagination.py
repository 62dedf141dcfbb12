"""Page-number pagination with a documented hard cap on page size."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_PAGE_SIZE = 200


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M``: 50 a page by default; ``page_size`` above
    200 is capped at 200 (not an error), so a client can always ask for
    "as many as allowed"."""

    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = f"Items per page: 50 by default, at most {MAX_PAGE_SIZE} (larger values are capped)."
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["Must be a positive whole number."]})
        return min(size, self.max_page_size)

    def get_page_number(self, request, paginator):
        # A malformed ``page`` is a 400 naming it, like every other parameter;
        # DRF's default answered 404 "Invalid page." for ``page=abc`` or
        # ``page=0``. A well-formed page past the end is still a 404.
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "", *self.last_page_strings) and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_query_param: ["Must be a positive whole number, or 'last'."]})
        return super().get_page_number(request, paginator)
