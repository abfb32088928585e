"""What the server depends on, injected through :class:`Services` so tests can swap any part.

The app never opens the store for writing: :func:`default_services` opens
``Store(db_path, read_only=True)`` for each read and closes it right after, so importers in other
processes can write between requests. Route handlers reach the per-app state through the FastAPI
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
from liqmap.errors import LiqmapError, StoreError
from liqmap.server.api.params import MAX_BINS
from liqmap.server.cache import LRUCache

MAX_SNAPSHOTS = 1_000  # engine heatmap rows kept per run: bounds memory at MAX_SNAPSHOTS × bins
ASYMMETRY_MOVES_PCT = (1.0, 2.0, 3.0, 5.0, 10.0)
OPEN_ATTEMPTS = 4
OPEN_RETRY_S = 0.05


class StoreBusyError(StoreError):
    """The store file exists but cannot be opened now (a writer holds its lock): retry shortly."""


class StoreReader(Protocol):
    """The read-only part of :class:`liqmap.data.store.Store` the server uses."""

    def query_bars(
        self, exchanges: list[str] | None, symbol: str, start_ms: int | None, end_ms: int | None
    ) -> pd.DataFrame: ...

    def query_liquidations(
        self, exchanges: list[str] | None, symbol: str, start_ms: int | None, end_ms: int | None
    ) -> pd.DataFrame: ...

    def symbols(self) -> pd.DataFrame: ...

    def last_timestamp(self, kind: str, exchange: str, symbol: str) -> int | None: ...


class EngineOutput(Protocol):
    """The part of :class:`liqmap.engine.EngineResult` the server reads."""

    heatmap: Heatmap
    events: pd.DataFrame
    warnings: tuple[str, ...]

    def liqmap(self, at_ms: int | None = None) -> LiqMap: ...


@dataclass(frozen=True)
class Services:
    """Store access and the pure computations behind each route.

    ``run_engine(bars, model, bins, bin_usd)`` returns an :class:`EngineOutput`;
    ``map_report(liqmap, window_pct, top)`` the clusters/imbalance/asymmetry dict;
    ``cascade(liqmap, bars, shock_pct, resilience)`` the cascade dict; ``validate(outputs, model, bars,
    liquidations)`` the validation scores of ``outputs[model]`` (``outputs`` maps model name → output,
    baselines included).
    """

    open_store: Callable[[], AbstractContextManager[StoreReader]]
    run_engine: Callable[[pd.DataFrame, str, int, float | None], EngineOutput]
    map_report: Callable[[LiqMap, float, int], dict[str, Any]]
    cascade: Callable[[LiqMap, pd.DataFrame, float, float], dict[str, Any]]
    validate: Callable[[dict[str, EngineOutput], str, pd.DataFrame, pd.DataFrame], dict[str, Any]]


def default_services(db_path: Path | str | None) -> Services:
    """The real store (opened read-only per access), engine and analytics."""
    import duckdb

    from liqmap import analytics, engine
    from liqmap.analytics.cascade import Direction, critical_shock_pct, simulate_cascade
    from liqmap.analytics.impact import SqrtImpact
    from liqmap.data.store import Store, default_db_path

    store_file = Path(db_path).expanduser() if db_path is not None else default_db_path()

    def open_store() -> AbstractContextManager[StoreReader]:
        attempt = 1
        while True:
            try:
                return Store(store_file, read_only=True)
            except (StoreError, duckdb.Error) as exc:
                if not store_file.is_file():
                    raise
                if attempt == OPEN_ATTEMPTS:
                    raise StoreBusyError(f"the store is busy (a writer holds it): {exc}; retry shortly") from None
            attempt += 1
            time.sleep(OPEN_RETRY_S)

    def run_engine(bars: pd.DataFrame, model: str, bins: int, bin_usd: float | None) -> EngineOutput:
        config = engine.EngineConfig(
            n_bins=None if bin_usd is not None else bins, bin_usd=bin_usd, max_snapshots=MAX_SNAPSHOTS
        )
        if bin_usd is not None:  # the engine pads the data range by range_pad_pct on both sides
            pad = config.range_pad_pct / 100
            width = float(bars["high"].max()) * (1 + pad) - float(bars["low"].min()) * max(1 - pad, 0.01)
            if width / bin_usd > MAX_BINS:
                raise LiqmapError(
                    f"bin_usd={bin_usd:g} gives {width / bin_usd:,.0f} bins over the padded price range "
                    f"(cap {MAX_BINS}); use bin_usd ≥ {width / MAX_BINS:,.2f} or give bins instead"
                )
        return engine.run(bars, model=model, config=config)

    def report(lm: LiqMap, window_pct: float, top: int) -> dict[str, Any]:
        out = analytics.map_report(lm, window_pct=window_pct, top=top)
        out["by_move"] = [m.to_dict() for m in analytics.liquidated_by_move(lm, ASYMMETRY_MOVES_PCT)]
        return out

    def cascade(lm: LiqMap, bars: pd.DataFrame, shock_pct: float, resilience: float) -> dict[str, Any]:
        impact = SqrtImpact.from_bars(_one_series(bars))
        out = simulate_cascade(lm, shock_pct, impact, resilience=resilience).to_dict()
        out["critical_shock_up_pct"] = critical_shock_pct(lm, impact, Direction.UP, resilience=resilience)
        out["critical_shock_down_pct"] = critical_shock_pct(lm, impact, Direction.DOWN, resilience=resilience)
        out["impact"] = {"sigma_daily": impact.sigma_daily, "volume_daily_usd": impact.volume_daily_usd}
        return out

    def validate(
        outputs: dict[str, EngineOutput], model: str, bars: pd.DataFrame, liquidations: pd.DataFrame
    ) -> dict[str, Any]:
        from liqmap.analytics.validation import validation_report

        return validation_report(outputs, model, bars, liquidations)

    return Services(open_store, run_engine, report, cascade, validate)


def _one_series(bars: pd.DataFrame) -> pd.DataFrame:
    """Bars of several exchanges as one series (mean close, summed volumes) for impact calibration."""
    if bars["exchange"].nunique() == 1:
        return bars
    usd = bars["quote_volume"].fillna(bars["volume"] * bars["close"])
    g = bars.assign(quote_volume=usd).groupby("timestamp", sort=True)
    return g.agg(close=("close", "mean"), volume=("volume", "sum"), quote_volume=("quote_volume", "sum")).reset_index()


@dataclass
class StoreWatcher:
    """Last stored bar timestamp per (exchange, symbol), probed at most once per ``interval_s``.

    Requests and websocket loops share the probe. While one thread probes, others that already know a
    value keep using it instead of waiting (stale-while-revalidate), and a probe that finds the store
    busy keeps the previous value, so a burst of requests never queues behind the store.
    """

    open_store: Callable[[], AbstractContextManager[StoreReader]]
    interval_s: float = 1.0
    _seen: dict[tuple[str, str], tuple[float, int | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def last_bar_ms(self, exchanges: Iterable[str], symbol: str) -> int | None:
        """Latest bar timestamp over ``exchanges`` for ``symbol``; ``None`` if none is stored."""
        keys = [(ex, symbol) for ex in exchanges]
        if self._stale(keys):
            known = all(k in self._seen for k in keys)
            if self._lock.acquire(blocking=not known):
                try:
                    self._probe(self._stale(keys), keep_old=known)
                finally:
                    self._lock.release()
        values = [self._seen[k][1] for k in keys]
        present = [v for v in values if v is not None]
        return max(present) if present else None

    def _stale(self, keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
        now = time.monotonic()
        return [k for k in keys if k not in self._seen or now - self._seen[k][0] >= self.interval_s]

    def _probe(self, keys: list[tuple[str, str]], *, keep_old: bool) -> None:
        if not keys:
            return
        now = time.monotonic()
        try:
            with self.open_store() as store:
                for ex, sym in keys:
                    self._seen[(ex, sym)] = (now, store.last_timestamp("bars", ex, sym))
        except StoreBusyError:
            if not keep_old:
                raise
            for k in keys:  # try again next interval
                self._seen[k] = (now, self._seen[k][1])


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
