"""Stored list rows: each proposal keeps its list row as JSON text, so a page
is its stored fragments joined, without building a model, a serializer or a
JSON document per row.

The shape has ONE definition, ``ProposalListSerializer``: the stored text is
that serializer's output rendered by DRF's ``JSONRenderer`` (the renderer the
API answers with), byte for byte. A field added to the serializer is stored
with no change here; a NEW thing the row shows must also be in the write
batch's fan-out (``proposals.services``: ``EMBEDDED_FIELDS``, ``PART_OWNERS``,
``_dependents``), or the stored row, like the ETag, would not move with it
(docs/INVARIANTS.md).

Who writes it: ``refresh_list_rows`` from the write batch's flush, for every
proposal the batch saved or marked, in bulk (one list query and one UPDATE
per 1,000 proposals); ``manage.py rebuild_representations`` for all rows.
Each row also stores the ``updated_at`` it was rendered at
(``list_json_at``): a row whose stamp differs from its ``updated_at`` (a
write that bypassed the services, a bulk load) is rendered afresh on read,
so a stale fragment is never served.

Per-request parts: absolute URLs. Rows are rendered with a request whose
origin is ``STORED_ORIGIN`` (``http://`` and a NUL character, which no
stored text can contain: PostgreSQL refuses NUL in text), and each page
replaces its JSON form, ``"http://\\u0000``, with the request's own origin.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import BigIntegerField, BooleanField, F
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from tracker import throttling

from ..models import ChangeSequence, Proposal

#: The origin stored rows are rendered with, replaced per request.
STORED_HOST = "stored.invalid"
STORED_ORIGIN = "http://\x00"
#: ``STORED_ORIGIN`` as it appears at the start of a JSON string.
STORED_ORIGIN_JSON = b'"http://\\u0000'
#: Columns the stored page reads: the fragment, whether it is current (its
#: stamp compared in SQL: parsing 50 more timestamps a page cost ~0.1 ms),
#: and what the cursor needs.
STORED_ROW = ("pk", "updated_at", "list_json", "fresh")
#: Whether a row's stored fragment was rendered at its ``updated_at``
#: (NULL, so false, when it never was).
#: SQL, not ``ExpressionWrapper(Q(...))``: resolving that expression cost
#: more per request than the timestamps it saves parsing.
FRESH = RawSQL(
    f'"{Proposal._meta.db_table}"."list_json_at" = "{Proposal._meta.db_table}"."updated_at"',
    (),
    output_field=BooleanField(),
)
#: The stored renderings and their stamps: derived from the data, not data
#: (a read may store a detail; tests comparing "nothing changed" skip them).
STORED_FIELDS = ("list_json", "list_json_at", "detail_json", "detail_json_at")
#: Proposals rendered per query and UPDATE when refreshing in bulk.
CHUNK = 1000
#: Part of every list ETag: change it when the list's shape changes in a
#: deploy, so tags issued by the old code stop matching (the sequence alone
#: would not move).
LIST_SHAPE = "1"
#: Query parameters that select a page, not the set counted.
PAGE_PARAMS = ("page", "page_size", "cursor", "format", "ordering")


class _StoredRequest(HttpRequest):
    """A request whose absolute URIs start with ``STORED_ORIGIN``."""

    def get_host(self):
        return STORED_HOST

    def build_absolute_uri(self, location=None):
        uri = super().build_absolute_uri(location if location is not None else "/")
        prefix = f"http://{STORED_HOST}"
        return STORED_ORIGIN + uri[len(prefix) :] if uri.startswith(prefix) else uri


def _stored_context() -> dict:
    from django.contrib.auth.models import AnonymousUser

    raw = _StoredRequest()
    raw.method = "GET"
    raw.META = {"SERVER_NAME": STORED_HOST, "SERVER_PORT": "80"}
    raw.user = AnonymousUser()
    request = Request(raw)
    request.user = raw.user
    return {"request": request}


def render_rows(proposals: Iterable[Proposal], context: dict | None = None) -> list[str]:
    """Each proposal's list row as JSON text (``ProposalListSerializer`` then
    ``JSONRenderer``). ``proposals`` must come from
    ``Proposal.objects.with_list_related()``; without ``context`` the rows
    carry ``STORED_ORIGIN`` in their absolute URLs."""
    from ..api.serializers import ProposalListSerializer

    serializer = ProposalListSerializer(list(proposals), many=True, context=context or _stored_context())
    renderer = JSONRenderer()
    return [renderer.render(row).decode() for row in serializer.data]


def refresh_list_rows(pks: Iterable[int], *, using: str = "default") -> int:
    """Render and store the list rows of these proposals (missing ones are
    skipped); returns how many were written. Runs inside the caller's
    transaction (the write batch's), so the rows commit with the change."""
    pks = sorted(set(pks))
    written = 0
    for start in range(0, len(pks), CHUNK):
        rows = list(Proposal.objects.using(using).with_list_related().filter(pk__in=pks[start : start + CHUNK]))
        if not rows:
            continue
        texts = render_rows(rows)
        _store(rows, texts, using)
        written += len(rows)
    return written


def _store(rows: list[Proposal], texts: list[str], using: str) -> None:
    if connections[using].vendor == "postgresql":
        with connections[using].cursor() as cursor:
            cursor.execute(
                "UPDATE proposals_proposal p SET list_json = v.j, list_json_at = v.t "
                "FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[]) AS v(id, j, t) "
                # A row changed since it was read keeps its (newer) text.
                "WHERE p.id = v.id AND p.updated_at = v.t",
                [[r.pk for r in rows], texts, [r.updated_at for r in rows]],
            )
        return
    for row, text in zip(rows, texts, strict=True):
        row.list_json, row.list_json_at = text, row.updated_at
    Proposal.objects.using(using).bulk_update(rows, ["list_json", "list_json_at"], batch_size=200)


# --------------------------------------------------------------------------
# The change sequence
# --------------------------------------------------------------------------


#: Set inside ``one_sequence_bump``: batches note a bump instead of making it.
_deferred: contextvars.ContextVar[list | None] = contextvars.ContextVar("stored_deferred_bump", default=None)


def bump_sequence(step: int = 1, *, using: str = "default") -> None:
    """Move the change sequence by ``step``, in the current transaction.
    Called last in the write batch's flush, so its row lock is held from
    there to the commit: briefly, unless the batch runs inside a longer
    transaction (see ``one_sequence_bump``)."""
    pending = _deferred.get()
    if pending is not None:
        pending.append(step)
        return
    if not ChangeSequence.objects.using(using).filter(pk=1).update(value=F("value") + step):
        ChangeSequence.objects.using(using).get_or_create(pk=1, defaults={"value": step})


@contextlib.contextmanager
def one_sequence_bump():
    """For many write batches inside one long transaction (the seed
    loader): one bump when the block ends, still inside the transaction, so
    the sequence's row lock is not held, and other writers not blocked on
    it, for the whole load. Nothing is bumped if the block raises."""
    if _deferred.get() is not None:
        yield
        return
    pending: list[int] = []
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    if pending:
        bump_sequence(sum(pending))


#: The sequence's read, in SQL: the ORM's query construction cost more than
#: the database's answer (0.3 of 0.4 ms measured in-process, bench/steps.py).
SEQUENCE_SQL = f"SELECT value FROM {ChangeSequence._meta.db_table} WHERE id = 1"


def current_sequence(using: str = "default") -> int:
    """The change sequence now (0 before any write)."""
    with connections[using].cursor() as cursor:
        cursor.execute(SEQUENCE_SQL)
        row = cursor.fetchone()
    return row[0] if row else 0


# --------------------------------------------------------------------------
# Reading: ETags, counts, pages
# --------------------------------------------------------------------------


def list_etag(request, sequence: int) -> str:
    """A strong ETag for a JSON list response: the change sequence, the shape
    and a digest of what else selects the bytes (origin and query string).
    Equal tags mean equal bytes: every write moves the sequence."""
    origin = f"{request.scheme}://{request.get_host()}"
    digest = hashlib.blake2b(f"{origin}\n{request.get_full_path()}".encode(), digest_size=9).hexdigest()
    return f'"L{sequence}.{LIST_SHAPE}.{digest}"'


def none_match(request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, RFC 9110
    §13.1.2) or is ``*``."""
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    from ..api.mixins import if_none_match_hits

    return if_none_match_hits(header, etag)


def not_modified(etag: str) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = etag
    response["Vary"] = "Accept"
    return response


def count_key(request, sequence: int) -> str:
    """Cache key of a list's count: the sequence and the parameters that
    select the set (not the page)."""
    params = sorted((k, v) for k, v in request.GET.lists() if k not in PAGE_PARAMS)
    digest = hashlib.blake2b(repr(params).encode(), digest_size=12).hexdigest()
    return f"proposals:list-count:{sequence}:{digest}"


def _origin_json(request) -> bytes:
    origin = request.build_absolute_uri("/")[:-1]
    return json.dumps(origin, ensure_ascii=False)[:-1].encode()


#: The change sequence as a column of the page's own query (PostgreSQL
#: runs the uncorrelated subquery once): one round trip fewer, and the
#: sequence is read in the same snapshot as the rows it tags.
SEQUENCE_COLUMN = RawSQL(f"({SEQUENCE_SQL})", (), output_field=BigIntegerField())


_stored_rows_query = None


def _stored_rows():
    """The page's rows as named tuples (50 model instances cost more than
    the page's query): ``STORED_ROW`` and ``seq``. Built once per process
    and cloned per request: building it each time (two annotations, then
    ``values_list``) cost ~0.1 ms a request."""
    global _stored_rows_query
    if _stored_rows_query is None:
        _stored_rows_query = Proposal.objects.annotate(fresh=FRESH, seq=SEQUENCE_COLUMN).values_list(
            *STORED_ROW, "seq", named=True
        )
    return _stored_rows_query.all()


class ListSequence:
    """The change sequence one list response is tagged with, and its
    count cached under.

    Read with the page's rows (their ``seq`` column) when it can be: the
    paginator fetches the rows before the count and calls ``note``. Read
    on its own (``current_sequence``) when asked for first: a request with
    ``If-None-Match`` (a 304 then skips the page), a ``page=last``, an
    empty page."""

    def __init__(self, value: int | None = None):
        self.value = value

    def note(self, rows) -> None:
        """Take the sequence from fetched rows (named tuples with ``seq``)."""
        if rows:
            self.note_value(getattr(rows[0], "seq", None))

    def note_value(self, value: int | None) -> None:
        """Take the sequence read with the data that decides the page."""
        if self.value is None:
            self.value = value

    def get(self) -> int:
        if self.value is None:
            self.value = current_sequence()
        return self.value


def list_response(view, request):
    """The JSON list page from stored rows: the same bytes, status and
    headers as the serializer path, plus a list ETag (and 304 when the
    client's tag is current)."""
    sequence = ListSequence()
    if request.META.get("HTTP_IF_NONE_MATCH"):
        etag = list_etag(request, sequence.get())  # before the data: see ChangeSequence
        if none_match(request, etag):
            return not_modified(etag)
    queryset = view.filter_queryset(_stored_rows())
    queryset._list_sequence = sequence
    queryset._count_cache_key = lambda: count_key(request, sequence.get())
    rows = view.paginate_queryset(queryset)
    stale = [row.pk for row in rows if row.list_json is None or not row.fresh]
    rendered = {}
    if stale:
        again = list(view.get_queryset().filter(pk__in=stale).order_by())
        rendered = dict(zip([p.pk for p in again], render_rows(again, view.get_serializer_context()), strict=True))
    # A stale row deleted since the page's query is left out (it is gone),
    # never served from its stale text.
    stale = set(stale)
    texts = (rendered.get(row.pk) if row.pk in stale else row.list_json for row in rows)
    body_rows = ",".join(text for text in texts if text is not None).encode()
    if STORED_ORIGIN_JSON in body_rows:
        body_rows = body_rows.replace(STORED_ORIGIN_JSON, _origin_json(request))
    envelope = JSONRenderer().render(view.paginator.get_paginated_response([]).data)
    if not envelope.endswith(b"[]}"):
        raise AssertionError("The list envelope must end with its results.")
    response = HttpResponse(envelope[:-2] + body_rows + b"]}", content_type="application/json")
    response["ETag"] = list_etag(request, sequence.get())
    return response


def stored_path_applies(request=None) -> bool:
    """The stored texts serve URLs under the root script prefix only (the
    stored rows' paths are reversed without one), and compact JSON only (an
    ``Accept: application/json; indent=4`` gets the serializer path)."""
    if request is not None and "indent" in (getattr(request, "accepted_media_type", "") or ""):
        return False
    return get_script_prefix() == "/"


def early_list_not_modified(request):
    """A 304 for ``GET``/``HEAD`` of the proposal list, answered before DRF
    (no negotiation or DRF request) when reads are public, the request
    carries no credentials, asks for JSON and ``If-None-Match`` names the
    current list ETag; otherwise ``None`` and the request proceeds as usual.

    A poll counts against the client's budget like any request: the
    throttle runs first (one Redis call), and its decision is handed on to
    DRF's (``tracker.throttling.EARLY_DECISION``), so a request is counted
    once whichever path answers it and a client over its budget gets 429,
    not 304s (each would cost a query). A request with a token or a session
    cookie goes to DRF, which authenticates it: a bad token is a 401 with
    or without a tag."""
    if request.method not in ("GET", "HEAD") or not request.META.get("HTTP_IF_NONE_MATCH"):
        return None
    if settings.API_READ_REQUIRES_AUTH or request.GET.get("format", "json") != "json":
        return None
    if request.META.get("HTTP_AUTHORIZATION") or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    if accept not in ("*/*", "application/json"):
        return None
    if not throttling.early_throttle(request):
        return None  # DRF answers 429, from the same decision
    etag = list_etag(request, current_sequence())
    return not_modified(etag) if none_match(request, etag) else None


#: Counts this process has read, by cache key (sequence and filters
#: included, so an entry can never be wrong, only unused); bounded.
_counts: dict[str, int] = {}
COUNTS_KEPT = 512


def cached_count(queryset, compute, cap: int):
    """The count (capped at ``cap``) for a list queryset: when the stored
    path gave it a key (valid while the change sequence stands), from this
    process's memory, else the shared cache, else computed and kept in
    both; without a key, computed."""
    key = getattr(queryset, "_count_cache_key", None)
    if key is None:
        return compute()
    if callable(key):
        key = key()
    key = f"{key}:{cap}"
    local = cache.make_key(key)  # with the cache's prefix: one namespace per deployment
    value = _counts.get(local)
    if value is not None:
        return value
    value = _shared_get(key)
    if value is None:
        value = compute()
        _shared_set(key, value)
    if len(_counts) >= COUNTS_KEPT:
        _counts.clear()
    _counts[local] = value
    return value


def _shared_get(key: str):
    """The shared cache's value, or ``None`` while it cannot be reached: a
    count is worth a query, not an outage (throttles fail open the same
    way, and share their back-off: ``tracker.throttling.cache_available``)."""
    if not throttling.cache_available():
        return None
    try:
        value = cache.get(key)
    except Exception:  # the backend's own errors (redis.ConnectionError, TimeoutError...) have no common base
        throttling.cache_failed()
        return None
    throttling.cache_answered()
    return value


def _shared_set(key: str, value) -> None:
    if not throttling.cache_available():
        return
    try:
        cache.set(key, value, 300)
    except Exception:  # as in _shared_get
        throttling.cache_failed()


#: Columns the stored detail reads.
DETAIL_COLUMNS = ("id", "slug", "version", "updated_at", "detail_json", "detail_json_at")


class StoredRepresentationMixin:
    """For the proposal viewset: a conditional GET of the list is answered
    with 304 before DRF runs (``early_list_not_modified``), and a JSON
    detail is served from its stored text when that is current.

    The detail is stored lazily: the first JSON read after a change renders
    it through the view's serializer as usual and then stores the stored
    rendering (with ``STORED_ORIGIN``), guarded by ``updated_at`` so a read
    racing a write never stores an older text over a newer stamp. Later
    reads are one query. The ETag is the version's, as before."""

    def dispatch(self, request, *args, **kwargs):
        if self.action_map.get(request.method.lower()) == "list" and stored_path_applies():
            response = early_list_not_modified(request)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        if request.accepted_renderer.format != "json" or not stored_path_applies(request):
            return super().retrieve(request, *args, **kwargs)
        from rest_framework.generics import get_object_or_404

        from ..api.mixins import etag_for

        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        row = get_object_or_404(Proposal.objects.only(*DETAIL_COLUMNS), **lookup)
        self.check_object_permissions(request, row)
        if row.detail_json is None or row.detail_json_at != row.updated_at:
            response = super().retrieve(request, *args, **kwargs)
            instance = getattr(self, "_stored_instance", None)
            if response.status_code == 200 and instance is not None:
                _store_detail(self, instance)
            return response
        if request.headers.get("If-Match") is not None:
            return super().retrieve(request, *args, **kwargs)  # its 412 rules, unchanged
        if none_match(request, etag_for(row)):
            from rest_framework.response import Response

            return Response(status=304, headers={"ETag": etag_for(row)})
        body = row.detail_json.encode()
        if STORED_ORIGIN_JSON in body:
            body = body.replace(STORED_ORIGIN_JSON, _origin_json(request))
        response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag_for(row)
        return response

    def get_object(self):
        obj = super().get_object()
        if self.request.method == "GET":
            self._stored_instance = obj
        return obj


def render_detail(proposal: Proposal) -> str:
    """A proposal's stored detail text: ``ProposalSerializer``'s output
    rendered by ``JSONRenderer``, with ``STORED_ORIGIN`` in its absolute
    URLs. ``proposal`` must come from ``Proposal.objects.with_related()``."""
    from ..api.serializers import ProposalSerializer

    return JSONRenderer().render(ProposalSerializer(proposal, context=_stored_context()).data).decode()


def _store_detail(view, instance) -> None:
    Proposal.objects.filter(pk=instance.pk, updated_at=instance.updated_at).update(
        detail_json=render_detail(instance), detail_json_at=instance.updated_at
    )
