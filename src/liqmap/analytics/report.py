"""One analysis of one map, rendered by every surface: :func:`build_map_report` → :class:`MapReport`.

The CLI (``map``, ``levels``, ``cascade``), the HTTP API (``/api/map``, ``/api/levels``, ``/api/cascade``),
the dashboard and the demo all compute their numbers here, from one set of defaults
(:class:`ReportSettings`), and serialize them with one method (:meth:`MapReport.to_dict`).

>>> import numpy as np, pandas as pd
>>> from liqmap.engine.results import LiqMap
>>> bins = np.arange(90.0, 111.0)
>>> lm = LiqMap("X", 0, 100.0, bins, np.where(bins == 95, 2e6, 0.0), np.where(bins == 104, 6e6, 0.0))
>>> bars = pd.DataFrame({"timestamp": [-2, -1, 0], "close": [99.0, 101.0, 100.0], "volume": [1e7] * 3})
>>> r = build_map_report(lm, bars, ReportSettings(window_pct=10, targets_usd=(1e6,)), profile="prior")
>>> r.imbalance.ratio, r.asymmetry[0].move_down_usd, len(r.clusters), r.cascades.up.runaway
(3.0, 4.5, 2, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from liqmap import CAVEAT
from liqmap.analytics.asymmetry import LiquidatedByMove, MoveToLiquidate, liquidated_by_move, moves_to_liquidate
from liqmap.analytics.cascade import CascadeResult, critical_shock_pct, simulate_cascade
from liqmap.analytics.enums import Direction, ImpactKind
from liqmap.analytics.imbalance import Imbalance, imbalance
from liqmap.analytics.impact import BookImpact, ImpactModel, SqrtImpact
from liqmap.analytics.levels import Cluster, key_levels
from liqmap.analytics.settings import ReportSettings
from liqmap.analytics.validation import bar_length_ms
from liqmap.engine.results import LiqMap
from liqmap.errors import LiqmapError
from liqmap.timeframes import MS_PER_HOUR


@dataclass(frozen=True)
class ImpactInfo:
    """The calibrated impact model: square-root law parameters, or the order book's age, reach and exponents."""

    model: ImpactKind
    sigma_daily: float | None = None
    volume_daily_usd: float | None = None
    y: float | None = None
    depth_as_of_ms: int | None = None
    depth_age_hours: float | None = None
    bid_exponent: float | None = None
    ask_exponent: float | None = None
    bid_depth_usd: float | None = None
    bid_depth_pct: float | None = None
    ask_depth_usd: float | None = None
    ask_depth_pct: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (fields of the other model are null)."""
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"model": self.model.value}


@dataclass(frozen=True)
class CascadeReport:
    """The cascades after a ``+shock_pct`` (``up``) and a ``−shock_pct`` (``down``) move, and the smallest
    runaway shock each way (``None``: none up to ``max_shock_pct``)."""

    impact: ImpactInfo
    up: CascadeResult
    down: CascadeResult
    critical_shock_up_pct: float | None
    critical_shock_down_pct: float | None

    def run(self, shock_pct: float) -> CascadeResult:
        """The run in the direction of ``shock_pct``'s sign."""
        return self.up if shock_pct > 0 else self.down

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the runs without their caveat: the report carries it)."""
        return {
            "impact": self.impact.to_dict(),
            "up": {k: v for k, v in self.up.to_dict().items() if k != "caveat"},
            "down": {k: v for k, v in self.down.to_dict().items() if k != "caveat"},
            "critical_shock_up_pct": self.critical_shock_up_pct,
            "critical_shock_down_pct": self.critical_shock_down_pct,
        }


@dataclass(frozen=True)
class MapReport:
    """Everything a trader reads off one map: key levels, imbalance, asymmetry, notional per move, cascades,
    with the calibration ``profile`` of the engine run, the ``settings`` used and the engine's data
    ``warnings`` (repairs applied to the input)."""

    symbol: str
    as_of_ms: int
    price: float
    model: str
    profile: str
    settings: ReportSettings
    clusters: tuple[Cluster, ...]
    imbalance: Imbalance
    asymmetry: tuple[MoveToLiquidate, ...]
    by_move: tuple[LiquidatedByMove, ...]
    cascades: CascadeReport
    warnings: tuple[str, ...] = ()
    caveat: str = field(default=CAVEAT)

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of a map report (every surface prints or serves exactly this)."""
        return {
            "symbol": self.symbol,
            "as_of_ms": self.as_of_ms,
            "price": self.price,
            "model": self.model,
            "profile": self.profile,
            "settings": self.settings.to_dict(),
            "clusters": [c.to_dict() for c in self.clusters],
            "imbalance": self.imbalance.to_dict(),
            "asymmetry": [m.to_dict() for m in self.asymmetry],
            "by_move": [m.to_dict() for m in self.by_move],
            "cascades": self.cascades.to_dict(),
            "warnings": list(self.warnings),
            "caveat": self.caveat,
        }


