"""A Redis outage must not turn the list into a 500
(throttles fail open; the cached count must too), and the budgets must
hold for conditional requests."""

import pytest
from django.core.cache import caches

from tests.factories import ProposalFactory
from tracker import throttling

URL = "/api/v1/proposals/"
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:8479/7",  # nothing listens here
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "KEY_PREFIX": "review14-dead",
    }
}


@pytest.fixture
def reset_breaker():
    yield
    throttling._cache_down_until = 0.0
    throttling._cache_failures = 0


@pytest.mark.django_db
def test_the_list_answers_while_redis_is_down(api, settings, reset_breaker):
    ProposalFactory()
    settings.CACHES = DEAD_REDIS
    response = api.get(f"{URL}?review14-unique-filter-key=1")
    assert response.status_code == 200, response.content[:200]


@pytest.mark.django_db
def test_an_anonymous_client_over_its_budget_is_not_served_polls(api, settings, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    ProposalFactory()
    caches["default"].clear()
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "2/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)  # as tests/api/test_throttling.py
    tag = api.get(URL)["ETag"]
    api.get(URL)
    assert api.get(URL).status_code == 429
    assert api.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 429
