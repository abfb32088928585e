"""Pure table transformations used by the store and the sample builder (no I/O).

:func:`attach_fields` joins sparse series (open interest snapshots, funding events, long/short ratios)
onto bars *as of* each bar's close, never looking ahead (a series' resolution comes from
:func:`liqmap.timeframes.bar_step_ms`). :func:`candles` aggregates bars onto a heatmap's time columns, the one
candle definition of the static chart and the dashboard.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from liqmap.errors import DataValidationError
from liqmap.tables import BAR_FIELDS
from liqmap.timeframes import MS_PER_MINUTE, bar_step_ms, format_ms

_EVENT_FIELDS = ("funding_rate",)
_OHLC = ("open", "high", "low", "close")
_FLOW = "taker_buy_volume"


def attach_fields(bars: pd.DataFrame, fields: pd.DataFrame) -> pd.DataFrame:
    """Return ``bars`` with the columns of ``fields`` joined as of each bar's close.

    ``fields`` holds ``exchange, symbol, timestamp`` plus any of open_interest, open_interest_usd,
    funding_rate, mark_price, long_short_ratio, taker_buy_volume. A snapshot taken at or before a bar's close
    (``timestamp + step``) fills that bar; funding events count for the bar only if paid strictly
    before its close. A value is carried forward at most 1.5 × its own sampling interval (at least one bar
    step), so a gap in the source stays a gap (null), it is never bridged. Where only one of
    ``open_interest``/``open_interest_usd`` is given the other is derived with the bar's close.
    ``taker_buy_volume`` is a flow stamped at its period's open: periods are summed into the bar they
    fall in, and a bar is filled only when every one of its periods is present and the sum does not exceed
    the bar's volume (venue rounding); coarser periods than the bar are refused.
    Existing values in ``bars`` are overwritten only where the new series has a value.
    """
    cols = [c for c in BAR_FIELDS if c in fields.columns]
    if not cols:
        raise DataValidationError(f"no bar fields to attach; expected one of {', '.join(BAR_FIELDS)}")
    out = bars.copy()
    for key, idx in out.groupby(["exchange", "symbol"], sort=False).groups.items():
        exchange, symbol = cast(tuple[str, str], key)
        part = out.loc[idx].sort_values("timestamp")
        src = fields[(fields["exchange"] == exchange) & (fields["symbol"] == symbol)]
        if src.empty:
            continue
        step = bar_step_ms(part["timestamp"]) or MS_PER_MINUTE
        close = part["timestamp"].to_numpy(dtype="int64") + step
        for col in cols:
            s = src[["timestamp", col]].dropna().sort_values("timestamp")
            if s.empty:
                continue
            if col == _FLOW:
                flows = _flows_into_bars(part, s, step, f"{exchange} {symbol}")
                out.loc[part.index[~np.isnan(flows)], col] = flows[~np.isnan(flows)]
                continue
            values = _asof(
                close,
                s["timestamp"].to_numpy(dtype="int64"),
                s[col].to_numpy(dtype="float64"),
                step,
                strict=col in _EVENT_FIELDS,
            )
            have = ~np.isnan(values)
            target = part.index[have]
            out.loc[target, col] = values[have]
            if col == "open_interest_usd" and "open_interest" not in cols:
                out.loc[target, "open_interest"] = values[have] / part.loc[target, "close"].to_numpy()
            if col == "open_interest" and "open_interest_usd" not in cols:
                out.loc[target, "open_interest_usd"] = values[have] * part.loc[target, "close"].to_numpy()
    return out


def candles(bars: pd.DataFrame, times_ms: np.ndarray, end_ms: int | None = None) -> pd.DataFrame:
    """The candle of each time column: ``open, high, low, close`` with one row per ``times_ms`` entry.

    Column ``k`` covers the bars opening in ``[times_ms[k], times_ms[k + 1])``, the last one those from
    ``times_ms[-1]`` up to ``end_ms`` (exclusive; ``None``: every later bar). Venues are averaged per bar
    timestamp first; then a column's open is its first bar's, high the max, low the min, close the last
    bar's. A column without a bar is NaN throughout (a gap, never filled).

    >>> bars = pd.DataFrame({"timestamp": [0, 1, 2, 2], "open": [1.0, 2, 3, 5], "high": [2.0, 4, 4, 6],
    ...                      "low": [0.5, 1, 2, 4], "close": [2.0, 3, 3, 5]})
    >>> candles(bars, np.array([0, 2, 9])).to_numpy().tolist()
    [[1.0, 4.0, 0.5, 3.0], [4.0, 5.0, 3.0, 4.0], [nan, nan, nan, nan]]
    """
    missing = {"timestamp", *_OHLC} - set(bars.columns)
    if missing:
        raise DataValidationError(f"bars for candles lack columns {sorted(missing)}; pass canonical bars")
    times = np.asarray(times_ms, dtype=np.int64)
    per_bar = bars.groupby("timestamp", sort=True)[list(_OHLC)].mean()
    ts = per_bar.index.to_numpy(dtype=np.int64)
    col = np.searchsorted(times, ts, side="right") - 1
    keep = col >= 0
    if end_ms is not None:
        keep &= ts < end_ms
    g = per_bar[keep].groupby(col[keep])
    out = pd.DataFrame(
        {"open": g["open"].first(), "high": g["high"].max(), "low": g["low"].min(), "close": g["close"].last()}
    )
    return out.reindex(np.arange(len(times))).reset_index(drop=True)


def _flows_into_bars(part: pd.DataFrame, flows: pd.DataFrame, step: int, series: str) -> np.ndarray:
    """Sum per-period flows into the bars they fall in (NaN where incomplete or above the bar volume)."""
    ts = flows["timestamp"].to_numpy(dtype="int64")
    period = bar_step_ms(ts) or step
    if period > step or step % period:
        raise DataValidationError(
            f"{series}: taker volume every {format_ms(period)} cannot be split into {format_ms(step)} bars"
        )
    bar_ts = part["timestamp"].to_numpy(dtype="int64")
    phase = int(bar_ts[0]) % step
    bucket = (ts - phase) // step * step + phase
    sums = pd.Series(flows[_FLOW].to_numpy(dtype="float64")).groupby(bucket).agg(["sum", "size"])
    complete = sums[sums["size"] == step // period]["sum"]
    out = complete.reindex(bar_ts).to_numpy(dtype="float64", copy=True)
    out[out > part["volume"].to_numpy(dtype="float64") * (1 + 1e-9)] = np.nan
    return out


def _asof(close_ms: np.ndarray, ts: np.ndarray, values: np.ndarray, step: int, strict: bool) -> np.ndarray:
    interval = bar_step_ms(ts) or step
    tolerance = max(step, int(1.5 * interval))
    pos = np.searchsorted(ts, close_ms, side="left" if strict else "right") - 1
    ok = pos >= 0
    out = np.full(len(close_ms), np.nan)
    age = close_ms[ok] - ts[pos[ok]]
    picked = np.where(age <= tolerance, values[pos[ok]], np.nan)
    out[ok] = picked
    return out