def default_targets_usd(lm: LiqMap) -> list[float]:
    """Three round targets: the largest power of ten not above the bigger side's total, and the two below.

    A map with $14B of shorts and $900M of longs gets ``[1e8, 1e9, 1e10]``; an empty map ``[]``.
    """
    total = max(float(lm.long_cumulative_usd[0]), float(lm.short_cumulative_usd[-1]))
    if total <= 0:
        return []
    k = math.floor(math.log10(total))
    return [10.0**j for j in range(k - 2, k + 1)]


def build_map_report(
    lm: LiqMap,
    bars_for_impact: pd.DataFrame,
    settings: ReportSettings = ReportSettings(),  # frozen: one shared default is safe
    *,
    profile: str,
    warnings: Sequence[str] = (),
    depth: pd.DataFrame | None = None,
) -> MapReport:
    """The :class:`MapReport` of ``lm``.

    ``bars_for_impact`` are the canonical bars of the venues in the map (those up to the map time
    calibrate the square-root law; they also give the bar length, so a ``book`` impact reads the last
    two-sided ``depth`` snapshot at or before the map's bar close). ``profile`` names the engine's
    calibration profile (``EngineConfig.profile``); ``warnings`` are ``EngineResult.warnings``.
    """
    s = settings
    model, info = _impact(lm, bars_for_impact, s, depth)
    kw: dict[str, Any] = {"resilience": s.resilience, "runaway_amplification": s.runaway_amplification}
    crit = {
        d: critical_shock_pct(lm, model, d, max_shock_pct=s.max_shock_pct, **kw) for d in (Direction.UP, Direction.DOWN)
    }
    cascades = CascadeReport(
        impact=info,
        up=simulate_cascade(lm, s.shock_pct, model, **kw),
        down=simulate_cascade(lm, -s.shock_pct, model, **kw),
        critical_shock_up_pct=crit[Direction.UP],
        critical_shock_down_pct=crit[Direction.DOWN],
    )
    targets = default_targets_usd(lm) if s.targets_usd is None else list(s.targets_usd)
    return MapReport(
        symbol=lm.symbol,
        as_of_ms=lm.as_of_ms,
        price=lm.price,
        model=lm.model,
        profile=profile,
        settings=s,
        clusters=tuple(key_levels(lm, top=s.top)),
        imbalance=imbalance(lm, window_pct=s.window_pct),
        asymmetry=tuple(moves_to_liquidate(lm, targets)),
        by_move=tuple(liquidated_by_move(lm, s.moves_pct)),
        cascades=cascades,
        warnings=tuple(warnings),
    )


def _impact(
    lm: LiqMap, bars: pd.DataFrame, s: ReportSettings, depth: pd.DataFrame | None
) -> tuple[ImpactModel, ImpactInfo]:
    known = bars[bars["timestamp"] <= lm.as_of_ms]  # no look-ahead when the map is not at the last bar
    if s.impact is ImpactKind.SQRT:
        m = SqrtImpact.from_bars(known, lookback_days=s.impact_lookback_days)
        return m, ImpactInfo(ImpactKind.SQRT, sigma_daily=m.sigma_daily, volume_daily_usd=m.volume_daily_usd, y=m.y)
    if depth is None or depth.empty:
        raise LiqmapError("impact 'book' needs depth snapshots: give a depth table (CLI: --depth FILE or the store)")
    close_ms = lm.as_of_ms + bar_length_ms(known)  # the map is the state at its bar's close
    book = BookImpact.from_depth(depth, at_ms=close_ms)
    age_h = (close_ms - book.as_of_ms) / MS_PER_HOUR if book.as_of_ms is not None else None
    return book, ImpactInfo(
        ImpactKind.BOOK,
        depth_as_of_ms=book.as_of_ms,
        depth_age_hours=age_h,
        bid_exponent=book.bid_exponent,
        ask_exponent=book.ask_exponent,
        bid_depth_usd=float(book.bid_depth_usd[-1]),
        bid_depth_pct=100 * float(np.asarray(book.bid_dist)[-1]),
        ask_depth_usd=float(book.ask_depth_usd[-1]),
        ask_depth_pct=100 * float(np.asarray(book.ask_dist)[-1]),
    )
