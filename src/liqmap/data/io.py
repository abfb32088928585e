"""Read and write canonical tables from files: CSV (also .gz/.zip), Parquet, JSON.

Readers accept the canonical layout and the layouts in :mod:`liqmap.data.layouts` (Binance public-data
klines/metrics, ccxt OHLCV JSON, the ``shared/data`` parquet files) and always return validated canonical
frames. A directory stands for the file ``<kind>.parquet`` inside it (as ``liqmap sim --out DIR`` writes).

>>> from liqmap.data.sample import SAMPLE_DIR
>>> read_bars(SAMPLE_DIR / "bars.parquet")["exchange"].unique().tolist()
['binance', 'bybit', 'okx']
"""

from __future__ import annotations

import gzip
import json
import lzma
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from liqmap.data.layouts import (
    BINANCE_KLINE_COLUMNS,
    Converted,
    Layout,
    bars_from_ccxt_ohlcv,
    detect_layout,
    to_canonical,
)
from liqmap.data.schemas import SCHEMAS, TableKind, table_kind
from liqmap.data.validate import validate, validate_fields
from liqmap.errors import DataValidationError, UnknownSymbolError, first_line
from liqmap.tables import BARS


class FileFormat(StrEnum):
    """File formats the readers and writers understand."""

    CSV = "csv"
    PARQUET = "parquet"
    JSON = "json"


def read_bars(path: Path | str, symbol: str | None = None, exchanges: Sequence[str] | None = None) -> pd.DataFrame:
    """Canonical, validated bars from a file or a directory holding ``bars.parquet``.

    With ``symbol`` (any spelling; and ``exchanges``, canonical lower-case names) the result may be narrowed
    to that series: from a canonical Parquet file only its rows are read and validated, so one map of a
    multi-symbol file does not validate the whole file. Callers still select the rows they need; when the
    series is absent or its rows are invalid, the whole file is read (the error names the file's rows).
    """
    if symbol is not None:
        narrowed = _read_series(Path(path), symbol, exchanges)
        if narrowed is not None:
            return narrowed
    return _read_full(path, TableKind.BARS)


def read_liquidations(path: Path | str) -> pd.DataFrame:
    """Canonical, validated liquidations from a file or a directory holding ``liquidations.parquet``."""
    return _read_full(path, TableKind.LIQUIDATIONS)


def read_depth(path: Path | str) -> pd.DataFrame:
    """Canonical, validated depth snapshots from a file or a directory holding ``depth.parquet``."""
    return _read_full(path, TableKind.DEPTH)


def read_liquidation_totals(path: Path | str) -> pd.DataFrame:
    """Canonical, validated liquidation totals from a file or a directory holding ``liquidation_totals.parquet``."""
    return _read_full(path, TableKind.LIQUIDATION_TOTALS)


def read_table(
    path: Path | str,
    kind: str | None = None,
    fmt: str | None = None,
    exchange: str | None = None,
    symbol: str | None = None,
) -> Converted:
    """Read any supported file into a validated :class:`~liqmap.data.layouts.Converted` table.

    ``kind`` (bars|liquidations|depth|tiers|liquidation_totals) and ``fmt`` (csv|parquet|json) are inferred
    when omitted; ``exchange``/``symbol`` fill or override those columns (needed for files that lack them, such as
    Binance klines or ccxt OHLCV lists). Bar-field layouts (OI, funding, ratios) come back with
    ``fields_only=True``: attach them to stored bars with :meth:`liqmap.data.store.Store.attach`.
    """
    k = table_kind(kind) if kind is not None else None
    p = _resolve(Path(path), k)
    form = _format(p, fmt)
    if form is FileFormat.JSON:
        raw = _read_json(p)
        if isinstance(raw, list) and raw and isinstance(raw[0], list):
            if exchange is None or symbol is None:
                raise DataValidationError(f"{p}: a ccxt OHLCV list carries no exchange/symbol: pass both")
            conv = Converted(TableKind.BARS, bars_from_ccxt_ohlcv(raw, exchange, symbol), Layout.CCXT_OHLCV)
            return replace(conv, frame=validate(conv.kind, conv.frame))
        frame = _json_frame(p, raw)
    elif form is FileFormat.PARQUET:
        frame = _read_parquet(p)
    else:
        frame = _read_csv(p)
    if frame.empty:
        raise DataValidationError(f"{p}: the file holds no rows")
    conv = to_canonical(frame, detect_layout(list(frame.columns), k), k, exchange, symbol)
    if k is not None and conv.kind is not k:
        raise DataValidationError(f"{p}: holds {conv.kind} ({conv.layout} layout), not {k}")
    try:
        checked = validate_fields(conv.frame) if conv.fields_only else validate(conv.kind, conv.frame)
        return replace(conv, frame=checked)
    except DataValidationError as exc:
        raise DataValidationError(f"{p}: {exc}") from None


