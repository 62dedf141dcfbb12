"""The embedded cache's counters are exact across processes and keep their
expiry (tracker/cache.py), so the throttles hold without Redis."""

import multiprocessing
import time

import pytest

from tracker.cache import LockedFileBasedCache

PROCESSES, EACH = 4, 150


def _count(directory: str) -> None:
    cache = LockedFileBasedCache(directory, {})
    for _ in range(EACH):
        cache.incr("hits")


@pytest.fixture
def cache(tmp_path):
    return LockedFileBasedCache(str(tmp_path), {})


def test_increments_from_several_processes_are_never_lost(cache, tmp_path):
    assert cache.add("hits", 0, timeout=60)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count, args=(str(tmp_path),)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    assert cache.get("hits") == PROCESSES * EACH


def test_an_increment_keeps_the_window_it_opened(cache):
    assert cache.add("hits", 0, timeout=2)
    assert cache.incr("hits") == 1
    time.sleep(2.2)
    # The window closed on time: Django's generic incr re-set the default (300 s) timeout.
    assert cache.get("hits") is None
    with pytest.raises(ValueError, match="not found"):
        cache.incr("hits")


def test_add_only_opens_a_window_once(cache):
    assert cache.add("hits", 0, timeout=60)
    assert not cache.add("hits", 0, timeout=60)
    assert cache.incr("hits", 5) == 5
