"""A bounded, thread-safe LRU cache with single-flight computation, held per app instance.

Keys include (or entries record) the last stored bar timestamp of the queried series, so a new bar makes
an old entry unreachable (it then ages out of the LRU) and no explicit invalidation is needed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRUCache(Generic[V]):
    """At most ``max_entries`` values, least recently used evicted first.

    :meth:`get_or_compute` runs ``compute`` once per key even when many threads ask at the same time
    (the others wait for the first), so 50 clients asking for the same new map trigger one engine run.

    >>> cache = LRUCache[int](max_entries=2)
    >>> cache.get_or_compute("a", lambda: 1), cache.get_or_compute("a", lambda: 2)
    (1, 1)
    """

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be ≥ 1, got {max_entries}")
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> V | None:
        """The cached value for ``key`` (marking it recently used), or ``None``."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            return None

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key``, evicting the least recently used entries beyond the bound."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value for ``key``, computing and storing it first if absent (once per key)."""
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            key_lock = self._inflight.setdefault(key, threading.Lock())
        with key_lock:
            value = self.get(key)
            if value is None:
                with self._lock:
                    self.misses += 1
                try:
                    value = compute()
                    self.put(key, value)
                finally:
                    with self._lock:
                        self._inflight.pop(key, None)
        return value
