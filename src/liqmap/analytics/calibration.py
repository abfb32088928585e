"""Calibration of the engine's assumptions to realized liquidation *amounts* and their timing.

What is fitted (see :class:`liqmap.engine.EngineConfig`): the per-side leverage tilt, the seed's entry
spread, the early-exit hazard, the turnover fraction — over a grid, every candidate run once per series —
and the per-side ``liquidation_share`` in closed form: the book does not depend on it (what reaches its
liquidation price leaves the book either way; the share only says how much of it is force-liquidated),
so the predicted amounts scale linearly with it and the best share is the training series' pooled
``realized / predicted`` total (capped at 1). A candidate's objective is the mean daily log error
(:mod:`liqmap.analytics.amounts`) over the training series and both sides, with its fitted shares, minus
``LOCATION_WEIGHT`` × the mean log score (:mod:`liqmap.analytics.validation`) of the training series'
realized events, where they have some: amounts and places are fitted together. A series can lend only its
events' places (``fit_amounts=False``): its amounts are then reported, never fitted.

:func:`fit` fits on the given series and periods; :func:`cross_validate` scores held-out series (asset
split) and later periods (time split) with fits that never saw them. Both are pure: series come in as
frames, results go out as records.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from liqmap.analytics.amounts import (
    SIDES,
    AmountScore,
    amount_scores,
    anchors,
    per_period,
    realized_totals,
    scored_periods,
)
from liqmap.errors import LiqmapError
from liqmap.timeframes import MS_PER_DAY

# The calibration grid: every combination is one engine run per series.
GRID: dict[str, tuple[float, ...]] = {
    "leverage_tilt_long": (-1.0, 0.0, 1.0, 2.0, 3.0, 4.0),
    "leverage_tilt_short": (-1.0, 0.0, 1.0, 2.0, 3.0, 4.0),
    "seed_spread_pct": (15.0, 30.0),
    "exit_hazard_per_day": (0.0, 8.0),
    "turnover_fraction": (0.0, 1.0),
}
# The starting point: the prior's mixes on a leverage grid that reaches down to 2x (cross-margined and
# 10x-capped venues' positions sit mostly below 5x, where the prior has no level).
BASE_LEVERAGES = (2.0, 3.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0)
BASE_AGGRESSIVE = (0.02, 0.03, 0.05, 0.15, 0.20, 0.20, 0.20, 0.15)
BASE_PASSIVE = (0.15, 0.15, 0.20, 0.25, 0.10, 0.07, 0.05, 0.03)
MIN_SHARE = 1e-4
# The venue whose fitted share serves venues with no realized amounts of their own (a CEX like them).
GENERAL_VENUE = "okx"
# Weight of *where* (mean log score of realized events, nats) against *how much* (mean daily log error).
LOCATION_WEIGHT = 0.5


@dataclass(frozen=True)
class Series:
    """One calibration series: canonical bars of one symbol and its realized liquidations per period."""

    name: str
    bars: pd.DataFrame
    totals: pd.DataFrame  # timestamp, long_usd, short_usd (already restricted to the scored periods)
    events: pd.DataFrame | None = None  # realized liquidation events with prices, to score *where* (optional)
    asset: str = ""  # what the asset split holds out together (default: the name)
    period_ms: int = MS_PER_DAY  # the realized totals' period
    fit_amounts: bool = True  # False: the amounts are only reported, the events only score where (location)

    @property
    def venue(self) -> str:
        """The exchange of the series' bars (liquidation shares are fitted per venue)."""
        return str(self.bars["exchange"].iloc[0]).lower()


@dataclass(frozen=True)
class Candidate:
    """One grid point run on every series: per-series per-period tables at liquidation share 1."""

    params: dict[str, float]
    config: Any
    tables: dict[str, pd.DataFrame]
    location: dict[str, float] = field(default_factory=dict)  # log score of the series' events, if it has some
    fit_amounts: tuple[str, ...] = ()  # the series whose amounts the fit matches
    venues: dict[str, str] = field(default_factory=dict)  # series name → venue


@dataclass(frozen=True)
class Fit:
    """The chosen candidate, its fitted liquidation shares and its training objective."""

    params: dict[str, float]
    liquidation_share: dict[str, tuple[float, float]]  # per venue
    objective: float
    config: Any
    trained_on: tuple[str, ...]
    candidates: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the config as its fitted fields)."""
        return {
            "params": self.params,
            "liquidation_share": {v: list(x) for v, x in self.liquidation_share.items()},
            "objective_log_error": self.objective,
            "trained_on": list(self.trained_on),
            "candidates": self.candidates,
        }


@dataclass(frozen=True)
class SeriesScore:
    """Out-of-sample amount scores of one series: model, raw anchors and share-fitted anchors."""

    series: str
    periods: int
    model: dict[str, AmountScore]
    anchor: dict[str, AmountScore]
    anchor_scaled: dict[str, AmountScore]
    fitted_on: tuple[str, ...] = field(default=())
    location_log_score: float | None = None  # where: log score of the series' realized events, if any

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "series": self.series,
            "periods": self.periods,
            "fitted_on": list(self.fitted_on),
            "location_log_score": self.location_log_score,
            **{
                key: {s: v.to_dict() for s, v in getattr(self, key).items()}
                for key in ("model", "anchor", "anchor_scaled")
            },
        }


def base_config() -> Any:
    """The EngineConfig the grid starts from (:data:`BASE_LEVERAGES` and its mixes, prior otherwise)."""
    from liqmap.engine import EngineConfig

    return EngineConfig(leverages=BASE_LEVERAGES, aggressive_weights=BASE_AGGRESSIVE, passive_weights=BASE_PASSIVE)


def grid_configs(base: Any, grid: Mapping[str, Sequence[Any]] = GRID) -> list[tuple[dict[str, float], Any]]:
    """Every ``(params, config)`` of the grid applied to ``base`` (an EngineConfig)."""
    keys = list(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        p = dict(zip(keys, (float(v) for v in values), strict=True))
        cfg = replace(
            base,
            leverage_tilt=(p["leverage_tilt_long"], p["leverage_tilt_short"]),
            liquidation_share=(1.0, 1.0),
            **{k: v for k, v in p.items() if not k.startswith("leverage_tilt")},
        )
        out.append((p, cfg))
    return out


def run_candidates(
    series: Sequence[Series],
    configs: Sequence[tuple[dict[str, float], Any]],
    progress: Callable[[int, int], None] | None = None,
) -> list[Candidate]:
    """Run every config on every series (``oi-delta``) and keep the per-period predicted vs realized tables
    and, for series with events, the log score of where those events happened (scale-free, so it does not
    depend on the liquidation share)."""
    from liqmap.analytics.validation import bar_length_ms, score_model
    from liqmap.engine import run

    out = []
    for i, (params, cfg) in enumerate(configs):
        tables, location = {}, {}
        for s in series:
            res = run(s.bars, config=cfg)
            tables[s.name] = per_period(res.events, s.totals, s.period_ms)
            if s.events is not None and not s.events.empty:
                t = s.events["timestamp"].to_numpy(np.int64)
                span_ms = (int(t.min()), int(t.max()) + 1)
                score, _ = score_model(s.name, res.heatmap, res.events, s.events, bar_length_ms(s.bars), span_ms)
                if score.log_score is not None:
                    location[s.name] = score.log_score
        fitted = tuple(s.name for s in series if s.fit_amounts)
        out.append(Candidate(params, cfg, tables, location, fitted, {s.name: s.venue for s in series}))
        if progress is not None:
            progress(i + 1, len(configs))
    return out


def _restrict(table: pd.DataFrame, span_ms: tuple[int, int] | None) -> pd.DataFrame:
    if span_ms is None:
        return table
    t = table["timestamp"].to_numpy(np.int64)
    return table[(t >= span_ms[0]) & (t < span_ms[1])]


def fitted_shares(tables: Sequence[pd.DataFrame]) -> tuple[float, float]:
    """Per side: realized / predicted totals pooled over ``tables``, capped to ``[MIN_SHARE, 1]`` (1 when
    nothing is predicted). Pooling weighs series by their amounts, so a series whose archive shows next to
    nothing on one side cannot drag the share of every other series."""
    out = []
    for side in SIDES:
        real = sum(float(t[f"{side}_usd"].sum()) for t in tables)
        pred = sum(float(t[f"pred_{side}_usd"].sum()) for t in tables)
        out.append(min(1.0, max(MIN_SHARE, real / pred)) if pred > 0 else 1.0)
    return out[0], out[1]


def scaled(table: pd.DataFrame, shares: tuple[float, float]) -> pd.DataFrame:
    """``table`` with its predicted amounts multiplied by the per-side ``shares``."""
    return table.assign(
        pred_long_usd=table["pred_long_usd"] * shares[0], pred_short_usd=table["pred_short_usd"] * shares[1]
    )


def _objective(tables: Sequence[pd.DataFrame], location: Sequence[float]) -> float:
    """Mean daily log error (both sides, every table) minus LOCATION_WEIGHT × the mean event log score."""
    errs = [s.log_error for t in tables for s in amount_scores(t).values() if s.log_error is not None]
    if not errs:
        return math.inf
    return float(np.mean(errs)) - (LOCATION_WEIGHT * float(np.mean(location)) if location else 0.0)


def fit(candidates: Sequence[Candidate], train: Sequence[str], span_ms: tuple[int, int] | None = None) -> Fit:
    """The candidate with the lowest objective on the ``train`` series, with its liquidation shares fitted on
    the same data, per venue. With ``span_ms`` only the periods inside it count, and no event log score (the
    events may lie outside it). The returned config's general ``liquidation_share`` — for venues with no
    realized amounts of their own — is :data:`GENERAL_VENUE`'s when it was fitted, else all venues' pooled."""
    if not candidates or not train:
        raise LiqmapError("calibration needs at least one candidate and one training series")
    best: tuple[float, Candidate, dict[str, tuple[float, float]]] | None = None
    for c in candidates:
        names = [n for n in train if n in c.fit_amounts]
        tables = {n: _restrict(c.tables[n], span_ms) for n in names}
        shares = {
            v: fitted_shares([t for n, t in tables.items() if c.venues[n] == v])
            for v in dict.fromkeys(c.venues[n] for n in names)
        }
        location = [c.location[n] for n in train if n in c.location] if span_ms is None else []
        obj = _objective([scaled(t, shares[c.venues[n]]) for n, t in tables.items()], location)
        if best is None or obj < best[0]:
            best = (obj, c, shares)
    assert best is not None
    obj, c, shares = best
    names = [n for n in train if n in c.fit_amounts]
    general = shares.get(GENERAL_VENUE) or fitted_shares([_restrict(c.tables[n], span_ms) for n in names])
    venue_shares = {v: x for v, x in shares.items() if v != GENERAL_VENUE}
    config = replace(c.config, liquidation_share=general, venue_liquidation_share=venue_shares)
    return Fit(c.params, shares, obj, config, tuple(train), len(candidates))


def score_series(
    winner: Candidate,
    series: Mapping[str, Series],
    chosen: Fit,
    names: Sequence[str],
    span_ms: tuple[int, int] | None = None,
    anchor_train: Sequence[str] = (),
    anchor_span_ms: tuple[int, int] | None = None,
) -> list[SeriesScore]:
    """Scores of ``chosen`` (run as ``winner``) on ``names`` (within ``span_ms``) beside the raw anchors and
    the anchors scaled by shares fitted on ``anchor_train`` (within ``anchor_span_ms``) as the model's were."""

    def anchor_table(name: str, span: tuple[int, int] | None) -> pd.DataFrame:
        t = _restrict(winner.tables[name], span)
        a = anchors(series[name].bars, t["timestamp"].to_numpy(np.int64), series[name].period_ms)
        return t.assign(pred_long_usd=a["pred_long_usd"].to_numpy(), pred_short_usd=a["pred_short_usd"].to_numpy())

    a_shares = fitted_shares([anchor_table(n, anchor_span_ms) for n in anchor_train]) if anchor_train else (1.0, 1.0)
    out = []
    for name in names:
        t = scaled(_restrict(winner.tables[name], span_ms), chosen.config.share_for(series[name].venue))
        if t.empty:
            continue
        a = anchor_table(name, span_ms)
        out.append(
            SeriesScore(
                series=name,
                periods=len(t),
                model=amount_scores(t),
                anchor=amount_scores(a),
                anchor_scaled=amount_scores(scaled(a, a_shares)),
                fitted_on=chosen.trained_on,
                location_log_score=winner.location.get(name),
            )
        )
    return out


