"""Engine results: :class:`LiqMap` (one instant), :class:`Heatmap` (time × price) and predicted events.

Plain frozen dataclasses over NumPy arrays, with ``to_frame()`` for pandas/Parquet export. Price bins are
ascending bin *centres* on a uniform grid of width ``bin_usd``; notional arrays hold the outstanding
position notional (USD, at entry) whose liquidation price falls in each bin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from liqmap import CAVEAT

EVENT_COLUMNS = ("timestamp", "exchange", "side", "price", "leverage", "notional_usd")


@dataclass(frozen=True)
class LiqMap:
    """Long and short notional that would be force-liquidated per price bin at one instant (the positions
    whose liquidation price lies in the bin × the profile's liquidation share).

    ``long_by_leverage``/``short_by_leverage`` have shape ``(len(leverages), n_bins)``;
    ``by_exchange`` maps an exchange name to its ``(long_usd, short_usd)`` pair of ``(n_bins,)`` arrays.
    """

    symbol: str
    as_of_ms: int
    price: float
    price_bins: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    leverages: tuple[float, ...] = ()
    long_by_leverage: np.ndarray | None = None
    short_by_leverage: np.ndarray | None = None
    by_exchange: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    model: str = ""
    profile: str = ""  # the calibration profile of the assumptions (liqmap.engine.profiles)

    def __post_init__(self) -> None:
        n = len(self.price_bins)
        if n < 2 or np.any(np.diff(self.price_bins) <= 0):
            raise ValueError("price_bins must hold at least two strictly ascending bin centres")
        if self.long_usd.shape != (n,) or self.short_usd.shape != (n,):
            raise ValueError(f"long_usd and short_usd must have shape ({n},) like price_bins")
        if not np.isfinite(self.price) or self.price <= 0:
            raise ValueError(f"price must be a positive finite number, got {self.price!r}")

    @property
    def bin_usd(self) -> float:
        """Width of one price bin in USD."""
        return float(self.price_bins[1] - self.price_bins[0])

    @property
    def long_cumulative_usd(self) -> np.ndarray:
        """Long liquidation notional summed *downward* from price: entry ``i`` is the total liquidated if
        price falls to ``price_bins[i]``; zero at and above price."""
        below = np.where(self.price_bins < self.price, self.long_usd, 0.0)
        return np.cumsum(below[::-1])[::-1]

    @property
    def short_cumulative_usd(self) -> np.ndarray:
        """Short liquidation notional summed *upward* from price: entry ``i`` is the total liquidated if
        price rises to ``price_bins[i]``; zero at and below price."""
        above = np.where(self.price_bins > self.price, self.short_usd, 0.0)
        return np.cumsum(above)

    def to_frame(self) -> pd.DataFrame:
        """One row per bin: ``price, long_usd, short_usd, long_cumulative_usd, short_cumulative_usd``
        plus ``long_<lev>x``/``short_<lev>x`` and ``<exchange>_long_usd``/``<exchange>_short_usd`` layers."""
        out = pd.DataFrame(
            {
                "price": self.price_bins,
                "long_usd": self.long_usd,
                "short_usd": self.short_usd,
                "long_cumulative_usd": self.long_cumulative_usd,
                "short_cumulative_usd": self.short_cumulative_usd,
            }
        )
        if self.long_by_leverage is not None and self.short_by_leverage is not None:
            for i, lev in enumerate(self.leverages):
                out[f"long_{lev:g}x"] = self.long_by_leverage[i]
                out[f"short_{lev:g}x"] = self.short_by_leverage[i]
        for name, (lng, sht) in self.by_exchange.items():
            out[f"{name}_long_usd"] = lng
            out[f"{name}_short_usd"] = sht
        out.attrs.update(
            symbol=self.symbol, as_of_ms=self.as_of_ms, price=self.price, model=self.model, profile=self.profile,
            caveat=CAVEAT,
        )  # fmt: skip
        return out


@dataclass(frozen=True)
class Heatmap:
    """Notional that would be force-liquidated per (snapshot time, price bin) — see :class:`LiqMap`.

    ``long_usd``/``short_usd`` have shape ``(len(times_ms), len(price_bins))``; ``close`` is the reference
    price at each snapshot. Optional breakdowns: ``long_by_leverage``/``short_by_leverage`` with shape
    ``(T, len(leverages), n_bins)`` and ``by_exchange`` mapping a name to ``(long, short)`` ``(T, n_bins)``.
    """

    symbol: str
    times_ms: np.ndarray
    price_bins: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    close: np.ndarray
    leverages: tuple[float, ...] = ()
    long_by_leverage: np.ndarray | None = None
    short_by_leverage: np.ndarray | None = None
    by_exchange: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    model: str = ""
    profile: str = ""  # the calibration profile of the assumptions (liqmap.engine.profiles)

    def __post_init__(self) -> None:
        shape = (len(self.times_ms), len(self.price_bins))
        if self.long_usd.shape != shape or self.short_usd.shape != shape:
            raise ValueError(f"long_usd and short_usd must have shape {shape} (times × price bins)")
        if self.close.shape != (shape[0],):
            raise ValueError(f"close must have shape ({shape[0]},), one price per snapshot")

    @property
    def bin_usd(self) -> float:
        """Width of one price bin in USD."""
        return float(self.price_bins[1] - self.price_bins[0])

    def index_at(self, time_ms: int | None = None) -> int:
        """Index of the last snapshot at or before ``time_ms`` (default: the last snapshot)."""
        if time_ms is None:
            return len(self.times_ms) - 1
        i = int(np.searchsorted(self.times_ms, time_ms, side="right")) - 1
        if i < 0:
            raise ValueError(f"no snapshot at or before {time_ms}; the heatmap starts at {int(self.times_ms[0])}")
        return i

    def at(self, time_ms: int | None = None) -> LiqMap:
        """The :class:`LiqMap` of the last snapshot at or before ``time_ms`` (default: the last one)."""
        i = self.index_at(time_ms)
        return LiqMap(
            symbol=self.symbol,
            as_of_ms=int(self.times_ms[i]),
            price=float(self.close[i]),
            price_bins=self.price_bins,
            long_usd=self.long_usd[i],
            short_usd=self.short_usd[i],
            leverages=self.leverages,
            long_by_leverage=None if self.long_by_leverage is None else self.long_by_leverage[i],
            short_by_leverage=None if self.short_by_leverage is None else self.short_by_leverage[i],
            by_exchange={k: (v[0][i], v[1][i]) for k, v in self.by_exchange.items()},
            model=self.model,
            profile=self.profile,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per (timestamp, price bin) with ``long_usd``, ``short_usd``, ``close``."""
        t, n = self.long_usd.shape
        out = pd.DataFrame(
            {
                "timestamp": np.repeat(self.times_ms, n),
                "price": np.tile(self.price_bins, t),
                "long_usd": self.long_usd.ravel(),
                "short_usd": self.short_usd.ravel(),
                "close": np.repeat(self.close, n),
            }
        )
        out.attrs.update(symbol=self.symbol, model=self.model, profile=self.profile, caveat=CAVEAT)
        return out


@dataclass(frozen=True)
class EngineResult:
    """What :func:`liqmap.engine.run` returns: the heatmap, predicted events, the grid and the final books.

    ``engines`` maps each exchange to its :class:`liqmap.engine.IncrementalEngine` at the last bar, so a
    live feed can continue exactly where the batch run stopped. ``accounting`` has one row per
    (exchange, side) with seeded/opened/closed/liquidated/decayed/alive USD; ``warnings`` lists every
    repair applied to the input (sorted rows, dropped duplicates, NaN OI, gaps, widened ranges).
    """

    heatmap: Heatmap
    events: pd.DataFrame
    grid: np.ndarray
    model: str
    config: Any
    engines: dict[str, Any]
    accounting: pd.DataFrame
    warnings: tuple[str, ...] = ()
    snapshot_every_ms: int = 0

    def liqmap(self, at_ms: int | None = None) -> LiqMap:
        """The :class:`LiqMap` at the last snapshot at or before ``at_ms`` (default: the last bar). The last
        bar's map comes from the final books and always carries per-leverage layers."""
        hm = self.heatmap
        i = hm.index_at(at_ms)
        if i < len(hm.times_ms) - 1 or self.model == "uniform":
            return hm.at(at_ms)
        parts = {name: eng.project() for name, eng in self.engines.items()}
        total = [sum(p[j] for p in parts.values()) for j in range(4)]
        return LiqMap(
            symbol=hm.symbol,
            as_of_ms=int(hm.times_ms[i]),
            price=float(hm.close[i]),
            price_bins=self.grid,
            long_usd=total[0],
            short_usd=total[1],
            leverages=hm.leverages,
            long_by_leverage=total[2],
            short_by_leverage=total[3],
            by_exchange={name: (p[0], p[1]) for name, p in parts.items()},
            model=self.model,
            profile=self.config.profile,
        )


def map_payload(lm: LiqMap, max_bins: int | None = None) -> dict[str, Any]:
    """JSON-ready dict of a :class:`LiqMap`: ``price``, ``as_of`` (ISO UTC), ``bins`` (non-empty
    ``{price, long_usd, short_usd}``; all when ``max_bins`` is None, else the ``max_bins`` nearest price),
    the cumulative curves over the same bins, totals per side and exchange, ``model``, ``profile`` and ``caveat``."""
    keep = np.flatnonzero((lm.long_usd > 0) | (lm.short_usd > 0))
    if max_bins is not None and len(keep) > max_bins:
        keep = np.sort(keep[np.argsort(np.abs(lm.price_bins[keep] - lm.price), kind="stable")[:max_bins]])
    cum_l, cum_s = lm.long_cumulative_usd, lm.short_cumulative_usd
    return {
        "symbol": lm.symbol,
        "price": lm.price,
        "as_of": pd.Timestamp(lm.as_of_ms, unit="ms", tz="UTC").isoformat(),
        "as_of_ms": lm.as_of_ms,
        "model": lm.model,
        "profile": lm.profile,
        "bin_usd": lm.bin_usd,
        "total_long_usd": float(lm.long_usd.sum()),
        "total_short_usd": float(lm.short_usd.sum()),
        "by_exchange": {
            name: {"long_usd": float(lng.sum()), "short_usd": float(sht.sum())}
            for name, (lng, sht) in lm.by_exchange.items()
        },
        "bins": [
            {"price": float(lm.price_bins[i]), "long_usd": float(lm.long_usd[i]), "short_usd": float(lm.short_usd[i])}
            for i in keep
        ],
        "long_cumulative_usd": [float(cum_l[i]) for i in keep],
        "short_cumulative_usd": [float(cum_s[i]) for i in keep],
        "caveat": CAVEAT,
    }
