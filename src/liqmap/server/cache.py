"""A byte-bounded, thread-safe LRU cache with single-flight computation, held per app instance.

Keys include (or entries record) the last stored bar timestamp of the queried series, so a new bar makes
an old entry unreachable (it then ages out of the LRU) and no explicit invalidation is needed.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

V = TypeVar("V")
SKIPPED = (int, float, bool, type, types.ModuleType, types.FunctionType, types.MethodType)  # not owned data


def sizeof(value: object) -> int:
    """Approximate bytes held by ``value``: NumPy buffers, DataFrames (deep), bytes and strings, summed
    through dataclasses, objects' attributes and containers (each object counted once)."""
    seen: set[int] = set()
    stack: list[Any] = [value]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, SKIPPED):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            total += obj.nbytes
        elif isinstance(obj, pd.DataFrame | pd.Series | pd.Index):
            total += int(np.sum(obj.memory_usage(deep=True)))
        elif isinstance(obj, bytes | bytearray | str):
            total += sys.getsizeof(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif dataclasses.is_dataclass(obj):
            stack.extend(getattr(obj, f.name) for f in dataclasses.fields(obj))
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
        else:
            total += sys.getsizeof(obj)
    return total


class LRUCache(Generic[V]):
    """Values totalling at most ``max_bytes`` (as measured by ``size``), least recently used evicted first;
    a value larger than the whole budget is returned but not kept.

    :meth:`get_or_compute` runs ``compute`` once per key even when many threads ask at the same time
    (the others wait for the first), so 50 clients asking for the same new map trigger one engine run.

    >>> cache = LRUCache[bytes](max_bytes=10, size=len)
    >>> cache.get_or_compute("a", lambda: b"abc"), cache.get_or_compute("a", lambda: b"new")
    (b'abc', b'abc')
    >>> cache.put("big", b"x" * 11)  # over the budget: not kept
    >>> cache.get("big"), cache.nbytes
    (None, 3)
    """

    def __init__(self, max_bytes: int, size: Callable[[V], int] = sizeof) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be ≥ 1, got {max_bytes}")
        self.max_bytes = max_bytes
        self.size = size
        self.nbytes = 0
        self._data: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
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
                return self._data[key][0]
            return None

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key``, evicting the least recently used entries beyond the byte budget
        (a value larger than the budget is not stored)."""
        n = self.size(value)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            if n > self.max_bytes:
                return
            self._data[key] = (value, n)
            self.nbytes += n
            while self.nbytes > self.max_bytes:
                self.nbytes -= self._data.popitem(last=False)[1][1]

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
