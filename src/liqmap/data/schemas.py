"""Canonical Arrow schemas: the one shape every source is normalised into and every consumer reads.

Built from the table vocabulary in :mod:`liqmap.tables` (columns, types, nullability, units and primary
keys are declared there, once); each schema carries its primary key as ``primary_key`` metadata.
"""

from __future__ import annotations

import pyarrow as pa

from liqmap.data.kinds import TableKind  # defined apart (no pyarrow) for the CLI; importable from here
from liqmap.errors import DataValidationError
from liqmap.tables import TABLES, DType, Table

_ARROW_TYPES = {
    DType.STRING: pa.string(),
    DType.INT32: pa.int32(),
    DType.INT64: pa.int64(),
    DType.FLOAT64: pa.float64(),
}


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of a vocabulary :class:`~liqmap.tables.Table`, its primary key as metadata."""
    fields = [pa.field(c.name, _ARROW_TYPES[c.dtype], nullable=c.nullable) for c in table.columns]
    return pa.schema(fields, metadata={"primary_key": ",".join(table.primary_key)})


SCHEMAS: dict[str, pa.Schema] = {str(kind): arrow_schema(table) for kind, table in TABLES.items()}
BARS = SCHEMAS[TableKind.BARS]
LIQUIDATIONS = SCHEMAS[TableKind.LIQUIDATIONS]
DEPTH = SCHEMAS[TableKind.DEPTH]
TIERS = SCHEMAS[TableKind.TIERS]
LIQUIDATION_TOTALS = SCHEMAS[TableKind.LIQUIDATION_TOTALS]


def primary_key(table: str) -> list[str]:
    """Columns that identify one row of the canonical ``table``."""
    return list(TABLES[table_kind(table)].primary_key)


def table_kind(kind: str) -> TableKind:
    """Parse a table name into a :class:`TableKind`, naming the valid choices on error."""
    try:
        return TableKind(str(kind).strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in TableKind)
        raise DataValidationError(f"unknown table kind {kind!r}: use one of {choices}") from None


def required_columns(kind: str) -> list[str]:
    """Non-nullable columns of ``kind`` (every input must carry them)."""
    return list(TABLES[table_kind(kind)].required)
