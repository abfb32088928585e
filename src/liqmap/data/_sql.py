"""SQL text and small helpers behind :class:`liqmap.data.store.Store` (DuckDB dialect)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from liqmap.data.schemas import TableKind, primary_key
from liqmap.tables import TABLES, DType
from liqmap.timeframes import MS_PER_DAY, MS_PER_WEEK

MONDAY_OFFSET_MS = 4 * MS_PER_DAY  # the epoch was a Thursday; weeks start on Monday 1970-01-05
_DUCK_TYPES = {DType.STRING: "VARCHAR", DType.INT64: "BIGINT", DType.INT32: "INTEGER", DType.FLOAT64: "DOUBLE"}
_LAST_VALUE = ("open_interest", "open_interest_usd", "funding_rate", "mark_price", "long_short_ratio")
_SUMMED_NULLABLE = ("quote_volume", "taker_buy_volume")


class Transaction:
    """``with Transaction(con):`` — BEGIN, then COMMIT on success or ROLLBACK on any exception."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __enter__(self) -> Transaction:
        self._con.execute("BEGIN TRANSACTION")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._con.execute("COMMIT" if exc_type is None else "ROLLBACK")


def create_statements() -> list[str]:
    """DDL for every canonical table plus the ``bar_series`` resolution catalogue and the ``bar_provenance``
    notes (which bar columns of a series are a proxy or approximated, as their importer recorded)."""
    out = []
    for kind, table in TABLES.items():
        cols = ", ".join(f"{c.name} {_DUCK_TYPES[c.dtype]}{'' if c.nullable else ' NOT NULL'}" for c in table.columns)
        out.append(f"CREATE TABLE IF NOT EXISTS {kind} ({cols})")
    out.append(
        "CREATE TABLE IF NOT EXISTS bar_series (exchange VARCHAR, symbol VARCHAR, step_ms BIGINT, "
        "phase_ms BIGINT, PRIMARY KEY (exchange, symbol))"
    )
    out.append(
        "CREATE TABLE IF NOT EXISTS bar_provenance (exchange VARCHAR, symbol VARCHAR, field VARCHAR, "
        "provenance VARCHAR NOT NULL, note VARCHAR NOT NULL, PRIMARY KEY (exchange, symbol, field))"
    )
    return out


def upsert_statements(kind: TableKind, presorted: bool) -> list[str]:
    """Delete rows whose key is in ``_incoming``, then insert ``_incoming`` in key order."""
    pk = primary_key(kind)
    match = " AND ".join(f"t.{c} = i.{c}" for c in pk)
    order = "" if presorted else f" ORDER BY {', '.join(pk)}"
    return [
        f"DELETE FROM {kind} AS t USING _incoming AS i WHERE {match}",
        f"INSERT INTO {kind} SELECT * FROM _incoming{order}",
    ]


def where(
    exchanges: list[str] | None, symbol: str | None, start_ms: int | None, end_ms: int | None
) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause (possibly empty) and its parameters."""
    terms: list[str] = []
    params: list[Any] = []
    if symbol is not None:
        terms.append("symbol = ?")
        params.append(symbol)
    if exchanges:
        terms.append(f"exchange IN ({', '.join('?' * len(exchanges))})")
        params.extend(exchanges)
    if start_ms is not None:
        terms.append("timestamp >= ?")
        params.append(int(start_ms))
    if end_ms is not None:
        terms.append("timestamp <= ?")
        params.append(int(end_ms))
    return ("WHERE " + " AND ".join(terms)) if terms else "", params


def resample_query(target_ms: int, inner_where: str, start_ms: int | None, end_ms: int | None) -> str:
    """Bars resampled to ``target_ms`` buckets (OHLC, summed volumes, last non-null state columns).

    ``inner_where`` selects source bars (widen it by one bucket); buckets opening in
    ``[start_ms, end_ms]`` are kept.
    """
    offset = MONDAY_OFFSET_MS if target_ms % MS_PER_WEEK == 0 else 0
    bucket = f"((timestamp - {offset}) // {target_ms}) * {target_ms} + {offset}"
    summed = ", ".join(f"CASE WHEN count({c}) = count(*) THEN sum({c}) END AS {c}" for c in _SUMMED_NULLABLE)
    last = ", ".join(f"arg_max({c}, timestamp) AS {c}" for c in _LAST_VALUE)  # arg_max skips NULL args
    keep = [f"timestamp >= {int(start_ms)}"] if start_ms is not None else []
    keep += [f"timestamp <= {int(end_ms)}"] if end_ms is not None else []
    having = ("WHERE " + " AND ".join(keep)) if keep else ""
    return (
        f"SELECT * FROM (SELECT exchange, symbol, {bucket} AS timestamp, arg_min(open, timestamp) AS open, "
        f"max(high) AS high, min(low) AS low, arg_max(close, timestamp) AS close, sum(volume) AS volume, "
        f"{summed}, {last} FROM bars {inner_where} GROUP BY exchange, symbol, {bucket}) "
        f"{having} ORDER BY exchange, timestamp"
    )


def series_query(kind: TableKind) -> str:
    """One row per stored series of ``kind``: exchange, symbol, first_ms, last_ms, rows, step_ms."""
    if kind is TableKind.TIERS:
        return (
            "SELECT exchange, symbol, NULL::BIGINT AS first_ms, NULL::BIGINT AS last_ms, count(*) AS rows, "
            "NULL::BIGINT AS step_ms FROM tiers GROUP BY ALL ORDER BY ALL"
        )
    step = "any_value(s.step_ms)" if kind is TableKind.BARS else "NULL::BIGINT"
    join = "LEFT JOIN bar_series s USING (exchange, symbol)" if kind is TableKind.BARS else ""
    return (
        f"SELECT exchange, symbol, min(timestamp) AS first_ms, max(timestamp) AS last_ms, count(*) AS rows, "
        f"{step} AS step_ms FROM {kind} {join} GROUP BY exchange, symbol ORDER BY exchange, symbol"
    )


def gaps_query(step_ms: int) -> str:
    """Runs of missing bars of one series (parameters: exchange, symbol)."""
    return (
        f"SELECT prev + {step_ms} AS from_ms, timestamp - {step_ms} AS to_ms, "
        f"(timestamp - prev) // {step_ms} - 1 AS missing_bars FROM ("
        "SELECT timestamp, lag(timestamp) OVER (ORDER BY timestamp) AS prev FROM bars "
        f"WHERE exchange = ? AND symbol = ?) WHERE timestamp - prev > {step_ms} ORDER BY from_ms"
    )


def iso(ms: int | None) -> str:
    """Epoch ms → ``'2026-01-15 08:00'`` (UTC)."""
    return "…" if ms is None or pd.isna(ms) else pd.Timestamp(int(ms), unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M")
