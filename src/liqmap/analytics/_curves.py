"""Shared helpers: input checks and the interpolated cumulative liquidation curves of a map.

The *liquidation curve* of one side gives the notional liquidated by a move of ``d`` USD away from the
map's price. Its knots are ``(0, 0)`` and, for every bin centre on that side (shorts above price, longs
below), ``(|centre − price|, cumulative notional up to and including that bin)``: a bin is fully
liquidated once price reaches its centre (exactly :attr:`LiqMap.short_cumulative_usd` /
:attr:`LiqMap.long_cumulative_usd`), and between two knots the curve is linear, i.e. a bin's notional is
spread evenly between the previous centre (or the price) and its own centre. Bins whose centre equals the
price, longs above price and shorts below it belong to neither curve (as in :class:`LiqMap`).
"""

from __future__ import annotations

import numpy as np

from liqmap.engine.results import LiqMap
from liqmap.errors import DataValidationError, LiqmapError


def check_map(lm: LiqMap) -> None:
    """Raise :class:`DataValidationError` unless every notional array of ``lm`` is finite and ≥ 0."""
    if not isinstance(lm, LiqMap):
        raise LiqmapError(f"expected a liqmap.engine.results.LiqMap, got {type(lm).__name__}")
    layers: list[tuple[str, np.ndarray | None]] = [("long_usd", lm.long_usd), ("short_usd", lm.short_usd)]
    layers += [("long_by_leverage", lm.long_by_leverage), ("short_by_leverage", lm.short_by_leverage)]
    layers += [(f"by_exchange[{k!r}]", np.asarray(v)) for k, v in lm.by_exchange.items()]
    for name, arr in layers:
        if arr is None:
            continue
        a = np.asarray(arr, dtype=float)
        if not np.all(np.isfinite(a)):
            raise DataValidationError(f"LiqMap.{name} holds NaN/inf; fill or drop those bins first")
        if np.any(a < 0):
            raise DataValidationError(f"LiqMap.{name} holds negative notional; notional must be ≥ 0")


def side_knots(price: float, bins: np.ndarray, density: np.ndarray, up: bool) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(distance_usd, cumulative_usd)`` of one side's liquidation curve, both ascending from 0.

    ``up=True`` walks the bins above ``price`` (shorts), ``up=False`` those below (longs).
    """
    if up:
        mask = bins > price
        dist = bins[mask] - price
        cum = np.cumsum(density[mask])
    else:
        mask = bins < price
        dist = (price - bins[mask])[::-1]
        cum = np.cumsum(density[mask][::-1])
    return np.concatenate(([0.0], dist)), np.concatenate(([0.0], cum))


def notional_within(knots: tuple[np.ndarray, np.ndarray], distance_usd: float) -> float:
    """Notional liquidated by a move of ``distance_usd`` (≥ 0) along a curve from :func:`side_knots`."""
    dist, cum = knots
    return float(np.interp(max(distance_usd, 0.0), dist, cum))


def distance_for(knots: tuple[np.ndarray, np.ndarray], target_usd: float) -> float | None:
    """Smallest move (USD) whose liquidated notional reaches ``target_usd``; ``None`` if never reached."""
    dist, cum = knots
    if target_usd <= 0:
        return 0.0
    if target_usd > cum[-1]:
        return None
    k = int(np.searchsorted(cum, target_usd, side="left"))  # first knot with cum >= target (k >= 1)
    frac = (target_usd - cum[k - 1]) / (cum[k] - cum[k - 1])
    return float(dist[k - 1] + frac * (dist[k] - dist[k - 1]))


def ratio_or_none(num: float, den: float) -> float | None:
    """``num / den``, or ``None`` when ``den`` is zero (never ``inf``/``NaN``)."""
    return None if den <= 0 else float(num / den)
