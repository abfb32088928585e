"""Key levels: liquidation clusters found as peaks of the smoothed liquidation density.

Method (per side; longs only among bins below price, shorts only above):

1. **Smoothing** — the raw notional per bin is convolved with a Gaussian kernel of ``smooth_bins`` bins
   standard deviation (``scipy.ndimage.gaussian_filter1d``, zero outside the grid, truncated at 4 σ);
   ``smooth_bins`` below 1/8 (the kernel would not reach a neighbour) disables it. The smoothed curve is
   zeroed on the wrong side of price.
2. **Peaks** — ``scipy.signal.find_peaks`` on the zero-padded smoothed curve (so a peak at the edge of
   the grid counts) keeping peaks whose prominence is at least ``prominence_frac`` × the side's maximum.
3. **Merge** — peaks at most ``merge_bins`` bins apart are merged into one cluster (chains merge too).
4. **Band** — from its outermost peaks a cluster extends outward while the smoothed curve stays at or above
   ``rel_height`` × that peak's height (0.5: full width at half maximum), never past the lowest point
   between it and a neighbouring cluster, so bands never overlap and no notional is counted twice.
5. **Figures** — ``notional_usd`` is the *raw* notional summed over the band's bins; ``peak_price`` the
   centre of the band's largest raw bin; ``lo``/``hi`` the band's outer bin edges; distances are
   ``peak_price − price`` (negative for longs below).

Clusters of both sides are ranked together by notional (largest first) and capped at ``top``.

>>> import numpy as np
>>> from liqmap.engine.results import LiqMap
>>> bins = np.arange(90_000.0, 98_001.0, 100.0)
>>> shorts = np.where(bins == 94_000.0, 1e9, 0.0)
>>> lm = LiqMap("BTC/USDT:USDT", 0, 93_000.0, bins, np.zeros_like(bins), shorts)
>>> [(c.side.name, c.peak_price, c.notional_usd) for c in key_levels(lm)]
[('SHORT', 94000.0, 1000000000.0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from liqmap.analytics._curves import check_map
from liqmap.engine.results import LiqMap
from liqmap.enums import Side
from liqmap.errors import LiqmapError

_TRUNCATE = 4.0  # Gaussian kernel half-width in standard deviations


@dataclass(frozen=True)
class Cluster:
    """One liquidation cluster (key level)."""

    rank: int
    side: Side
    lo: float
    hi: float
    peak_price: float
    notional_usd: float
    distance_usd: float
    distance_pct: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``side`` as ``"long"``/``"short"``)."""
        return {
            "rank": self.rank,
            "side": self.side.name.lower(),
            "lo": self.lo,
            "hi": self.hi,
            "peak_price": self.peak_price,
            "notional_usd": self.notional_usd,
            "distance_usd": self.distance_usd,
            "distance_pct": self.distance_pct,
        }


def key_levels(
    lm: LiqMap,
    *,
    top: int = 10,
    smooth_bins: float = 1.0,
    prominence_frac: float = 0.05,
    merge_bins: int = 3,
    rel_height: float = 0.5,
    side: Side | str | None = None,
) -> list[Cluster]:
    """Liquidation clusters of ``lm`` ranked by notional (see the module docstring for the method).

    ``side`` restricts to ``"long"`` or ``"short"``; ``top`` caps the list (``top >= 1``).
    """
    check_map(lm)
    if top < 1:
        raise LiqmapError(f"top must be ≥ 1, got {top}")
    if smooth_bins < 0 or merge_bins < 0 or not 0 < rel_height <= 1 or not 0 <= prominence_frac < 1:
        raise LiqmapError("need smooth_bins ≥ 0, merge_bins ≥ 0, 0 < rel_height ≤ 1 and 0 ≤ prominence_frac < 1")
    sides = (Side.LONG, Side.SHORT) if side is None else (Side.parse(side),)
    found: list[Cluster] = []
    for s in sides:
        found += _side_clusters(lm, s, smooth_bins, prominence_frac, merge_bins, rel_height)
    found.sort(key=lambda c: (-c.notional_usd, abs(c.distance_usd)))
    return [
        Cluster(i + 1, c.side, c.lo, c.hi, c.peak_price, c.notional_usd, c.distance_usd, c.distance_pct)
        for i, c in enumerate(found[:top])
    ]


def _side_clusters(
    lm: LiqMap, side: Side, smooth_bins: float, prominence_frac: float, merge_bins: int, rel_height: float
) -> list[Cluster]:
    from scipy.ndimage import gaussian_filter1d  # scipy loads slowly: only when clustering
    from scipy.signal import find_peaks

    bins = lm.price_bins
    allowed = bins < lm.price if side is Side.LONG else bins > lm.price
    raw = np.where(allowed, lm.long_usd if side is Side.LONG else lm.short_usd, 0.0)
    # A kernel narrower than 1/8 bin does not reach the neighbours (scipy's radius is round(4σ)): no smoothing.
    reaches = smooth_bins * _TRUNCATE >= 0.5
    smooth = gaussian_filter1d(raw, smooth_bins, mode="constant", truncate=_TRUNCATE) if reaches else raw
    smooth = np.where(allowed, smooth, 0.0)
    top_height = float(smooth.max())
    if top_height <= 0:
        return []
    peaks, _ = find_peaks(np.pad(smooth, 1), prominence=prominence_frac * top_height)
    peaks = peaks - 1
    groups = _merge(peaks, merge_bins)
    # Valleys between consecutive groups bound the bands: the valley bin goes to the left group.
    bounds = [0]
    for left, right in pairwise(groups):
        a, b = left[-1], right[0]
        bounds.append(a + int(np.argmin(smooth[a : b + 1])) + 1)
    bounds.append(len(bins))
    out = []
    for g, group in enumerate(groups):
        floor_lo, floor_hi = bounds[g], bounds[g + 1] - 1
        lo_i, hi_i = group[0], group[-1]
        lo_thresh, hi_thresh = rel_height * smooth[lo_i], rel_height * smooth[hi_i]
        while lo_i > floor_lo and allowed[lo_i - 1] and smooth[lo_i - 1] >= lo_thresh:
            lo_i -= 1
        while hi_i < floor_hi and allowed[hi_i + 1] and smooth[hi_i + 1] >= hi_thresh:
            hi_i += 1
        band = raw[lo_i : hi_i + 1]
        notional = float(band.sum())
        if notional <= 0:
            continue
        peak_price = float(bins[lo_i + int(np.argmax(band))])
        half = lm.bin_usd / 2
        out.append(
            Cluster(
                rank=0,
                side=side,
                lo=float(bins[lo_i] - half),
                hi=float(bins[hi_i] + half),
                peak_price=peak_price,
                notional_usd=notional,
                distance_usd=peak_price - lm.price,
                distance_pct=100.0 * (peak_price - lm.price) / lm.price,
            )
        )
    return out


def _merge(peaks: np.ndarray, merge_bins: int) -> list[list[int]]:
    """Group ascending peak indices whose gap to the previous peak is at most ``merge_bins``."""
    groups: list[list[int]] = []
    for p in peaks.tolist():
        if groups and p - groups[-1][-1] <= merge_bins:
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups
