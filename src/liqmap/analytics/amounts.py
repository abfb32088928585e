"""How much: predicted vs realized liquidated notional per side and period, against two naive anchors.

Capture, percentiles, log scores and hourly correlations are scale-free: a model that predicts 40× what a
venue liquidates can top them all. This module scores the *amounts*. Realized liquidations come either as
events (canonical LIQUIDATIONS rows, summed per period) or as totals per period (LIQUIDATION_TOTALS rows,
e.g. Hyperliquid's daily archive); predictions are the engine's events (``EngineResult.events``) summed the
same way. Only periods present in the realized table are scored (an absent day is unknown, not zero).

Per side (``long`` = long positions liquidated):

* ``ratio`` — predicted total / realized total over the scored periods (1 = right on average);
* ``spearman`` — rank correlation of the per-period amounts (ties share ranks);
* ``log_error`` — mean ``|ln((p + f) / (r + f))|`` per period, with ``f`` = 1 % of the mean realized amount
  per period, both sides together (so a day of $0 vs $3k does not dominate); 0 is perfect, ln 2 ≈ 0.69 means "typically
  off by 2×".

The anchors need no position model: ``drawdown × OI`` (longs: ``(open − low) / open`` of the period times
the open interest in USD at its start) and ``run-up × OI`` (shorts: ``(high − open) / open`` × OI). A model
that cannot beat them on rank and on log error adds nothing to "price fell, longs got liquidated".

>>> import pandas as pd
>>> real = pd.DataFrame({"timestamp": [0, 86_400_000, 172_800_000], "long_usd": [1e6, 3e6, 2e6],
...                      "short_usd": [2e6, 0.0, 1e6]})
>>> pred = pd.DataFrame({"timestamp": [3_600_000, 90_000_000, 180_000_000], "side": ["long"] * 3,
...                      "notional_usd": [2e6, 6e6, 4e6]})
>>> s = score_amounts(per_period(pred, real), "long")
>>> s.ratio, s.spearman
(2.0, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from liqmap.errors import DataValidationError
from liqmap.timeframes import MS_PER_DAY, bar_step_ms

SIDES = ("long", "short")
FLOOR_SHARE = 0.01  # log-error floor: this share of the mean realized amount per period


@dataclass(frozen=True)
class AmountScore:
    """Predicted vs realized amounts of one side over the scored periods."""

    side: str
    periods: int
    realized_usd: float
    predicted_usd: float
    ratio: float | None
    spearman: float | None
    log_error: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dict(self.__dict__)


def realized_totals(liquidations: pd.DataFrame, period_ms: int = MS_PER_DAY) -> pd.DataFrame:
    """Per-period realized totals ``timestamp, long_usd, short_usd`` from events (LIQUIDATIONS rows:
    ``timestamp``, ``side`` of the liquidated position, ``notional_usd``), or from totals rows already in
    that shape (LIQUIDATION_TOTALS), re-binned to ``period_ms``."""
    if {"long_usd", "short_usd", "timestamp"} <= set(liquidations.columns):
        frame = liquidations[["timestamp", "long_usd", "short_usd"]]
    elif {"timestamp", "side", "notional_usd"} <= set(liquidations.columns):
        wide = liquidations.pivot_table(index="timestamp", columns="side", values="notional_usd", aggfunc="sum")
        frame = wide.reindex(columns=list(SIDES), fill_value=0.0).fillna(0.0).reset_index()
        frame.columns = ["timestamp", "long_usd", "short_usd"]
    else:
        raise DataValidationError(
            "realized liquidations need either events (timestamp, side, notional_usd) "
            "or totals (timestamp, long_usd, short_usd)"
        )
    values = frame[["long_usd", "short_usd"]].to_numpy(float)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise DataValidationError("realized liquidation amounts must be finite and ≥ 0")
    period = frame["timestamp"].to_numpy(np.int64) // period_ms * period_ms
    out = frame.groupby(period)[["long_usd", "short_usd"]].sum()
    out.index.name = "timestamp"
    return out.reset_index()


def per_period(predicted: pd.DataFrame, realized: pd.DataFrame, period_ms: int = MS_PER_DAY) -> pd.DataFrame:
    """One row per realized period: ``timestamp``, realized ``long_usd``/``short_usd`` and predicted
    ``pred_long_usd``/``pred_short_usd`` (engine events summed per period and side; 0 where none)."""
    real = realized_totals(realized, period_ms)
    p = predicted.assign(period=predicted["timestamp"].to_numpy(np.int64) // period_ms * period_ms)
    wide = p.pivot_table(index="period", columns="side", values="notional_usd", aggfunc="sum")
    wide = wide.reindex(columns=list(SIDES), fill_value=0.0).fillna(0.0)
    pred = wide.reindex(real["timestamp"].to_numpy(), fill_value=0.0).fillna(0.0)
    return real.assign(pred_long_usd=pred["long"].to_numpy(float), pred_short_usd=pred["short"].to_numpy(float))


def scored_periods(
    totals: pd.DataFrame, bars: pd.DataFrame, period_ms: int = MS_PER_DAY, warmup_ms: int = MS_PER_DAY
) -> pd.DataFrame:
    """The rows of per-period ``totals`` a model can fairly be scored on: periods fully covered by ``bars``
    that start at least ``warmup_ms`` after the first bar with open interest (the seed book needs to age)."""
    ts = bars["timestamp"].to_numpy(np.int64)
    oi = bars["open_interest_usd"] if "open_interest_usd" in bars else bars["open_interest"]
    has_oi = ts[pd.to_numeric(oi, errors="coerce").notna().to_numpy()]
    if has_oi.size == 0:
        raise DataValidationError("no bar has open interest: cannot score liquidation amounts")
    step = bar_step_ms(ts) or period_ms
    start, end = int(has_oi.min()) + warmup_ms, int(ts.max()) + step
    t = totals["timestamp"].to_numpy(np.int64)
    return totals[(t >= start) & (t + period_ms <= end)].reset_index(drop=True)


def anchors(bars: pd.DataFrame, periods: np.ndarray, period_ms: int = MS_PER_DAY) -> pd.DataFrame:
    """The naive anchors per period: ``drawdown × OI`` for longs and ``run-up × OI`` for shorts (period open,
    high and low over its bars; OI in USD at the period's first bar with OI, else the last known before)."""
    b = bars.sort_values("timestamp", kind="stable")
    oi_usd = b["open_interest_usd"] if "open_interest_usd" in b else b["open_interest"] * b["close"]
    frame = pd.DataFrame(
        {
            "period": b["timestamp"].to_numpy(np.int64) // period_ms * period_ms,
            "open": b["open"].to_numpy(float),
            "high": b["high"].to_numpy(float),
            "low": b["low"].to_numpy(float),
            "oi_usd": pd.to_numeric(oi_usd, errors="coerce").ffill().to_numpy(float),
        }
    )
    g = frame.groupby("period").agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), oi=("oi_usd", "first")
    )
    g = g.reindex(periods)
    return pd.DataFrame(
        {
            "timestamp": periods,
            "pred_long_usd": ((g["open"] - g["low"]) / g["open"] * g["oi"]).fillna(0.0).to_numpy(float),
            "pred_short_usd": ((g["high"] - g["open"]) / g["open"] * g["oi"]).fillna(0.0).to_numpy(float),
        }
    )


def score_amounts(table: pd.DataFrame, side: str) -> AmountScore:
    """:class:`AmountScore` of one side of a :func:`per_period` table (realized ``{side}_usd`` vs
    ``pred_{side}_usd``)."""
    from scipy.stats import spearmanr  # scipy loads slowly: only when scoring

    r = table[f"{side}_usd"].to_numpy(float)
    p = table[f"pred_{side}_usd"].to_numpy(float)
    n = len(r)
    real, pred = float(r.sum()), float(p.sum())
    ratio = pred / real if real > 0 else None
    rho = None
    if n >= 3 and np.ptp(r) > 0 and np.ptp(p) > 0:
        rho = float(spearmanr(p, r).statistic)
    both = float(table["long_usd"].sum() + table["short_usd"].sum())
    floor = FLOOR_SHARE * both / n if n and both > 0 else None
    log_err = None if floor is None else float(np.mean(np.abs(np.log((p + floor) / (r + floor)))))
    return AmountScore(side, n, real, pred, ratio, rho, log_err)


def amount_scores(table: pd.DataFrame) -> dict[str, AmountScore]:
    """Both sides' :class:`AmountScore`."""
    return {side: score_amounts(table, side) for side in SIDES}
