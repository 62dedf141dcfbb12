"""Pagination: page numbers with a bounded count, and a keyset cursor for
clients that walk or sync the whole collection.

At a million rows two things in DRF's default pagination get expensive:
``COUNT(*)`` over every match on every page, and ``OFFSET`` that makes the
database read and discard every row before a deep page. Counts here stop at
``COUNT_CAP`` (``count_capped`` says so), and the cursor mode seeks straight
to its position through the ``(updated_at, id)`` index, so its deepest page
costs what its first does.
"""

import base64
import binascii
import datetime as dt
from collections import OrderedDict

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from ..representations.stored import cached_count
from .filters import MAX_ID

MAX_PAGE_SIZE = 200
#: Annotations computed per row (see ProposalQuerySet.with_list_related).
PER_ROW_COLUMNS = {"proponent_rows", "topic_rows"}
#: Counts stop here: beyond it, ``count`` is this number and ``count_capped`` is true.
COUNT_CAP = 10_000


def _wide(query) -> bool:
    """Whether a page's rows are costly to read and skip: per-row JSON
    subqueries, or the stored list rows."""
    return bool(query.annotations.keys() & PER_ROW_COLUMNS) or "list_json" in query.values_select


class CappedCountPaginator(Paginator):
    @cached_property
    def count(self):
        # COUNT over a LIMITed subquery: the database stops after COUNT_CAP + 1
        # rows. values("pk") keeps the per-row JSON columns out of it, and
        # order_by() the sort (a search would rank every match just to count).
        # The stored list path keys it by the change sequence and the filters
        # (proposals/representations/stored.py), so a page reads it from the cache.
        cap = COUNT_CAP
        return cached_count(self.object_list, lambda: self.object_list.values("pk").order_by()[: cap + 1].count(), cap)

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP

    def page(self, number):
        sequence = getattr(self.object_list, "_list_sequence", None)
        if sequence is None:
            page = super().page(number)
            page.object_list = self._window(page.object_list, deep=page.start_index() > 1)
            return page
        # The stored list path: rows before the count, because the rows
        # carry the change sequence the count is cached under
        # (stored.ListSequence), so page 1 is one query, not two. A number
        # past the last page still gets EmptyPage, from the count.
        number = self._positive(number)
        bottom = (number - 1) * self.per_page
        rows = self._window(self.object_list[bottom : bottom + self.per_page], deep=bottom > 0, sequence=sequence)
        sequence.note(rows)
        if not rows and sequence.value is None:
            # No row carried the sequence: read it, then the rows again, so
            # the tag is never newer than the rows it is sent with.
            sequence.get()
            rows = self._window(self.object_list[bottom : bottom + self.per_page], deep=bottom > 0)
        number = self.validate_number(number)
        # Not past the capped count, as Paginator.page slices: the last page
        # ends at the COUNT_CAP + 1-th match, whatever lies beyond.
        return self._get_page(rows[: max(0, self.count - bottom)], number, self)

    def _positive(self, number) -> int:
        """``validate_number`` without the upper bound (which needs the count)."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if number > -(-(COUNT_CAP + 1) // self.per_page):
            # Past any count this paginator can give: no OFFSET beyond it
            # reaches the database (a 20-digit page overflowed bigint).
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def _window(self, window, *, deep: bool, sequence=None) -> list:
        if deep and hasattr(window, "query") and _wide(window.query):
            # Two steps: find the page's ids, then load just those rows. With a
            # plain OFFSET the per-row JSON subqueries also ran for every
            # skipped row (measured: page 180 took 24x as long as page 1).
            if sequence is not None:
                # The sequence comes with the ids, which decide the page: the
                # rows are read later, so they are as new or newer.
                pairs = list(window.values_list("pk", "seq"))
                sequence.note_value(pairs[0][1] if pairs else None)
                ids = [pk for pk, _seq in pairs]
            else:
                ids = list(window.values_list("pk", flat=True))
            loaded = {row.pk: row for row in self.object_list.filter(pk__in=ids).order_by()}
            return [loaded[pk] for pk in ids]
        return list(window)


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M``: 50 a page by default; ``page_size`` above
    200 is capped at 200 (not an error), so a client can always ask for
    "as many as allowed". ``count`` is exact up to 10,000 matches; past that
    it reads 10000 with ``count_capped: true`` and page numbers reach the
    first 10,000 matches — walk further with ``cursor``."""

    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = f"Items per page: 50 by default, at most {MAX_PAGE_SIZE} (larger values are capped)."
    max_page_size = MAX_PAGE_SIZE
    django_paginator_class = CappedCountPaginator

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

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            OrderedDict(
                [
                    ("count", min(paginator.count, COUNT_CAP)),
                    ("count_capped", paginator.capped),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        base = super().get_paginated_response_schema(schema)
        base["properties"]["count"]["description"] = f"Matches, exact up to {COUNT_CAP}."
        base["properties"] = {
            "count": base["properties"]["count"],
            "count_capped": {
                "type": "boolean",
                "description": f"True when there are more than {COUNT_CAP} matches and `count` stops there.",
            },
            **{k: v for k, v in base["properties"].items() if k != "count"},
        }
        base["required"] = ["count", "count_capped", "results"]
        return base


class ProposalPagination(PageNumberPagination):
    """Page numbers by default; add ``cursor`` (empty to start) to walk the
    proposals by ``updated_at`` then ``id``, oldest change first — the mode
    for syncing clients (combine it with ``updated_since``). In cursor mode
    there is no ``count`` and no ``ordering``; follow ``next`` until it is
    null, and keep the last ``next`` to resume later."""

    cursor_query_param = "cursor"
    cursor_query_description = (
        "Keyset cursor: send it empty to start, then follow `next`. Walks by `updated_at`, then `id`, oldest "
        "first; every page costs the same however deep. Not combinable with `ordering` or `page`."
    )

    def check_parameters(self, request) -> None:
        """Validate ``page``, ``page_size`` and ``cursor`` as a list request
        would, without querying: the same 400 naming the parameter. For
        views that take the list's parameters without paging (the search
        Atom feed)."""
        self.get_page_size(request)
        if self.cursor_query_param in request.query_params:
            for clash in ("ordering", self.page_query_param):
                if clash in request.query_params:
                    raise ValidationError({clash: [f"Cannot be combined with `{self.cursor_query_param}`."]})
            self._decode(request.query_params[self.cursor_query_param])
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "", *self.last_page_strings) and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_query_param: ["Must be a positive whole number, or 'last'."]})

    def paginate_queryset(self, queryset, request, view=None):
        if self.cursor_query_param not in request.query_params:
            self.cursor_mode = False
            return super().paginate_queryset(queryset, request, view)
        self.cursor_mode = True
        for clash in ("ordering", self.page_query_param):
            if clash in request.query_params:
                raise ValidationError({clash: [f"Cannot be combined with `{self.cursor_query_param}`."]})
        self.request = request
        self.page_size_now = self.get_page_size(request)
        position = self._decode(request.query_params[self.cursor_query_param])
        sequence = getattr(queryset, "_list_sequence", None)  # see CappedCountPaginator.page
        queryset = queryset.order_by("updated_at", "id")
        if position is not None:
            table = queryset.model._meta.db_table
            when, pk = position
            # Adapt as the ORM would: SQLite stores naive UTC text, and a raw
            # aware datetime would compare as a different string.
            when = queryset.model._meta.get_field("updated_at").get_db_prep_value(when, connections[queryset.db])
            # A row-value comparison, so the (updated_at, id) index seeks
            # straight to the position on PostgreSQL (SQLite supports it too).
            queryset = queryset.extra(where=[f'("{table}"."updated_at", "{table}"."id") > (%s, %s)'], params=[when, pk])
        rows = list(queryset[: self.page_size_now + 1])
        if sequence is not None:
            sequence.note(rows)
            if not rows and sequence.value is None:
                sequence.get()  # then the rows again: see CappedCountPaginator.page
                rows = list(queryset[: self.page_size_now + 1])
        self.has_next = len(rows) > self.page_size_now
        rows = rows[: self.page_size_now]
        self.last = rows[-1] if rows else None
        return rows

    def get_paginated_response(self, data):
        if not self.cursor_mode:
            return super().get_paginated_response(data)
        next_link = None
        if self.has_next and self.last is not None:
            url = self.request.build_absolute_uri()
            next_link = replace_query_param(url, self.cursor_query_param, self._encode(self.last))
        return Response(OrderedDict([("next", next_link), ("previous", None), ("results", data)]))

    def get_paginated_response_schema(self, schema):
        base = super().get_paginated_response_schema(schema)
        base["required"] = ["results"]
        base["description"] = "Page-number mode has `count` and `count_capped`; cursor mode (`cursor=`) has not."
        return base

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {"type": "string"},
            },
        ]

    @staticmethod
    def _encode(row) -> str:
        raw = f"{row.updated_at.isoformat()}|{row.pk}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode(self, value: str):
        if value == "":
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            stamp, pk = raw.split("|")
            when = dt.datetime.fromisoformat(stamp)
            if when.tzinfo is None:
                raise ValueError
            # In UTC now: at the calendar's ends the conversion overflows.
            when = when.astimezone(dt.UTC)
            pk = int(pk)
            # A forged id beyond a 64-bit integer: SQLite's driver raised
            # OverflowError (a 500) where PostgreSQL found nothing.
            if not 0 < pk <= MAX_ID:
                raise ValueError
            return when, pk
        except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
            raise ValidationError({self.cursor_query_param: ["Not a cursor this API issued."]}) from None
