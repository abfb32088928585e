"""Key levels: liquidation clusters found as peaks of the smoothed liquidation density.

Every width is in % of the map's price, converted to bins with the map's ``bin_usd``, so the clusters do
not depend on the grid. Method (per side; longs only among bins below price, shorts only above):

1. **Smoothing** — each bin's raw notional, spread evenly over the bin, is convolved with a Gaussian of
   standard deviation ``smooth_pct`` % of price (zero outside the grid, truncated at 4 σ) and averaged over
   each bin; ``smooth_pct = 0`` disables it. The smoothed curve is zeroed on the wrong side of price.
2. **Peaks** — ``scipy.signal.find_peaks`` on the zero-padded smoothed curve (so a peak at the edge of
   the grid counts) keeping peaks whose prominence is at least ``prominence_frac`` × the side's maximum.
3. **Merge** — peaks at most ``merge_pct`` % of price apart are merged into one cluster (chains merge too).
4. **Band** — from its outermost peaks a cluster extends outward to where the smoothed curve (linear between
   bin centres) falls below ``rel_height`` × that peak's height (0.5: full width at half maximum), never
   past the price, the grid or the lowest point (a bin centre) between it and a neighbouring cluster, and
   always covering its peaks' bins: bands never overlap and no notional is counted twice.
5. **Figures** — ``notional_usd`` is the integral of the *raw* notional over ``[lo, hi]`` (edge bins weighted
   by their overlap); ``peak_price`` the vertex of the parabola through the highest smoothed peak and its
   neighbours; distances are ``peak_price − price`` (negative for longs below).

Clusters of both sides are ranked together by notional (largest first) and capped at ``top``.

Defaults: σ = 0.4 % of price (≈ $290 at $73k; an isolated spike gets a band ≈ 0.94 % wide), merge 0.5 %.
On the bundled Binance BTC map the top cluster keeps its side, its notional (within 2 %) and its peak
(within 0.05 %) across ``bin_usd`` 25–200 at σ = 0.4 %; at σ ≤ 0.35 % the engine's own discretisation
noise splits or joins clusters differently per bin width and the top cluster changes side.

>>> import numpy as np
>>> from liqmap.engine.results import LiqMap
>>> bins = np.arange(90_000.0, 98_001.0, 100.0)
>>> shorts = np.where(bins == 94_000.0, 1e9, 0.0)
>>> lm = LiqMap("BTC/USDT:USDT", 0, 93_000.0, bins, np.zeros_like(bins), shorts)
>>> [(c.side.name, c.peak_price, c.notional_usd) for c in key_levels(lm)]
[('SHORT', 94000.0, 1000000000.0)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from liqmap.analytics._curves import check_map
from liqmap.engine.results import LiqMap
from liqmap.enums import Side
from liqmap.errors import LiqmapError

_TRUNCATE = 4.0  # Gaussian kernel half-width in standard deviations
SMOOTH_PCT = 0.4  # default Gaussian σ, % of price
MERGE_PCT = 0.5  # default largest gap between merged peaks, % of price


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
    smooth_pct: float = SMOOTH_PCT,
    prominence_frac: float = 0.05,
    merge_pct: float = MERGE_PCT,
    rel_height: float = 0.5,
    side: Side | str | None = None,
) -> list[Cluster]:
    """Liquidation clusters of ``lm`` ranked by notional (see the module docstring for the method).

    ``smooth_pct`` (Gaussian σ) and ``merge_pct`` (largest gap between merged peaks) are % of ``lm.price``;
    ``side`` restricts to ``"long"`` or ``"short"``; ``top`` caps the list (``top >= 1``).
    """
    check_map(lm)
    if top < 1:
        raise LiqmapError(f"top must be ≥ 1, got {top}")
    if smooth_pct < 0 or merge_pct < 0 or not 0 < rel_height <= 1 or not 0 <= prominence_frac < 1:
        raise LiqmapError("need smooth_pct ≥ 0, merge_pct ≥ 0, 0 < rel_height ≤ 1 and 0 ≤ prominence_frac < 1")
    sides = (Side.LONG, Side.SHORT) if side is None else (Side.parse(side),)
    sigma_bins = smooth_pct / 100 * lm.price / lm.bin_usd
    merge_usd = merge_pct / 100 * lm.price
    found: list[Cluster] = []
    for s in sides:
        found += _side_clusters(lm, s, sigma_bins, prominence_frac, merge_usd, rel_height)
    found.sort(key=lambda c: (-c.notional_usd, abs(c.distance_usd)))
    return [
        Cluster(i + 1, c.side, c.lo, c.hi, c.peak_price, c.notional_usd, c.distance_usd, c.distance_pct)
        for i, c in enumerate(found[:top])
    ]


def _side_clusters(
    lm: LiqMap, side: Side, sigma_bins: float, prominence_frac: float, merge_usd: float, rel_height: float
) -> list[Cluster]:
    from scipy.signal import find_peaks  # scipy.signal loads slowly: only when clustering

    bins, width = lm.price_bins, lm.bin_usd
    allowed = bins < lm.price if side is Side.LONG else bins > lm.price
    raw = np.where(allowed, lm.long_usd if side is Side.LONG else lm.short_usd, 0.0)
    smooth = np.where(allowed, _smooth(raw, sigma_bins), 0.0)
    top_height = float(smooth.max())
    if top_height <= 0:
        return []
    padded = np.pad(smooth, 1)
    peaks, _ = find_peaks(padded, prominence=prominence_frac * top_height)
    peaks = peaks - 1
    groups = _merge(peaks, merge_usd / width)
    # Band limits: the grid's edges, the price (no band crosses it) and the valley centres between clusters.
    grid_lo, grid_hi = float(bins[0]) - width / 2, float(bins[-1]) + width / 2
    limits = [max(grid_lo, lm.price) if side is Side.SHORT else grid_lo]
    for left, right in pairwise(groups):
        a, b = left[-1], right[0]
        limits.append(float(bins[a + int(np.argmin(smooth[a : b + 1]))]))
    limits.append(min(grid_hi, lm.price) if side is Side.LONG else grid_hi)
    cum = np.concatenate(([0.0], np.cumsum(raw)))
    edges = grid_lo + width * np.arange(len(bins) + 1)
    out = []
    for g, group in enumerate(groups):
        lo_i, hi_i = group[0], group[-1]
        lo = max(min(_crossing(smooth, lo_i, -1, rel_height, bins), bins[lo_i] - width / 2), limits[g])
        hi = min(max(_crossing(smooth, hi_i, 1, rel_height, bins), bins[hi_i] + width / 2), limits[g + 1])
        notional = float(np.interp(hi, edges, cum) - np.interp(lo, edges, cum))
        if notional <= 0:
            continue
        top_i = max(group, key=lambda i: smooth[i])
        y_left, y_mid, y_right = padded[top_i : top_i + 3]
        curvature = y_left - 2 * y_mid + y_right
        offset = 0.5 * (y_left - y_right) / curvature if curvature < 0 else 0.0  # vertex of the parabola
        peak_price = float(bins[top_i] + offset * width)
        out.append(
            Cluster(
                rank=0,
                side=side,
                lo=float(lo),
                hi=float(hi),
                peak_price=peak_price,
                notional_usd=notional,
                distance_usd=peak_price - lm.price,
                distance_pct=100.0 * (peak_price - lm.price) / lm.price,
            )
        )
    return out


def _smooth(raw: np.ndarray, sigma_bins: float) -> np.ndarray:
    """``raw`` (notional per bin, spread evenly over each bin) convolved with a Gaussian of ``sigma_bins``,
    averaged over each bin; zero outside the grid, truncated at 4 σ; ``sigma_bins = 0`` returns ``raw``."""
    from scipy.special import ndtr

    if sigma_bins <= 0:
        return raw
    radius = min(math.ceil(_TRUNCATE * sigma_bins), len(raw) - 1)
    m = np.arange(radius + 1)
    half = ndtr((0.5 - m) / sigma_bins) - ndtr((-0.5 - m) / sigma_bins)  # Gaussian mass over bin offset m
    kernel = np.concatenate((half[:0:-1], half))
    return np.convolve(raw, kernel)[radius : radius + len(raw)]


def _crossing(smooth: np.ndarray, i: int, step: int, rel_height: float, bins: np.ndarray) -> float:
    """Price where ``smooth``, walking from peak ``i`` in direction ``step``, first falls below ``rel_height`` ×
    the peak (linear between bin centres); ±inf when it never does on the grid."""
    thresh = rel_height * smooth[i]
    j = i
    while 0 <= j + step < len(smooth) and smooth[j + step] >= thresh:
        j += step
    if not 0 <= j + step < len(smooth):
        return step * math.inf
    frac = (smooth[j] - thresh) / (smooth[j] - smooth[j + step])
    return float(bins[j] + step * frac * (bins[1] - bins[0]))


def _merge(peaks: np.ndarray, merge_bins: float) -> list[list[int]]:
    """Group ascending peak indices whose gap to the previous peak is at most ``merge_bins``."""
    groups: list[list[int]] = []
    for p in peaks.tolist():
        if groups and p - groups[-1][-1] <= merge_bins * (1 + 1e-9):
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups
