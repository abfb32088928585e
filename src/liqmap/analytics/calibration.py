"""Calibration of the engine's assumptions to realized liquidation *amounts* and their timing.

What is fitted (see :class:`liqmap.engine.EngineConfig`): the per-side leverage tilt, the seed's entry
spread, the early-exit hazard, the turnover fraction — over a grid, every candidate run once per series —
and the per-side ``liquidation_share`` in closed form: the book does not depend on it (what reaches its
liquidation price leaves the book either way; the share only says how much of it is force-liquidated),
so the predicted amounts scale linearly with it and the best share is the training series' pooled
``realized / predicted`` total (capped at 1). A candidate's objective is the mean daily log error
(:mod:`liqmap.analytics.amounts`) over the training series and both sides, with its fitted shares.

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

from liqmap.analytics.amounts import SIDES, AmountScore, amount_scores, anchors, per_period, scored_periods
from liqmap.errors import LiqmapError

# The calibration grid: every combination is one engine run per series.
GRID: dict[str, tuple[float, ...]] = {
    "leverage_tilt_long": (-3.0, -2.0, -1.0, 0.0),
    "leverage_tilt_short": (-2.0, -1.0, 0.0, 1.0),
    "seed_spread_pct": (5.0, 15.0, 30.0),
    "exit_hazard_per_day": (0.0, 8.0),
    "turnover_fraction": (0.0, 0.25, 1.0),
}
# The starting point: the prior's mixes on a leverage grid that reaches down to 2x (cross-margined and
# 10x-capped venues' positions sit mostly below 5x, where the prior has no level).
BASE_LEVERAGES = (2.0, 3.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0)
BASE_AGGRESSIVE = (0.02, 0.03, 0.05, 0.15, 0.20, 0.20, 0.20, 0.15)
BASE_PASSIVE = (0.15, 0.15, 0.20, 0.25, 0.10, 0.07, 0.05, 0.03)
MIN_SHARE = 1e-4


@dataclass(frozen=True)
class Series:
    """One calibration series: canonical bars of one symbol and its realized liquidations per period."""

    name: str
    bars: pd.DataFrame
    totals: pd.DataFrame  # timestamp, long_usd, short_usd (already restricted to the scored periods)


@dataclass(frozen=True)
class Candidate:
    """One grid point run on every series: per-series per-period tables at liquidation share 1."""

    params: dict[str, float]
    config: Any
    tables: dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Fit:
    """The chosen candidate, its fitted liquidation shares and its training objective."""

    params: dict[str, float]
    liquidation_share: tuple[float, float]
    objective: float
    config: Any
    trained_on: tuple[str, ...]
    candidates: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the config as its fitted fields)."""
        return {
            "params": self.params,
            "liquidation_share": list(self.liquidation_share),
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "series": self.series,
            "periods": self.periods,
            "fitted_on": list(self.fitted_on),
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
    """Run every config on every series (``oi-delta``) and keep the per-period predicted vs realized tables."""
    from liqmap.engine import run

    out = []
    for i, (params, cfg) in enumerate(configs):
        tables = {s.name: per_period(run(s.bars, config=cfg).events, s.totals) for s in series}
        out.append(Candidate(params, cfg, tables))
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


def _objective(tables: Sequence[pd.DataFrame]) -> float:
    errs = [s.log_error for t in tables for s in amount_scores(t).values() if s.log_error is not None]
    return float(np.mean(errs)) if errs else math.inf


def fit(candidates: Sequence[Candidate], train: Sequence[str], span_ms: tuple[int, int] | None = None) -> Fit:
    """The candidate with the lowest mean log error on the ``train`` series (within ``span_ms``), with its
    liquidation shares fitted on the same data."""
    if not candidates or not train:
        raise LiqmapError("calibration needs at least one candidate and one training series")
    best: tuple[float, Candidate, tuple[float, float]] | None = None
    for c in candidates:
        tables = [_restrict(c.tables[name], span_ms) for name in train]
        shares = fitted_shares(tables)
        obj = _objective([scaled(t, shares) for t in tables])
        if best is None or obj < best[0]:
            best = (obj, c, shares)
    assert best is not None
    obj, c, shares = best
    return Fit(c.params, shares, obj, replace(c.config, liquidation_share=shares), tuple(train), len(candidates))


def score_series(
    candidate_tables: Mapping[str, pd.DataFrame],
    bars: Mapping[str, pd.DataFrame],
    chosen: Fit,
    names: Sequence[str],
    span_ms: tuple[int, int] | None = None,
    anchor_train: Sequence[str] = (),
    anchor_span_ms: tuple[int, int] | None = None,
) -> list[SeriesScore]:
    """Scores of ``chosen`` on ``names`` (within ``span_ms``) beside the raw anchors and the anchors scaled by
    shares fitted on ``anchor_train`` (within ``anchor_span_ms``) the way the model's shares were."""

    def anchor_table(name: str, span: tuple[int, int] | None) -> pd.DataFrame:
        t = _restrict(candidate_tables[name], span)
        a = anchors(bars[name], t["timestamp"].to_numpy(np.int64))
        return t.assign(pred_long_usd=a["pred_long_usd"].to_numpy(), pred_short_usd=a["pred_short_usd"].to_numpy())

    a_shares = fitted_shares([anchor_table(n, anchor_span_ms) for n in anchor_train]) if anchor_train else (1.0, 1.0)
    out = []
    for name in names:
        t = scaled(_restrict(candidate_tables[name], span_ms), chosen.liquidation_share)
        a = anchor_table(name, span_ms)
        out.append(
            SeriesScore(
                series=name,
                periods=len(t),
                model=amount_scores(t),
                anchor=amount_scores(a),
                anchor_scaled=amount_scores(scaled(a, a_shares)),
                fitted_on=chosen.trained_on,
            )
        )
    return out


def cross_validate(
    candidates: Sequence[Candidate], bars: Mapping[str, pd.DataFrame], split_ms: int
) -> dict[str, list[SeriesScore]]:
    """Out-of-sample scores two ways: ``asset_split`` — each series scored by a fit on the others (all
    periods); ``time_split`` — every series' periods from ``split_ms`` on, scored by a fit on all series'
    periods before it."""
    names = list(candidates[0].tables)
    asset = []
    for held in names:
        others = [n for n in names if n != held]
        chosen = fit(candidates, others)
        winner = next(c for c in candidates if c.params == chosen.params)
        asset += score_series(winner.tables, bars, chosen, [held], anchor_train=others)
    before, after = (-(2**62), split_ms), (split_ms, 2**62)
    chosen = fit(candidates, names, before)
    winner = next(c for c in candidates if c.params == chosen.params)
    timed = score_series(winner.tables, bars, chosen, names, after, anchor_train=names, anchor_span_ms=before)
    return {"asset_split": asset, "time_split": timed}


def series_from(name: str, bars: pd.DataFrame, totals: pd.DataFrame, warmup_ms: int) -> Series:
    """A :class:`Series` whose totals are restricted to the periods the bars can be scored on."""
    return Series(name, bars, scored_periods(totals, bars, warmup_ms=warmup_ms))
