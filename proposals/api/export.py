"""The proposal list's CSV export, bounded: its own throttle, a cap on
exports running at once across all workers, a database check before the
first byte, and rows streamed from a server-side cursor in constant memory.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.http import StreamingHttpResponse
from rest_framework import exceptions

from tracker.throttling import ExportRateThrottle, cache_available, cache_failed

from .renderers import proposal_csv_rows

log = logging.getLogger(__name__)

#: Rows fetched per round trip from the server-side cursor (PostgreSQL) or
#: per prefetch batch (SQLite); memory is bounded by this, not by the table.
CHUNK_ROWS = 2000


class ExportsUnavailable(exceptions.APIException):
    """503 + ``Retry-After``: the shared store that counts running exports
    (the cache) cannot be reached, so no export is started."""

    status_code = 503
    default_detail = "CSV exports are unavailable right now. Try again shortly."
    default_code = "exports_unavailable"
    wait = 10


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
    try:
        for number in range(settings.API_EXPORT_MAX_CONCURRENT):
            key = f"export-slot:{number}"
            if cache.add(key, 1, timeout=settings.API_EXPORT_SLOT_SECONDS):
                return key
    except Exception:  # the cache's own errors: with no slot count, no export (503, not a 500)
        cache_failed()
        log.warning("export slots unavailable (cache down)", exc_info=True)
    return None


class _Rows:
    """The response body. Rows are read when the body is (the database was
    checked just before), inside a transaction: there PostgreSQL's
    server-side cursor is declared WITHOUT HOLD and hands rows over as the
    query produces them. In autocommit Django declares it WITH HOLD, which
    computes and stores the whole result before the first row: 4.9 s and
    every row held on the server at 100,000 proposals (measured), in one
    statement that the statement timeout would cut as the table grows.

    ``close()`` (Django calls it after the last byte, or when the client
    goes away) ends the transaction, closing the cursor inside it, and
    releases the export slot, whether or not reading ever started."""

    def __init__(self, queryset, url_prefix: str, slot: str):
        self._queryset = queryset
        self._url_prefix = url_prefix
        self._slot = slot
        self._lines = self._generate()

    def __iter__(self):
        return self._lines

    def _generate(self):
        try:
            # No savepoint when already inside one (tests): read-only.
            with transaction.atomic(using=self._queryset.db, savepoint=False):
                rows = self._queryset.iterator(chunk_size=CHUNK_ROWS)
                yield from proposal_csv_rows(rows, self._url_prefix)
        except Exception:
            # Headers (200) are gone already; all that is left is to cut the
            # stream, so the client sees a truncated download, and to log it.
            log.exception("CSV export failed mid-stream")
            raise

    def close(self):
        # Ends the transaction at the generator's `yield`; the cursor's own
        # generator is freed (and CLOSEd) on the way out, still inside it.
        self._lines.close()
        if self._slot is not None:
            cache.delete(self._slot)
            self._slot = None


def proposal_csv_response(view, request, queryset, url_prefix: str) -> StreamingHttpResponse:
    """Stream ``queryset`` (from ``with_list_related()``, filtered) as CSV.

    Raises ``Throttled`` (429 + Retry-After) past the ``export`` rate,
    ``ExportsBusy`` (503 + Retry-After) when all slots are taken, and the
    database's own ``OperationalError`` (503 via the problem handler) when
    the database cannot be reached before the response starts,
    so an outage is never a 200 with only a header row.
    """
    # The database and a slot first, the allowance last: an export refused
    # for an outage or busy slots does not use up the client's allowance
    # (a client retrying through an outage was locked out for an hour).
    with connections[queryset.db].cursor() as cursor:
        # A round trip, not ensure_connection(): a connection kept open from
        # an earlier request is not checked by it, and a database lost since
        # then surfaced inside the stream (gunicorn's HTML 500).
        cursor.execute("SELECT 1")
    if not cache_available():
        raise ExportsUnavailable()
    slot = _acquire_slot()
    if slot is None:
        raise ExportsBusy() if cache_available() else ExportsUnavailable()
    throttle = ExportRateThrottle()
    try:
        allowed = throttle.allow_request(request, view)
    except BaseException:
        cache.delete(slot)
        raise
    if not allowed:
        cache.delete(slot)
        raise exceptions.Throttled(wait=throttle.wait())
    response = StreamingHttpResponse(_Rows(queryset, url_prefix, slot), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="proposals.csv"'
    return response
