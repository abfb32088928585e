"""What the server depends on, injected through :class:`Services` so tests can swap any part.

The app never opens the store for writing: :func:`default_services` opens
``Store(db_path, read_only=True)`` for each read and closes it right after, so importers in other
processes can keep writing between requests. Route handlers reach the per-app state through the FastAPI
dependency :func:`get_state`; nothing here is a module-level singleton.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from fastapi import Request, WebSocket

from liqmap.engine.results import Heatmap, LiqMap
from liqmap.server.cache import LRUCache


class StoreReader(Protocol):
    """The read-only part of :class:`liqmap.data.store.Store` the server uses."""

    def query_bars(
        self, exchanges: list[str] | None, symbol: str, start_ms: int | None, end_ms: int | None
    ) -> pd.DataFrame: ...

    def query_liquidations(
        self, exchanges: list[str] | None, symbol: str, start_ms: int | None, end_ms: int | None
    ) -> pd.DataFrame: ...

    def symbols(self) -> pd.DataFrame: ...

    def last_timestamp(self, table: str, exchange: str, symbol: str) -> int | None: ...


class EngineOutput(Protocol):
    """The part of the engine's result the server reads."""

    heatmap: Heatmap
    events: pd.DataFrame

    def liqmap(self, at_ms: int | None = None) -> LiqMap: ...


@dataclass(frozen=True)
class Services:
    """Store access and the pure computations behind each route.

    ``run_engine(bars, model, bins, bin_usd)`` returns an :class:`EngineOutput`;
    ``map_report(liqmap, window_pct, top)`` the clusters/imbalance/asymmetry dict;
    ``cascade(liqmap, bars, shock_pct)`` the cascade dict; ``validate(outputs, model, liquidations)``
    the validation scores of ``outputs[model]`` (``outputs`` maps model name → output, baselines included).
    """

    open_store: Callable[[], AbstractContextManager[StoreReader]]
    run_engine: Callable[[pd.DataFrame, str, int, float | None], EngineOutput]
    map_report: Callable[[LiqMap, float, int], dict[str, Any]]
    cascade: Callable[[LiqMap, pd.DataFrame, float], dict[str, Any]]
    validate: Callable[[dict[str, EngineOutput], str, pd.DataFrame], dict[str, Any]]


def default_services(db_path: Path | str | None) -> Services:
    """The real store (opened read-only per access), engine and analytics."""
    from liqmap import analytics, engine
    from liqmap.analytics.report import map_report
    from liqmap.data.store import Store

    def open_store() -> AbstractContextManager[StoreReader]:
        return Store(db_path, read_only=True)

    def run_engine(bars: pd.DataFrame, model: str, bins: int, bin_usd: float | None) -> EngineOutput:
        config = engine.EngineConfig(n_bins=bins, bin_usd=bin_usd)
        return engine.run(bars, model=model, config=config)

    def report(lm: LiqMap, window_pct: float, top: int) -> dict[str, Any]:
        return map_report(lm, window_pct=window_pct, top=top)

    def cascade(lm: LiqMap, bars: pd.DataFrame, shock_pct: float) -> dict[str, Any]:
        return analytics.cascade_report(lm, bars, shock_pct=shock_pct)

    def validate(outputs: dict[str, EngineOutput], model: str, liquidations: pd.DataFrame) -> dict[str, Any]:
        return analytics.validation_report(outputs, model, liquidations)

    return Services(open_store, run_engine, report, cascade, validate)


@dataclass
class StoreWatcher:
    """Last stored bar timestamp per (exchange, symbol), probed at most once per ``interval_s``.

    Requests and websocket loops share the probe, so a burst of requests costs one store query per
    second and cache keys change as soon as (at most ``interval_s`` after) a new bar lands.
    """

    open_store: Callable[[], AbstractContextManager[StoreReader]]
    interval_s: float = 1.0
    _seen: dict[tuple[str, str], tuple[float, int | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def last_bar_ms(self, exchanges: Iterable[str], symbol: str) -> int | None:
        """Latest bar timestamp over ``exchanges`` for ``symbol``; ``None`` if none is stored."""
        now = time.monotonic()
        with self._lock:
            stale = [
                ex
                for ex in exchanges
                if (ex, symbol) not in self._seen or now - self._seen[(ex, symbol)][0] >= self.interval_s
            ]
            if stale:
                with self.open_store() as store:
                    for ex in stale:
                        self._seen[(ex, symbol)] = (now, store.last_timestamp("bars", ex, symbol))
            values = [self._seen[(ex, symbol)][1] for ex in exchanges]
        known = [v for v in values if v is not None]
        return max(known) if known else None


@dataclass
class ServerState:
    """Everything one app instance holds: injected services, the store watcher and its caches."""

    services: Services
    watcher: StoreWatcher
    engine_cache: LRUCache[Any]
    response_cache: LRUCache[bytes]
    poll_interval_s: float = 1.0


def get_state(request: Request) -> ServerState:
    """FastAPI dependency: the :class:`ServerState` of the app serving ``request``."""
    return request.app.state.liqmap


def get_ws_state(websocket: WebSocket) -> ServerState:
    """FastAPI dependency: the :class:`ServerState` of the app serving ``websocket``."""
    return websocket.app.state.liqmap
