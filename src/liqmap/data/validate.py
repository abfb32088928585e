"""Validation at the edge: turn any table into a canonical one, or say exactly which rows are wrong.

Every reader, importer, connector and the store calls :func:`validate` before data is kept. It normalises
(column order and dtypes, exchange names, ccxt unified symbols, timestamps in s/ms/µs/ns or ISO text → UTC
ms, side spellings) and raises :class:`~liqmap.errors.DataValidationError` naming the problem and the
rows. Row numbers count data rows from 1 in input order (header excluded).

>>> import pandas as pd
>>> bars = pd.DataFrame({"exchange": ["binance"], "symbol": ["BTCUSDT"], "timestamp": [1767225600000],
...                      "open": [1.0], "high": [2.0], "low": [0.5], "close": [1.5], "volume": [3.0]})
>>> validate("bars", bars)["symbol"].tolist()
['BTC/USDT:USDT']
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from liqmap.data.schemas import SCHEMAS, TableKind, primary_key, required_columns, table_kind
from liqmap.enums import Exchange
from liqmap.errors import DataValidationError, UnknownSymbolError
from liqmap.symbols import normalize_symbol
from liqmap.tables import BAR_FIELDS, RowPolicy
from liqmap.timeframes import MS_PER_DAY, MS_PER_SECOND, bar_step_ms, format_ms

# Plausibility bounds (docs/data.md, "Validation"): values outside them are refused at import, once, here.
MIN_TIMESTAMP_MS = 1_230_768_000_000  # 2009-01-01, before any crypto market
FUTURE_SLACK_MS = MS_PER_DAY  # timestamps may lie at most one day after the current time
MIN_PRICE, MAX_PRICE = 1e-8, 1e9  # quote currency
MAX_AMOUNT = 1e15  # base quantities and USD amounts (volumes, OI, notionals, liquidation totals)
MAX_RATE = 1.0  # |funding_rate| per interval; long/short ratio is bounded by MAX_RATIO
MAX_RATIO = 1e6
MIN_LEVERAGE, MAX_LEVERAGE = 1, 1000
MAX_SYMBOL_CHARS = 64
MAX_TEXT_CHARS = 1024  # free-text tier fields: valid_from, source
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula
ROW_POLICY = RowPolicy.REJECT
"""Stored data: unsorted bars and duplicate keys are refused, never repaired (the engine repairs instead)."""
_SHOWN_ROWS = 5
_TOKEN = re.compile(r"[\w./:-]+", re.ASCII)

_PRICES = {
    TableKind.BARS: ("open", "high", "low", "close", "mark_price"),
    TableKind.LIQUIDATIONS: ("price",),
    TableKind.DEPTH: ("price",),
    TableKind.TIERS: (),
    TableKind.LIQUIDATION_TOTALS: (),
}

_POSITIVE = {
    TableKind.BARS: ("open", "high", "low", "close", "mark_price"),
    TableKind.LIQUIDATIONS: ("price", "quantity", "notional_usd"),
    TableKind.DEPTH: ("price",),
    TableKind.TIERS: ("notional_cap", "max_leverage"),
    TableKind.LIQUIDATION_TOTALS: ("period_ms",),
}
_NON_NEGATIVE = {
    TableKind.BARS: (
        "volume",
        "quote_volume",
        "taker_buy_volume",
        "open_interest",
        "open_interest_usd",
        "long_short_ratio",
    ),
    TableKind.LIQUIDATIONS: (),
    TableKind.DEPTH: ("size",),
    TableKind.TIERS: ("notional_floor", "maintenance_margin_rate", "maintenance_amount"),
    TableKind.LIQUIDATION_TOTALS: ("long_usd", "short_usd", "count"),
}
_LIQ_SIDES = {"long": "long", "short": "short", "l": "long", "s": "short"}
_DEPTH_SIDES = {
    "bid": "bid",
    "bids": "bid",
    "b": "bid",
    "buy": "bid",
    "ask": "ask",
    "asks": "ask",
    "a": "ask",
    "sell": "ask",
}


def validate(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` as the canonical ``kind`` table (schema column order and dtypes) or raise.

    Checks: missing columns, unknown exchange, unreadable symbol, unreadable/implausible timestamps, NaN,
    infinite or non-numeric values, non-positive prices, negative volumes, ``high < low`` and OHLC
    consistency, duplicate keys, unsorted timestamps and mixed bar resolutions within a series (bars).
    Liquidation and depth events are sorted by time instead (their arrival order carries no meaning).
    Rows follow :data:`ROW_POLICY` (:attr:`RowPolicy.REJECT`): nothing is repaired silently.
    """
    k = table_kind(kind)
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{k}: expected a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise DataValidationError(f"{k}: the table has no rows")
    missing = [c for c in required_columns(k) if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{k}: missing column(s) {', '.join(missing)}; required: {', '.join(required_columns(k))}"
        )
    src = df.reset_index(drop=True)
    out: dict[str, object] = {}
    for fld in SCHEMAS[k]:
        name = fld.name
        if name == "exchange":
            out[name] = _exchanges(k, src[name])
        elif name == "symbol":
            out[name] = _symbols(k, src[name])
        elif name == "timestamp":
            out[name] = to_epoch_ms(src[name], f"{k}: column 'timestamp'")
        elif name == "side":
            out[name] = _sides(k, src[name])
        elif name in ("valid_from", "source"):
            out[name] = _text(k, src, name)
        elif name == "tier":
            out[name] = _whole(k, name, _numbers(k, src, name, fld.nullable)).astype("int32")
        elif name in ("period_ms", "count"):
            out[name] = _whole(k, name, _numbers(k, src, name, fld.nullable))
        else:
            out[name] = _numbers(k, src, name, fld.nullable)
    table = pd.DataFrame(out, copy=False)
    _check_ranges(k, table)
    if k is TableKind.BARS:
        _check_ohlc(table)
        _check_order_and_resolution(table)
        return table
    _check_duplicates(k, table)
    if k is TableKind.TIERS:
        table = table.sort_values(["exchange", "symbol", "tier"], kind="stable", ignore_index=True)
    else:
        table = table.sort_values(primary_key(k), kind="stable", ignore_index=True)
    if k is TableKind.DEPTH:
        _check_crossed(table)
    return table


