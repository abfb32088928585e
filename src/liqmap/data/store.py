"""The embedded store: one DuckDB file holding the canonical tables.

Writes are idempotent upserts inside one transaction (delete the incoming keys, insert the rows sorted by
key), so re-importing the same data changes nothing and a crash or kill mid-import leaves the store as it
was before that import. Reads return canonical pandas frames; bars can be resampled on the fly.

>>> import tempfile, pathlib
>>> from liqmap.data.sample import load_sample_into
>>> with Store(pathlib.Path(tempfile.mkdtemp()) / "s.duckdb") as store:
...     _ = load_sample_into(store)
...     store.query_bars("okx", "BTCUSDT", timeframe="1d")["close"].size
91
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, cast, overload

import duckdb
import pandas as pd
import platformdirs
import pyarrow as pa
import pyarrow.parquet as pq

from liqmap.data import _sql
from liqmap.data.io import read_table
from liqmap.data.layouts import Converted
from liqmap.data.schemas import SCHEMAS, TableKind, primary_key, table_kind
from liqmap.data.transform import attach_fields
from liqmap.data.validate import validate, validate_fields
from liqmap.enums import Exchange, Provenance
from liqmap.errors import StoreError, first_line
from liqmap.symbols import normalize_symbol
from liqmap.tables import BARS
from liqmap.timeframes import MS_PER_DAY, bar_step_ms, format_ms, parse_duration_ms

if TYPE_CHECKING:
    from liqmap.margin.tiers import TierTable

ENV_DB = "LIQMAP_DB"


def default_db_path() -> Path:
    """``$LIQMAP_DB`` if set, else ``<user data dir>/liqmap/liqmap.duckdb``."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("liqmap")) / "liqmap.duckdb"


