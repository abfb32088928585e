"""Input checks and precomputation at the engine's edge: bars → float arrays, price grid, liquidation tables.

Bad-input rules (documented in docs/engine.md; every repair is reported in ``EngineResult.warnings``):

* missing required columns, several symbols, non-positive/NaN prices, NaN or negative volume, negative
  quote volume, taker-buy volume outside ``[0, volume]``, negative open interest or non-positive mark
  price → :class:`DataValidationError` naming the column, the count and the first offending timestamp;
* rows out of time order → sorted (reported); exact duplicate rows → dropped (reported); two *different*
  rows with one (exchange, timestamp) → error;
* ``high``/``low`` not enclosing open/close → widened to enclose them (reported);
* NaN open interest → that bar's ΔOI counts as zero (reported; all-NaN OI under ``oi-delta`` → error);
* gaps (a step above 1.5× the median) → bridged: the first bar after a gap carries the whole ΔOI and its
  trigger range includes the previous close (reported).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from liqmap.engine import nb
from liqmap.engine.config import EngineConfig
from liqmap.engine.enums import Model
from liqmap.errors import DataValidationError, LiqmapError, UnknownSymbolError
from liqmap.symbols import normalize_symbol

REQUIRED = ("exchange", "symbol", "timestamp", "open", "high", "low", "close", "volume")
OPTIONAL = (
    "quote_volume",
    "taker_buy_volume",
    "open_interest",
    "open_interest_usd",
    "funding_rate",
    "mark_price",
    "long_short_ratio",
)
_SNAPSHOT_STEPS_MS = (60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000, 604_800_000)


def split_bars(bars: pd.DataFrame, model: Model) -> tuple[str, dict[str, np.ndarray], list[str]]:
    """Validate canonical bars and return ``(symbol, {exchange: (n, N_BAR_FIELDS) array}, warnings)``."""
    if not isinstance(bars, pd.DataFrame):
        raise DataValidationError(f"bars must be a pandas DataFrame of canonical bars, got {type(bars).__name__}")
    missing = [c for c in REQUIRED if c not in bars.columns]
    if missing:
        raise DataValidationError(f"bars lack required column(s) {missing}; see liqmap.data.schemas.BARS")
    if bars.empty:
        raise DataValidationError("bars is empty: widen --start/--end or check the exchange and symbol")
    symbols = sorted({normalize_symbol(s) for s in bars["symbol"].astype(str).unique()})
    if len(symbols) != 1:
        raise DataValidationError(f"bars hold {len(symbols)} symbols {symbols[:5]}; run the engine once per symbol")
    warnings: list[str] = []
    out: dict[str, np.ndarray] = {}
    for exchange, df in bars.groupby(bars["exchange"].astype(str).str.lower(), sort=True):
        out[str(exchange)] = _one_exchange(str(exchange), df, model, warnings)
    return symbols[0], out, warnings


def _one_exchange(exchange: str, df: pd.DataFrame, model: Model, warnings: list[str]) -> np.ndarray:
    cols = [c for c in (*REQUIRED, *OPTIONAL) if c in df.columns]
    df = df[cols]
    ts = pd.to_numeric(df["timestamp"], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(ts)) or np.any(ts != np.floor(ts)):
        raise DataValidationError(f"{exchange}: timestamp must be integer epoch milliseconds (found NaN/fractions)")
    steps = np.diff(ts)
    if np.any(steps < 0):
        order = np.argsort(ts, kind="stable")
        df, steps = df.iloc[order], np.diff(ts[order])
        warnings.append(f"{exchange}: bars were out of time order; sorted by timestamp")
    if np.any(steps == 0):
        dup = df.duplicated(subset="timestamp", keep="first")
        exact = df.duplicated(keep="first")
        if not exact[dup].all():
            first = int(df.loc[dup & ~exact, "timestamp"].iloc[0])
            raise DataValidationError(
                f"{exchange}: two different bars share timestamp {first}; deduplicate the source first"
            )
        df = df[~dup]
        warnings.append(f"{exchange}: dropped {int(dup.sum())} exact duplicate bar(s)")
    n = len(df)
    arr = np.full((n, nb.N_BAR_FIELDS), np.nan)
    arr[:, nb.B_TS] = df["timestamp"].to_numpy(dtype=np.float64)

    def col(name: str) -> np.ndarray:
        if name not in df.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

    def reject(mask: np.ndarray, what: str) -> None:
        if np.any(mask):
            first = int(arr[np.argmax(mask), nb.B_TS])
            raise DataValidationError(f"{exchange}: {int(mask.sum())} bar(s) with {what} (first at timestamp {first})")

    ohlc = np.column_stack([col("open"), col("high"), col("low"), col("close")])
    reject(~np.all(np.isfinite(ohlc) & (ohlc > 0), axis=1), "missing or non-positive open/high/low/close")
    hi, lo = ohlc.max(axis=1), ohlc.min(axis=1)
    widened = int(np.sum((hi != ohlc[:, 1]) | (lo != ohlc[:, 2])))
    if widened:
        warnings.append(f"{exchange}: widened high/low of {widened} bar(s) to enclose open/close")
    arr[:, nb.B_OPEN], arr[:, nb.B_HIGH], arr[:, nb.B_LOW], arr[:, nb.B_CLOSE] = ohlc[:, 0], hi, lo, ohlc[:, 3]
    vol, qv, tbv = col("volume"), col("quote_volume"), col("taker_buy_volume")
    reject(~(vol >= 0), "NaN or negative volume")
    reject(qv < 0, "negative quote_volume")
    reject((tbv < 0) | (tbv > vol * (1 + 1e-9) + 1e-12), "taker_buy_volume outside [0, volume]")
    arr[:, nb.B_VOL], arr[:, nb.B_QV], arr[:, nb.B_TBV] = vol, qv, tbv
    oi, oi_usd, mark = col("open_interest"), col("open_interest_usd"), col("mark_price")
    reject((oi < 0) | (oi_usd < 0), "negative open interest")
    reject(mark <= 0, "non-positive mark_price")
    arr[:, nb.B_OI] = np.where(np.isfinite(oi), oi, oi_usd / arr[:, nb.B_CLOSE])
    arr[:, nb.B_MARK] = mark
    if model != Model.VOLUME:
        nan_oi = int(np.sum(~np.isfinite(arr[:, nb.B_OI])))
        if nan_oi == n:
            raise DataValidationError(
                f"{exchange}: no open interest in any bar; model '{model}' needs it — use model 'volume'"
            )
        if nan_oi:
            warnings.append(f"{exchange}: {nan_oi} bar(s) without open interest; their ΔOI counted as zero")
    if n > 2:
        steps = np.diff(arr[:, nb.B_TS])
        step = float(np.median(steps))
        gaps = steps > 1.5 * step
        if np.any(gaps):
            warnings.append(
                f"{exchange}: {int(gaps.sum())} gap(s) in the bars (largest {float(steps.max()) / 60_000:g} min); "
                "bridged: the bar after a gap carries the whole ΔOI and its range includes the previous close"
            )
    return arr


def make_grid(lo: float, hi: float, config: EngineConfig) -> np.ndarray:
    """Bin centres of the uniform price grid over ``[lo, hi]`` (aligned to ``bin_usd`` when given)."""
    if config.bin_usd is not None:
        width = float(config.bin_usd)
        start = math.floor(lo / width) * width
        n = max(2, math.ceil((hi - start) / width))
        if n > 200_000:
            raise LiqmapError(
                f"bin_usd={width:g} gives {n} bins over {lo:,.2f}–{hi:,.2f}; use a larger bin_usd or n_bins"
            )
    else:
        n = int(config.n_bins or 0)
        start, width = lo, (hi - lo) / n
    return start + (np.arange(n) + 0.5) * width


def data_grid(arrays: dict[str, np.ndarray], config: EngineConfig) -> np.ndarray:
    """The grid for ``arrays``: ``config.price_range`` or the data's range padded by ``range_pad_pct``."""
    if config.price_range is not None:
        return make_grid(*config.price_range, config)
    pad = config.range_pad_pct / 100.0
    lo = min(float(a[:, nb.B_LOW].min()) for a in arrays.values())
    hi = max(float(a[:, nb.B_HIGH].max()) for a in arrays.values())
    return make_grid(lo * max(1.0 - pad, 0.01), hi * (1.0 + pad), config)