def validate_fields(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a *bar-field* frame: ``exchange, symbol, timestamp`` plus some of :data:`BAR_FIELDS`.

    Same id, timestamp, number and range checks as bars; sorted by series and time; duplicate keys raise.
    """
    k = TableKind.BARS
    ids = ["exchange", "symbol", "timestamp"]
    missing = [c for c in ids if c not in df.columns]
    cols = [c for c in BAR_FIELDS if c in df.columns]
    if missing or not cols:
        raise DataValidationError(
            f"bar fields: need {', '.join(ids)} and one of {', '.join(BAR_FIELDS)}; "
            f"missing {', '.join(missing or ['a field column'])}"
        )
    if df.empty:
        raise DataValidationError("bar fields: the table has no rows")
    src = df.reset_index(drop=True)
    table = pd.DataFrame(
        {
            "exchange": _exchanges(k, src["exchange"]),
            "symbol": _symbols(k, src["symbol"]),
            "timestamp": to_epoch_ms(src["timestamp"], "bar fields: column 'timestamp'"),
        }
        | {c: _numbers(k, src, c, nullable=True) for c in cols}
    )
    for name in cols:
        limit = table[name] <= 0 if name == "mark_price" else table[name] < 0
        if name != "funding_rate":
            _raise_rows(limit, f"bar fields: column {name!r} is out of range")
    _check_bounds("bar fields", k, table, cols)
    _raise_rows(table.duplicated(ids, keep=False), "bar fields: duplicate rows for key (exchange, symbol, timestamp)")
    return table.sort_values(ids, kind="stable", ignore_index=True)


def to_epoch_ms(values: pd.Series, what: str) -> pd.Series:
    """Timestamps as int64 UTC milliseconds from datetimes, ISO text or epoch s/ms/µs/ns numbers.

    The epoch unit is inferred from the magnitude of the median value (seconds < 1e11 ≤ ms < 1e14 ≤ µs <
    1e17 ≤ ns). Naive datetimes are taken as UTC.
    """
    s = values.reset_index(drop=True)
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        bad = s.isna()
        _raise_rows(bad, f"{what} is empty")
        dt = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
        ms = dt.dt.as_unit("ms").astype("int64")
    else:
        num = s if s.dtype.kind in "iu" else pd.to_numeric(s, errors="coerce")
        if num.dtype.kind in "iu":
            ms = _scale_epoch(num.to_numpy(), what)
        elif num.notna().all():
            ms = _scale_epoch(num.to_numpy(dtype="float64"), what)
        else:
            text_rows = num.isna() & s.notna()
            _raise_rows(s.isna(), f"{what} is empty")
            if text_rows.all():
                dt = pd.to_datetime(s.astype("str"), utc=True, errors="coerce", format="mixed")
                _raise_rows(dt.isna(), f"{what} cannot be read as a time (use epoch ms or ISO 8601)")
                ms = dt.dt.as_unit("ms").astype("int64")
            else:
                _raise_rows(text_rows, f"{what} mixes numbers and text")
                raise AssertionError  # pragma: no cover - _raise_rows raised above
    out = pd.Series(np.asarray(ms, dtype="int64"))
    latest = int(time.time() * MS_PER_SECOND) + FUTURE_SLACK_MS
    _raise_rows((out < MIN_TIMESTAMP_MS) | (out > latest), f"{what} is outside 2009-01-01 … now + 1 day")
    return out


def _scale_epoch(num: np.ndarray, what: str) -> np.ndarray:
    if num.dtype.kind in "iu" and (num >= 1e11).all() and (num < 1e14).all():  # integer milliseconds
        return num.astype("int64", copy=False)
    if not np.isfinite(num).all():
        _raise_rows(pd.Series(~np.isfinite(num)), f"{what} is not finite")
    med = float(np.median(np.abs(num)))
    factor = 1e3 if med < 1e11 else 1.0 if med < 1e14 else 1e-3 if med < 1e17 else 1e-6
    scaled = num * factor
    frac = np.abs(scaled - np.round(scaled)) > 1e-6
    _raise_rows(pd.Series(frac), f"{what} has sub-millisecond digits (expected whole epoch milliseconds)")
    return np.clip(np.round(scaled), -(2.0**62), 2.0**62).astype("int64")  # far out of range: refused by the caller


def _exchanges(k: TableKind, col: pd.Series) -> pd.Series:
    known = {e.value for e in Exchange}

    def norm(raw: object) -> str:
        name = str(raw).strip().lower() if isinstance(raw, str) else ""
        if name not in known:
            what = "empty exchange" if raw is None else f"unknown exchange {shown(raw)}"
            raise LookupError(f"{k}: {what} (known: {', '.join(sorted(known))})")
        return name

    return _map_labels(col, norm)


def _symbols(k: TableKind, col: pd.Series) -> pd.Series:
    _raise_rows(col.isna(), f"{k}: column 'symbol' is empty")

    def norm(raw: object) -> str:
        text = str(raw)
        try:
            if len(text) > MAX_SYMBOL_CHARS:
                raise UnknownSymbolError(text)
            return normalize_symbol(text)
        except UnknownSymbolError:
            raise LookupError(
                f"{k}: unreadable symbol {shown(text)} (use e.g. BTCUSDT or BTC/USDT:USDT, letters and digits, "
                f"at most {MAX_SYMBOL_CHARS} characters)"
            ) from None

    return _map_labels(col, norm)


def _map_labels(col: pd.Series, norm: Callable[[object], str]) -> pd.Series:
    """Apply ``norm`` once per distinct label (fast for long, low-cardinality columns)."""
    first = col.iloc[0]
    if first is not None and first == first and (col == first).all():  # one label: skip factorising
        try:
            return pd.Series(norm(first), index=pd.RangeIndex(len(col)), dtype="str")
        except LookupError as exc:
            _raise_rows(np.ones(len(col), dtype=bool), str(exc.args[0]))
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    missing = codes < 0
    if missing.any():
        try:
            norm(None)
        except LookupError as exc:
            _raise_rows(missing, str(exc.args[0]))
    mapped: list[str] = []
    for code, raw in enumerate(uniques):
        try:
            mapped.append(norm(raw))
        except LookupError as exc:
            _raise_rows(codes == code, str(exc.args[0]))
    if len(mapped) == 1 and not missing.any():
        return pd.Series(mapped[0], index=pd.RangeIndex(len(col)), dtype="str")
    return pd.Series(np.asarray(mapped, dtype=object)[codes], dtype="str")


def _sides(k: TableKind, col: pd.Series) -> pd.Series:
    mapping = _LIQ_SIDES if k is TableKind.LIQUIDATIONS else _DEPTH_SIDES
    norm = col.astype("str").str.strip().str.lower().map(mapping)
    bad = norm.isna()
    if bad.any():
        first = str(col[bad].iloc[0]).strip().lower()
        order_side = first in ("buy", "sell")
        if k is TableKind.LIQUIDATIONS:
            hint = "side must be the liquidated POSITION, 'long' or 'short'" + (
                " ('buy'/'sell' are order sides: a buy order liquidates a short)" if order_side else ""
            )
        else:
            hint = "side must be 'bid' or 'ask'"
        _raise_rows(bad, f"{k}: unknown side {shown(first)}; {hint}")
    return norm.astype("str")


def _numbers(k: TableKind, src: pd.DataFrame, name: str, nullable: bool) -> pd.Series:
    if name not in src:
        return pd.Series(np.full(len(src), np.nan))
    raw = src[name]
    if raw.dtype.kind in "fiu":
        arr = raw.to_numpy(dtype="float64", na_value=np.nan)
    else:
        arr = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        _raise_rows(np.isnan(arr) & raw.notna().to_numpy(), f"{k}: column {name!r} is not a number")
    if not nullable:
        _raise_rows(np.isnan(arr), f"{k}: column {name!r} is NaN/empty")
    _raise_rows(np.isinf(arr), f"{k}: column {name!r} is infinite")
    return pd.Series(arr, copy=False)


def _whole(k: TableKind, name: str, values: pd.Series) -> pd.Series:
    """Whole numbers as int64 (``Int64`` with nulls where the column is nullable)."""
    _raise_rows(values.notna() & (values != values.round()), f"{k}: column {name!r} is not a whole number")
    return values.astype("Int64") if values.isna().any() else values.astype("int64")


def _check_ranges(k: TableKind, t: pd.DataFrame) -> None:
    for name in _POSITIVE[k]:
        _raise_rows(t[name] <= 0, f"{k}: column {name!r} must be > 0")
    for name in _NON_NEGATIVE[k]:
        _raise_rows((t[name] < 0).fillna(False), f"{k}: column {name!r} is negative")  # NA: not negative
    if k is TableKind.TIERS:
        _raise_rows(t["notional_cap"] <= t["notional_floor"], "tiers: notional_cap must exceed notional_floor")
        _raise_rows(t["maintenance_margin_rate"] >= 1, "tiers: maintenance_margin_rate must be a fraction < 1")
        _raise_rows(
            ~t["max_leverage"].between(MIN_LEVERAGE, MAX_LEVERAGE),
            f"tiers: max_leverage must lie in {MIN_LEVERAGE} … {MAX_LEVERAGE}",
        )
    _check_bounds(str(k), k, t, [f.name for f in SCHEMAS[k] if pd.api.types.is_float_dtype(t[f.name].dtype)])


def _check_bounds(label: str, k: TableKind, t: pd.DataFrame, names: Sequence[str]) -> None:
    """Refuse implausible magnitudes: prices outside [MIN_PRICE, MAX_PRICE], amounts above MAX_AMOUNT,
    funding beyond ±MAX_RATE, long/short ratios above MAX_RATIO (nulls pass)."""
    for name in names:
        v = t[name]
        if name in _PRICES[k]:
            bad, bound = (v < MIN_PRICE) | (v > MAX_PRICE), f"the plausible price range {MIN_PRICE:g} … {MAX_PRICE:g}"
        elif name == "funding_rate":
            bad, bound = v.abs() > MAX_RATE, f"±{MAX_RATE:g} (a rate per funding interval, not percent)"
        elif name == "long_short_ratio":
            bad, bound = v > MAX_RATIO, f"{MAX_RATIO:g}"
        elif name in ("max_leverage", "maintenance_margin_rate"):
            continue  # checked with the tier rules
        else:
            bad, bound = v.abs() > MAX_AMOUNT, f"{MAX_AMOUNT:g}"
        _raise_rows(bad.fillna(False), f"{label}: column {name!r} is implausible (outside {bound})")


def _text(k: TableKind, src: pd.DataFrame, name: str) -> pd.Series:
    """A free-text column as str: at most MAX_TEXT_CHARS, and never a spreadsheet formula (``=``, ``+``, ``-``,
    ``@``, tab or CR first) that a CSV export would hand to Excel verbatim."""
    if name not in src:
        return pd.Series([None] * len(src), dtype="str")
    text = src[name].astype("str")
    _raise_rows(text.str.len() > MAX_TEXT_CHARS, f"{k}: column {name!r} is longer than {MAX_TEXT_CHARS} characters")
    formula = text.str.lstrip(" ").str.startswith(FORMULA_PREFIXES)
    _raise_rows(formula, f"{k}: column {name!r} starts with a spreadsheet formula character (= + - @); remove it")
    return text


def _check_ohlc(t: pd.DataFrame) -> None:
    _raise_rows(t["high"] < t["low"], "bars: high < low")
    o, c = t["open"].to_numpy(), t["close"].to_numpy()
    _raise_rows(t["high"].to_numpy() < np.maximum(o, c), "bars: high is below open or close")
    _raise_rows(t["low"].to_numpy() > np.minimum(o, c), "bars: low is above open or close")
    over = t["taker_buy_volume"] > t["volume"] * (1 + 1e-9)
    _raise_rows(over, "bars: taker_buy_volume exceeds volume")


def _check_duplicates(k: TableKind, t: pd.DataFrame) -> None:
    pk = primary_key(k)
    dup = t.duplicated(pk, keep=False)
    _raise_rows(dup, f"{k}: duplicate rows for key ({', '.join(pk)})")


def _check_order_and_resolution(t: pd.DataFrame) -> None:
    """Per exchange/symbol series: strictly increasing timestamps on one bar grid (gaps allowed)."""
    single = not _multi_series(t)
    codes = np.zeros(len(t), dtype="int64") if single else pd.factorize(t["exchange"] + "|" + t["symbol"])[0]
    order = np.argsort(codes, kind="stable")
    ts = t["timestamp"].to_numpy()[order]
    same = codes[order][1:] == codes[order][:-1]
    diff = np.diff(ts)
    if (diff[same] <= 0).any():
        _check_duplicates(TableKind.BARS, t)
        back = np.zeros(len(t), dtype=bool)
        back[order[1:][same & (diff < 0)]] = True
        _raise_rows(back, "bars: timestamps are not sorted ascending within each exchange/symbol")
    for code in np.unique(codes):
        step = bar_step_ms(ts[codes[order] == code])
        if step is None:
            continue
        d = diff[same & (codes[order][1:] == code)]
        odd = d % step != 0
        if odd.any():
            rows = order[1:][same & (codes[order][1:] == code)][odd]
            bad = np.zeros(len(t), dtype=bool)
            bad[rows] = True
            first = int(rows[0])
            other = int(d[odd][0])
            _raise_rows(
                bad,
                f"bars: mixed resolutions in {t['exchange'].iloc[first]} {t['symbol'].iloc[first]}: bars are "
                f"{format_ms(step)} apart but also {format_ms(other)}",
            )


def _multi_series(t: pd.DataFrame) -> bool:
    ex, sym = t["exchange"], t["symbol"]
    return not ((ex == ex.iloc[0]).all() and (sym == sym.iloc[0]).all())


def _check_crossed(t: pd.DataFrame) -> None:
    keys = [t["exchange"], t["symbol"], t["timestamp"]]
    best_bid = t["price"].where(t["side"] == "bid").groupby(keys).transform("max")
    best_ask = t["price"].where(t["side"] == "ask").groupby(keys).transform("min")
    _raise_rows(best_bid >= best_ask, "depth: crossed book (best bid ≥ best ask) in the snapshot")


def shown(value: object, limit: int = 24) -> str:
    """``value`` quoted for an error message when it is a short plain token (letters, digits, ``_ . / : -``,
    at most ``limit`` characters); anything else is described, not echoed, so a hostile or mistaken file
    (a symlink to a system file, escape sequences) never reaches the terminal.

    >>> print(shown("kraken"), shown("root:x:0:0:root:/root:/bin/bash"), shown("\x1b[2J"))
    'kraken' (a 31-character value) (a 4-character value)
    """
    text = str(value)
    return repr(text) if len(text) <= limit and _TOKEN.fullmatch(text) else f"(a {len(text)}-character value)"


def _raise_rows(mask: pd.Series | np.ndarray, message: str) -> None:
    arr = np.asarray(mask, dtype=bool)
    if not arr.any():
        return
    raise DataValidationError(f"{message} at {describe_rows(np.flatnonzero(arr))}")


def describe_rows(positions: Sequence[int] | np.ndarray) -> str:
    """0-based positions → ``'row 3'`` / ``'rows 3, 9, 12 (+4 more)'`` (1-based row numbers)."""
    rows = [int(p) + 1 for p in positions[:_SHOWN_ROWS]]
    more = len(positions) - len(rows)
    label = "row" if len(positions) == 1 else "rows"
    return f"{label} {', '.join(map(str, rows))}" + (f" (+{more} more)" if more else "")