def write_table(df: pd.DataFrame, path: Path | str, kind: str | None = None) -> Path:
    """Write ``df`` to ``path`` (format from the suffix: .parquet, .csv, .json); returns the path.

    With ``kind`` the frame is validated first and Parquet files carry the exact canonical Arrow schema.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    frame = validate(kind, df) if kind is not None else df
    form = _format(p, None)
    if form is FileFormat.PARQUET:
        schema = SCHEMAS[table_kind(kind)] if kind is not None else None
        pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), p)
    elif form is FileFormat.CSV:
        frame.to_csv(p, index=False)
    else:
        frame.to_json(p, orient="records", indent=None)
    return p


def _read_series(path: Path, symbol: str, exchanges: Sequence[str] | None) -> pd.DataFrame | None:
    """The validated rows of a canonical bars Parquet file whose symbol (and exchange) normalise to
    ``symbol`` (and one of ``exchanges``), read with a row filter; ``None`` if the file is anything else or
    those rows are none or invalid."""
    from liqmap.symbols import normalize_symbol

    try:
        p = _resolve(path, TableKind.BARS)
        if _format(p, None) is not FileFormat.PARQUET:
            return None
        pf = pq.ParquetFile(p)
        if not set(BARS.required) <= set(pf.schema_arrow.names):
            return None
        ids = pf.read(columns=["exchange", "symbol"])
        target = normalize_symbol(symbol)
        symbols = []
        for raw in pc.unique(ids["symbol"]).to_pylist():
            try:
                if isinstance(raw, str) and normalize_symbol(raw) == target:
                    symbols.append(raw)
            except UnknownSymbolError:
                continue  # another series' unreadable symbol is not this map's concern
        keep = pc.field("symbol").isin(symbols)
        if exchanges:
            wanted = set(exchanges)
            venues = [v for v in pc.unique(ids["exchange"]).to_pylist() if str(v).strip().lower() in wanted]
            keep &= pc.field("exchange").isin(venues)
        frame = pq.read_table(p, filters=keep).to_pandas()
        return validate(TableKind.BARS, frame) if not frame.empty else None
    except (DataValidationError, UnknownSymbolError, pa.ArrowException, OSError):
        return None  # the full read reports it


def _read_full(path: Path | str, kind: TableKind) -> pd.DataFrame:
    conv = read_table(path, kind)
    if conv.fields_only:
        raise DataValidationError(
            f"{path}: holds only {', '.join(c for c in conv.frame.columns if c not in BARS.primary_key)} "
            f"({conv.layout} layout), not complete {kind}; import it onto stored bars with `liqmap import`"
        )
    return conv.frame


def _resolve(p: Path, kind: TableKind | None) -> Path:
    if p.is_dir():
        names = [f"{k}.parquet" for k in ([kind] if kind else list(TableKind))]
        for name in names:
            if (p / name).is_file():
                return p / name
        raise DataValidationError(f"{p}: directory holds none of {', '.join(names)}")
    if not p.is_file():
        raise DataValidationError(f"{p}: no such file")
    return p


def _format(p: Path, fmt: str | None) -> FileFormat:
    if fmt is not None:
        try:
            return FileFormat(fmt.lower())
        except ValueError:
            raise DataValidationError(f"unknown format {fmt!r}: use csv, parquet or json") from None
    suffixes = [s.lower() for s in p.suffixes]
    for s in reversed(suffixes):
        if s in (".parquet", ".pq"):
            return FileFormat.PARQUET
        if s in (".csv", ".txt"):
            return FileFormat.CSV
        if s in (".json", ".jsonl"):
            return FileFormat.JSON
    raise DataValidationError(f"{p}: cannot tell the format from the name; pass --format csv|parquet|json")


def _read_csv(p: Path) -> pd.DataFrame:
    frame = _csv(p)
    if _headerless(frame.columns):
        frame = _csv(p, header=None)
        if frame.shape[1] == len(BINANCE_KLINE_COLUMNS):
            frame.columns = list(BINANCE_KLINE_COLUMNS)
        else:
            raise DataValidationError(
                f"{p}: CSV has no header and {frame.shape[1]} columns; only headerless Binance klines "
                f"({len(BINANCE_KLINE_COLUMNS)} columns) are recognised"
            )
    return frame


def _csv(p: Path, header: int | None = 0) -> pd.DataFrame:
    """``pd.read_csv`` (compression from the suffix) with every failure a :class:`DataValidationError`."""
    try:
        return pd.read_csv(p, header=header)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{p}: not a readable CSV ({first_line(exc)})") from None
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, lzma.LZMAError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile) and exc.errno is not None:
            raise DataValidationError(f"{p}: cannot read the file ({exc.strerror})") from None
        raise DataValidationError(
            f"{p}: corrupt or truncated compressed file ({type(exc).__name__}); re-download it or pass the "
            "uncompressed CSV"
        ) from None
    except ValueError as exc:  # e.g. a zip archive holding several files, or none
        raise DataValidationError(f"{p}: not a readable CSV ({first_line(exc)})") from None


def _headerless(columns: pd.Index) -> bool:
    try:
        float(str(columns[0]))
    except ValueError:
        return False
    return True


def _read_parquet(p: Path) -> pd.DataFrame:
    try:
        return pq.read_table(p).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DataValidationError(f"{p}: not a readable Parquet file ({first_line(exc)})") from None


def _read_json(p: Path) -> object:
    try:
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{p}: not valid UTF-8 JSON ({first_line(exc)})") from None
    except RecursionError:
        raise DataValidationError(f"{p}: JSON nested too deeply; give a flat list of records") from None
    except OSError as exc:
        raise DataValidationError(f"{p}: cannot read the file ({exc.strerror})") from None


def _json_frame(p: Path, raw: object) -> pd.DataFrame:
    """A JSON list of records (or of columns) as a frame; anything else is refused."""
    if not isinstance(raw, list | dict) or (isinstance(raw, list) and not all(isinstance(r, dict) for r in raw)):
        raise DataValidationError(
            f"{p}: JSON must be a list of records (objects) or a ccxt OHLCV list of [ts, o, h, l, c, v] rows"
        )
    try:
        return pd.DataFrame(raw)
    except (ValueError, TypeError) as exc:
        raise DataValidationError(f"{p}: JSON records do not form a table ({first_line(exc)})") from None
