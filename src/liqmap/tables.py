"""The table vocabulary, declared once: each canonical table's columns (name, dtype, nullability, unit) and
primary key, the engine's trade input, and the two row policies (pure; no pyarrow or pandas).

:mod:`liqmap.data.schemas` builds the Arrow schemas from :data:`TABLES`; the engine
(:mod:`liqmap.engine._prep`) takes its required and optional bar columns from :data:`BARS` and its trade
columns from :data:`TRADES`; :mod:`liqmap.analytics.validation` checks liquidations against
:data:`LIQUIDATIONS`.

Conventions: ``timestamp`` is UTC epoch **milliseconds** (int64) — the bar's *open* time for bars, the
event time for liquidations and depth; ``exchange`` is a :class:`liqmap.enums.Exchange` value; ``symbol``
is the ccxt unified symbol (``BTC/USDT:USDT``, see :mod:`liqmap.symbols`). Prices are in quote currency
(USD/USDT), ``*_usd`` columns in USD, quantities in base units. Nullable columns hold null where a venue
does not publish the field; the engine then falls back as documented in :mod:`liqmap.engine`.

>>> BARS.required
('exchange', 'symbol', 'timestamp', 'open', 'high', 'low', 'close', 'volume')
>>> TABLES[TableKind.LIQUIDATIONS].primary_key
('exchange', 'symbol', 'timestamp', 'side', 'price', 'quantity')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from liqmap.data.kinds import TableKind


class DType(StrEnum):
    """Column types (the Arrow type of the same name; DuckDB VARCHAR, INTEGER, BIGINT, DOUBLE)."""

    STRING = "string"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT64 = "float64"


class RowPolicy(StrEnum):
    """What an edge does with rows out of time order or repeated keys. Each edge names its policy as its
    ``ROW_POLICY``; the two differ on purpose."""

    REJECT = "reject"
    """Stored data (:func:`liqmap.data.validate.validate`, before anything is written): unsorted bars and
    duplicate keys are refused with a :class:`~liqmap.errors.DataValidationError` naming the rows, so the
    store never holds a silently repaired series. (Events are sorted by time: their arrival order carries no
    meaning.)"""

    REPAIR = "repair"
    """Engine input (:func:`liqmap.engine.run` on any frame): rows are sorted by time and exact duplicate
    rows dropped, each repair reported in ``EngineResult.warnings``; two *different* rows with one key are
    still an error."""


@dataclass(frozen=True)
class Column:
    """One column: name, type, whether it may hold null, and its unit or meaning."""

    name: str
    dtype: DType
    nullable: bool
    meaning: str
    values: tuple[str, ...] = ()
    """The canonical spellings of a categorical column (empty: any value of ``dtype``)."""


@dataclass(frozen=True)
class Table:
    """A table's columns in canonical order and the columns that identify one row."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    doc: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every column name, in canonical order."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """The non-nullable columns (every input must carry them)."""
        return tuple(c.name for c in self.columns if not c.nullable)

    @property
    def optional(self) -> tuple[str, ...]:
        """The nullable columns (an input may lack them)."""
        return tuple(c.name for c in self.columns if c.nullable)

    def column(self, name: str) -> Column:
        """The column called ``name`` (``KeyError`` if the table has none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def missing(self, present: Iterable[str], wanted: Iterable[str] | None = None) -> list[str]:
        """Which of ``wanted`` (default: :attr:`required`) are not in ``present``, in canonical order."""
        have = set(present)
        need = self.required if wanted is None else tuple(wanted)
        return [name for name in need if name not in have]


def _col(name: str, dtype: DType, meaning: str, nullable: bool = False, values: tuple[str, ...] = ()) -> Column:
    return Column(name, dtype, nullable, meaning, values)


_S, _I32, _I64, _F = DType.STRING, DType.INT32, DType.INT64, DType.FLOAT64
_EXCHANGE = _col("exchange", _S, "liqmap.enums.Exchange value")
_SYMBOL = _col("symbol", _S, "ccxt unified symbol, e.g. BTC/USDT:USDT")

BARS = Table(
    TableKind.BARS.value,
    (
        _EXCHANGE,
        _SYMBOL,
        _col("timestamp", _I64, "bar open, UTC epoch ms"),
        _col("open", _F, "quote currency"),
        _col("high", _F, "quote currency"),
        _col("low", _F, "quote currency"),
        _col("close", _F, "quote currency"),
        _col("volume", _F, "base units"),
        _col("quote_volume", _F, "USD", nullable=True),
        _col("taker_buy_volume", _F, "base units bought by takers", nullable=True),
        _col("open_interest", _F, "base units, at bar close", nullable=True),
        _col("open_interest_usd", _F, "USD, at bar close", nullable=True),
        _col("funding_rate", _F, "last funding rate applied in/before the bar", nullable=True),
        _col("mark_price", _F, "mark at bar close, quote currency", nullable=True),
        _col("long_short_ratio", _F, "accounts long / accounts short", nullable=True),
    ),
    ("exchange", "symbol", "timestamp"),
    "OHLCV bars with open interest, funding, mark and long/short ratio; one series per exchange and symbol.",
)

LIQUIDATIONS = Table(
    TableKind.LIQUIDATIONS.value,
    (
        _EXCHANGE,
        _SYMBOL,
        _col("timestamp", _I64, "event time, UTC epoch ms"),
        _col("side", _S, "side of the liquidated *position*", values=("long", "short")),
        _col("price", _F, "quote currency"),
        _col("quantity", _F, "base units"),
        _col("notional_usd", _F, "USD"),
    ),
    ("exchange", "symbol", "timestamp", "side", "price", "quantity"),
    "Realized liquidation events.",
)

DEPTH = Table(
    TableKind.DEPTH.value,
    (
        _EXCHANGE,
        _SYMBOL,
        _col("timestamp", _I64, "snapshot time, UTC epoch ms"),
        _col("side", _S, "book side", values=("bid", "ask")),
        _col("price", _F, "quote currency"),
        _col("size", _F, "base units resting at that price"),
    ),
    ("exchange", "symbol", "timestamp", "side", "price"),
    "Order-book snapshot levels.",
)

TIERS = Table(
    TableKind.TIERS.value,
    (
        _EXCHANGE,
        _SYMBOL,
        _col("tier", _I32, "tier number, from 1"),
        _col("notional_floor", _F, "quote (linear) or coin (inverse)"),
        _col("notional_cap", _F, "quote (linear) or coin (inverse)"),
        _col("max_leverage", _F, "x"),
        _col("maintenance_margin_rate", _F, "fraction of notional"),
        _col("maintenance_amount", _F, "Binance cum / Bybit mmDeduction"),
        _col("valid_from", _S, "ISO date of the table's snapshot", nullable=True),
        _col("source", _S, "where the table came from", nullable=True),
    ),
    ("exchange", "symbol", "tier"),
    "Margin tiers (maintenance margin brackets) per exchange and symbol.",
)

LIQUIDATION_TOTALS = Table(
    TableKind.LIQUIDATION_TOTALS.value,
    (
        _EXCHANGE,
        _SYMBOL,
        _col("timestamp", _I64, "period start, UTC epoch ms"),
        _col("period_ms", _I64, "period length, ms (86_400_000: a UTC day)"),
        _col("long_usd", _F, "long positions liquidated in the period, USD"),
        _col("short_usd", _F, "short positions liquidated in the period, USD"),
        _col("count", _I64, "liquidations in the period, where the source counts them", nullable=True),
    ),
    ("exchange", "symbol", "timestamp"),
    "Realized liquidation amounts per period (a venue's daily totals, not single events). A period absent "
    "from the table is unknown, not zero.",
)

TABLES: dict[TableKind, Table] = {
    TableKind.BARS: BARS,
    TableKind.LIQUIDATIONS: LIQUIDATIONS,
    TableKind.DEPTH: DEPTH,
    TableKind.TIERS: TIERS,
    TableKind.LIQUIDATION_TOTALS: LIQUIDATION_TOTALS,
}
"""Every canonical table, in store order."""

TRADES = Table(
    "trades",
    (
        _col("exchange", _S, "matched to the bars' exchange; may be absent with one exchange", nullable=True),
        _col("symbol", _S, "must be the bars' symbol when given", nullable=True),
        _col("timestamp", _I64, "trade time, UTC epoch ms"),
        _col("price", _F, "quote currency"),
        _col("amount", _F, "base units"),
    ),
    (),
    "Optional engine input (never stored): single trades, spread over the price bins they printed at.",
)

BAR_FIELDS = (
    "open_interest",
    "open_interest_usd",
    "funding_rate",
    "mark_price",
    "long_short_ratio",
    "taker_buy_volume",
)
"""Bar columns that may arrive as separate series and be attached to stored bars (the last is a flow)."""
