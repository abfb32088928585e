"""liqmap.tables: one table vocabulary behind the Arrow schemas, the store's DDL, the engine and validation."""

from __future__ import annotations

import pyarrow as pa
import pytest

from liqmap.analytics import validation
from liqmap.data import _sql, schemas
from liqmap.data import validate as data_validate
from liqmap.data.kinds import TableKind
from liqmap.engine import _prep
from liqmap.tables import BAR_FIELDS, BARS, LIQUIDATIONS, TABLES, TRADES, RowPolicy

S, I32, I64, F = pa.string(), pa.int32(), pa.int64(), pa.float64()

# The schemas as they were written out by hand before the vocabulary: (name, type, nullable), primary key.
EXPECTED = {
    "bars": (
        [
            ("exchange", S, False),
            ("symbol", S, False),
            ("timestamp", I64, False),
            ("open", F, False),
            ("high", F, False),
            ("low", F, False),
            ("close", F, False),
            ("volume", F, False),
            ("quote_volume", F, True),
            ("taker_buy_volume", F, True),
            ("open_interest", F, True),
            ("open_interest_usd", F, True),
            ("funding_rate", F, True),
            ("mark_price", F, True),
            ("long_short_ratio", F, True),
        ],
        "exchange,symbol,timestamp",
    ),
    "liquidations": (
        [
            ("exchange", S, False),
            ("symbol", S, False),
            ("timestamp", I64, False),
            ("side", S, False),
            ("price", F, False),
            ("quantity", F, False),
            ("notional_usd", F, False),
        ],
        "exchange,symbol,timestamp,side,price,quantity",
    ),
    "depth": (
        [
            ("exchange", S, False),
            ("symbol", S, False),
            ("timestamp", I64, False),
            ("side", S, False),
            ("price", F, False),
            ("size", F, False),
        ],
        "exchange,symbol,timestamp,side,price",
    ),
    "tiers": (
        [
            ("exchange", S, False),
            ("symbol", S, False),
            ("tier", I32, False),
            ("notional_floor", F, False),
            ("notional_cap", F, False),
            ("max_leverage", F, False),
            ("maintenance_margin_rate", F, False),
            ("maintenance_amount", F, False),
            ("valid_from", S, True),
            ("source", S, True),
        ],
        "exchange,symbol,tier",
    ),
    "liquidation_totals": (
        [
            ("exchange", S, False),
            ("symbol", S, False),
            ("timestamp", I64, False),
            ("period_ms", I64, False),
            ("long_usd", F, False),
            ("short_usd", F, False),
            ("count", I64, True),
        ],
        "exchange,symbol,timestamp",
    ),
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_arrow_schemas_equal_the_hand_written_ones_field_for_field(kind):
    fields, key = EXPECTED[kind]
    schema = schemas.SCHEMAS[kind]
    assert [(f.name, f.type, f.nullable) for f in schema] == fields
    assert schema.metadata == {b"primary_key": key.encode()}
    assert schema.equals(pa.schema([pa.field(*f) for f in fields], metadata={"primary_key": key}), check_metadata=True)
    assert schemas.primary_key(kind) == key.split(",")
    assert schemas.required_columns(kind) == [name for name, _, nullable in fields if not nullable]


def test_named_schemas_and_every_kind_covered():
    assert set(schemas.SCHEMAS) == set(EXPECTED) == {k.value for k in TableKind} == set(TABLES)
    assert schemas.BARS is schemas.SCHEMAS["bars"] and schemas.LIQUIDATIONS is schemas.SCHEMAS["liquidations"]
    assert schemas.DEPTH is schemas.SCHEMAS["depth"] and schemas.TIERS is schemas.SCHEMAS["tiers"]
    assert schemas.LIQUIDATION_TOTALS is schemas.SCHEMAS["liquidation_totals"]


def test_store_ddl_comes_from_the_vocabulary():
    bars, *_, series, provenance = _sql.create_statements()
    assert bars == (
        "CREATE TABLE IF NOT EXISTS bars (exchange VARCHAR NOT NULL, symbol VARCHAR NOT NULL, timestamp BIGINT "
        "NOT NULL, open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, "
        "volume DOUBLE NOT NULL, quote_volume DOUBLE, taker_buy_volume DOUBLE, open_interest DOUBLE, "
        "open_interest_usd DOUBLE, funding_rate DOUBLE, mark_price DOUBLE, long_short_ratio DOUBLE)"
    )
    assert series.startswith("CREATE TABLE IF NOT EXISTS bar_series")
    assert provenance.startswith("CREATE TABLE IF NOT EXISTS bar_provenance")  # catalogues, not canonical tables


def test_engine_columns_are_the_bars_vocabulary():
    required = [name for name, _, nullable in EXPECTED["bars"][0] if not nullable]
    optional = [name for name, _, nullable in EXPECTED["bars"][0] if nullable]
    assert list(_prep.REQUIRED) == required == list(BARS.required)
    assert list(_prep.OPTIONAL) == optional == list(BARS.optional)
    assert _prep.TRADE_COLUMNS == TRADES.required == ("timestamp", "price", "amount")
    assert TRADES.optional == ("exchange", "symbol")
    assert set(BAR_FIELDS) <= set(BARS.optional)


def test_row_policies_are_named_where_applied():
    assert data_validate.ROW_POLICY is RowPolicy.REJECT
    assert _prep.ROW_POLICY is RowPolicy.REPAIR
    assert {p.value for p in RowPolicy} == {"reject", "repair"}


def test_liquidation_vocabulary_used_by_validation():
    assert LIQUIDATIONS.column("side").values == ("long", "short")
    assert set(validation._LIQ_COLUMNS) <= set(LIQUIDATIONS.required)
    assert LIQUIDATIONS.missing(["timestamp", "side"], validation._LIQ_COLUMNS) == ["price", "notional_usd"]
    assert LIQUIDATIONS.missing(LIQUIDATIONS.names) == []
    with pytest.raises(KeyError, match="liquidations has no column 'size'"):
        LIQUIDATIONS.column("size")


def test_side_spellings_normalise_to_the_vocabulary():
    depth_sides = TABLES[TableKind.DEPTH].column("side").values
    assert set(data_validate._LIQ_SIDES.values()) == set(LIQUIDATIONS.column("side").values)
    assert set(data_validate._DEPTH_SIDES.values()) == set(depth_sides) == {"bid", "ask"}


def test_every_column_has_a_unit_or_meaning():
    for table in (*TABLES.values(), TRADES):
        assert all(c.meaning for c in table.columns), table.name
        assert set(table.primary_key) <= set(table.required), table.name
