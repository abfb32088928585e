"""Validation: how well a model's density located the liquidations that really happened.

For every realized liquidation (canonical LIQUIDATIONS rows; ``side`` is the liquidated position's side)
the model's heatmap is read at the last snapshot whose bar had *closed* before the event (snapshot time +
bar length ≤ event time), on the event's side (long density for long liquidations), at the bin holding
the event's price. Scores:

* ``percentile`` — mid-rank percentile of that bin's density among the bins within ``±window_pct``
  (default 10 %) of that snapshot's close, on that side (ties share the average rank, so a flat density
  gives 50). Ranking inside a window around price, not the whole grid, keeps the scores independent of
  how wide the engine's grid happens to be.
* ``top_decile_capture`` — share of realized notional whose bin is among the 10 % densest bins; tied bins
  straddling the decile boundary count by the expected share under random tie-breaking (a flat density
  captures exactly 10 %). Events outside the window count as not captured.
* ``lift_vs_volume`` / ``lift_vs_uniform`` — capture divided by the ``volume`` / ``uniform`` baselines'
  capture on the same events (``None`` if a baseline captures nothing).
* ``lift_vs_proximity`` — the same against a baseline that knows only where price is (long density
  ``1/(distance + one bin)`` below each snapshot's close, shorts above; :func:`proximity_heatmap`).
  Liquidations happen where price travels next, which is mostly close to the last close, so any density
  piled next to price captures a lot; beating this baseline shows the model knows more than that.
* ``log_score`` — notional-weighted mean log-likelihood gain (nats) over a flat density: an event in a
  bin holding share ``s`` of the window's density scores ``log(n·(0.99·s + 0.01/n))`` among ``n`` ranked
  bins (1 % spread flat so empty bins stay finite; outside the window ``log 0.01``). 0 = no better than
  flat. Unlike capture it is a proper scoring rule: it pays for putting the right *amount* of density
  where events happen, not just for ranking their bins high.
* ``liq_volume_corr`` — Pearson correlation of predicted (``EngineResult.events``) and realized liquidated
  notional per UTC hour over the scored span (``None`` with fewer than 3 hours or a constant series).

:func:`validate` splits the events by time (``train_frac`` of the span for training), picks the leverage
mix (a few tilts of the engine's weights by ``leverage^γ``) and the ``oi-delta`` turnover fraction (the
config's or 0) that maximise the objective (capture by default) on the training span, and reports every
score on the test span only. The engine is causal (a snapshot uses only earlier bars), so one run over all
bars serves both spans; only the grid's extent is taken from all bars, and the scores rank bins within a
window around price, not over the grid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from liqmap import CAVEAT
from liqmap.analytics.amounts import AmountScore, amount_scores, anchors, per_period, scored_periods
from liqmap.analytics.enums import Objective
from liqmap.engine.enums import Model
from liqmap.engine.results import EngineOutput, Heatmap
from liqmap.errors import DataValidationError, LiqmapError
from liqmap.tables import LIQUIDATIONS
from liqmap.timeframes import MS_PER_DAY, MS_PER_HOUR, bar_step_ms

_LIQ_COLUMNS = ("timestamp", "side", "price", "notional_usd")  # the LIQUIDATIONS columns validation reads
TOP_DECILE = 0.9
BASELINES = ("volume", "uniform")
PROXIMITY = "proximity"
DEFAULT_TILTS = (-1.0, -0.5, 0.5, 1.0, 2.0, 3.0, 4.0)  # γ; γ = 0 is the engine default mix
DEFAULT_TURNOVERS = (0.0,)  # turnover fractions tried besides the config's own (0: the book refreshes only on ΔOI)
DEFAULT_WINDOW_PCT = 10.0
LOG_FLOOR = 0.01  # share of probability spread evenly over the window in the log score


@dataclass(frozen=True)
class ModelScore:
    """Scores of one model on one span of realized events."""

    model: str
    events: int
    realized_usd: float
    top_decile_capture: float | None
    median_percentile: float | None
    mean_percentile: float | None
    log_score: float | None
    liq_volume_corr: float | None
    outside_window: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ValidationResult:
    """Headline scores of ``model`` (on the test span when split) plus baselines and calibration details."""

    model: str
    events: int
    top_decile_capture: float | None
    lift_vs_volume: float | None
    lift_vs_uniform: float | None
    lift_vs_proximity: float | None
    liq_volume_corr: float | None
    median_percentile: float | None
    log_score: float | None
    span_ms: tuple[int, int]
    split_ms: int | None
    window_pct: float | None
    scores: dict[str, ModelScore]
    calibration: dict[str, Any] = field(default_factory=dict)
    amounts: AmountValidation | None = None
    scored_events: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (per-event table omitted) with the caveat."""
        return {
            "model": self.model,
            "events": self.events,
            "top_decile_capture": self.top_decile_capture,
            "lift_vs_volume": self.lift_vs_volume,
            "lift_vs_uniform": self.lift_vs_uniform,
            "lift_vs_proximity": self.lift_vs_proximity,
            "liq_volume_corr": self.liq_volume_corr,
            "median_percentile": self.median_percentile,
            "log_score": self.log_score,
            "span_ms": list(self.span_ms),
            "split_ms": self.split_ms,
            "window_pct": self.window_pct,
            "scores": {k: v.to_dict() for k, v in self.scores.items()},
            "calibration": self.calibration,
            "amounts": None if self.amounts is None else self.amounts.to_dict(),
            "caveat": CAVEAT,
        }


@dataclass(frozen=True)
class AmountValidation:
    """How much: the model's predicted vs realized notional per side and period, beside the naive
    ``drawdown × OI`` / ``run-up × OI`` anchors (:mod:`liqmap.analytics.amounts`)."""

    profile: str
    period_ms: int
    periods: int
    span_ms: tuple[int, int] | None
    model: dict[str, AmountScore]
    anchor: dict[str, AmountScore]
    table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the per-period table as records)."""
        return {
            "profile": self.profile,
            "period_ms": self.period_ms,
            "periods": self.periods,
            "span_ms": None if self.span_ms is None else list(self.span_ms),
            "model": {k: v.to_dict() for k, v in self.model.items()},
            "anchor": {k: v.to_dict() for k, v in self.anchor.items()},
            "per_period": self.table.to_dict(orient="records"),
        }


def amount_validation(
    predicted: pd.DataFrame, realized: pd.DataFrame, bars: pd.DataFrame, profile: str, period_ms: int | None = None
) -> AmountValidation:
    """Score predicted events (``EngineResult.events``) against ``realized`` events or per-period totals on
    the periods the bars fully cover after a one-period warm-up; ``period_ms`` defaults to a day when the
    realized span reaches three days, else an hour."""
    from liqmap.analytics.amounts import realized_totals

    t = realized["timestamp"].to_numpy(np.int64)
    if period_ms is None:
        period_ms = MS_PER_DAY if t.max() - t.min() >= 3 * MS_PER_DAY else MS_PER_HOUR
    periods = scored_periods(realized_totals(realized, period_ms), bars, period_ms, warmup_ms=period_ms)
    if periods.empty:
        raise DataValidationError("no realized period is fully covered by the bars after a warm-up period")
    table = per_period(predicted, periods, period_ms)
    anchor = anchors(bars, table["timestamp"].to_numpy(np.int64), period_ms)
    anchor_table = table.assign(pred_long_usd=anchor["pred_long_usd"], pred_short_usd=anchor["pred_short_usd"])
    ts = table["timestamp"].to_numpy(np.int64)
    return AmountValidation(
        profile=profile,
        period_ms=period_ms,
        periods=len(table),
        span_ms=(int(ts.min()), int(ts.max()) + period_ms),
        model=amount_scores(table),
        anchor=amount_scores(anchor_table),
        table=table.assign(anchor_long_usd=anchor["pred_long_usd"], anchor_short_usd=anchor["pred_short_usd"]),
    )


def validate_amounts(
    bars: pd.DataFrame, realized: pd.DataFrame, config: Any = None, period_ms: int | None = None
) -> AmountValidation:
    """Run ``oi-delta`` with ``config`` (default: the ``default`` profile) on ``bars`` and score its amounts
    against ``realized`` events or totals (:func:`amount_validation`)."""
    from liqmap.engine import run
    from liqmap.engine.profiles import load_profile

    cfg = load_profile().config() if config is None else config
    return amount_validation(run(bars, config=cfg).events, realized, bars, cfg.profile, period_ms)


def proximity_heatmap(heatmap: Heatmap, rows: np.ndarray | None = None) -> Heatmap:
    """Baseline on ``heatmap``'s grid and closes that knows only where price is: long density
    ``1/(close − price + bin)`` below each close, short density ``1/(price − close + bin)`` above it.
    ``rows`` keeps only those snapshots (the ones events are scored against), to bound memory."""
    idx = np.arange(len(heatmap.times_ms)) if rows is None else np.asarray(rows, dtype=np.int64)
    close = heatmap.close[idx]
    dist = heatmap.price_bins[None, :] - close[:, None]
    weight = np.nan_to_num(1.0 / (np.abs(dist) + heatmap.bin_usd))
    return Heatmap(
        symbol=heatmap.symbol,
        times_ms=heatmap.times_ms[idx],
        price_bins=heatmap.price_bins,
        long_usd=np.where(dist < 0, weight, 0.0),
        short_usd=np.where(dist > 0, weight, 0.0),
        close=close,
        model=PROXIMITY,
    )


def score_events(
    heatmap: Heatmap, liquidations: pd.DataFrame, bar_ms: int, window_pct: float | None = DEFAULT_WINDOW_PCT
) -> pd.DataFrame:
    """Per realized event: the snapshot used, its bin, density ``percentile`` and ``top_decile`` weight.

    The bins ranked are those within ``±window_pct`` of the snapshot's close (``None``: the whole grid).
    Events with no closed snapshot before them are dropped; events outside the window (or the grid) get
    ``percentile`` NaN, weight 0, ``log_gain`` log(0.01) and ``in_window`` False.
    """
    liq = _check_liquidations(liquidations)
    if window_pct is not None and not window_pct > 0:
        raise LiqmapError(f"window_pct must be > 0 (or None for the whole grid), got {window_pct!r}")
    t = liq["timestamp"].to_numpy(np.int64)
    snap = np.searchsorted(heatmap.times_ms, t - bar_ms, side="right") - 1
    liq = liq.assign(snapshot=snap)[snap >= 0].reset_index(drop=True)
    bins, half = heatmap.price_bins, heatmap.bin_usd / 2
    px = liq["price"].to_numpy(float)
    on_grid = (px >= bins[0] - half) & (px <= bins[-1] + half)
    b = np.clip(np.rint((px - bins[0]) / heatmap.bin_usd).astype(np.int64), 0, len(bins) - 1)
    pct, weight, in_window = np.full(len(liq), np.nan), np.zeros(len(liq)), np.zeros(len(liq), dtype=bool)
    gain = np.full(len(liq), np.log(LOG_FLOOR))  # outside the window: as if in a zero-density bin
    is_long = (liq["side"] == "long").to_numpy()
    groups: dict[tuple[int, bool], pd.Index] = pd.Series(np.arange(len(liq))).groupby([liq["snapshot"], is_long]).groups  # type: ignore[assignment]
    for (s, lg), members in groups.items():
        close = float(heatmap.close[int(s)])
        if window_pct is None or not np.isfinite(close):
            ranked = np.ones(len(bins), dtype=bool)
        else:
            ranked = np.abs(bins - close) <= close * window_pct / 100
        idx = members.to_numpy(np.int64)
        idx = idx[on_grid[idx] & ranked[b[idx]]]
        if idx.size == 0:
            continue
        row = (heatmap.long_usd if lg else heatmap.short_usd)[int(s)]
        ordered = np.sort(row[ranked])
        n = ordered.size
        d = row[b[idx]]
        lower = np.searchsorted(ordered, d, side="left")
        upper = np.searchsorted(ordered, d, side="right")
        pct[idx] = 100.0 * (lower + upper) / (2 * n)
        weight[idx] = np.clip(upper - np.maximum(lower, TOP_DECILE * n), 0, None) / (upper - lower)
        mass = float(ordered.sum())
        share = d / mass if mass > 0 else np.full(d.size, 1.0 / n)
        gain[idx] = np.log(n * ((1 - LOG_FLOOR) * share + LOG_FLOOR / n))
        in_window[idx] = True
    return liq.assign(
        snapshot_ms=heatmap.times_ms[liq["snapshot"]],
        bin=b,
        in_window=in_window,
        percentile=pct,
        top_decile=weight,
        log_gain=gain,
    )


def hourly_corr(predicted: pd.DataFrame, realized: pd.DataFrame, start_ms: int, end_ms: int) -> float | None:
    """Pearson correlation of predicted vs realized liquidated notional per UTC hour in ``[start, end)``."""
    hours = np.arange(start_ms // MS_PER_HOUR, (end_ms - 1) // MS_PER_HOUR + 1)
    if hours.size < 3:
        return None
    series = []
    for frame in (predicted, realized):
        f = frame[(frame["timestamp"] >= start_ms) & (frame["timestamp"] < end_ms)]
        per = f.groupby(f["timestamp"].to_numpy(np.int64) // MS_PER_HOUR)["notional_usd"].sum()
        series.append(per.reindex(hours, fill_value=0.0).to_numpy(float))
    if np.ptp(series[0]) == 0 or np.ptp(series[1]) == 0:
        return None
    return float(np.corrcoef(series[0], series[1])[0, 1])


def score_model(
    name: str,
    heatmap: Heatmap,
    events: pd.DataFrame,
    liquidations: pd.DataFrame,
    bar_ms: int,
    span_ms: tuple[int, int],
    window_pct: float | None = DEFAULT_WINDOW_PCT,
) -> tuple[ModelScore, pd.DataFrame]:
    """:class:`ModelScore` of one engine output (its ``heatmap`` and predicted ``events``) on the realized
    ``liquidations`` in ``[span_ms[0], span_ms[1])``."""
    lo, hi = span_ms
    liq = liquidations[(liquidations["timestamp"] >= lo) & (liquidations["timestamp"] < hi)]
    scored = score_events(heatmap, liq, bar_ms, window_pct)
    usd = scored["notional_usd"].to_numpy(float)
    total = float(usd.sum())
    pct = scored["percentile"].dropna()
    score = ModelScore(
        model=name,
        events=len(scored),
        realized_usd=total,
        top_decile_capture=None if total <= 0 else float((usd * scored["top_decile"]).sum() / total),
        median_percentile=None if pct.empty else float(pct.median()),
        log_score=None if total <= 0 else float((usd * scored["log_gain"]).sum() / total),
        mean_percentile=None if pct.empty else float(pct.mean()),
        liq_volume_corr=hourly_corr(events, liq, lo, hi),
        outside_window=int((~scored["in_window"]).sum()),
    )
    return score, scored


def validate_outputs(
    outputs: Mapping[str, EngineOutput],
    model: str,
    liquidations: pd.DataFrame,
    bar_ms: int,
    span_ms: tuple[int, int] | None = None,
    window_pct: float | None = DEFAULT_WINDOW_PCT,
) -> ValidationResult:
    """Score ``outputs[model]`` and the baselines present in ``outputs`` on the events in ``span_ms``
    (default: all events); lifts are ``None`` for a missing baseline."""
    if model not in outputs:
        raise LiqmapError(f"no engine output for model {model!r}; got {sorted(outputs)}")
    liq = _check_liquidations(liquidations)
    if span_ms is None:
        span_ms = (int(liq["timestamp"].min()), int(liq["timestamp"].max()) + 1)
    scores, scored = {}, pd.DataFrame()
    for name, out in outputs.items():
        scores[name], table = score_model(name, out.heatmap, out.events, liq, bar_ms, span_ms, window_pct)
        if name == model:
            scored = table
    hm = outputs[model].heatmap
    snaps = np.unique(np.searchsorted(hm.times_ms, scored["timestamp"].to_numpy(np.int64) - bar_ms, side="right") - 1)
    no_events = pd.DataFrame({"timestamp": [], "notional_usd": []})
    near = proximity_heatmap(hm, snaps)
    scores[PROXIMITY], _ = score_model(PROXIMITY, near, no_events, liq, bar_ms, span_ms, window_pct)
    main = scores[model]
    if main.events == 0:
        raise DataValidationError(
            "no realized liquidation falls after the model's first closed bar in the span; "
            "give liquidations that overlap the bars (same symbol, later times)"
        )

    def lift(base: str) -> float | None:
        b = scores.get(base)
        if b is None or not b.top_decile_capture or main.top_decile_capture is None:
            return None
        return main.top_decile_capture / b.top_decile_capture

    return ValidationResult(
        model=model,
        events=main.events,
        top_decile_capture=main.top_decile_capture,
        lift_vs_volume=lift("volume"),
        lift_vs_uniform=lift("uniform"),
        lift_vs_proximity=lift(PROXIMITY),
        liq_volume_corr=main.liq_volume_corr,
        median_percentile=main.median_percentile,
        log_score=main.log_score,
        span_ms=span_ms,
        split_ms=None,
        window_pct=window_pct,
        scores=scores,
        scored_events=scored,
    )


def validation_report(
    outputs: Mapping[str, EngineOutput], model: str, bars: pd.DataFrame, liquidations: pd.DataFrame
) -> dict[str, Any]:
    """JSON-ready :func:`validate_outputs` over all events (bar length taken from ``bars``), with the amounts
    (:func:`amount_validation`; ``None`` when no realized period is fully covered by the bars)."""
    res = validate_outputs(outputs, model, liquidations, bar_length_ms(bars))
    amounts = None
    if model not in BASELINES:
        try:
            amounts = amount_validation(outputs[model].events, liquidations, bars, outputs[model].heatmap.profile)
        except DataValidationError:
            amounts = None
    return replace(res, amounts=amounts).to_dict()


def leverage_mixes(config: Any, tilts: Sequence[float] = DEFAULT_TILTS) -> dict[str, Any]:
    """The engine ``config`` plus variants whose aggressive and passive weights are multiplied by
    ``leverage^γ`` for each tilt ``γ`` and renormalised (γ > 0 favours high leverage)."""
    levs = np.asarray(config.leverages, dtype=float)
    out = {"default": config}
    for g in tilts:
        tilt = levs**g

        def mix(w: Sequence[float], tilt: np.ndarray = tilt) -> tuple[float, ...]:
            v = np.asarray(w, dtype=float) * tilt
            return tuple((v / v.sum()).tolist()) if v.sum() > 0 else tuple(w)

        out[f"tilt{g:+g}"] = replace(
            config, aggressive_weights=mix(config.aggressive_weights), passive_weights=mix(config.passive_weights)
        )
    return out


def calibration_configs(
    config: Any, tilts: Sequence[float] = DEFAULT_TILTS, turnovers: Sequence[float] = DEFAULT_TURNOVERS
) -> dict[str, Any]:
    """:func:`leverage_mixes` of ``config``, each also with every other ``turnover_fraction`` in ``turnovers``
    (named ``"tilt+2, turnover 0"``); the grid :func:`validate` calibrates over."""
    out: dict[str, Any] = {}
    for name, c in leverage_mixes(config, tilts).items():
        out[name] = c
        for t in turnovers:
            if t != c.turnover_fraction:
                out[f"{name}, turnover {t:g}"] = replace(c, turnover_fraction=t)
    return out


def validate(
    bars: pd.DataFrame,
    liquidations: pd.DataFrame,
    model: str = "oi-delta",
    *,
    config: Any = None,
    train_frac: float = 0.5,
    calibrate: bool = True,
    tilts: Sequence[float] = DEFAULT_TILTS,
    turnovers: Sequence[float] = DEFAULT_TURNOVERS,
    window_pct: float | None = DEFAULT_WINDOW_PCT,
    objective: Objective | str = Objective.CAPTURE,
) -> ValidationResult:
    """Run ``model`` and the ``volume``/``uniform`` baselines on ``bars``, calibrate the leverage mix and the
    turnover fraction (:func:`calibration_configs`) on the first ``train_frac`` of the events' time span (if
    ``calibrate`` and the model has them; maximising ``objective``) and score every model on the rest.
    ``train_frac=0`` scores all events with the uncalibrated ``config``."""
    from liqmap.engine import EngineConfig, run

    if not 0 <= train_frac < 1:
        raise LiqmapError(f"train_frac must be in [0, 1), got {train_frac}")
    goal = Objective.parse(objective)
    liq = _check_liquidations(liquidations)
    cfg = EngineConfig() if config is None else config
    bar_ms = bar_length_ms(bars)
    t0, t1 = int(liq["timestamp"].min()), int(liq["timestamp"].max()) + 1
    split = int(t0 + train_frac * (t1 - t0)) if train_frac > 0 else None
    test_span = (t0 if split is None else split, t1)
    calibration: dict[str, Any] = {}
    chosen = cfg
    if calibrate and split is not None and model not in BASELINES:
        train = {}
        grid = calibration_configs(cfg, tilts, turnovers if model == Model.OI_DELTA else ())
        for name, c in grid.items():
            out = run(bars, model=model, config=c)
            s, _ = score_model(name, out.heatmap, out.events, liq, bar_ms, (t0, split), window_pct)
            value = s.top_decile_capture if goal is Objective.CAPTURE else s.log_score
            train[name] = (-np.inf if value is None else value, c, out)
        best = max(train, key=lambda k: train[k][0])
        chosen = train[best][1]
        outputs: dict[str, Any] = {model: train[best][2]}
        default = train["default"][2]
        default_test, _ = score_model("default", default.heatmap, default.events, liq, bar_ms, test_span, window_pct)
        calibration = {
            "train_span_ms": [t0, split],
            "objective": goal.value,
            "train_scores": {k: v[0] if np.isfinite(v[0]) else None for k, v in train.items()},
            "chosen": best,
            "aggressive_weights": list(chosen.aggressive_weights),
            "passive_weights": list(chosen.passive_weights),
            "turnover_fraction": chosen.turnover_fraction,
            "test_capture_default_mix": default_test.top_decile_capture,
            "test_log_score_default_mix": default_test.log_score,
        }
    else:
        outputs = {model: run(bars, model=model, config=cfg)}
    for base in BASELINES:
        if base not in outputs:
            outputs[base] = run(bars, model=base, config=cfg)
    result = validate_outputs(outputs, model, liq, bar_ms, test_span, window_pct)
    test = liq[liq["timestamp"] >= test_span[0]]
    amounts = None
    if model not in BASELINES and not test.empty:
        refit = calibration.get("chosen", "default")
        name = chosen.profile if refit == "default" else f"{chosen.profile}, refit {refit}"
        amounts = amount_validation(outputs[model].events, test, bars, name)
    return replace(result, split_ms=split, calibration=calibration, amounts=amounts)


def bar_length_ms(bars: pd.DataFrame) -> int:
    """The bar step (:func:`liqmap.timeframes.bar_step_ms`) of each exchange's bars, the smallest of them, in ms."""
    if "timestamp" not in bars.columns or len(bars) < 2:
        raise DataValidationError("need at least two bars with a 'timestamp' column to validate")
    groups = bars.groupby("exchange")["timestamp"] if "exchange" in bars.columns else [(None, bars["timestamp"])]
    steps = [step for _, ts in groups if (step := bar_step_ms(ts)) is not None]
    if not steps:
        raise DataValidationError("bars have a single timestamp; cannot tell the bar length")
    return min(steps)


def _check_liquidations(liquidations: pd.DataFrame) -> pd.DataFrame:
    missing = LIQUIDATIONS.missing(liquidations.columns, _LIQ_COLUMNS)
    if missing:
        raise DataValidationError(f"liquidations lack column(s) {sorted(missing)} (schema LIQUIDATIONS)")
    liq = liquidations
    if liq.empty:
        raise DataValidationError("no realized liquidations to validate against")
    sides = LIQUIDATIONS.column("side").values
    bad_side = ~liq["side"].isin(sides)
    if bad_side.any():
        raise DataValidationError(
            f"liquidation side must be {'|'.join(sides)}, got {sorted(set(liq['side'][bad_side]))}"
        )
    vals = liq[["price", "notional_usd"]].to_numpy(float)
    if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
        raise DataValidationError("liquidation price and notional_usd must be positive finite numbers")
    return liq.sort_values("timestamp", kind="stable").reset_index(drop=True)
