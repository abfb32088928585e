"""Input checks and precomputation at the engine's edge: bars → float arrays, price grid, liquidation tables.

Bad-input rules (documented in docs/engine.md; every repair is reported in ``EngineResult.warnings``):

* missing required columns, several symbols, non-positive/NaN prices, NaN or negative volume, negative
  quote volume, taker-buy volume outside ``[0, volume]``, negative open interest or non-positive mark
  price → :class:`DataValidationError` naming the column, the count and the first offending timestamp;
* rows out of time order → sorted (reported); exact duplicate rows → dropped (reported); two *different*
  rows with one (exchange, timestamp) → error (:data:`ROW_POLICY`, :attr:`RowPolicy.REPAIR`; stored data
  is refused instead, :mod:`liqmap.data.validate`);
* ``high``/``low`` not enclosing open/close → widened to enclose them (reported);
* NaN open interest → that bar's ΔOI counts as zero (reported; all-NaN OI under ``oi-delta`` → error);
* gaps (a step above 1.5× the bar step, :func:`liqmap.timeframes.bar_step_ms`) → bridged: the first bar
  after a gap carries the whole ΔOI and its trigger range includes the previous close (reported).

Optional trades (``timestamp``, ``price``, ``amount``, plus ``exchange``/``symbol``): a missing column, a
non-integer timestamp, a NaN/non-positive price or amount, or another symbol → :class:`DataValidationError`;
rows out of time order → sorted (reported); trades of an exchange without bars or outside every bar's
``[open, min(next open, open + bar step))`` → ignored (reported).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from liqmap.engine import nb
from liqmap.engine.config import EngineConfig
from liqmap.engine.enums import Model, TierSource
from liqmap.errors import DataValidationError, LiqmapError, UnknownSymbolError
from liqmap.symbols import normalize_symbol
from liqmap.tables import BARS, TRADES, RowPolicy
from liqmap.timeframes import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_WEEK, bar_step_ms

if TYPE_CHECKING:
    from liqmap.margin import TierTable

REQUIRED = BARS.required
"""Bar columns the engine needs: the canonical bars' non-nullable ones."""
OPTIONAL = BARS.optional
"""Bar columns the engine reads when present (null or absent: the documented fallbacks)."""
TRADE_COLUMNS = TRADES.required
ROW_POLICY = RowPolicy.REPAIR
"""Engine input: out-of-order rows are sorted and exact duplicates dropped, each reported as a warning."""
_SNAPSHOT_STEPS_MS = (
    MS_PER_MINUTE,
    5 * MS_PER_MINUTE,
    15 * MS_PER_MINUTE,
    MS_PER_HOUR,
    4 * MS_PER_HOUR,
    MS_PER_DAY,
    MS_PER_WEEK,
)


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
        gaps = steps > 1.5 * (bar_step_ms(arr[:, nb.B_TS]) or 0)
        if np.any(gaps):
            largest_min = float(steps.max()) / MS_PER_MINUTE
            warnings.append(
                f"{exchange}: {int(gaps.sum())} gap(s) in the bars (largest {largest_min:g} min); "
                "bridged: the bar after a gap carries the whole ΔOI and its range includes the previous close"
            )
    return arr


def make_grid(lo: float, hi: float, config: EngineConfig) -> np.ndarray:
    """Bin centres of the uniform price grid covering ``[lo, hi]``, its edges on multiples of the bin width.

    With ``bin_usd`` the width is ``bin_usd``; with ``n_bins`` it is the smallest round width (1, 2, 2.5 or
    5 × 10^k) of at least ``(hi − lo) / n_bins`` and the grid holds ``n_bins`` bins (one more when aligning
    the start would leave ``hi`` uncovered), the spare range split evenly around ``[lo, hi]`` (never below 0).

    >>> make_grid(41_902.7, 127_352.2, EngineConfig(n_bins=1_000))[[0, -1]]
    array([ 34650., 134550.])
    """
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
        width = round_width((hi - lo) / n)
        start = max(0.0, math.floor((lo - (n * width - (hi - lo)) / 2) / width) * width)
        n = max(n, math.ceil((hi - start) / width))
    return start + (np.arange(n) + 0.5) * width


def round_width(raw: float) -> float:
    """The smallest width in the 1-2-2.5-5 × 10^k series that is at least ``raw`` (> 0).

    >>> round_width(85.6), round_width(0.3), round_width(2.0), round_width(2.01)
    (100.0, 0.5, 2.0, 2.5)
    """
    decade = 10.0 ** math.floor(math.log10(raw))
    return next(m * decade for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * decade >= raw * (1 - 1e-12))


def data_grid(arrays: dict[str, np.ndarray], config: EngineConfig) -> np.ndarray:
    """The grid for ``arrays``: ``config.price_range`` or the data's range padded by ``range_pad_pct``."""
    if config.price_range is not None:
        return make_grid(*config.price_range, config)
    pad = config.range_pad_pct / 100.0
    lo = min(float(a[:, nb.B_LOW].min()) for a in arrays.values())
    hi = max(float(a[:, nb.B_HIGH].max()) for a in arrays.values())
    return make_grid(lo * max(1.0 - pad, 0.01), hi * (1.0 + pad), config)


