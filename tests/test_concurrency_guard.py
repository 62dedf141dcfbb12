"""A process keeps a thread for its liveness probe, and a failing cache is
skipped instead of waited on (issue #11, from a hostile review): requests
stuck on a frozen or silent database cannot queue /healthz behind them,
and a hung Redis costs one timeout, not one per request."""

import threading

import pytest
from django.test import Client
from django.urls import path

from tracker import throttling

release = threading.Event()
entered = threading.Semaphore(0)


def _stuck(request):
    """A view that waits like a request on a frozen database."""
    from django.http import HttpResponse

    entered.release()
    release.wait(timeout=20)
    return HttpResponse("done")


urlpatterns = [path("api/v1/stuck/", _stuck), path("admin-stuck/", _stuck)]


@pytest.fixture
def stuck_urls(settings):
    from tracker import urls

    settings.ROOT_URLCONF = __name__
    global urlpatterns
    urlpatterns = [path("api/v1/stuck/", _stuck), path("admin-stuck/", _stuck), *urls.urlpatterns]
    release.clear()
    yield
    release.set()


@pytest.fixture
def two_places(settings):
    settings.APP_MAX_CONCURRENT_REQUESTS = 2
    settings.APP_QUEUE_WAIT_SECONDS = 0.2


def test_healthz_answers_while_every_place_is_held_by_stuck_requests(db, stuck_urls, two_places):
    client = Client()
    client.get("/healthz")  # builds the handler (and its one guard) before the threads share it
    threads = [threading.Thread(target=client.get, args=("/api/v1/stuck/",)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert entered.acquire(timeout=10), "the stuck requests did not start"

    busy = client.get("/api/v1/proposals/")
    health = client.get("/healthz")
    ready = client.get("/readyz")

    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert health.status_code == 200
    assert busy.status_code == 503 and busy["Content-Type"] == "application/problem+json"
    assert busy["Retry-After"] == "2"
    assert ready.status_code == 503
    assert client.get("/api/v1/topics/").status_code == 200  # places come back


def test_the_guard_bounds_requests_outside_the_api_too(db, stuck_urls, two_places):
    client = Client()
    client.get("/healthz")
    threads = [threading.Thread(target=client.get, args=("/admin-stuck/",)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert entered.acquire(timeout=10)
    response = client.get("/admin/login/")
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")


@pytest.fixture
def hung_redis(settings):
    """The cache is Redis at an address that accepts connections and never
    answers (a real listener on loopback, as a hung Redis behaves), with
    short timeouts."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
        }
    }
    throttling._cache_down_until, throttling._cache_failures = 0.0, 0
    yield
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    listener.close()
    throttling._cache_down_until, throttling._cache_failures = 0.0, 0


def test_a_hung_cache_is_skipped_for_a_while_not_waited_on_each_time(api, db, hung_redis):
    import time

    started = time.monotonic()
    for _ in range(throttling.CACHE_FAILURES_TO_SKIP):
        assert api.get("/api/v1/topics/").status_code == 200  # throttles fail open
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(5):
        assert api.get("/api/v1/topics/").status_code == 200
    rest = time.monotonic() - started
    assert first >= 0.3 * throttling.CACHE_FAILURES_TO_SKIP, "the first requests met the hung cache"
    assert rest < 0.3 * 5, f"later requests skipped it: 5 took {rest:.2f} s"
    assert not throttling.cache_available()


def test_an_export_without_its_slot_store_is_a_503_not_a_500(api, proposal, hung_redis):
    response = api.get("/api/v1/proposals/?format=csv")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert "Retry-After" in response
