"""The app's caches: bounded LRU, one computation per key under concurrency, and a last-bar check that
opens the store only when its files changed."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from liqmap.server import create_app
from liqmap.server.cache import LRUCache, sizeof


def test_lru_evicts_least_recently_used_beyond_its_byte_budget():
    cache = LRUCache[bytes](max_bytes=2_000, size=len)
    cache.put("a", b"a" * 800)
    cache.put("b", b"b" * 800)
    assert cache.get("a") == b"a" * 800  # "b" is now the least recently used
    cache.put("c", b"c" * 800)
    assert cache.get("b") is None and cache.get("a") and cache.get("c") and len(cache) == 2
    assert cache.nbytes == 1_600
    cache.put("a", b"a")  # replacing an entry re-counts it
    assert cache.nbytes == 801
    cache.put("huge", b"h" * 2_001)  # larger than the whole budget: returned by callers, never kept
    assert cache.get("huge") is None and cache.nbytes == 801
    assert cache.get_or_compute("huge", lambda: b"h" * 2_001) == b"h" * 2_001 and len(cache) == 2
    with pytest.raises(ValueError, match="max_bytes must be ≥ 1"):
        LRUCache(0)


def test_sizeof_counts_arrays_frames_and_nested_objects_once():
    arr = np.zeros(1_000)  # 8,000 bytes
    frame = pd.DataFrame({"x": np.zeros(500)})  # 4,000 bytes + index
    shared = {"a": arr, "b": arr, "rows": [frame], "text": "hi"}
    size = sizeof(shared)
    assert 12_000 <= size < 13_000  # the array shared twice counts once
    assert sizeof(SimpleNamespace(inner=shared, extra=np.zeros(10))) == size + 80


def test_app_caches_stay_within_the_byte_budget(app_factory, sample_db):
    client, _ = app_factory(sample_db)
    state = client.app.state.liqmap
    budget = state.engine_cache.max_bytes + state.response_cache.max_bytes + state.raw_cache.max_bytes
    assert budget == pytest.approx(256 * 2**20, abs=4)  # the documented default
    small = create_app(sample_db, cache_mb=8)
    state = small.state.liqmap
    with TestClient(small, base_url="http://127.0.0.1") as c:
        for snapshots in range(100, 106):  # distinct heatmaps, ≈ 6.7 MB each at 1,000 bins
            assert c.get("/api/heatmap", params={"snapshots": snapshots * 7, "bins": 1000}).status_code == 200
    for cache in (state.engine_cache, state.response_cache, state.raw_cache):
        assert cache.nbytes <= cache.max_bytes
    assert state.engine_cache.nbytes + state.response_cache.nbytes + state.raw_cache.nbytes <= 8 * 2**20
    with pytest.raises(ValueError, match="cache_mb must be > 0"):
        create_app(sample_db, cache_mb=0)


def test_single_flight_computes_once_for_concurrent_callers():
    cache = LRUCache[int](max_bytes=1_000, size=lambda _: 1)
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
    cache = LRUCache[int](max_bytes=1_000, size=lambda _: 1)

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
