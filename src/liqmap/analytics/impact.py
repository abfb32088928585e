"""Market-impact models for the cascade: signed USD flow ↔ fractional price move.

Both models map a signed market-order flow ``q`` (USD; ``+`` = buys, ``−`` = sells) to a signed fractional
move of price (``0.01`` = +1 %) with :meth:`move_frac`:

* :class:`SqrtImpact` — the square-root law ``ΔP/P = Y·σ_D·sqrt(|Q|/V_D)`` (Donier & Bonart 2015 on
  BTC/USD; see ``exchange-mechanics.md`` §5) with ``σ_D`` the daily volatility of log returns and ``V_D`` the
  daily traded volume in USD, calibrated from recent bars by :meth:`SqrtImpact.from_bars`.
* :class:`BookImpact` — an instantaneous walk of an order book: buys consume asks, sells consume bids;
  the move for a flow ``Q`` is the distance ``x`` at which the cumulative depth ``D(x)`` reaches ``Q``,
  linear between book levels and, past the deepest level, extrapolated with a power law
  ``D(x) = D_last·(x/x_last)^a`` whose exponent is fitted on the book (log-log least squares) when the
  book reaches at least 0.5 % from mid, else 0.75 (the Binance BTCUSDT fit).

>>> m = SqrtImpact(sigma_daily=0.03, volume_daily_usd=10e9)
>>> round(m.move_frac(100e6), 6)   # 1·0.03·sqrt(0.01)
0.003
>>> round(m.move_frac(-400e6), 6)
-0.006
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from liqmap.errors import DataValidationError, LiqmapError
from liqmap.timeframes import MS_PER_DAY, bar_step_ms

DEFAULT_EXPONENT = 0.75  # fitted on Binance BTCUSDT bookDepth 2025-05-19: 0.77 bids / 0.70 asks (mechanics §5)
MIN_FIT_SPAN = 0.005  # fit the exponent only on books reaching at least 0.5 % from mid


class ImpactModel(Protocol):
    """Anything mapping a signed USD flow to a signed fractional price move."""

    def move_frac(self, flow_usd: float) -> float:
        """Signed fractional price move caused by a signed flow (``+`` buys)."""
        ...


@dataclass(frozen=True)
class SqrtImpact:
    """Square-root law ``ΔP/P = y·sigma_daily·sqrt(|Q|/volume_daily_usd)``."""

    sigma_daily: float
    volume_daily_usd: float
    y: float = 1.0

    def __post_init__(self) -> None:
        for name in ("sigma_daily", "volume_daily_usd", "y"):
            v = getattr(self, name)
            if not np.isfinite(v) or v <= 0:
                raise LiqmapError(f"SqrtImpact.{name} must be a positive finite number, got {v!r}")

    def move_frac(self, flow_usd: float) -> float:
        """Signed fractional move for a signed USD flow."""
        return float(np.sign(flow_usd) * self.y * self.sigma_daily * np.sqrt(abs(flow_usd) / self.volume_daily_usd))

    @classmethod
    def from_bars(cls, bars: pd.DataFrame, *, lookback_days: float = 30.0, y: float = 1.0) -> SqrtImpact:
        """Calibrate on the last ``lookback_days`` of canonical bars of one symbol (any bar size).

        Several exchanges are combined per timestamp (mean close, summed USD volume). ``sigma_daily`` =
        std of bar log returns × sqrt(bars per day); ``volume_daily_usd`` = mean USD volume per bar
        (``quote_volume``, else ``volume × close``) × bars per day.
        """
        missing = {"timestamp", "close", "volume"} - set(bars.columns)
        if missing:
            raise DataValidationError(f"bars lack column(s) {sorted(missing)} needed to calibrate impact")
        qv = bars["quote_volume"] if "quote_volume" in bars.columns else pd.Series(np.nan, index=bars.index)
        usd = qv.astype(float).fillna(bars["volume"].astype(float) * bars["close"].astype(float))
        b = (
            bars.assign(usd=usd)
            .groupby("timestamp", sort=True)
            .agg(close=("close", "mean"), usd=("usd", "sum"))
            .reset_index()
        )
        if len(b):
            b = b[b["timestamp"] >= b["timestamp"].iloc[-1] - lookback_days * MS_PER_DAY]
        if len(b) < 3:
            raise DataValidationError(f"need at least 3 bars to calibrate the square-root law, got {len(b)}")
        step_ms = bar_step_ms(b["timestamp"])
        assert step_ms is not None  # three distinct timestamps
        per_day = MS_PER_DAY / step_ms
        sigma = float(np.std(np.diff(np.log(b["close"].to_numpy(float))), ddof=1) * np.sqrt(per_day))
        volume = float(b["usd"].mean() * per_day)
        if not sigma > 0 or not volume > 0:
            raise DataValidationError(
                f"bars give sigma_daily={sigma:g}, volume_daily_usd={volume:g}; need moving prices and volume"
            )
        return cls(sigma_daily=sigma, volume_daily_usd=volume, y=y)


@dataclass(frozen=True)
class BookImpact:
    """Order-book walk: cumulative USD depth at fractional distances from mid, per side.

    ``bid_dist``/``ask_dist`` are ascending fractional distances (> 0) of each level from mid and
    ``bid_depth_usd``/``ask_depth_usd`` the cumulative USD depth up to that level.
    """

    bid_dist: np.ndarray
    bid_depth_usd: np.ndarray
    ask_dist: np.ndarray
    ask_depth_usd: np.ndarray
    bid_exponent: float = DEFAULT_EXPONENT
    ask_exponent: float = DEFAULT_EXPONENT
    as_of_ms: int | None = None  # snapshot time when built from depth data

    def __post_init__(self) -> None:
        for side in ("bid", "ask"):
            d, q = getattr(self, f"{side}_dist"), getattr(self, f"{side}_depth_usd")
            if len(d) == 0 or len(d) != len(q):
                raise DataValidationError(f"the {side} side of the book is empty; need depth on both sides")
            if np.any(np.diff(d) <= 0) or d[0] <= 0 or np.any(np.diff(q) < 0) or q[0] <= 0:
                raise DataValidationError(f"{side} depth must grow with strictly increasing distance > 0")

    @classmethod
    def from_levels(cls, dist_pct: np.ndarray, bid_depth_usd: np.ndarray, ask_depth_usd: np.ndarray) -> BookImpact:
        """From cumulative depth at given % distances (e.g. Binance ``bookDepth`` ±1…5 %); fits exponents."""
        d = np.asarray(dist_pct, dtype=float) / 100
        bids, asks = np.asarray(bid_depth_usd, dtype=float), np.asarray(ask_depth_usd, dtype=float)
        return cls(d, bids, d, asks, _fit_exponent(d, bids), _fit_exponent(d, asks))

    @classmethod
    def from_depth(cls, depth: pd.DataFrame, at_ms: int | None = None) -> BookImpact:
        """From canonical depth rows (``timestamp, side bid|ask, price, size``): the last snapshot at or
        before ``at_ms`` (default the last one) that has both bids and asks — a one-sided snapshot has no
        mid and is skipped; mid = (best bid + best ask) / 2, depth in USD = price·size."""
        missing = {"timestamp", "side", "price", "size"} - set(depth.columns)
        if missing:
            raise DataValidationError(f"depth lacks column(s) {sorted(missing)}")
        live = depth[depth["size"] > 0]
        if at_ms is not None:
            live = live[live["timestamp"] <= at_ms]
        if live.empty:
            raise DataValidationError(f"no depth snapshot at or before {at_ms}")
        sides = live.groupby("timestamp")["side"].agg(lambda s: {"bid", "ask"} <= set(s))
        if not sides.any():
            raise DataValidationError(
                f"no depth snapshot at or before {at_ms} has both bids and asks (latest: {int(sides.index.max())})"
            )
        ts = int(sides.index[sides.to_numpy()].max())
        snap = live[live["timestamp"] == ts]
        bids = snap[snap["side"] == "bid"].sort_values("price", ascending=False)
        asks = snap[snap["side"] == "ask"].sort_values("price")
        bid_px, ask_px = bids["price"].to_numpy(float), asks["price"].to_numpy(float)
        mid = (bid_px[0] + ask_px[0]) / 2
        if bid_px[0] >= ask_px[0]:
            raise DataValidationError(f"crossed book at {ts}: best bid {bid_px[0]} ≥ ask {ask_px[0]}")
        bid_d, ask_d = (mid - bid_px) / mid, (ask_px - mid) / mid
        bid_q = np.cumsum(bid_px * bids["size"].to_numpy(float))
        ask_q = np.cumsum(ask_px * asks["size"].to_numpy(float))
        fit_b, fit_a = _fit_exponent(bid_d, bid_q), _fit_exponent(ask_d, ask_q)
        return cls(bid_d, bid_q, ask_d, ask_q, fit_b, fit_a, as_of_ms=ts)

    def move_frac(self, flow_usd: float) -> float:
        """Signed fractional move: buys walk the asks (up), sells walk the bids (down)."""
        if flow_usd == 0:
            return 0.0
        d, q, a = self._side(flow_usd > 0)
        f = abs(flow_usd)
        if f <= q[-1]:
            x = float(np.interp(f, np.concatenate(([0.0], q)), np.concatenate(([0.0], d))))
        else:
            x = float(d[-1] * (f / q[-1]) ** (1 / a))
        return x if flow_usd > 0 else -x

    def _side(self, buy: bool) -> tuple[np.ndarray, np.ndarray, float]:
        if buy:
            return self.ask_dist, self.ask_depth_usd, self.ask_exponent
        return self.bid_dist, self.bid_depth_usd, self.bid_exponent


def _fit_exponent(dist: np.ndarray, depth: np.ndarray) -> float:
    """Least-squares slope of log depth on log distance, clipped to [0.3, 2]; the default when the book has
    fewer than 2 levels or reaches less than ``MIN_FIT_SPAN`` from mid (a few-bps book says nothing about
    the shape of depth at 1 %)."""
    ok = (dist > 0) & (depth > 0)
    if ok.sum() < 2 or np.ptp(np.log(dist[ok])) == 0 or dist[ok].max() < MIN_FIT_SPAN:
        return DEFAULT_EXPONENT
    slope = float(np.polyfit(np.log(dist[ok]), np.log(depth[ok]), 1)[0])
    return float(np.clip(slope, 0.3, 2.0))
