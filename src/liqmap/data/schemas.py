"""Canonical Arrow schemas: the one shape every source is normalised into and every consumer reads.

Conventions: ``timestamp`` is UTC epoch **milliseconds** (int64) — the bar's *open* time for bars, the
event time for liquidations and depth; ``exchange`` is a :class:`liqmap.enums.Exchange` value; ``symbol``
is the ccxt unified symbol (``BTC/USDT:USDT``, see :mod:`liqmap.symbols`). Prices are in quote currency
(USD/USDT), ``*_usd`` columns in USD, quantities in base units. Nullable columns hold null where a venue
does not publish the field; the engine then falls back as documented in :mod:`liqmap.engine`.
"""

from __future__ import annotations

import pyarrow as pa

from liqmap.data.kinds import TableKind  # defined apart (no pyarrow) for the CLI; importable from here
from liqmap.errors import DataValidationError

BARS = pa.schema(
    [
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),  # bar open, UTC ms
        pa.field("open", pa.float64(), nullable=False),
        pa.field("high", pa.float64(), nullable=False),
        pa.field("low", pa.float64(), nullable=False),
        pa.field("close", pa.float64(), nullable=False),
        pa.field("volume", pa.float64(), nullable=False),  # base units
        pa.field("quote_volume", pa.float64()),  # USD
        pa.field("taker_buy_volume", pa.float64()),  # base units bought by takers
        pa.field("open_interest", pa.float64()),  # base units, at bar close
        pa.field("open_interest_usd", pa.float64()),  # USD, at bar close
        pa.field("funding_rate", pa.float64()),  # last funding rate applied in/before the bar
        pa.field("mark_price", pa.float64()),  # mark at bar close
        pa.field("long_short_ratio", pa.float64()),  # accounts long / accounts short
    ],
    metadata={"primary_key": "exchange,symbol,timestamp"},
)

LIQUIDATIONS = pa.schema(
    [
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),  # UTC ms
        pa.field("side", pa.string(), nullable=False),  # side of the liquidated *position*: long|short
        pa.field("price", pa.float64(), nullable=False),
        pa.field("quantity", pa.float64(), nullable=False),  # base units
        pa.field("notional_usd", pa.float64(), nullable=False),
    ],
    metadata={"primary_key": "exchange,symbol,timestamp,side,price,quantity"},
)

DEPTH = pa.schema(
    [
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),  # snapshot time, UTC ms
        pa.field("side", pa.string(), nullable=False),  # bid|ask
        pa.field("price", pa.float64(), nullable=False),
        pa.field("size", pa.float64(), nullable=False),  # base units resting at that price
    ],
    metadata={"primary_key": "exchange,symbol,timestamp,side,price"},
)

TIERS = pa.schema(
    [
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("tier", pa.int32(), nullable=False),
        pa.field("notional_floor", pa.float64(), nullable=False),  # quote (linear) or coin (inverse)
        pa.field("notional_cap", pa.float64(), nullable=False),
        pa.field("max_leverage", pa.float64(), nullable=False),
        pa.field("maintenance_margin_rate", pa.float64(), nullable=False),
        pa.field("maintenance_amount", pa.float64(), nullable=False),  # Binance cum / Bybit mmDeduction
        pa.field("valid_from", pa.string()),  # ISO date of the table's snapshot
        pa.field("source", pa.string()),
    ],
    metadata={"primary_key": "exchange,symbol,tier"},
)

LIQUIDATION_TOTALS = pa.schema(
    [
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),  # period start, UTC ms
        pa.field("period_ms", pa.int64(), nullable=False),  # period length (86_400_000: a UTC day)
        pa.field("long_usd", pa.float64(), nullable=False),  # long positions liquidated in the period, USD
        pa.field("short_usd", pa.float64(), nullable=False),  # short positions liquidated, USD
        pa.field("count", pa.int64()),  # liquidations in the period, where the source counts them
    ],
    metadata={"primary_key": "exchange,symbol,timestamp"},
)
"""Realized liquidation amounts per period (a venue's daily totals, not single events). A period absent from
the table is unknown, not zero."""

BAR_FIELDS = (
    "open_interest",
    "open_interest_usd",
    "funding_rate",
    "mark_price",
    "long_short_ratio",
    "taker_buy_volume",
)
"""Bar columns that may arrive as separate series and be attached to stored bars (the last is a flow)."""

SCHEMAS: dict[str, pa.Schema] = {
    "bars": BARS,
    "liquidations": LIQUIDATIONS,
    "depth": DEPTH,
    "tiers": TIERS,
    "liquidation_totals": LIQUIDATION_TOTALS,
}


def primary_key(table: str) -> list[str]:
    """Columns that identify one row of the canonical ``table``."""
    return SCHEMAS[table].metadata[b"primary_key"].decode().split(",")


def table_kind(kind: str) -> TableKind:
    """Parse a table name into a :class:`TableKind`, naming the valid choices on error."""
    try:
        return TableKind(str(kind).strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in TableKind)
        raise DataValidationError(f"unknown table kind {kind!r}: use one of {choices}") from None


def required_columns(kind: str) -> list[str]:
    """Non-nullable columns of ``kind`` (every input must carry them)."""
    return [f.name for f in SCHEMAS[table_kind(kind)] if not f.nullable]
