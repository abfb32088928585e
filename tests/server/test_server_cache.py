"""The app's caches: bounded LRU, one computation per key under concurrency, and a last-bar check that
opens the store only when its files changed."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from liqmap.server.cache import LRUCache


def test_lru_evicts_least_recently_used():
    cache = LRUCache[int](max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3 and len(cache) == 2
    with pytest.raises(ValueError, match="max_entries must be ≥ 1"):
        LRUCache(0)


def test_single_flight_computes_once_for_concurrent_callers():
    cache = LRUCache[int](max_entries=4)
    calls: list[int] = []
    start = threading.Barrier(16)

    def compute() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 42

    results: list[int] = []

    def worker() -> None:
        start.wait()
        results.append(cache.get_or_compute("k", compute))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 16 and calls == [1] and cache.misses == 1


def test_failed_computation_is_not_cached():
    cache = LRUCache[int](max_entries=4)

    def boom() -> int:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        cache.get_or_compute("k", boom)
    assert cache.get_or_compute("k", lambda: 7) == 7


def test_last_bar_check_opens_the_store_only_after_a_write(app_factory, writable_db, add_bar):
    client, counted = app_factory(writable_db)
    opens: list[float] = []
    base_open = counted.services.open_store

    def open_store():
        opens.append(time.monotonic())
        return base_open()

    state = client.app.state.liqmap
    state.services = replace(state.services, open_store=open_store)
    state.watcher.open_store = open_store
    state.watcher.interval_s = 0.0  # check on every request
    url = "/api/map?days=5&bins=100"
    client.get(url)
    after_first = len(opens)  # the first check and the bars query
    for _ in range(5):
        assert client.get(url).status_code == 200
    assert len(opens) == after_first  # five checks, files unchanged: DuckDB never opened
    add_bar(writable_db)
    assert client.get(url).json()["last_bar_ms"] > 0
    assert len(opens) == after_first + 2  # the check that saw the change, and the new bars query
