"""Rate limits: past the limit a client gets 429, ``Retry-After`` and
problem JSON, anonymous clients per address and signed-in ones per user.

DRF binds the rates when ``rest_framework.throttling`` is imported
(``SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES``),
so overriding the setting alone changes nothing at run time: the
``rates`` fixture sets both, and monkeypatch puts the class attribute back.
"""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from proposals.models import Topic

from .helpers import assert_problem

API = "/api/v1"


@pytest.fixture
def rates(settings, monkeypatch):
    """``rates(anon=..., user=...)`` sets the limits for the test."""

    def apply(**limits):
        new = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **limits}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": new}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", new)

    # Counters start fresh: each test has its own cache key prefix (tests/conftest.py).
    return apply


def _assert_throttled(response):
    body = assert_problem(response, 429)
    wait = int(response["Retry-After"])
    assert 0 < wait <= 60
    assert "throttled" in body["detail"].lower() or "available" in body["detail"]
    return wait


def test_anonymous_clients_past_the_limit_get_429_with_retry_after(rates, proposal):
    rates(anon="3/minute")
    client = APIClient()
    for _ in range(3):
        assert client.get(f"{API}/proposals/").status_code == 200
    _assert_throttled(client.get(f"{API}/proposals/"))
    # Every endpoint shares the one per-address budget...
    _assert_throttled(client.get(f"{API}/topics/"))
    # (An anonymous write stays a 401: DRF checks permissions before throttles.)
    assert_problem(client.post(f"{API}/topics/", {"slug": "t", "name": "T"}, format="json"), 401)


def test_the_anonymous_limit_is_per_address(rates, proposal):
    rates(anon="2/minute")
    for _ in range(2):
        assert APIClient(REMOTE_ADDR="10.0.0.1").get(f"{API}/proposals/").status_code == 200
    _assert_throttled(APIClient(REMOTE_ADDR="10.0.0.1").get(f"{API}/proposals/"))
    assert APIClient(REMOTE_ADDR="10.0.0.2").get(f"{API}/proposals/").status_code == 200