def _lender_symbol(symbol: str) -> str:
    """The lender's table for a borrowed symbol: a USDC-settled linear perp borrows the same base's USDT one."""
    pair, _, settle = symbol.partition(":")
    return f"{pair.split('/')[0]}/USDT:USDT" if settle == "USDC" else symbol


def resolve_tiers(exchange: str, symbol: str, config: EngineConfig) -> TierTable:
    """The tier table an engine run uses for ``exchange``/``symbol``: the venue's own table from
    ``config.tier_tables`` (e.g. the store's), else a lender's (``config.tier_exchange``: its table among
    ``tier_tables``, else bundled), else the venue's bundled table, else an error saying how to get one."""
    return tier_source(exchange, symbol, config)[0]


def tier_source(exchange: str, symbol: str, config: EngineConfig) -> tuple[TierTable, TierSource]:
    """:func:`resolve_tiers`'s table and where it came from (given, bundled, or lent by another venue)."""
    from liqmap.margin import get_tiers, relabel_tiers

    venue = exchange.lower()
    source = config.tier_exchange.get(venue, venue)
    wanted = symbol if source == venue else _lender_symbol(symbol)
    given = {(str(t.exchange), t.symbol): t for t in config.tier_tables}
    if (venue, symbol) in given:
        return given[(venue, symbol)], TierSource.GIVEN
    if (source, wanted) in given:
        return relabel_tiers(given[(source, wanted)], venue), TierSource.LENT
    try:
        table = get_tiers(source, wanted)
    except UnknownSymbolError:
        fetch = f"`liqmap fetch --what tiers --exchange {source} --symbol {wanted}`"
        lender = "bybit" if venue == "binance" else "binance"
        lend = (
            f"EngineConfig(tier_exchange={{'{venue}': '{lender}'}}) "
            f"(CLI: --tiers-from {lender}; API: tiers_from={lender})"
        )
        raise UnknownSymbolError(
            f"no tier table for {source}:{wanted} in the store or bundled with liqmap; fetch one into the store "
            f"with {fetch}, or borrow another venue's with {lend}"
        ) from None
    return table, TierSource.BUNDLED if source == venue else TierSource.LENT