def liquidation_tables(
    exchange: str, symbol: str, grid: np.ndarray, config: EngineConfig
) -> tuple[np.ndarray, np.ndarray]:
    """``(lp_price, lp_bin)`` of shape ``(2, K, N)``: liquidation price of a representative position
    entered at each bin centre, per side and leverage, from the exchange's real tier table."""
    from liqmap.margin import get_tiers, liquidation_prices

    source = config.tier_exchange.get(exchange.lower(), exchange)
    try:
        tiers = get_tiers(source, symbol)
    except UnknownSymbolError as exc:
        raise UnknownSymbolError(
            f"{exc}; to borrow another venue's rules pass EngineConfig(tier_exchange={{'{exchange}': 'binance'}})"
        ) from None
    n_lev, n_bins = len(config.leverages), len(grid)
    side = np.repeat(np.array([1.0, -1.0]), n_lev * n_bins)
    lev = np.tile(np.repeat(np.asarray(config.leverages), n_bins), 2)
    entry = np.tile(grid, 2 * n_lev)
    try:
        out = liquidation_prices(tiers, side, entry, lev, np.full(entry.shape, config.position_notional_usd))
    except LiqmapError as exc:
        raise LiqmapError(f"EngineConfig leverages/position_notional_usd: {exc}") from None
    lp = np.ascontiguousarray(out.liquidation_price.reshape(2, n_lev, n_bins), dtype=np.float64)
    if np.any(np.isnan(lp)) or np.any(np.diff(lp, axis=2) < 0):
        raise LiqmapError(
            f"{exchange}: liquidation prices are not increasing with entry on this grid; "
            "use a smaller position_notional_usd so one tier applies"
        )
    width = float(grid[1] - grid[0])
    lo_edge = float(grid[0]) - width / 2
    pos = np.nan_to_num((lp - lo_edge) / width, posinf=n_bins, neginf=0.0)
    lp_bin = np.clip(np.floor(pos), 0, n_bins - 1).astype(np.int64)
    return lp, lp_bin


