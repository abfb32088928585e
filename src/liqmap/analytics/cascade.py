"""Liquidation-cascade simulation on a map: shock → forced orders → impact → more liquidations → …

Model (one round per step, all in closed form — no per-bin loops):

* **Round 0**: an exogenous shock moves price from ``P0`` to ``P1 = P0·(1 + shock_pct/100)``; the shock
  itself is permanent.
* **Liquidation rule**: a bin is liquidated, in full and once, the first time price reaches its centre
  (shorts above ``P0`` when price rises to it, longs below ``P0`` when it falls to it) — the step function of
  :attr:`LiqMap.short_cumulative_usd` / :attr:`LiqMap.long_cumulative_usd`. Liquidated bins are tracked
  as a prefix of each side walked away from ``P0``, so none is ever counted twice.
* **Forced orders**: liquidated shorts are market *buys*, longs market *sells*; net flow
  ``F = shorts − longs`` (USD).
* **Impact with resilience ``R``**: the cumulative net flow ``Q`` of every position liquidated so far moves
  price to ``P1·(1 + (1 − R)·I(Q))`` for the next round, ``I`` being the impact model
  (:mod:`liqmap.analytics.impact`): a fraction ``R`` of the liquidation impact has decayed (the book has
  refilled) before it can trigger the next round. ``R = 0`` treats all forced flow as one metaorder (the
  square-root law on the total); ``R = 1`` lets no liquidation move price (amplification 1). Because price
  depends on *which* positions are gone, not on how they were batched into rounds, the path is monotone,
  the fixed point is the least ``P ≥ P1`` with ``P = P1·(1 + (1 − R)·I(L(P)))`` (``L`` = liquidated
  notional), and a larger shock never liquidates less nor ends closer to ``P0``.
* **Fixed point**: the cascade stops at the first round that liquidates nothing; ``final_price`` is that
  round's price. It also stops when the liquidation-driven move (not the shock alone) reaches the outermost bin
  centre of the grid (``hit_edge``: the map cannot tell what lies beyond) or after ``max_rounds``.
* **Amplification** = ``(final_price − P0) / (P1 − P0)`` (exactly 1 when the shock liquidates nothing).
* **Runaway** ⇔ amplification ≥ ``runaway_amplification`` (default 2: the cascade at least doubles the
  shock) **or** the cascade hits the edge of the map **or** it has not converged after ``max_rounds``.

:func:`critical_shock_pct` finds the smallest shock that triggers a runaway one way: amplification is not
monotone in the shock, so it scans the shocks that just reach each bin centre on that side (the only
points where the round-0 liquidations change) up to ``max_shock_pct``, then bisects between the last
calm and the first runaway scan point to ``tol_pct``.

>>> import numpy as np
>>> from liqmap.engine.results import LiqMap
>>> from liqmap.analytics.impact import SqrtImpact
>>> bins = np.arange(90.0, 111.0)
>>> lm = LiqMap("X", 0, 100.0, bins, np.zeros(21), np.where(bins == 101, 1e9, 0.0))
>>> res = simulate_cascade(lm, 1.0, SqrtImpact(0.02, 1e9), resilience=0.0)
>>> [(round(r.price, 4), r.liquidated_usd) for r in res.rounds]
[(101.0, 1000000000.0), (103.02, 0.0)]
>>> round(res.amplification, 2), res.runaway
(3.02, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liqmap import CAVEAT
from liqmap.analytics._curves import check_map
from liqmap.analytics.enums import Direction
from liqmap.analytics.impact import ImpactModel
from liqmap.engine.results import LiqMap
from liqmap.errors import LiqmapError


@dataclass(frozen=True)
class CascadeRound:
    """One round: the price reached and the notional newly liquidated there."""

    index: int
    price: float
    liquidated_usd: float
    long_liquidated_usd: float
    short_liquidated_usd: float

    @property
    def side(self) -> str:
        """``"short"``, ``"long"``, ``"both"`` or ``"none"``: which positions this round liquidated."""
        s, lg = self.short_liquidated_usd > 0, self.long_liquidated_usd > 0
        return "both" if s and lg else "short" if s else "long" if lg else "none"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "index": self.index,
            "price": self.price,
            "liquidated_usd": self.liquidated_usd,
            "long_liquidated_usd": self.long_liquidated_usd,
            "short_liquidated_usd": self.short_liquidated_usd,
            "side": self.side,
        }


@dataclass(frozen=True)
class CascadeResult:
    """Path and outcome of one cascade (see the module docstring for every definition)."""

    start_price: float
    shock_pct: float
    shock_price: float
    rounds: list[CascadeRound]
    final_price: float
    total_liquidated_usd: float
    amplification: float
    runaway: bool
    hit_edge: bool
    converged: bool
    resilience: float
    liquidated_long_usd: np.ndarray = field(repr=False)
    liquidated_short_usd: np.ndarray = field(repr=False)

    @property
    def final_move_pct(self) -> float:
        """Total move from the start price, in %."""
        return 100.0 * (self.final_price - self.start_price) / self.start_price

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (per-bin arrays omitted) with the caveat."""
        return {
            "start_price": self.start_price,
            "shock_pct": self.shock_pct,
            "shock_price": self.shock_price,
            "rounds": [r.to_dict() for r in self.rounds],
            "final_price": self.final_price,
            "final_move_pct": self.final_move_pct,
            "total_liquidated_usd": self.total_liquidated_usd,
            "amplification": self.amplification,
            "runaway": self.runaway,
            "hit_edge": self.hit_edge,
            "converged": self.converged,
            "resilience": self.resilience,
            "caveat": CAVEAT,
        }


