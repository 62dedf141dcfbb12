"""The proposal list's CSV export, bounded: its own throttle, a cap on
exports running at once across all workers, a database check before the
first byte, and rows streamed from a server-side cursor in constant memory.
"""

import contextlib
import logging
import sys

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.http import StreamingHttpResponse
from rest_framework import exceptions

from tracker.throttling import ExportRateThrottle

from .renderers import proposal_csv_rows

log = logging.getLogger(__name__)

#: Rows fetched per round trip from the server-side cursor (PostgreSQL) or
#: per prefetch batch (SQLite); memory is bounded by this, not by the table.
CHUNK_ROWS = 2000


class ExportsBusy(exceptions.APIException):
    """503 + ``Retry-After`` (DRF's handler sends ``wait``): all export slots are taken."""

    status_code = 503
    default_detail = "Too many CSV exports are running. Try again shortly."
    default_code = "exports_busy"
    wait = 10


def _acquire_slot() -> str | None:
    """Take one of ``API_EXPORT_MAX_CONCURRENT`` slots in the shared cache
    (an atomic add on Redis); the slot's key, or None when all are taken.
    A slot expires after ``API_EXPORT_SLOT_SECONDS`` should a worker die
    holding it."""
    for number in range(settings.API_EXPORT_MAX_CONCURRENT):
        key = f"export-slot:{number}"
        if cache.add(key, 1, timeout=settings.API_EXPORT_SLOT_SECONDS):
            return key
    return None


class _Rows:
    """The response body: the CSV lines; on close() (Django closes the
    response after the last byte, or when the client goes away, whether or
    not iteration ever started) the read transaction ends and the slot is
    released."""

    def __init__(self, lines, slot, transaction_scope):
        self._lines = lines
        self._slot = slot
        self._transaction = transaction_scope

    def __iter__(self):
        try:
            yield from self._lines
        except Exception:
            # Headers (200) are gone already; all that is left is to cut the
            # stream, so the client sees a truncated download, and to log it.
            log.exception("CSV export failed mid-stream")
            raise

    def close(self):
        if self._transaction is not None:
            # Read-only: committing or rolling back is the same; a connection
            # lost mid-stream must not stop the slot from being released.
            with contextlib.suppress(DatabaseError):
                self._transaction.__exit__(None, None, None)
            self._transaction = None
        if self._slot is not None:
            cache.delete(self._slot)
            self._slot = None


def proposal_csv_response(view, request, queryset, url_prefix: str) -> StreamingHttpResponse:
    """Stream ``queryset`` (from ``with_list_related()``, filtered) as CSV.

    Raises ``Throttled`` (429 + Retry-After) past the ``export`` rate,
    ``ExportsBusy`` (503 + Retry-After) when all slots are taken, and the
    database's own ``OperationalError`` (503 via the problem handler) when
    the first rows cannot be read, so an outage is never a 200 with only a
    header row.
    """
    throttle = ExportRateThrottle()
    if not throttle.allow_request(request, view):
        raise exceptions.Throttled(wait=throttle.wait())
    slot = _acquire_slot()
    if slot is None:
        raise ExportsBusy()
    # Inside a transaction, PostgreSQL's server-side cursor is declared
    # WITHOUT HOLD and hands rows over as the query produces them. In
    # autocommit Django declares it WITH HOLD, which computes and stores
    # the whole result before the first row: 4.9 s and every row held on
    # the server at 100,000 proposals (measured), and one statement that
    # the statement timeout would cut as the table grows. The transaction
    # ends when the response is closed (_Rows.close).
    scope, entered = transaction.atomic(), False
    try:
        scope.__enter__()  # connects: an unreachable database fails here
        entered = True
        rows = queryset.iterator(chunk_size=CHUNK_ROWS)
        # Runs the query (opens the server-side cursor, reads the first
        # chunk) now, while an error can still become a 503.
        first = next(rows, None)
    except BaseException:
        if entered:
            with contextlib.suppress(DatabaseError):
                scope.__exit__(*sys.exc_info())
        cache.delete(slot)
        raise

    def proposals():
        if first is not None:
            yield first
            yield from rows

    body = _Rows(proposal_csv_rows(proposals(), url_prefix), slot, scope)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="proposals.csv"'
    return response