def liquidation_tables(
    exchange: str, symbol: str, grid: np.ndarray, config: EngineConfig
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(lp_price, lp_bin, max_leverage)``: liquidation price (shape ``(2, K, N)``) of a representative
    position entered at each bin centre, per side and leverage, from the exchange's real tier table, and
    the table's maximum leverage (leverages above it are priced at it; the engine gives them no weight)."""
    from liqmap.margin import liquidation_prices

    tiers = resolve_tiers(exchange, symbol, config)
    n_lev, n_bins = len(config.leverages), len(grid)
    max_lev = float(tiers.max_leverage[0])
    side = np.repeat(np.array([1.0, -1.0]), n_lev * n_bins)
    lev = np.tile(np.repeat(np.minimum(np.asarray(config.leverages), max_lev), n_bins), 2)
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
    return lp, grid_bins(lp, grid), max_lev


def grid_bins(prices: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Index of the ``grid`` bin (centres, equal widths) holding each price; off-grid prices (±inf too) go to
    the edge bins — the vector form of the kernel's ``nb.bin_of``."""
    width = float(grid[1] - grid[0])
    pos = np.nan_to_num((prices - (float(grid[0]) - width / 2)) / width, posinf=len(grid), neginf=0.0)
    return np.clip(np.floor(pos), 0, len(grid) - 1).astype(np.int64)


def snapshot_plan(arrays: dict[str, np.ndarray], config: EngineConfig) -> tuple[int, np.ndarray, dict[str, np.ndarray]]:
    """``(step_ms, times_ms, {exchange: snap_row})``: a heatmap row after the last bar of each time bucket
    (buckets are ``timestamp // step_ms``); ``snap_row[i]`` is the row bar ``i`` writes, or −1."""
    all_ts = np.concatenate([a[:, nb.B_TS] for a in arrays.values()]).astype(np.int64)
    step = config.snapshot_every_ms
    if step is None:
        steps = [s for a in arrays.values() if (s := bar_step_ms(a[:, nb.B_TS])) is not None]
        bar_ms = min(steps) if steps else MS_PER_MINUTE
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


Trades = tuple[np.ndarray, np.ndarray, np.ndarray]  # (timestamp_ms int64, price, amount), time-ordered
Profile = tuple[np.ndarray, np.ndarray, np.ndarray]  # CSR (ptr[n_bars + 1], bin[], notional_usd[])


def split_trades(trades: pd.DataFrame, symbol: str, exchanges: list[str]) -> tuple[dict[str, Trades], list[str]]:
    """Validate a trades frame and return ``({exchange: (timestamp_ms, price, amount)}, warnings)`` for the
    ``exchanges`` the bars hold (exchange names matched case-insensitively, like the bars)."""
    if not isinstance(trades, pd.DataFrame):
        raise DataValidationError(
            f"trades must be a pandas DataFrame with columns {list(TRADE_COLUMNS)}, got {type(trades).__name__}"
        )
    missing = [c for c in TRADE_COLUMNS if c not in trades.columns]
    if missing:
        raise DataValidationError(
            f"trades lack required column(s) {missing}; give timestamp (UTC epoch ms), price and amount (base units)"
        )
    if "symbol" in trades.columns:
        other = sorted({normalize_symbol(s) for s in trades["symbol"].astype(str).unique()} - {symbol})
        if other:
            raise DataValidationError(f"trades hold symbol(s) {other[:5]} but the bars are {symbol}; filter them")
    if "exchange" in trades.columns:
        names = trades["exchange"].astype(str).str.lower().to_numpy()
    elif len(exchanges) == 1:
        names = np.full(len(trades), exchanges[0], dtype=object)
    else:
        raise DataValidationError(
            f"bars hold several exchanges {exchanges}; trades need an 'exchange' column to match them"
        )
    ts = pd.to_numeric(trades["timestamp"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.all(np.isfinite(ts)) or np.any(ts != np.floor(ts)):
        raise DataValidationError("trades: timestamp must be integer epoch milliseconds (found NaN/fractions)")
    out: dict[str, Trades] = {}
    warnings: list[str] = []
    values = []
    for col in ("price", "amount"):
        v = pd.to_numeric(trades[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~(np.isfinite(v) & (v > 0))
        if np.any(bad):
            raise DataValidationError(
                f"trades: {int(bad.sum())} trade(s) with NaN or non-positive {col} "
                f"(first at timestamp {int(ts[np.argmax(bad)])}); drop them first"
            )
        values.append(v)
    price, amount = values
    known = np.isin(names, exchanges)
    if not np.all(known):
        unknown = sorted(set(names[~known]))
        warnings.append(f"ignored {int((~known).sum())} trade(s) of exchange(s) {unknown[:5]} without bars")
    for name in exchanges:
        mine = names == name
        t = ts[mine].astype(np.int64)
        order = np.argsort(t, kind="stable")
        if np.any(np.diff(t) < 0):
            warnings.append(f"{name}: trades were out of time order; sorted by timestamp")
        out[name] = (t[order], price[mine][order], amount[mine][order])
    return out, warnings


def trade_profile(bar_ts: np.ndarray, bar_end: np.ndarray, trades: Trades, grid: np.ndarray) -> tuple[Profile, int]:
    """Traded notional (``price × amount``) per bar and grid bin as CSR arrays, for trades with
    ``bar_ts[i] ≤ timestamp < bar_end[i]`` (prices off the grid go to its edge bins); also the number of
    trades outside every bar."""
    ts, price, amount = trades
    n_bars, n_bins = len(bar_ts), len(grid)
    row = np.searchsorted(bar_ts, ts, side="right") - 1
    inside = row >= 0
    inside[inside] = ts[inside] < bar_end[row[inside]]
    row, price, amount = row[inside], price[inside], amount[inside]
    keys, inverse = np.unique(row * n_bins + grid_bins(price, grid), return_inverse=True)
    weight = np.bincount(inverse, weights=price * amount, minlength=len(keys)).astype(np.float64)
    ptr = np.searchsorted(keys // n_bins, np.arange(n_bars + 1)).astype(np.int64)
    return (ptr, (keys % n_bins).astype(np.int64), weight), int(len(ts) - inside.sum())


def empty_profile(n_bars: int) -> Profile:
    """The profile of ``n_bars`` bars without trades."""
    return np.zeros(n_bars + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)


def bar_profiles(
    trades: pd.DataFrame | None, symbol: str, arrays: dict[str, np.ndarray], grid: np.ndarray, warnings: list[str]
) -> dict[str, Profile]:
    """Each exchange's trade profile (empty without trades). A bar spans ``[open, next open)``, capped at the
    bar step (:func:`liqmap.timeframes.bar_step_ms`; the last bar: one step; a lone bar: every later trade)."""
    if trades is None:
        return {name: empty_profile(len(a)) for name, a in arrays.items()}
    by_exchange, notes = split_trades(trades, symbol, list(arrays))
    warnings.extend(notes)
    out: dict[str, Profile] = {}
    for name, a in arrays.items():
        bar_ts = a[:, nb.B_TS].astype(np.int64)
        step = bar_step_ms(bar_ts) or math.inf
        bar_end = np.minimum(np.append(bar_ts[1:], math.inf), bar_ts + step)
        out[name], outside = trade_profile(bar_ts, bar_end, by_exchange[name], grid)
        if outside:
            warnings.append(f"{name}: ignored {outside} trade(s) outside every bar")
    return out