def simulate_cascade(
    lm: LiqMap,
    shock_pct: float,
    impact: ImpactModel,
    *,
    resilience: float = 0.0,
    runaway_amplification: float = 2.0,
    max_rounds: int = 1_000,
) -> CascadeResult:
    """Run a cascade from a ``shock_pct`` % move (``+`` up, ``−`` down) to its fixed point."""
    check_map(lm)
    _check_params(shock_pct, resilience, runaway_amplification, max_rounds)
    p0, bins = lm.price, lm.price_bins
    above, below = bins > p0, bins < p0
    s_px, s_usd = bins[above], lm.short_usd[above]  # ascending from price
    l_px, l_usd = bins[below][::-1], lm.long_usd[below][::-1]  # descending from price
    p1 = p0 * (1 + shock_pct / 100)
    i_s = i_l = 0  # shorts/longs liquidated so far (prefix lengths)
    hi = lo = p0
    price, flow = p1, 0.0
    rounds: list[CascadeRound] = []
    hit_edge = converged = False
    for r in range(max_rounds + 1):
        hi, lo = max(hi, price), min(lo, price)
        new_s = int(np.searchsorted(s_px, hi, side="right"))
        new_l = int(np.searchsorted(-l_px, -lo, side="right"))
        short_q, long_q = float(s_usd[i_s:new_s].sum()), float(l_usd[i_l:new_l].sum())
        i_s, i_l = new_s, new_l
        rounds.append(CascadeRound(r, price, short_q + long_q, long_q, short_q))
        if short_q + long_q == 0:
            converged = True
            break
        if r > 0 and (hi >= bins[-1] or lo <= bins[0]):
            hit_edge = True
            break
        flow += short_q - long_q
        price = p1 * (1 + max((1 - resilience) * impact.move_frac(flow), 1e-9 - 1))
    liq_short = np.zeros_like(bins)
    liq_short[np.flatnonzero(above)[:i_s]] = s_usd[:i_s]
    liq_long = np.zeros_like(bins)
    liq_long[np.flatnonzero(below)[::-1][:i_l]] = l_usd[:i_l]
    final = rounds[-1].price
    amplification = (final - p0) / (p1 - p0)
    return CascadeResult(
        start_price=p0,
        shock_pct=float(shock_pct),
        shock_price=p1,
        rounds=rounds,
        final_price=final,
        total_liquidated_usd=float(sum(r.liquidated_usd for r in rounds)),
        amplification=float(amplification),
        runaway=bool(amplification >= runaway_amplification or hit_edge or not converged),
        hit_edge=hit_edge,
        converged=converged,
        resilience=float(resilience),
        liquidated_long_usd=liq_long,
        liquidated_short_usd=liq_short,
    )


def critical_shock_pct(
    lm: LiqMap,
    impact: ImpactModel,
    direction: Direction | str,
    *,
    resilience: float = 0.0,
    runaway_amplification: float = 2.0,
    max_shock_pct: float = 10.0,
    tol_pct: float = 1e-4,
    max_rounds: int = 1_000,
) -> float | None:
    """Smallest shock size (%, positive magnitude) that triggers a runaway ``direction``-wards, or
    ``None`` if no shock up to ``max_shock_pct`` does."""
    sign = 1.0 if Direction(direction) is Direction.UP else -1.0
    if not 0 < max_shock_pct < (1e6 if sign > 0 else 100):
        raise LiqmapError(f"max_shock_pct must be in (0, {'∞' if sign > 0 else '100'}), got {max_shock_pct}")
    p0, bins = lm.price, lm.price_bins
    centres = bins[bins > p0] - p0 if sign > 0 else p0 - bins[bins < p0][::-1]
    cands = 100.0 * centres / p0 * (1 + 1e-12)
    cands = np.append(cands[cands < max_shock_pct], max_shock_pct)

    def runaway(size: float) -> bool:
        return simulate_cascade(
            lm,
            sign * size,
            impact,
            resilience=resilience,
            runaway_amplification=runaway_amplification,
            max_rounds=max_rounds,
        ).runaway

    calm = 0.0
    for size in cands:
        if runaway(float(size)):
            lo_s, hi_s = calm, float(size)
            break
        calm = float(size)
    else:
        return None
    while hi_s - lo_s > tol_pct:
        mid = (lo_s + hi_s) / 2
        if mid <= 0:
            break
        if runaway(mid):
            hi_s = mid
        else:
            lo_s = mid
    return hi_s


def _check_params(shock_pct: float, resilience: float, runaway_amplification: float, max_rounds: int) -> None:
    if not np.isfinite(shock_pct) or shock_pct == 0 or shock_pct <= -100:
        raise LiqmapError(f"shock_pct must be a non-zero finite % above −100, got {shock_pct!r}")
    if not 0 <= resilience <= 1:
        raise LiqmapError(f"resilience is the fraction of impact that decays per round: use 0…1, got {resilience}")
    if not runaway_amplification > 1:
        raise LiqmapError(f"runaway_amplification must exceed 1, got {runaway_amplification}")
    if max_rounds < 1:
        raise LiqmapError(f"max_rounds must be ≥ 1, got {max_rounds}")
