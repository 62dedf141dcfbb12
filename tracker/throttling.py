"""Who a client is, and how many requests it may make: one answer for the
API throttles, failed-token throttling, the export and the sign-in lockout.

Counters live in the shared cache (``CACHES["default"]``: Redis in
production, the database table otherwise), so every gunicorn worker and
every host counts against the same budget.
"""

import ipaddress
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import throttling

log = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address, trusting exactly ``TRUSTED_PROXY_COUNT`` proxies.

    Each trusted proxy appends the address it saw to ``X-Forwarded-For``
    (nginx's ``$proxy_add_x_forwarded_for``), so with N proxies the client is
    the N-th entry from the right; anything further left was written by the
    client and is ignored (OWASP "IP address spoofing via X-Forwarded-For").
    With no trusted proxy the header is ignored and ``REMOTE_ADDR`` is the
    client. An entry that is not an IP address falls back to ``REMOTE_ADDR``.

    ``request`` is a Django ``HttpRequest`` (or DRF ``Request``); returns a
    string such as ``"203.0.113.7"`` (``""`` when even REMOTE_ADDR is missing).
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if count <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in forwarded.split(",")]
    candidate = addresses[-min(count, len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


#: After ``CACHE_FAILURES_TO_SKIP`` failures in a row, throttles skip the
#: cache for ``CACHE_RETRY_SECONDS``: a hung Redis cost every request its
#: timeouts (2 s measured). One slow answer on a busy host skips nothing.
CACHE_FAILURES_TO_SKIP = 3
CACHE_RETRY_SECONDS = 5
_cache_down_until = 0.0
_cache_failures = 0


def cache_available() -> bool:
    """False while recent cache failures say not to wait on it again."""
    return time.monotonic() >= _cache_down_until


def cache_failed() -> bool:
    """Note a cache failure; the third in a row skips the cache for a while.
    The count is reset only by a success, so after a skip one more failure
    skips again (a hung Redis costs one timeout per window, not three).
    Returns whether this failure started a skip (worth a warning)."""
    global _cache_down_until, _cache_failures
    _cache_failures += 1
    if _cache_failures >= CACHE_FAILURES_TO_SKIP:
        _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
        return True
    return False


def cache_answered() -> None:
    """Note a cache success: failures must come in a row to count."""
    global _cache_failures
    _cache_failures = 0


class FixedWindowRateThrottle(throttling.SimpleRateThrottle):
    """``count/period`` per client, in fixed windows that open at the
    client's first request and last one period.

    One atomic cache increment per request (Redis ``INCR``), whatever the
    rate: DRF's sliding-window throttle stores a timestamp per request and
    re-pickles that list every time. The price of a fixed window: a client
    can make up to twice the rate across the end of one window and the
    start of the next. ``Retry-After`` counts down to the window's end.

    When the cache cannot be reached the request is let through and a
    warning logged: an outage of the counter store must not take the API
    down with it (the database and the proxy still bound the load).
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.wait_seconds = over_budget([(self, self.key)])
        return self.wait_seconds is None

    def wait(self):
        return self.wait_seconds


def over_budget(windows: list[tuple["FixedWindowRateThrottle", str]]) -> int | None:
    """Count one request in each ``(throttle, key)`` window (one cache call
    for all: ``window_increments``). Returns the whole seconds to wait when
    any window is over its throttle's budget (the longest such wait), else
    ``None``. Fails open: ``None`` while the cache cannot be reached, with a
    warning when that starts a skip (``cache_failed``)."""
    if not windows or not cache_available():
        return None
    try:
        counts = window_increments([(key, throttle.duration) for throttle, key in windows])
        cache_answered()
        over = [(t, key) for (t, key), n in zip(windows, counts, strict=True) if n > t.num_requests]
        return max(window_wait(key, t.duration) for t, key in over) if over else None
    except Exception as exc:  # the cache backend's own errors (redis.ConnectionError...) have no common base
        if cache_failed():
            log.warning("throttle cache unavailable (%s); skipping it for %s s", exc, CACHE_RETRY_SECONDS)
        return None


def window_increment(key: str, seconds: int) -> int:
    """Add one to the counter ``key`` and return the new count; the first
    count opens a window of ``seconds`` (the key's lifetime), whose start is
    kept beside it for ``Retry-After``. See ``window_increments``."""
    return window_increments([(key, seconds)])[0]


def window_increments(windows: list[tuple[str, int]]) -> list[int]:
    """``window_increment`` for several ``(key, seconds)`` windows at once:
    the new counts, in order. On Redis one script call counts them all,
    atomically (one round trip for an anonymous request's two budgets);
    on the embedded file cache (``tracker.cache.LockedFileBasedCache``)
    ``add`` then ``incr`` per window, each atomic under the cache's lock."""
    client = _redis_client()
    if client is not None:
        # One round trip and no per-call client objects (measured: the
        # portable path below costs three round trips per window, and a
        # redis-py pipeline object ~0.25 ms of CPU to build): a script,
        # atomic in Redis, that counts and opens each window on its first count.
        global _window_script
        if _window_script is None:
            _window_script = client.register_script(WINDOW_SCRIPT)
        keys = []
        for key, _seconds in windows:
            keys += [cache.make_and_validate_key(key), cache.make_and_validate_key(f"{key}:start")]
        # The start in milliseconds, an int: Django's RedisCache stores ints unpickled.
        args = [int(time.time() * 1000), *(seconds for _key, seconds in windows)]
        return [int(n) for n in _window_script(keys=keys, args=args, client=client)]
    return [_portable_increment(key, seconds) for key, seconds in windows]


def _portable_increment(key: str, seconds: int) -> int:
    for _ in range(2):
        if cache.add(key, 0, timeout=seconds):
            cache.set(f"{key}:start", time.time(), timeout=seconds)
        try:
            return cache.incr(key)
        except ValueError:  # the window ended between add() and incr(): open the next one
            continue
    return 1


#: KEYS: per window its counter then its start; ARGV: now in milliseconds,
#: then each window's seconds. Returns the counts.
WINDOW_SCRIPT = """
local counts = {}
for i = 1, #KEYS, 2 do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then
    local seconds = ARGV[(i + 1) / 2 + 1]
    redis.call('EXPIRE', KEYS[i], seconds)
    redis.call('SET', KEYS[i + 1], ARGV[1], 'EX', seconds)
  end
  counts[#counts + 1] = n
end
return counts
"""
_window_script = None
#: The last Redis client built, with the pool it talks through: Django's
#: ``RedisCache`` builds a new client object per call (~0.06 ms of CPU).
_client_for_pool: tuple = (None, None)


def _redis_client():
    """The raw client of Django's own Redis cache backend, or ``None`` for
    any other backend (the embedded file cache keeps the portable path)."""
    global _client_for_pool
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    pool = backend._cache._get_connection_pool(True)
    if _client_for_pool[0] is not pool:
        _client_for_pool = (pool, backend._cache.get_client(write=True))
    return _client_for_pool[1]


def window_wait(key: str, seconds: int) -> int:
    """Whole seconds (at least 1) until the window of ``key`` ends."""
    started = cache.get(f"{key}:start") or time.time()
    if isinstance(started, int) and started > 10**11:  # milliseconds, from the Redis path above
        started /= 1000
    return max(1, math.ceil(started + seconds - time.time()))


class AnonRateThrottle(FixedWindowRateThrottle):
    """Anonymous clients, per address (``client_ip``): scope ``anon``."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return f"throttle:{self.scope}:{client_ip(request)}"


class UserRateThrottle(FixedWindowRateThrottle):
    """Signed-in users, per user id (anonymous ones per address): scope ``user``."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return f"throttle:{self.scope}:user-{request.user.pk}"
        return f"throttle:{self.scope}:{client_ip(request)}"


class ClientRateThrottle(throttling.BaseThrottle):
    """The API's default budgets, ``AnonRateThrottle`` and
    ``UserRateThrottle`` together, counted in ONE cache round trip: an
    anonymous client counts against ``anon`` and ``user`` per address, a
    signed-in user against ``user`` per user id; past either, 429 with
    ``Retry-After`` up to the end of the longest window exceeded. The
    counters are the two throttles' own (``throttle:<scope>:<client>``),
    in fixed windows (``FixedWindowRateThrottle``). As two DRF throttles
    they cost two Redis round trips per anonymous request (0.2 ms of CPU
    and a wait each, measured by ``bench/steps.py``).

    Fails open like ``FixedWindowRateThrottle`` when the cache is down."""

    scopes = (AnonRateThrottle, UserRateThrottle)

    def allow_request(self, request, view):
        if EARLY_DECISION in request.META:  # counted already, before DRF (early_throttle)
            self.wait_seconds = request.META[EARLY_DECISION]
            return self.wait_seconds is None
        windows = []
        for throttle in (scope() for scope in self.scopes):
            key = throttle.get_cache_key(request, view) if throttle.rate is not None else None
            if key is not None:
                windows.append((throttle, key))
        self.wait_seconds = over_budget(windows)
        return self.wait_seconds is None

    def wait(self):
        return self.wait_seconds


#: ``request.META`` key of a throttle decision taken before DRF: ``None``
#: when the request is allowed, else the seconds to wait.
EARLY_DECISION = "tracker.throttle_decision"


def early_throttle(request) -> bool:
    """Apply the API's default budgets (``ClientRateThrottle``) to a Django
    request answered before DRF runs (a list poll's 304), and leave the
    decision where DRF's throttle reads it instead of counting again.
    Returns whether the request is allowed. For anonymous requests only:
    DRF has not authenticated anything yet."""
    throttle = ClientRateThrottle()
    allowed = throttle.allow_request(request, None)
    request.META[EARLY_DECISION] = None if allowed else throttle.wait()
    return allowed


class ExportRateThrottle(FixedWindowRateThrottle):
    """CSV exports, per user or address, on top of the ordinary budget: scope
    ``export``. Checked by the export itself, not on every list request."""

    scope = "export"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return f"throttle:{self.scope}:user-{request.user.pk}"
        return f"throttle:{self.scope}:{client_ip(request)}"


class AuthFailureThrottle(FixedWindowRateThrottle):
    """Failed token authentications per address: scope ``auth_failure``.

    Unlike the others it counts only failures (``record_failure``), so a
    client guessing tokens is stopped (OWASP ASVS 2.2.1, anti-automation)
    while clients with valid tokens are never slowed down by it."""

    scope = "auth_failure"

    def get_cache_key(self, request, view):
        return f"throttle:{self.scope}:{client_ip(request)}"

    def attempt(self, request) -> bool:
        """Count this token attempt before it is checked; False (and
        ``wait()`` set) when the address has used up its attempts in this
        window. Counting first, then checking, keeps concurrent attempts
        within the limit: checking first let 16 simultaneous guesses
        through on a count that each saw as still low. A valid token gives
        its count back (``refund``)."""
        if self.rate is None:
            return True
        self.wait_seconds = over_budget([(self, self.get_cache_key(request, None))])
        return self.wait_seconds is None

    def refund(self, request) -> None:
        """Give back the count of an attempt whose token was valid, so
        clients with valid tokens are never slowed down by this throttle."""
        if self.rate is None or not cache_available():
            return
        try:
            cache.decr(self.get_cache_key(request, None))
        except Exception:  # ValueError when the window ended meanwhile; cache errors as above
            log.debug("token attempt not refunded", exc_info=True)
