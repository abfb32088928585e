"""Fixtures for the server tests: an app over injected services (in-memory store of real candles)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from liqmap.analytics.imbalance import imbalance
from liqmap.analytics.levels import key_levels
from liqmap.engine.results import Heatmap, LiqMap
from liqmap.server import create_app
from liqmap.server.deps import Services

CANDLES = "/work/shared/data/market/candles_1h.parquet"


def real_bars(venue: str, coin: str, n: int) -> pd.DataFrame:
    """The last ``n`` real hourly candles of ``coin`` on ``venue`` in the canonical bars layout."""
    d = pd.read_parquet(CANDLES)
    d = d[(d["venue"] == venue) & (d["coin"] == coin)].sort_values("timestamp").tail(n)
    return pd.DataFrame(
        {
            "exchange": venue,
            "symbol": f"{coin}/USDT:USDT",
            "timestamp": d["timestamp"].astype("int64").to_numpy() // 1000,
            "open": d["o"].to_numpy(),
            "high": d["h"].to_numpy(),
            "low": d["l"].to_numpy(),
            "close": d["c"].to_numpy(),
            "volume": d["v"].to_numpy(),
        }
    )


@dataclass
class MemoryStore:
    """An in-memory stand-in for the read-only Store API."""

    bars: pd.DataFrame
    liquidations: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _select(self, table: pd.DataFrame, exchanges, symbol, start_ms, end_ms) -> pd.DataFrame:
        if table.empty:
            return table
        m = table["symbol"] == symbol
        if exchanges:
            m &= table["exchange"].isin(exchanges)
        if start_ms is not None:
            m &= table["timestamp"] >= start_ms
        if end_ms is not None:
            m &= table["timestamp"] <= end_ms
        return table[m].sort_values(["timestamp", "exchange"]).reset_index(drop=True)

    def query_bars(self, exchanges, symbol, start_ms, end_ms) -> pd.DataFrame:
        return self._select(self.bars, exchanges, symbol, start_ms, end_ms)

    def query_liquidations(self, exchanges, symbol, start_ms, end_ms) -> pd.DataFrame:
        return self._select(self.liquidations, exchanges, symbol, start_ms, end_ms)

    def symbols(self) -> pd.DataFrame:
        g = self.bars.groupby(["exchange", "symbol"])["timestamp"]
        return g.agg(first_ms="min", last_ms="max", rows="count").reset_index()

    def last_timestamp(self, table: str, exchange: str, symbol: str) -> int | None:
        rows = self._select(self.bars, [exchange], symbol, None, None)
        return None if rows.empty else int(rows["timestamp"].max())

    def append(self, bars: pd.DataFrame) -> None:
        self.bars = pd.concat([self.bars, bars], ignore_index=True)


@dataclass
class FakeOutput:
    heatmap: Heatmap
    events: pd.DataFrame

    def liqmap(self, at_ms: int | None = None) -> LiqMap:
        return self.heatmap.at(at_ms)


def fake_engine(bars: pd.DataFrame, model: str, bins: int, bin_usd: float | None) -> FakeOutput:
    """Deterministic stand-in: each bar's quote volume opens 10x longs (liq. −10 %) and shorts (+10 %)."""
    t = np.sort(bars["timestamp"].unique())
    close = bars.groupby("timestamp")["close"].last().reindex(t).to_numpy()
    notional = (bars["volume"] * bars["close"]).groupby(bars["timestamp"]).sum().reindex(t).to_numpy()
    lo, hi = float(bars["low"].min()) * 0.8, float(bars["high"].max()) * 1.2
    n = bins if bin_usd is None else int(np.ceil((hi - lo) / bin_usd))
    edges = np.linspace(lo, hi, n + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    scale = {"oi-delta": 1.0, "volume": 0.5, "uniform": 0.25}[model]
    long_i = np.clip(np.searchsorted(edges, close * 0.9) - 1, 0, n - 1)
    short_i = np.clip(np.searchsorted(edges, close * 1.1) - 1, 0, n - 1)
    long_usd = np.zeros((len(t), n))
    short_usd = np.zeros((len(t), n))
    long_usd[np.arange(len(t)), long_i] = notional * scale
    short_usd[np.arange(len(t)), short_i] = notional * scale
    hm = Heatmap(
        symbol=str(bars["symbol"].iloc[0]),
        times_ms=t,
        price_bins=centres,
        long_usd=np.cumsum(long_usd, axis=0),
        short_usd=np.cumsum(short_usd, axis=0),
        close=close,
        model=model,
    )
    return FakeOutput(hm, pd.DataFrame())


def fake_report(lm: LiqMap, window_pct: float, top: int) -> dict:
    return {
        "clusters": [c.to_dict() for c in key_levels(lm, top=top)],
        "imbalance": imbalance(lm, window_pct=window_pct).to_dict(),
        "asymmetry": [],
    }


def fake_cascade(lm: LiqMap, bars: pd.DataFrame, shock_pct: float) -> dict:
    final = lm.price * (1 + 2 * shock_pct / 100)
    return {
        "rounds": [
            {"price": lm.price * (1 + shock_pct / 100), "liquidated_usd": 1.0},
            {"price": final, "liquidated_usd": 2.0},
        ],
        "final_price": final,
        "total_liquidated_usd": 3.0,
        "amplification": 2.0,
        "critical_shock_up_pct": None,
        "critical_shock_down_pct": -3.0,
    }


def fake_validate(outputs: dict, model: str, liquidations: pd.DataFrame) -> dict:
    return {
        "events": len(liquidations),
        "top_decile_capture": 0.5,
        "lift_vs_volume": 1.5,
        "lift_vs_uniform": 2.0,
        "liq_volume_corr": None,
        "models": sorted(outputs),
    }


@dataclass
class Harness:
    store: MemoryStore
    calls: list[str]
    services: Services

    @staticmethod
    def engine(bars: pd.DataFrame, model: str, bins: int, bin_usd: float | None) -> FakeOutput:
        """The engine behind the app, uncounted (to compute expected values)."""
        return fake_engine(bars, model, bins, bin_usd)


@pytest.fixture
def harness() -> Harness:
    bars = pd.concat([real_bars("binance", "BTC", 24 * 60), real_bars("bybit", "BTC", 24 * 60)], ignore_index=True)
    store = MemoryStore(bars)
    calls: list[str] = []

    @contextmanager
    def open_store() -> Iterator[MemoryStore]:
        yield store

    def engine(bars, model, bins, bin_usd):
        calls.append(model)
        return fake_engine(bars, model, bins, bin_usd)

    return Harness(store, calls, Services(open_store, engine, fake_report, fake_cascade, fake_validate))


@pytest.fixture
def client(harness: Harness):
    from fastapi.testclient import TestClient

    app = create_app(None, services=harness.services, poll_interval_s=0.05)
    with TestClient(app) as c:
        yield c
