"""What the server depends on, injected through :class:`Services` so tests can swap any part.

The app never opens the store for writing: :func:`default_services` opens
``Store(db_path, read_only=True)`` for each read and closes it right after, so importers in other
processes can write between requests. Route handlers reach the per-app state through the FastAPI
dependency :func:`get_state`; nothing here is a module-level singleton.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from fastapi import Request, WebSocket
from starlette.concurrency import run_in_threadpool

from liqmap.analytics.report import MapReport, ReportSettings
from liqmap.engine.results import EngineOutput, LiqMap
from liqmap.errors import StoreError
from liqmap.server.api.params import MAX_BINS
from liqmap.server.cache import LRUCache

if TYPE_CHECKING:
    from liqmap.data.store import Store, StoreReader
    from liqmap.margin.tiers import TierTable
    from liqmap.server.live import LiveFeed

log = logging.getLogger("liqmap.server")

MAX_SNAPSHOTS = 1_000  # engine heatmap rows kept per run: bounds memory at MAX_SNAPSHOTS × bins
OPEN_ATTEMPTS = 4
OPEN_RETRY_S = 0.05
CLAIM_TIMEOUT_S = 5.0
MAX_WATCHED = 4_096  # (exchange, symbol) pairs whose last bar StoreWatcher remembers (~100 bytes each)


class StoreBusyError(StoreError):
    """The store file exists but cannot be opened now (a writer holds its lock): retry shortly."""


@dataclass(frozen=True)
class Services:
    """Store access and the pure computations behind each route.

    ``store_version()`` is a cheap fingerprint that changes whenever the store may have changed (file
    sizes and modification times); ``None`` means "unknown, always re-read".
    ``run_engine(bars, model, bins, bin_usd, tiers_from, tier_tables)`` returns an
    :class:`~liqmap.engine.results.EngineOutput` (``tiers_from``: the exchange lending its tier table to venues
    without one, or ``None``; ``tier_tables``: the store's fetched tables, ahead of the bundled ones);
    ``map_report(liqmap, bars, settings, output)`` the :class:`~liqmap.analytics.report.MapReport` of a map
    of that engine output (impact calibrated on ``bars``); ``validate(outputs, model, bars, liquidations)``
    the validation scores of ``outputs[model]`` (``outputs`` maps model name → output, baselines included).
    """

    open_store: Callable[[], AbstractContextManager[StoreReader]]
    store_version: Callable[[], Hashable]
    run_engine: Callable[[pd.DataFrame, str, int, float | None, str | None, tuple[TierTable, ...]], EngineOutput]
    map_report: Callable[[LiqMap, pd.DataFrame, ReportSettings, EngineOutput], MapReport]
    validate: Callable[[dict[str, EngineOutput], str, pd.DataFrame, pd.DataFrame], dict[str, Any]]


def default_services(db_path: Path | str | None, shared: Callable[[], Store | None] | None = None) -> Services:
    """The real store (opened read-only per access), engine and analytics. ``shared`` hands out a read-only
    handle on a store this process holds open for writing (``serve --live``), or None when it holds none."""
    from liqmap import engine
    from liqmap.analytics.report import build_map_report
    from liqmap.data.store import Store, default_db_path
    from liqmap.engine.options import engine_config

    store_file = Path(db_path).expanduser() if db_path is not None else default_db_path()

    def open_store() -> AbstractContextManager[StoreReader]:
        handle = shared() if shared is not None else None
        if handle is not None:
            return handle
        attempt = 1
        while True:
            try:
                return Store(store_file, read_only=True)
            except StoreError as exc:
                if not store_file.is_file():
                    raise
                if attempt == OPEN_ATTEMPTS:
                    log.warning("store %s not opened after %d tries: %s", store_file, OPEN_ATTEMPTS, exc)
                    raise StoreBusyError("the store is busy (a writer holds it); retry shortly") from None
            attempt += 1
            time.sleep(OPEN_RETRY_S)

    def run_engine(
        bars: pd.DataFrame,
        model: str,
        bins: int,
        bin_usd: float | None,
        tiers_from: str | None = None,
        tier_tables: tuple[TierTable, ...] = (),
    ) -> EngineOutput:
        n_bins = None if bin_usd is not None else bins  # bin_usd overrides bins
        config = engine_config(
            bars,
            n_bins=n_bins,
            bin_usd=bin_usd,
            max_snapshots=MAX_SNAPSHOTS,
            tier_tables=tier_tables,
            tiers_from=tiers_from,
        )
        return engine.run(bars, model=model, config=config, max_bins=MAX_BINS)

    def report(lm: LiqMap, bars: pd.DataFrame, settings: ReportSettings, output: EngineOutput) -> MapReport:
        return build_map_report(lm, bars, settings, profile=output.config.profile, warnings=output.warnings)

    def validate(
        outputs: dict[str, EngineOutput], model: str, bars: pd.DataFrame, liquidations: pd.DataFrame
    ) -> dict[str, Any]:
        from liqmap.analytics.validation import validation_report

        return validation_report(outputs, model, bars, liquidations)

    def store_version() -> Hashable:
        return tuple(_stat(p) for p in (store_file, store_file.with_name(store_file.name + ".wal")))

    return Services(open_store, store_version, run_engine, report, validate)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


class NotReady(Enum):
    """Type of :data:`NOT_READY`."""

    NOT_READY = "not ready"


NOT_READY = NotReady.NOT_READY  # StoreWatcher.peek: a store probe is due


@dataclass
class StoreWatcher:
    """Last stored bar timestamp per (exchange, symbol), checked at most once per ``interval_s``.

    A check first compares ``store_version()`` (two ``stat`` calls for the real store) with the version
    the value was read under and opens the store only when it changed. On the event loop, :meth:`peek`
    hands a due check to exactly one caller (which then runs :meth:`last_bar_ms` in a worker thread);
    everyone else keeps using the value already known, so a burst of requests never queues behind the
    store. A check that finds the store busy keeps the previous value. At most :data:`MAX_WATCHED` series
    are remembered (the longest-known forgotten first), so made-up symbols cannot grow it.
    """

    open_store: Callable[[], AbstractContextManager[StoreReader]]
    store_version: Callable[[], Hashable]
    interval_s: float = 1.0
    _seen: dict[tuple[str, str], tuple[float, int | None, Hashable]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _claimed_at: float = -math.inf  # when peek() last handed out a check (void after CLAIM_TIMEOUT_S)

    def last_bar_ms(self, exchanges: Iterable[str], symbol: str) -> int | None:
        """Latest bar timestamp over ``exchanges`` for ``symbol`` (``None``: none stored); blocking."""
        keys = [(ex, symbol) for ex in exchanges]
        try:
            if self._stale(keys):
                with self._lock:
                    self._check(self._stale(keys))
        finally:
            self._claimed_at = -math.inf
        return self._value(keys)

    async def current(self, exchanges: tuple[str, ...], symbol: str) -> int | None:
        """:meth:`last_bar_ms` for the event loop: the known value, or a check in a worker thread when due."""
        last = self.peek(exchanges, symbol)
        if last is NOT_READY:
            last = await run_in_threadpool(self.last_bar_ms, exchanges, symbol)
        return last

    def peek(self, exchanges: Iterable[str], symbol: str) -> int | NotReady | None:
        """The known value without blocking, or :data:`NOT_READY` when the caller must run
        :meth:`last_bar_ms` (in a worker thread): the series is new, or a check is due and this caller
        is the one to do it."""
        keys = [(ex, symbol) for ex in exchanges]
        if any(k not in self._seen for k in keys):
            return NOT_READY
        if self._stale(keys):
            now = time.monotonic()
            if now - self._claimed_at > CLAIM_TIMEOUT_S:
                self._claimed_at = now
                return NOT_READY
        return self._value(keys)

    def _value(self, keys: list[tuple[str, str]]) -> int | None:
        present = [v for v in (self._seen[k][1] for k in keys) if v is not None]
        return max(present) if present else None

    def _stale(self, keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
        now = time.monotonic()
        return [k for k in keys if k not in self._seen or now - self._seen[k][0] >= self.interval_s]

    def _check(self, keys: list[tuple[str, str]]) -> None:
        now, version = time.monotonic(), self.store_version()
        changed = []
        for k in keys:
            if version is not None and k in self._seen and self._seen[k][2] == version:
                self._seen[k] = (now, self._seen[k][1], version)  # the store is untouched: still valid
            else:
                changed.append(k)
        if not changed:
            return
        try:
            with self.open_store() as store:
                for ex, sym in changed:
                    self._seen[(ex, sym)] = (now, store.last_timestamp("bars", ex, sym), version)
            for k in [k for k in self._seen if k not in changed][: max(0, len(self._seen) - MAX_WATCHED)]:
                del self._seen[k]
        except StoreBusyError:
            if not all(k in self._seen for k in changed):
                raise
            for k in changed:  # keep the old value; read again at the next check
                self._seen[k] = (now, self._seen[k][1], None)


@dataclass
class ServerState:
    """Everything one app instance holds: injected services, the store watcher, its byte-bounded caches,
    and the ``engine_slots`` semaphore that lets at most two engine runs proceed at once (one per core here), so
    a burst of distinct heavy queries queues instead of multiplying memory."""

    services: Services
    watcher: StoreWatcher
    engine_cache: LRUCache[Any]
    response_cache: LRUCache[bytes]
    raw_cache: LRUCache[Any]  # (path, query string) → fastpath.RawEntry
    poll_interval_s: float = 1.0
    live: LiveFeed | None = None  # serve --live: the live runner's maps and liquidations
    engine_slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(2))


async def get_state(request: Request) -> ServerState:
    """FastAPI dependency: the :class:`ServerState` of the app serving ``request`` (async: no thread hop)."""
    return request.app.state.liqmap


async def get_ws_state(websocket: WebSocket) -> ServerState:
    """FastAPI dependency: the :class:`ServerState` of the app serving ``websocket``."""
    return websocket.app.state.liqmap