class StoreReader(Protocol):
    """The read-only part of :class:`Store` the server and the scan use; queries raise
    :class:`liqmap.errors.StoreError` when nothing matches."""

    def query_bars(
        self, exchanges: str | Sequence[str] | None, symbol: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> pd.DataFrame: ...

    def query_liquidations(
        self, exchanges: str | Sequence[str] | None, symbol: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> pd.DataFrame: ...

    def symbols(self) -> pd.DataFrame: ...

    def last_timestamp(self, kind: str, exchange: str, symbol: str) -> int | None: ...

    def tier_tables(self, exchanges: Sequence[str] | None, symbol: str) -> tuple[TierTable, ...]: ...

    def count(
        self, kind: str, exchanges: Sequence[str], symbol: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> int: ...

    def provenance(self, exchanges: Sequence[str], symbol: str) -> pd.DataFrame: ...


class Store:
    """An embedded DuckDB store of canonical tables; use as a context manager.

    ``read_only`` opens an existing file without taking the write lock, so any number of readers (e.g.
    one per web request) may share it while no writer is open.
    """

    def __init__(self, path: str | Path | None = None, read_only: bool = False) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.read_only = read_only
        if read_only and not self.path.is_file():
            raise StoreError(
                f"no liqmap store at {self.path}: run `liqmap import KIND FILE` or `liqmap demo` first "
                f"(or point --db / ${ENV_DB} at an existing store)"
            )
        self._created = not read_only and not self.path.exists()
        self._wrote = False
        if self.path.is_file() and self.path.stat().st_size and not _is_duckdb_file(self.path):
            raise StoreError(f"{self.path} is not a liqmap store (not a DuckDB file); point --db at a .duckdb file")
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except OSError as exc:
            raise StoreError(f"cannot create store {self.path}: {exc.strerror}; choose a writable --db") from None
        except duckdb.Error as exc:  # locked by a writer, not a DuckDB file, a directory, ...
            raise StoreError(f"cannot open store {self.path}: {first_line(exc)}") from None
        if not read_only:
            for statement in _sql.create_statements():
                self._con.execute(statement)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close; a store file this open created is removed again if the block failed before any write."""
        self.close()
        if exc_type is not None and self._created and not self._wrote:
            for leftover in (self.path, self.path.with_name(self.path.name + ".wal")):
                leftover.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._con.close()

    def reader(self) -> Store:
        """A read-only handle on this open store for another thread of the same process (DuckDB refuses a
        second, read-only open of a file this process holds for writing): its own connection to the same
        database, seeing every committed write; closing it leaves this store open. Not thread-safe itself:
        call it from one thread at a time."""
        handle = object.__new__(Store)
        handle.path, handle.read_only, handle._created, handle._wrote = self.path, True, False, False
        handle._con = self._con.cursor()
        return handle

    # ------------------------------------------------------------------ writes
    def upsert(self, kind: str, df: pd.DataFrame) -> int:
        """Validate ``df`` and write it, replacing rows with the same primary key; returns rows written.

        One transaction: either every row lands or none does. Bars must keep each series' resolution.
        """
        k = table_kind(kind)
        self._writable()
        table = validate(k, df)
        with self._transaction():
            if k is TableKind.BARS:
                self._check_resolution(table)
            self._write(k, table)
            if k is TableKind.BARS:
                self._refresh_series(table)
        self._wrote = True
        return len(table)

    def attach(self, fields: pd.DataFrame) -> int:
        """Join bar fields (OI, funding, long/short ratio, mark, taker-buy volume) onto stored bars.

        Returns the number of bars whose values changed.

        See :func:`liqmap.data.transform.attach_fields` for the as-of rules. Raises if no stored bars
        overlap the fields (import the bars first).
        """
        self._writable()
        checked = validate_fields(fields)
        updated = 0
        with self._transaction():
            for key, part in checked.groupby(["exchange", "symbol"], sort=True):
                exchange, symbol = cast(tuple[str, str], key)
                lo, hi = int(part["timestamp"].min()), int(part["timestamp"].max())
                bars = self._select(TableKind.BARS, [exchange], symbol, lo - 2 * MS_PER_DAY, hi + 2 * MS_PER_DAY)
                if bars.empty:
                    raise StoreError(
                        f"no stored bars for {exchange} {symbol} near {_sql.iso(lo)} … {_sql.iso(hi)}: "
                        "import the bars first, then their OI/funding"
                    )
                merged = attach_fields(bars, part)
                changed = ~(merged.fillna(-1.0e300).eq(bars.fillna(-1.0e300)).all(axis=1))
                if changed.any():
                    self._write(TableKind.BARS, validate(TableKind.BARS, merged[changed]))
                    updated += int(changed.sum())
        self._wrote = True
        return updated

    def record_provenance(self, exchange: str, symbol: str, field: str, provenance: Provenance, note: str) -> None:
        """Record that bar column ``field`` of one stored series is not the venue's own series but a
        ``provenance`` (e.g. the bundled sample's open interest: a proxy), ``note`` saying how it was made.
        Only an importer knows this; the store keeps it until the same record is written again (a later
        import of that column over the series does not clear it: re-create the store to drop it)."""
        self._writable()
        if field not in BARS.names:
            raise StoreError(f"bars have no column {field!r}; record the provenance of one of {', '.join(BARS.names)}")
        row = [_exchanges(exchange)[0], normalize_symbol(symbol), field, Provenance(provenance).value, note]
        self._con.execute("INSERT OR REPLACE INTO bar_provenance VALUES (?, ?, ?, ?, ?)", row)
        self._wrote = True

    def import_file(
        self,
        path: str | Path,
        kind: str | None = None,
        fmt: str | None = None,
        exchange: str | None = None,
        symbol: str | None = None,
    ) -> tuple[Converted, int]:
        """Read any supported file (see :func:`liqmap.data.io.read_table`) and upsert or attach it."""
        conv = read_table(path, kind, fmt, exchange, symbol)
        return conv, self.write_converted(conv)

    def write_converted(self, conv: Converted) -> int:
        """Upsert a converted table, or attach it to stored bars when it holds only bar fields; returns rows."""
        return self.attach(conv.frame) if conv.fields_only else self.upsert(conv.kind, conv.frame)

    def export(self, kind: str, path: str | Path, exchange: str | None = None, symbol: str | None = None) -> int:
        """Write a stored table (optionally one exchange/symbol) to Parquet/CSV/JSON; returns rows."""
        k = table_kind(kind)
        names = _exchanges(exchange) if exchange else None
        where, params = _sql.where(names, normalize_symbol(symbol) if symbol else None, None, None)
        order = ", ".join(primary_key(k))
        arrow = self._con.sql(f"SELECT * FROM {k} {where} ORDER BY {order}", params=params).to_arrow_table()
        table = arrow.cast(SCHEMAS[k])
        p = Path(path)
        try:
            if p.suffix.lower() in (".parquet", ".pq"):
                p.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, p)
            else:
                from liqmap.data.io import write_table

                write_table(table.to_pandas(), p)
        except (OSError, pa.ArrowException) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else first_line(exc)
            raise StoreError(f"cannot write {p}: {reason}; choose a writable output path") from None
        return table.num_rows

    # ------------------------------------------------------------------ reads
    def query_bars(
        self,
        exchanges: str | Sequence[str] | None,
        symbol: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
        timeframe: str | None = None,
    ) -> pd.DataFrame:
        """Bars of ``symbol`` on ``exchanges`` (None = all) with ``start_ms <= timestamp <= end_ms``.

        ``timeframe`` ('5m', '15m', '1h', '4h', '1d', '1w', ...) resamples: first open, max high, min low,
        last close, summed volumes (null if any input bar lacks the column), last non-null OI, mark,
        funding and long/short ratio. Buckets align to UTC epoch multiples (weeks start on Monday); the
        last bucket may be partial. Sorted by exchange, then timestamp.
        """
        sym, names = normalize_symbol(symbol), _exchanges(exchanges)
        if timeframe is None:
            out = self._select(TableKind.BARS, names, sym, start_ms, end_ms)
        else:
            target = parse_duration_ms(timeframe, noun="timeframe", error=StoreError)
            self._check_resample(names, sym, target)
            lo = None if start_ms is None else start_ms - target
            hi = None if end_ms is None else end_ms + target
            where, params = _sql.where(names, sym, lo, hi)
            out = self._frame(_sql.resample_query(target, where, start_ms, end_ms), params)
        if out.empty:
            raise self._empty(TableKind.BARS, names, sym, start_ms, end_ms)
        return out

    def query_liquidations(
        self,
        exchanges: str | Sequence[str] | None,
        symbol: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> pd.DataFrame:
        """Realized liquidation events, sorted by exchange then timestamp."""
        return self._query_events(TableKind.LIQUIDATIONS, exchanges, symbol, start_ms, end_ms)

    def query_depth(
        self,
        exchanges: str | Sequence[str] | None,
        symbol: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> pd.DataFrame:
        """Order-book snapshot levels, sorted by exchange then timestamp."""
        return self._query_events(TableKind.DEPTH, exchanges, symbol, start_ms, end_ms)

    def query_tiers(self, exchange: str, symbol: str) -> pd.DataFrame:
        """Stored margin tiers of one exchange/symbol, ascending by tier."""
        sym, names = normalize_symbol(symbol), _exchanges(exchange)
        where, params = _sql.where(names, sym, None, None)
        out = self._frame(f"SELECT * FROM tiers {where} ORDER BY tier", params)
        if out.empty:
            raise self._empty(TableKind.TIERS, names, sym, None, None)
        return out

    def tier_table(self, exchange: str, symbol: str) -> TierTable | None:
        """The stored tier table of one exchange/symbol as a :class:`~liqmap.margin.TierTable` (what the
        engine takes in ``EngineConfig.tier_tables``, ahead of the bundled tables), or ``None`` when the store
        holds none (e.g. ``liqmap fetch --what tiers`` has not been run for it)."""
        from liqmap.margin.tiers import tiers_from_records  # the margin package loads numba: only when asked

        sym, names = normalize_symbol(symbol), _exchanges(exchange)
        where, params = _sql.where(names, sym, None, None)
        rows = self._frame(f"SELECT * FROM tiers {where} ORDER BY tier", params)
        return tiers_from_records(_records(rows)) if not rows.empty else None

    def tier_tables(self, exchanges: Sequence[str] | None, symbol: str) -> tuple[TierTable, ...]:
        """Every stored tier table of ``symbol`` on ``exchanges`` (default: every exchange that has one)."""
        sym = normalize_symbol(symbol)
        if exchanges is None:
            frame = self._frame("SELECT DISTINCT exchange FROM tiers WHERE symbol = ? ORDER BY exchange", [sym])
            exchanges = frame["exchange"].tolist()
        tables = (self.tier_table(ex, sym) for ex in dict.fromkeys(str(e).lower() for e in exchanges))
        return tuple(t for t in tables if t is not None)

    def count(
        self, kind: str, exchanges: Sequence[str], symbol: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> int:
        """Rows of ``kind`` stored for ``symbol`` on ``exchanges`` with a timestamp in ``[start_ms, end_ms]``."""
        k = table_kind(kind)
        where, params = _sql.where(_exchanges(exchanges), normalize_symbol(symbol), start_ms, end_ms)
        return int(self._rows(f"SELECT count(*) FROM {k} {where}", params)[0][0])

    def provenance(self, exchanges: Sequence[str], symbol: str) -> pd.DataFrame:
        """The recorded provenance (:meth:`record_provenance`) of the bar columns of ``symbol`` on ``exchanges``:
        ``exchange, field, provenance, note`` (no row: nothing recorded; a store made before liqmap recorded
        provenance has none)."""
        if not self._rows("SELECT 1 FROM information_schema.tables WHERE table_name = 'bar_provenance'", []):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ("exchange", "field", "provenance", "note")})
        where, params = _sql.where(_exchanges(exchanges), normalize_symbol(symbol), None, None)
        query = f"SELECT exchange, field, provenance, note FROM bar_provenance {where} ORDER BY exchange, field"
        return self._frame(query, params)

    def symbols(self, kind: str = "bars") -> pd.DataFrame:
        """One row per stored series: exchange, symbol, first_ms, last_ms, rows, timeframe."""
        k = table_kind(kind)
        out = self._frame(_sql.series_query(k), [])
        steps = out.pop("step_ms")
        # object dtype keeps None: pandas 3 infers a str column from a list and turns None into NaN
        out["timeframe"] = pd.Series([None if pd.isna(s) else format_ms(int(s)) for s in steps], dtype=object)
        return out

    def gaps(self, exchange: str, symbol: str) -> pd.DataFrame:
        """Missing bars of one series: ``from_ms``/``to_ms`` (first/last missing bar) and ``missing_bars``.

        Gaps are reported, never filled.
        """
        sym, names = normalize_symbol(symbol), _exchanges(exchange)
        step = self._series_step(names[0], sym)
        if step is None:
            return pd.DataFrame({"from_ms": [], "to_ms": [], "missing_bars": []}, dtype="int64")
        return self._frame(_sql.gaps_query(step), [names[0], sym])

    def last_timestamp(self, kind: str, exchange: str, symbol: str, column: str | None = None) -> int | None:
        """Latest stored timestamp of one series (``None`` when nothing is stored).

        With ``column`` (bars only), the latest bar where that column is not null — where a resumed
        download of OI, funding or ratios should restart.
        """
        k = table_kind(kind)
        if column is not None and column not in SCHEMAS[k].names:
            raise StoreError(f"{k} has no column {column!r}")
        target = "timestamp" if k is not TableKind.TIERS else "tier"
        extra = f" AND {column} IS NOT NULL" if column else ""
        row = self._rows(
            f"SELECT max({target}) FROM {k} WHERE exchange = ? AND symbol = ?{extra}",
            [_exchanges(exchange)[0], normalize_symbol(symbol)],
        )
        return None if row[0][0] is None else int(row[0][0])

    def info(self) -> dict[str, Any]:
        """Path, file size, row counts per table, and every series with its range and gap count.

        Tables a store opened read-only predates (created by a newer liqmap) are left out.
        """
        present = {row[0] for row in self._con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        kinds = [k for k in TableKind if k.value in present]
        tables = {k.value: int(self._con.execute(f"SELECT count(*) FROM {k}").fetchall()[0][0]) for k in kinds}
        series: list[dict[str, Any]] = []
        for k in kinds:
            frame = self.symbols(k)
            for row in _records(frame):
                row["kind"] = k.value
                if k is TableKind.BARS:
                    row["gaps"] = len(self.gaps(row["exchange"], row["symbol"]))
                series.append(row)
        return {
            "path": str(self.path),
            "size_bytes": self.path.stat().st_size if self.path.exists() else 0,
            "rows": tables,
            "series": series,
        }

    # ------------------------------------------------------------------ internals
    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"store {self.path} is open read-only; open it without read_only to write")

    def _transaction(self) -> _sql.Transaction:
        return _sql.Transaction(self._con)

    def _write(self, k: TableKind, table: pd.DataFrame) -> None:
        arrow = pa.Table.from_pandas(table, schema=SCHEMAS[k], preserve_index=False)
        # one validated bar series is already in key order: skip the sort
        presorted = k is TableKind.BARS and len(_series_parts(table)) == 1
        self._con.register("_incoming", arrow)
        try:
            for statement in _sql.upsert_statements(k, presorted):
                self._con.execute(statement)
        finally:
            self._con.unregister("_incoming")

    def _check_resolution(self, table: pd.DataFrame) -> None:
        for (exchange, symbol), part in _series_parts(table):
            new = bar_step_ms(part["timestamp"])
            old, phase = self._series_step(exchange, symbol), self._series_phase(exchange, symbol)
            if new is not None and old is not None and new != old:
                raise StoreError(
                    f"mixed resolutions: the store holds {format_ms(old)} bars for {exchange} {symbol}, "
                    f"the input has {format_ms(new)} bars; use another --db or resample the input"
                )
            step = old or new
            if step is not None and phase is not None and int(part["timestamp"].iloc[0]) % step != phase:
                raise StoreError(
                    f"mixed resolutions: input {exchange} {symbol} bars are offset from the stored "
                    f"{format_ms(step)} grid (stored bars open at multiples of {format_ms(step)}"
                    f"{' + ' + format_ms(phase) if phase else ''})"
                )

    def _refresh_series(self, table: pd.DataFrame) -> None:
        """Record each series' bar step and grid phase (from the input when the store had none)."""
        for (exchange, symbol), part in _series_parts(table):
            if self._series_step(exchange, symbol) is not None:
                continue  # unchanged: _check_resolution enforced the stored step and phase
            ts = part["timestamp"]
            step = bar_step_ms(ts)
            if step is None:  # one new bar: derive from everything stored
                stored = "SELECT timestamp FROM bars WHERE exchange = ? AND symbol = ? ORDER BY timestamp"
                ts = self._frame(stored, [exchange, symbol])["timestamp"]
                step = bar_step_ms(ts)
            phase = None if step is None else int(ts.iloc[0]) % step
            self._con.execute("INSERT OR REPLACE INTO bar_series VALUES (?, ?, ?, ?)", [exchange, symbol, step, phase])

    def _series_step(self, exchange: str, symbol: str) -> int | None:
        return self._series_value("step_ms", exchange, symbol)

    def _series_phase(self, exchange: str, symbol: str) -> int | None:
        return self._series_value("phase_ms", exchange, symbol)

    def _series_value(self, column: str, exchange: str, symbol: str) -> int | None:
        row = self._rows(f"SELECT {column} FROM bar_series WHERE exchange = ? AND symbol = ?", [exchange, symbol])
        return None if not row or row[0][0] is None else int(row[0][0])

    def _check_resample(self, names: list[str] | None, symbol: str, target: int) -> None:
        steps = self._frame("SELECT exchange, step_ms FROM bar_series WHERE symbol = ?", [symbol])
        if names is not None:
            steps = steps[steps["exchange"].isin(names)]
        for exchange, step in steps.dropna().itertuples(index=False):
            if target < step or target % step:
                raise StoreError(
                    f"cannot resample {exchange} {symbol} {format_ms(int(step))} bars to {format_ms(target)}: "
                    f"the timeframe must be a multiple of {format_ms(int(step))}"
                )

    def _select(
        self, k: TableKind, names: list[str] | None, symbol: str, start_ms: int | None, end_ms: int | None
    ) -> pd.DataFrame:
        where, params = _sql.where(names, symbol, start_ms, end_ms)
        return _ordered(self._frame(f"SELECT * FROM {k} {where}", params), k)

    def _query_events(
        self,
        k: TableKind,
        exchanges: str | Sequence[str] | None,
        symbol: str,
        start_ms: int | None,
        end_ms: int | None,
    ) -> pd.DataFrame:
        sym, names = normalize_symbol(symbol), _exchanges(exchanges)
        out = self._select(k, names, sym, start_ms, end_ms)
        if out.empty:
            raise self._empty(k, names, sym, start_ms, end_ms)
        return out

    def _frame(self, query: str, params: list[Any]) -> pd.DataFrame:
        try:
            return self._con.sql(query, params=params).to_arrow_table().to_pandas()
        except duckdb.Error as exc:
            raise self._unreadable(exc) from None

    def _rows(self, query: str, params: list[Any]) -> list[Any]:
        try:
            return self._con.execute(query, params).fetchall()
        except duckdb.Error as exc:
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: duckdb.Error) -> StoreError:
        """A DuckDB failure of a read, as the project's :class:`StoreError` (callers never see ``duckdb``)."""
        return StoreError(
            f"cannot read store {self.path}: {first_line(exc)}; "
            "re-create it with `liqmap import` or point --db at another store"
        )

    def _empty(
        self, k: TableKind, names: list[str] | None, symbol: str, start_ms: int | None, end_ms: int | None
    ) -> StoreError:
        stored = self.symbols(k)
        held = (
            "; ".join(
                f"{r['exchange']} {r['symbol']} {_sql.iso(r['first_ms'])} … {_sql.iso(r['last_ms'])}"
                for r in _records(stored)
            )
            or "nothing"
        )
        span = f" in {_sql.iso(start_ms) if start_ms else '…'} … {_sql.iso(end_ms) if end_ms else '…'}"
        return StoreError(
            f"no {k} for {', '.join(names) if names else 'any exchange'} {symbol}"
            f"{span if start_ms or end_ms else ''} in {self.path}; stored {k}: {held}"
        )


def _is_duckdb_file(path: Path) -> bool:
    """DuckDB's header: the magic ``DUCK`` at byte 8 (DuckDB would open another file, e.g. a CSV, differently)."""
    with path.open("rb") as f:
        return f.read(12)[8:12] == b"DUCK"


def _series_parts(table: pd.DataFrame) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    """``((exchange, symbol), rows)`` per series; one cheap pass when the table holds a single series."""
    ex, sym = table["exchange"], table["symbol"]
    if (ex == ex.iloc[0]).all() and (sym == sym.iloc[0]).all():
        return [((str(ex.iloc[0]), str(sym.iloc[0])), table)]
    return [((str(e), str(s)), part) for (e, s), part in table.groupby(["exchange", "symbol"], sort=False)]


def _ordered(df: pd.DataFrame, k: TableKind) -> pd.DataFrame:
    """Sort by exchange, timestamp (then the rest of the key) unless the scan already returned that order.

    Scans keep insertion order and upserts insert in key order, so the common case costs one pass.
    """
    ts = df["timestamp"].to_numpy()
    exchange = df["exchange"]
    if len(df) < 2 or (k is TableKind.BARS and (exchange == exchange.iloc[0]).all() and (ts[1:] > ts[:-1]).all()):
        return df
    keys = ["exchange", "timestamp", *(c for c in primary_key(k) if c not in BARS.primary_key)]
    return df.sort_values(keys, kind="stable", ignore_index=True)


@overload
def _exchanges(exchanges: str | Sequence[str]) -> list[str]: ...
@overload
def _exchanges(exchanges: None) -> None: ...
def _exchanges(exchanges: str | Sequence[str] | None) -> list[str] | None:
    """Known exchange names, lower-cased (``None``: every exchange)."""
    if exchanges is None:
        return None
    items = [exchanges] if isinstance(exchanges, str) else list(exchanges)
    known = {e.value for e in Exchange}
    out = [str(e).strip().lower() for e in items]
    bad = [e for e in out if e not in known]
    if bad or not out:
        raise StoreError(f"unknown exchange {', '.join(bad) or '(none)'}: use one of {', '.join(sorted(known))}")
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts keyed by column name (the store's frames have string columns)."""
    return cast("list[dict[str, Any]]", frame.to_dict("records"))
