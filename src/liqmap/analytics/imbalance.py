"""Imbalance: short liquidation notional above price vs long notional below it, within a window.

The window is ``±window_pct`` around the map's price or absolute prices ``(lo, hi)``. Both sides are read
off the interpolated cumulative curves of :mod:`liqmap.analytics._curves` (a bin counts in full once the
window reaches its centre, linearly before), so a zero-width window gives exactly zero on both sides and
``imbalance(lm, window_pct=Y)`` equals :func:`liqmap.analytics.asymmetry.liquidated_by_move` for ``Y``.
``ratio`` is short/long; when there are no longs it is ``None`` (never ``inf``) and ``note`` says why.

>>> import numpy as np
>>> from liqmap.engine.results import LiqMap
>>> bins = np.arange(90.0, 111.0)
>>> lm = LiqMap("X", 0, 100.0, bins, np.where(bins == 95, 2e6, 0.0), np.where(bins == 104, 6e6, 0.0))
>>> imb = imbalance(lm, window_pct=10)
>>> imb.short_above_usd, imb.long_below_usd, imb.ratio
(6000000.0, 2000000.0, 3.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liqmap.analytics._curves import check_map, notional_within, ratio_or_none, side_knots
from liqmap.engine.results import LiqMap
from liqmap.errors import LiqmapError

NO_LONGS = "no longs in window"
EMPTY = "no liquidation notional in window"


@dataclass(frozen=True)
class SideSplit:
    """Short-above / long-below notional and their ratio for one layer (all, a leverage, an exchange)."""

    short_above_usd: float
    long_below_usd: float
    ratio: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "short_above_usd": self.short_above_usd,
            "long_below_usd": self.long_below_usd,
            "ratio": self.ratio,
            "note": self.note,
        }


@dataclass(frozen=True)
class Imbalance:
    """Window ``[lo, hi]`` (``window_pct`` when given as ±%), totals, and per-leverage/exchange splits."""

    price: float
    lo: float
    hi: float
    window_pct: float | None
    short_above_usd: float
    long_below_usd: float
    ratio: float | None
    note: str
    by_leverage: dict[float, SideSplit] = field(default_factory=dict)
    by_exchange: dict[str, SideSplit] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (leverage keys as ``"10x"``)."""
        return {
            "price": self.price,
            "lo": self.lo,
            "hi": self.hi,
            "window_pct": self.window_pct,
            "short_above_usd": self.short_above_usd,
            "long_below_usd": self.long_below_usd,
            "ratio": self.ratio,
            "note": self.note,
            "by_leverage": {f"{k:g}x": v.to_dict() for k, v in self.by_leverage.items()},
            "by_exchange": {k: v.to_dict() for k, v in self.by_exchange.items()},
        }


def imbalance(
    lm: LiqMap,
    *,
    window_pct: float | None = None,
    lo: float | None = None,
    hi: float | None = None,
) -> Imbalance:
    """Short notional above vs long notional below price inside ``±window_pct`` or ``[lo, hi]``."""
    check_map(lm)
    p = lm.price
    if window_pct is not None:
        if lo is not None or hi is not None:
            raise LiqmapError("give either window_pct or (lo, hi), not both")
        if not np.isfinite(window_pct) or window_pct < 0:
            raise LiqmapError(f"window_pct must be a finite number ≥ 0, got {window_pct!r}")
        lo, hi = p * (1 - window_pct / 100), p * (1 + window_pct / 100)
    elif lo is None or hi is None:
        raise LiqmapError("give a window: window_pct=5 (±5 %) or lo=..., hi=... (absolute prices)")
    elif not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise LiqmapError(f"window needs finite lo ≤ hi, got lo={lo!r}, hi={hi!r}")
    lo, hi = float(lo), float(hi)

    def split(long_usd: np.ndarray, short_usd: np.ndarray) -> SideSplit:
        up = side_knots(p, lm.price_bins, short_usd, up=True)
        down = side_knots(p, lm.price_bins, long_usd, up=False)
        shorts = notional_within(up, max(hi - p, 0.0)) - notional_within(up, max(lo - p, 0.0))
        longs = notional_within(down, max(p - lo, 0.0)) - notional_within(down, max(p - hi, 0.0))
        note = "" if longs > 0 else (NO_LONGS if shorts > 0 else EMPTY)
        return SideSplit(shorts, longs, ratio_or_none(shorts, longs), note)

    total = split(lm.long_usd, lm.short_usd)
    by_lev: dict[float, SideSplit] = {}
    if lm.long_by_leverage is not None and lm.short_by_leverage is not None:
        for i, lev in enumerate(lm.leverages):
            by_lev[float(lev)] = split(lm.long_by_leverage[i], lm.short_by_leverage[i])
    by_ex = {name: split(lng, sht) for name, (lng, sht) in lm.by_exchange.items()}
    return Imbalance(
        price=p,
        lo=lo,
        hi=hi,
        window_pct=window_pct,
        short_above_usd=total.short_above_usd,
        long_below_usd=total.long_below_usd,
        ratio=total.ratio,
        note=total.note,
        by_leverage=by_lev,
        by_exchange=by_ex,
    )
