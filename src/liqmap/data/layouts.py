"""Foreign table layouts → canonical tables (pure transformations, no I/O).

Recognised layouts (:func:`detect_layout` decides from the column names):

* canonical — the columns of :mod:`liqmap.data.schemas` (``exchange``/``symbol`` may come from options);
* Binance public-data klines (``data.binance.vision``; 12 columns, with or without header);
* Binance public-data ``metrics`` (5-minute OI, OI value, global/top-trader long/short ratios);
* ccxt ``fetch_ohlcv`` lists ``[[ts, o, h, l, c, v], ...]``;
* the ``../shared/data`` parquet files: ``candles_1h``, ``open_interest_1h``, ``funding_rates``, the OKX
  liquidation orders and the Hyperliquid daily liquidation totals;
* Binance depth snapshots as recorded by nautilus_trader (``symbol,timestamp,...,side,update_type,price,qty``).

Units are converted here, at the edge: sizes a venue counts in contracts (OKX's candle ``vol`` and
liquidation ``sz``) become base units with the contract values of :mod:`liqmap.data.contracts`.

Layouts that carry only some bar columns (OI, funding, long/short ratio) become *bar fields*: a frame of
``exchange, symbol, timestamp`` plus those columns that :func:`liqmap.data.transform.attach_fields` joins
onto stored bars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import pandas as pd

from liqmap.data.contracts import base_per_contract
from liqmap.data.schemas import TableKind, required_columns
from liqmap.data.validate import shown
from liqmap.enums import Exchange
from liqmap.errors import DataValidationError
from liqmap.timeframes import MS_PER_DAY

BINANCE_KLINE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
BINANCE_METRICS_COLUMNS = (
    "create_time",
    "symbol",
    "sum_open_interest",
    "sum_open_interest_value",
    "count_toptrader_long_short_ratio",
    "sum_toptrader_long_short_ratio",
    "count_long_short_ratio",
    "sum_taker_long_short_vol_ratio",
)
CCXT_OHLCV_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")

_SETTLE = {Exchange.HYPERLIQUID.value: "USDC", Exchange.LIGHTER.value: "USDC"}
_TARDIS_EXCHANGES = {"binance-futures": "binance", "bybit": "bybit", "okex-swap": "okx", "okx-swap": "okx"}
_TARDIS_LEVEL = re.compile(r"^(bids|asks)\[(\d+)\]\.price$")


class Layout(StrEnum):
    """Input layouts :func:`to_canonical` understands."""

    CANONICAL = "canonical"
    BINANCE_KLINES = "binance-klines"
    BINANCE_METRICS = "binance-metrics"
    CCXT_OHLCV = "ccxt-ohlcv"
    SHARED_CANDLES = "shared-candles"
    SHARED_OPEN_INTEREST = "shared-oi"
    SHARED_FUNDING = "shared-funding"
    OKX_LIQUIDATIONS = "okx-liquidations"
    SHARED_LIQUIDATION_TOTALS = "shared-liquidation-totals"
    BINANCE_DEPTH = "binance-depth"
    TARDIS_BOOK = "tardis-book"


@dataclass(frozen=True)
class Converted:
    """A converted table: ``kind`` is a canonical table, ``fields_only`` marks bar-field frames."""

    kind: TableKind
    frame: pd.DataFrame
    layout: Layout
    fields_only: bool = False
    note: str = ""


def detect_layout(columns: list[str], kind: TableKind | None = None) -> Layout:
    """Name the layout whose columns ``columns`` match (canonical first)."""
    cols = set(columns)
    if kind is not None and set(required_columns(kind)) - {"exchange", "symbol"} <= cols:
        return Layout.CANONICAL
    if kind is None:
        for k in TableKind:
            if set(required_columns(k)) - {"exchange", "symbol"} <= cols:
                return Layout.CANONICAL
    rules = (
        ({"open_time", "open", "high", "low", "close", "volume"}, Layout.BINANCE_KLINES),
        ({"create_time", "sum_open_interest", "sum_open_interest_value"}, Layout.BINANCE_METRICS),
        ({"timestamp", "venue", "coin", "o", "h", "l", "c", "v"}, Layout.SHARED_CANDLES),
        ({"timestamp", "venue", "coin", "oi_usd"}, Layout.SHARED_OPEN_INTEREST),
        ({"timestamp", "venue", "coin", "funding_rate"}, Layout.SHARED_FUNDING),
        ({"timestamp", "venue", "coin", "side", "size_usd", "price"}, Layout.OKX_LIQUIDATIONS),
        ({"timestamp", "venue", "coin", "long_usd", "short_usd"}, Layout.SHARED_LIQUIDATION_TOTALS),
        ({"timestamp", "side", "update_type", "price", "qty"}, Layout.BINANCE_DEPTH),
        ({"exchange", "symbol", "timestamp", "bids[0].price", "asks[0].price"}, Layout.TARDIS_BOOK),
    )
    for needed, layout in rules:
        if needed <= cols:
            return layout
    if kind is not None:
        missing = sorted(set(required_columns(kind)) - cols - {"exchange", "symbol"})
        raise DataValidationError(
            f"{kind}: missing column(s) {', '.join(missing)}; found {_columns(columns)} "
            "(not a canonical table nor a known layout: Binance klines/metrics, ccxt OHLCV, shared/data)"
        )
    raise DataValidationError(
        f"unrecognised table layout with columns {_columns(columns)}; pass KIND and check the header"
    )


def to_canonical(
    df: pd.DataFrame,
    layout: Layout,
    kind: TableKind | None = None,
    exchange: str | None = None,
    symbol: str | None = None,
) -> Converted:
    """Convert ``df`` in ``layout`` into canonical columns (not yet validated; see :func:`validate`)."""
    if layout is Layout.CANONICAL:
        target = kind or _canonical_kind(df)
        return Converted(target, _with_ids(df, exchange, symbol, layout), layout)
    if layout in (Layout.BINANCE_KLINES, Layout.CCXT_OHLCV):
        time_col = "open_time" if layout is Layout.BINANCE_KLINES else "timestamp"
        keep = [c for c in ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume") if c in df]
        out = df[keep].copy()
        out.insert(0, "timestamp", df[time_col])
        return Converted(TableKind.BARS, _with_ids(out, exchange or "binance", symbol, layout), layout)
    if layout is Layout.BINANCE_METRICS:
        return _binance_metrics(df, exchange)
    if layout is Layout.SHARED_CANDLES:
        return shared_candles(df)
    if layout is Layout.SHARED_OPEN_INTEREST:
        out = df.rename(columns={"oi_usd": "open_interest_usd"})
        return _shared(out, ["open_interest_usd"], TableKind.BARS, True, layout)
    if layout is Layout.SHARED_FUNDING:
        return _shared(df, ["funding_rate"], TableKind.BARS, True, layout)
    if layout is Layout.OKX_LIQUIDATIONS:
        return okx_liquidations(df)
    if layout is Layout.SHARED_LIQUIDATION_TOTALS:
        return shared_liquidation_totals(df)
    if layout is Layout.TARDIS_BOOK:
        return _tardis_book(df, exchange)
    return _binance_depth(df, exchange)


def bars_from_ccxt_ohlcv(rows: list[list[float]], exchange: str, symbol: str) -> pd.DataFrame:
    """ccxt ``fetch_ohlcv`` rows ``[ts_ms, open, high, low, close, volume]`` → bar frame (unvalidated)."""
    if not isinstance(rows, list) or any(not isinstance(r, list | tuple) or len(r) != 6 for r in rows):
        raise DataValidationError("ccxt OHLCV must be a list of [timestamp, open, high, low, close, volume] rows")
    out = pd.DataFrame(rows, columns=list(CCXT_OHLCV_COLUMNS))
    return _with_ids(out, exchange, symbol, Layout.CCXT_OHLCV)


def shared_candles(df: pd.DataFrame) -> Converted:
    """Shared ``candles_1h`` rows → canonical bars, ``v`` converted to base units.

    ``v`` is each venue's own volume field: base units, except on venues listed in the contract-value
    table (OKX's ``vol`` counts contracts), where ``volume = v × contract value``. Rows of a listed venue
    whose instrument has no contract value are dropped and named in ``note``.
    """
    out = df.rename(columns={"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"})
    conv = _shared(out, ["open", "high", "low", "close", "volume"], TableKind.BARS, False, Layout.SHARED_CANDLES)
    bars = conv.frame
    size = base_per_contract(bars["exchange"], bars["symbol"])
    unknown = np.isnan(size)
    bars = bars.assign(volume=bars["volume"].to_numpy() * size)[~unknown].reset_index(drop=True)
    dropped = ", ".join(sorted((conv.frame["exchange"] + " " + conv.frame["symbol"])[unknown].unique()))
    note = f"dropped {int(unknown.sum())} rows of {dropped} (contract value unknown)" if dropped else ""
    return replace(conv, frame=bars, note="; ".join(n for n in (conv.note, note) if n))


def okx_liquidations(df: pd.DataFrame) -> Converted:
    """OKX ``liquidation-orders`` rows (``side`` = order side, ``size_usd`` = contracts × bkPx) → canonical.

    A ``buy`` liquidation order closes a *short* position. ``quantity = size_usd / price × ctVal``
    (contracts × contract value, :mod:`liqmap.data.contracts`); ``price`` stays OKX's bankruptcy price
    ``bkPx``. Coins without a known contract value are dropped and named in ``note``.
    """
    symbol = df["coin"].astype("str") + "/USDT:USDT"
    size = base_per_contract(pd.Series("okx", index=df.index), symbol)
    known = ~np.isnan(size)
    dropped = sorted(df.loc[~known, "coin"].unique())
    d = df[known].reset_index(drop=True)
    side = d["side"].astype("str").str.lower().map({"buy": "short", "sell": "long"})
    contracts = d["size_usd"].to_numpy(dtype="float64") / d["price"].to_numpy(dtype="float64")
    quantity = contracts * size[known]
    out = pd.DataFrame(
        {
            "exchange": "okx",
            "symbol": symbol[known].reset_index(drop=True),
            "timestamp": d["timestamp"],
            "side": side.fillna(d["side"]),
            "price": d["price"],
            "quantity": quantity,
            "notional_usd": quantity * d["price"].to_numpy(dtype="float64"),
        }
    )
    note = f"dropped {int((~known).sum())} rows of {', '.join(dropped)} (contract value unknown)" if dropped else ""
    return Converted(TableKind.LIQUIDATIONS, out, Layout.OKX_LIQUIDATIONS, note=note)


def shared_liquidation_totals(df: pd.DataFrame) -> Converted:
    """Shared daily liquidation totals (``timestamp`` = UTC day, ``venue, coin, long_usd, short_usd,
    liq_count``) → canonical liquidation totals with ``period_ms`` one day.

    The source's ``total_usd`` is not carried (it is not always ``long_usd + short_usd``); a day absent from
    the source stays absent — unknown, not zero.
    """
    out = df.rename(columns={"liq_count": "count"}).assign(period_ms=MS_PER_DAY)
    cols = ["period_ms", "long_usd", "short_usd"] + (["count"] if "count" in out else [])
    return _shared(out, cols, TableKind.LIQUIDATION_TOTALS, False, Layout.SHARED_LIQUIDATION_TOTALS)


def _canonical_kind(df: pd.DataFrame) -> TableKind:
    for k in (TableKind.BARS, TableKind.TIERS, TableKind.DEPTH, TableKind.LIQUIDATIONS, TableKind.LIQUIDATION_TOTALS):
        if set(required_columns(k)) - {"exchange", "symbol"} <= set(df.columns):
            return k
    raise DataValidationError(f"cannot tell the table kind from columns {_columns(list(df.columns))}; pass KIND")


def _with_ids(df: pd.DataFrame, exchange: str | None, symbol: str | None, layout: Layout) -> pd.DataFrame:
    out = df.copy()
    for name, value in (("exchange", exchange), ("symbol", symbol)):
        if value is not None:
            out[name] = value
        elif name not in out:
            raise DataValidationError(f"{layout} table has no {name!r} column: pass --{name}")
    return out


def _binance_metrics(df: pd.DataFrame, exchange: str | None) -> Converted:
    out = pd.DataFrame(
        {
            "exchange": exchange or "binance",
            "symbol": df["symbol"],
            "timestamp": df["create_time"],
            "open_interest": pd.to_numeric(df["sum_open_interest"], errors="coerce"),
            "open_interest_usd": pd.to_numeric(df["sum_open_interest_value"], errors="coerce"),
        }
    )
    if "count_long_short_ratio" in df:  # global accounts long/short, the venue-wide crowd ratio
        out["long_short_ratio"] = pd.to_numeric(df["count_long_short_ratio"], errors="coerce")
    return Converted(TableKind.BARS, out, Layout.BINANCE_METRICS, fields_only=True)


def _shared(df: pd.DataFrame, cols: list[str], kind: TableKind, fields: bool, layout: Layout) -> Converted:
    venue = df["venue"].astype("str").str.lower()
    known = venue.isin([e.value for e in Exchange])
    skipped = sorted(venue[~known].unique())
    d = df[known].reset_index(drop=True)
    v = venue[known].reset_index(drop=True)
    settle = v.map(_SETTLE).fillna("USDT")
    out = pd.DataFrame({"exchange": v, "symbol": d["coin"].astype("str") + "/" + settle + ":" + settle})
    out["timestamp"] = d["timestamp"]
    for c in cols:
        out[c] = d[c].to_numpy()
    out = out.sort_values(["exchange", "symbol", "timestamp"], kind="stable", ignore_index=True)
    note = f"skipped {int((~known).sum())} rows of venues liqmap does not model: {', '.join(skipped)}"
    return Converted(kind, out, layout, fields_only=fields, note=note if skipped else "")


def _binance_depth(df: pd.DataFrame, exchange: str | None) -> Converted:
    snap = df[df["update_type"].astype("str").str.lower() == "snap"]
    if snap.empty:
        raise DataValidationError("binance depth file holds no 'snap' rows (only incremental updates)")
    out = pd.DataFrame(
        {
            "exchange": exchange or "binance",
            "symbol": snap["symbol"],
            "timestamp": snap["timestamp"],
            "side": snap["side"],
            "price": snap["price"],
            "size": snap["qty"],
        }
    ).reset_index(drop=True)
    return Converted(TableKind.DEPTH, out, Layout.BINANCE_DEPTH)


def _tardis_book(df: pd.DataFrame, exchange: str | None) -> Converted:
    """Tardis ``book_snapshot_N`` rows (``bids[i].price``, ``bids[i].amount``, ..., µs timestamps) → depth."""
    parts = []
    for col in df.columns:
        m = _TARDIS_LEVEL.match(str(col))
        if not m:
            continue
        book, level = m.group(1), m.group(2)
        parts.append(
            pd.DataFrame(
                {
                    "exchange": exchange or df["exchange"].astype("str").str.lower().replace(_TARDIS_EXCHANGES),
                    "symbol": df["symbol"],
                    "timestamp": pd.to_numeric(df["timestamp"]) // 1000,  # µs → ms
                    "side": "bid" if book == "bids" else "ask",
                    "price": df[col],
                    "size": df[f"{book}[{level}].amount"],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True).dropna(subset=["price", "size"])
    return Converted(TableKind.DEPTH, out.reset_index(drop=True), Layout.TARDIS_BOOK)


def _columns(columns: list[str], limit: int = 12) -> str:
    """The first ``limit`` column names of a file for an error message (each through :func:`shown`)."""
    names = ", ".join(shown(c) for c in columns[:limit])
    return names + (f" (+{len(columns) - limit} more)" if len(columns) > limit else "")