def test_signed_in_users_past_their_limit_get_429_with_retry_after(rates, editor, reader, proposal):
    rates(anon="1/minute", user="4/minute")
    _, token = AuthToken.objects.create(editor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    # A signed-in user has the user budget, not the (smaller) anonymous one.
    for _ in range(3):
        assert client.get(f"{API}/proposals/").status_code == 200
    assert client.post(f"{API}/topics/", {"slug": "one", "name": "One"}, format="json").status_code == 201
    _assert_throttled(client.get(f"{API}/proposals/"))
    # A throttled write changes nothing.
    _assert_throttled(client.post(f"{API}/topics/", {"slug": "two", "name": "Two"}, format="json"))
    assert not Topic.objects.filter(slug="two").exists()

    # The budget is the user's, whatever the client: a session for the same user is throttled too...
    session = APIClient()
    session.force_login(editor)
    _assert_throttled(session.get(f"{API}/proposals/"))
    # ...while another user still has theirs.
    other = APIClient()
    other.force_login(reader)
    assert other.get(f"{API}/proposals/").status_code == 200


def test_an_anonymous_client_also_has_the_user_budget_per_address(rates, proposal):
    """Both budgets count an anonymous request (one throttle class, one
    cache call): when ``user`` is the smaller, it binds, and ``Retry-After``
    is the longest window exceeded."""
    from django.core.cache import cache

    rates(anon="5/minute", user="2/hour")
    client = APIClient(REMOTE_ADDR="192.0.2.61")
    for _ in range(2):
        assert client.get(f"{API}/proposals/").status_code == 200
    response = client.get(f"{API}/proposals/")
    assert_problem(response, 429)
    assert 3500 < int(response["Retry-After"]) <= 3600
    assert cache.get("throttle:anon:192.0.2.61") == 3
    assert cache.get("throttle:user:192.0.2.61") == 3


def test_an_anonymous_request_is_one_redis_call_for_both_budgets(rates, proposal, monkeypatch):
    """On Redis, the anon and user windows of a request are counted by one
    script call (``EVALSHA``), not one per throttle."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from tracker import throttling

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the shared cache is Redis only in the PostgreSQL run")
    rates(anon="100/minute", user="100/minute")
    client = APIClient(REMOTE_ADDR="192.0.2.62")
    assert client.get(f"{API}/topics/").status_code == 200  # registers the script
    redis = throttling._redis_client()
    sent = []
    real = type(redis).execute_command

    def spy(self, *args, **options):
        sent.append(args[0])
        return real(self, *args, **options)

    monkeypatch.setattr(type(redis), "execute_command", spy)
    assert client.get(f"{API}/topics/").status_code == 200
    assert sent == ["EVALSHA"]
    assert caches["default"].get("throttle:anon:192.0.2.62") == 2
    assert caches["default"].get("throttle:user:192.0.2.62") == 2


def test_retry_after_counts_down_to_the_window(rates, proposal):
    rates(anon="1/hour")
    client = APIClient()
    assert client.get(f"{API}/proposals/").status_code == 200
    response = client.get(f"{API}/proposals/")
    assert_problem(response, 429)
    assert 3500 < int(response["Retry-After"]) <= 3600


def test_the_default_limits_leave_ordinary_use_alone(proposal):
    client = APIClient()
    for _ in range(30):
        assert client.get(f"{API}/proposals/").status_code == 200


# ---------------------------------------------------------------- behind proxies (issue #15, item 5)


def test_a_forged_forwarded_for_does_not_bypass_the_limit_without_a_trusted_proxy(rates, settings, proposal):
    settings.TRUSTED_PROXY_COUNT = 0
    rates(anon="3/minute")
    client = APIClient(REMOTE_ADDR="198.51.100.9")
    answers = [client.get(f"{API}/proposals/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(1, 21)]
    assert answers == [200] * 3 + [429] * 17


def test_behind_one_proxy_only_the_address_it_appended_counts(rates, settings, proposal):
    # nginx appends the address it saw: "<whatever the client sent>, <client>".
    settings.TRUSTED_PROXY_COUNT = 1
    rates(anon="3/minute")
    proxy = APIClient(REMOTE_ADDR="127.0.0.1")
    answers = [
        proxy.get(f"{API}/proposals/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.9").status_code
        for n in range(1, 21)
    ]
    assert answers == [200] * 3 + [429] * 17
    # Another client behind the same proxy keeps its own budget...
    assert proxy.get(f"{API}/proposals/", HTTP_X_FORWARDED_FOR="198.51.100.10").status_code == 200
    # ...and claiming to be the throttled one from further left does not hurt it either.
    forged = proxy.get(f"{API}/proposals/", HTTP_X_FORWARDED_FOR="198.51.100.9, 198.51.100.11")
    assert forged.status_code == 200


# ---------------------------------------------------------------- the fixed window


def test_the_counter_is_one_cache_entry_whatever_the_rate(rates, proposal):
    """O(1) per request: the window holds one integer, not a timestamp per
    request (DRF's sliding window pickled a list as long as the rate)."""
    from django.core.cache import cache

    rates(anon="1000/minute")
    client = APIClient(REMOTE_ADDR="192.0.2.50")
    for _ in range(20):
        assert client.get(f"{API}/topics/").status_code == 200
    assert cache.get("throttle:anon:192.0.2.50") == 20


# ---------------------------------------------------------------- failed token authentication


def test_failed_token_attempts_are_throttled_per_address(rates, editor, proposal):
    rates(auth_failure="5/minute")
    _, good = AuthToken.objects.create(editor)
    guesser = APIClient(REMOTE_ADDR="203.0.113.66")
    for attempt in range(5):
        response = guesser.get(f"{API}/proposals/", HTTP_AUTHORIZATION=f"Token {attempt:064x}")
        assert_problem(response, 401)
    # Past the limit, any token from that address is refused until the window ends...
    _assert_throttled(guesser.get(f"{API}/proposals/", HTTP_AUTHORIZATION="Token " + "f" * 64))
    _assert_throttled(guesser.get(f"{API}/proposals/", HTTP_AUTHORIZATION=f"Token {good}"))
    # ...while other addresses, and anonymous reads from this one, are not affected.
    other = APIClient(REMOTE_ADDR="203.0.113.67")
    assert other.get(f"{API}/proposals/", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200
    assert guesser.get(f"{API}/proposals/").status_code == 200


def test_valid_tokens_never_count_as_failures(rates, editor, proposal):
    rates(auth_failure="2/minute")
    _, good = AuthToken.objects.create(editor)
    client = APIClient(REMOTE_ADDR="203.0.113.68")
    for _ in range(5):
        assert client.get(f"{API}/proposals/", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200


def test_simultaneous_token_guesses_stay_within_the_limit(rates, db):
    """Each attempt is counted before its token is checked: 30 guesses that
    all start before any finishes get 5 checks, not 30 (a hostile review
    saw 31 of 300 concurrent guesses pass a limit of 20)."""
    from django.test import RequestFactory

    from tracker.throttling import AuthFailureThrottle

    rates(auth_failure="5/minute")
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.69")
    throttles = [AuthFailureThrottle() for _ in range(30)]
    allowed = [throttle.attempt(request) for throttle in throttles]  # none has finished yet
    assert allowed.count(True) == 5
    assert 0 < throttles[-1].wait() <= 60


def test_a_valid_token_gives_its_attempt_back(rates, editor, proposal):
    rates(auth_failure="2/minute")
    _, good = AuthToken.objects.create(editor)
    client = APIClient(REMOTE_ADDR="203.0.113.70")
    assert_problem(client.get(f"{API}/proposals/", HTTP_AUTHORIZATION="Token " + "e" * 64), 401)
    for _ in range(3):
        assert client.get(f"{API}/proposals/", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200
    assert_problem(client.get(f"{API}/proposals/", HTTP_AUTHORIZATION="Token " + "d" * 64), 401)
    _assert_throttled(client.get(f"{API}/proposals/", HTTP_AUTHORIZATION="Token " + "c" * 64))


def test_a_redis_window_is_one_round_trip_and_expires(db, monkeypatch):
    """On Redis the fixed window counts with one script call (measured
    cheaper than three commands or a pipeline) and the counter expires with
    its window; elsewhere the portable path counts the same."""
    import time

    from django.core.cache import cache, caches
    from django.core.cache.backends.redis import RedisCache

    from tracker import throttling

    key = f"throttle:test:{time.time_ns()}"
    assert [throttling.window_increment(key, 30) for _ in range(3)] == [1, 2, 3]
    assert 28 <= throttling.window_wait(key, 30) <= 30
    if not isinstance(caches["default"], RedisCache):
        return
    client = caches["default"]._cache.get_client(write=True)
    sent = []
    real = type(client).execute_command

    def spy(self, *args, **options):
        sent.append(args[0])
        return real(self, *args, **options)

    monkeypatch.setattr(type(client), "execute_command", spy)
    assert throttling.window_increment(key, 30) == 4
    assert sent == ["EVALSHA"]
    assert 0 < client.ttl(cache.make_and_validate_key(key)) <= 30