def cross_validate(
    candidates: Sequence[Candidate], series: Sequence[Series], split_ms: int
) -> dict[str, list[SeriesScore]]:
    """Out-of-sample scores two ways: ``asset_split`` — each asset's series scored by a fit on the other
    assets' series (all periods and their events); ``time_split`` — the periods from ``split_ms`` on of every
    series with amounts before it, scored by a fit on those earlier periods (amounts only)."""
    by_name = {s.name: s for s in series}
    asset = []
    for held in dict.fromkeys(s.asset for s in series):
        mine = [s.name for s in series if s.asset == held]
        others = [s.name for s in series if s.asset != held]
        chosen = fit(candidates, others)
        anchor_train = [n for n in others if by_name[n].fit_amounts]
        asset += score_series(_winner(candidates, chosen), by_name, chosen, mine, anchor_train=anchor_train)
    before, after = (-(2**62), split_ms), (split_ms, 2**62)
    early = [s.name for s in series if s.fit_amounts and len(_restrict(candidates[0].tables[s.name], before))]
    chosen = fit(candidates, early, before)
    winner = _winner(candidates, chosen)
    timed = score_series(winner, by_name, chosen, early, after, anchor_train=early, anchor_span_ms=before)
    return {"asset_split": asset, "time_split": timed}


def _winner(candidates: Sequence[Candidate], chosen: Fit) -> Candidate:
    return next(c for c in candidates if c.params == chosen.params)


def series_from(
    name: str,
    bars: pd.DataFrame,
    realized: pd.DataFrame,
    period_ms: int,
    *,
    events: pd.DataFrame | None = None,
    asset: str = "",
    fit_amounts: bool = True,
) -> Series:
    """A :class:`Series` of ``bars`` against ``realized`` events or totals summed per ``period_ms``,
    restricted to the periods the bars can be scored on (after a one-day warm-up)."""
    totals = scored_periods(realized_totals(realized, period_ms), bars, period_ms, warmup_ms=MS_PER_DAY)
    return Series(name, bars, totals, events, asset or name, period_ms, fit_amounts)