def snapshot_plan(arrays: dict[str, np.ndarray], config: EngineConfig) -> tuple[int, np.ndarray, dict[str, np.ndarray]]:
    """``(step_ms, times_ms, {exchange: snap_row})``: a heatmap row after the last bar of each time bucket
    (buckets are ``timestamp // step_ms``); ``snap_row[i]`` is the row bar ``i`` writes, or −1."""
    all_ts = np.concatenate([a[:, nb.B_TS] for a in arrays.values()]).astype(np.int64)
    step = config.snapshot_every_ms
    if step is None:
        diffs = [np.diff(a[:, nb.B_TS]) for a in arrays.values() if len(a) > 1]
        bar_ms = int(min(float(np.median(d)) for d in diffs)) if diffs else 60_000
        candidates = [bar_ms, *(s for s in _SNAPSHOT_STEPS_MS if s > bar_ms)]
        step = next((s for s in candidates if len(np.unique(all_ts // s)) <= config.max_snapshots), candidates[-1])
    step = int(step)
    buckets = np.unique(all_ts // step)
    times = np.zeros(len(buckets), dtype=np.int64)
    rows: dict[str, np.ndarray] = {}
    for name, a in arrays.items():
        ts = a[:, nb.B_TS].astype(np.int64)
        b = ts // step
        row = np.searchsorted(buckets, b)
        last = np.append(b[1:] != b[:-1], True)
        snap = np.where(last, row, -1).astype(np.int64)
        np.maximum.at(times, row[last], ts[last])
        rows[name] = snap
    return step, times, rows
