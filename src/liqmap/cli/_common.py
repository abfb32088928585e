"""Options and loaders shared by the commands that read bars (`heatmap`, `map`, `levels`, `cascade`, ...).

Every such command takes its bars either from files (``--input``: a canonical bars CSV/Parquet file, or a
directory holding ``bars.parquet`` as ``liqmap sim`` writes it) or from the embedded store (``--db``).

Module scope imports only typer and light liqmap modules (enums, settings): ``import liqmap.cli`` must not
load pandas, NumPy, numba or DuckDB (tests/cli/test_cli_imports.py); the loaders import them when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqmap.analytics.enums import ImpactKind
from liqmap.analytics.settings import ReportSettings
from liqmap.engine.enums import Model
from liqmap.errors import LiqmapError, first_line

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from liqmap.analytics.report import MapReport
    from liqmap.engine import EngineResult, LiqMap

REPORT = ReportSettings()  # the shared analysis defaults, shown in --help

InputOpt = Annotated[
    Path | None,
    typer.Option("--input", help="Canonical bars file (CSV/Parquet) or a directory with bars.parquet."),
]
DbOpt = Annotated[
    Path | None, typer.Option("--db", help="DuckDB store path (default: $LIQMAP_DB or the user data dir).")
]
ExchangeOpt = Annotated[
    list[str] | None, typer.Option("--exchange", help="Exchange(s) to include; repeat to aggregate.")
]
SymbolOpt = Annotated[str, typer.Option("--symbol", help="Symbol, e.g. BTCUSDT or BTC/USDT:USDT.")]
StartOpt = Annotated[str | None, typer.Option("--start", help="First bar (ISO date/time, UTC).")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last bar (ISO date/time, UTC).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
ModelOpt = Annotated[Model, typer.Option("--model", help="Engine model: oi-delta (needs OI) | volume | uniform.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="Map time (ISO UTC or epoch ms); default: the last bar.")]
BinsOpt = Annotated[int | None, typer.Option("--bins", help="Number of price bins (engine default 1,000).")]
BinUsdOpt = Annotated[float | None, typer.Option("--bin-usd", help="Price bin width in USD.")]
TradesOpt = Annotated[
    Path | None,
    typer.Option(
        "--trades",
        help="Trades file (Parquet/CSV: timestamp ms, price, amount[, exchange, symbol]): new positions enter at "
        "each bar's traded prices.",
    ),
]
WindowOpt = Annotated[float, typer.Option("--window-pct", help="Imbalance window, ± % of price.")]
TopOpt = Annotated[int, typer.Option("--top", help="Number of key levels (clusters) to report.")]
ProfileOpt = Annotated[
    str,
    typer.Option("--profile", help="Calibration profile: default (fitted to realized amounts) | prior | PATH.json."),
]
TiersFromOpt = Annotated[
    str | None,
    typer.Option("--tiers-from", help="Exchange whose tier table to use for venues without one (e.g. binance)."),
]


def parse_time_ms(value: str | None, name: str) -> int | None:
    """ISO date/time (UTC if no zone) or epoch milliseconds → epoch ms; ``None`` passes through."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except ValueError:
        raise LiqmapError(f"{name}: cannot read time {value!r}; use e.g. 2026-01-15 or 2026-01-15T08:00") from None
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value // 1_000_000)


def load_bars(
    input_path: Path | None,
    db: Path | None,
    exchanges: list[str] | None,
    symbol: str,
    start: str | None,
    end: str | None,
) -> pd.DataFrame:
    """Canonical bars for ``symbol`` (and ``exchanges``) from ``--input`` files or the ``--db`` store."""
    from liqmap.data.io import read_bars
    from liqmap.symbols import normalize_symbol

    start_ms, end_ms = parse_time_ms(start, "--start"), parse_time_ms(end, "--end")
    if input_path is not None:
        out = filter_rows(read_bars(input_path, symbol, exchanges), exchanges, symbol, start_ms, end_ms)
        if out.empty:
            bars = read_bars(input_path)
            found = sorted(set(zip(bars["exchange"], bars["symbol"], strict=True)))
            raise LiqmapError(
                f"{input_path}: no bars for {normalize_symbol(symbol)} {exchanges or ''} in range; file holds {found}"
            )
        return out
    from liqmap.data.store import Store

    with Store(db, read_only=True) as store:
        return store.query_bars(exchanges or None, symbol, start_ms, end_ms)


def stored_tiers(input_path: Path | None, db: Path | None, bars: pd.DataFrame) -> tuple[Any, ...]:
    """The store's tier tables for the venues in ``bars`` when the bars came from the store (no ``--input``):
    the engine uses them before the bundled tables (``liqmap fetch --what tiers`` fills them)."""
    if input_path is not None or bars.empty:
        return ()
    from liqmap.data.store import Store

    with Store(db, read_only=True) as store:
        return store.tier_tables(sorted(bars["exchange"].unique()), str(bars["symbol"].iloc[0]))


def load_trades(path: Path | None, exchanges: list[str] | None, symbol: str) -> pd.DataFrame | None:
    """Trades from a Parquet or CSV file, narrowed to ``symbol`` and ``exchanges`` when the file has those
    columns (the engine validates the rest); ``None`` passes through."""
    if path is None:
        return None
    import pandas as pd

    from liqmap.symbols import normalize_symbol

    readers: dict[str, Callable[[Path], pd.DataFrame]] = {".parquet": pd.read_parquet, ".csv": pd.read_csv}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise LiqmapError(f"--trades: {path} is neither .parquet nor .csv")
    if not path.is_file():
        raise LiqmapError(f"--trades: {path}: no such file")
    try:
        trades = reader(path)
    except (OSError, ValueError) as exc:
        raise LiqmapError(f"--trades: {path} is not readable ({first_line(exc)})") from None
    if "symbol" in trades.columns:
        names = trades["symbol"].astype(str)
        target = normalize_symbol(symbol)
        trades = trades[names.isin([s for s in names.unique() if normalize_symbol(s) == target])]
    if exchanges and "exchange" in trades.columns:
        trades = trades[trades["exchange"].astype(str).str.lower().isin([e.lower() for e in exchanges])]
    return trades.reset_index(drop=True)


def filter_rows(
    df: pd.DataFrame, exchanges: list[str] | None, symbol: str, start_ms: int | None, end_ms: int | None
) -> pd.DataFrame:
    """Rows of a canonical table for ``symbol`` (and ``exchanges``) with ``start_ms <= timestamp <= end_ms``."""
    from liqmap.symbols import normalize_symbol

    mask = df["symbol"] == normalize_symbol(symbol)
    if exchanges:
        mask &= df["exchange"].isin(exchanges)
    if start_ms is not None:
        mask &= df["timestamp"] >= start_ms
    if end_ms is not None:
        mask &= df["timestamp"] <= end_ms
    return df[mask].reset_index(drop=True)


def run_engine(
    bars: pd.DataFrame,
    model: Model | str,
    *,
    tiers_from: str | None = None,
    trades: pd.DataFrame | None = None,
    **config: Any,
) -> EngineResult:
    """Run the engine with :func:`liqmap.engine.options.engine_config` and optional ``trades``."""
    from liqmap.engine import run
    from liqmap.engine.options import engine_config

    return run(bars, model, engine_config(bars, tiers_from=tiers_from, **config), trades=trades)


def companion(explicit: Path | None, input_path: Path | None, option: str, table: str) -> Path | None:
    """The file/dir for a second table: ``explicit``, else the ``--input`` directory, else None (the store)."""
    if explicit is not None:
        return explicit
    if input_path is None:
        return None
    if not input_path.is_dir():
        raise LiqmapError(f"--input {input_path} is a bars file; give {option} FILE for the {table} table")
    return input_path


def load_depth(path: Path | None, db: Path | None, exchanges: list[str] | None, symbol: str) -> pd.DataFrame:
    """Order-book snapshots for ``symbol`` from a depth file/dir, else the store."""
    if path is not None:
        from liqmap.data.io import read_depth

        depth = filter_rows(read_depth(path), exchanges, symbol, None, None)
    else:
        from liqmap.data.store import Store

        with Store(db, read_only=True) as store:
            depth = store.query_depth(exchanges or None, symbol)
    if depth.empty:
        raise LiqmapError("--impact book needs depth snapshots: give --depth FILE or import depth into the store")
    return depth


def analyse(
    input_path: Path | None,
    db: Path | None,
    exchanges: list[str] | None,
    symbol: str,
    start: str | None,
    end: str | None,
    at: str | None,
    model: Model | str,
    settings: ReportSettings,
    *,
    tiers_from: str | None = None,
    trades_path: Path | None = None,
    depth_path: Path | None = None,
    **engine: Any,
) -> tuple[EngineResult, LiqMap, MapReport]:
    """The one analysis behind ``map``, ``levels`` and ``cascade``: the bars up to ``--at`` (default the
    last bar), the engine over them, and the :class:`~liqmap.analytics.report.MapReport` of the last bar's
    map, its impact calibrated on the same bars (``--impact book``: on ``depth_path``, the ``--input``
    directory or the store)."""
    from liqmap.analytics.report import build_map_report

    at_ms, end_ms = parse_time_ms(at, "--at"), parse_time_ms(end, "--end")
    if at_ms is not None and end_ms is not None and at_ms > end_ms:
        raise LiqmapError(f"--at ({at}) is after --end ({end}); drop --end or move --at before it")
    bars = load_bars(input_path, db, exchanges, symbol, start, str(at_ms) if at_ms is not None else end)
    trades = load_trades(trades_path, exchanges, symbol)
    tables = stored_tiers(input_path, db, bars)
    res = run_engine(bars, model, tiers_from=tiers_from, trades=trades, tier_tables=tables, **engine)
    depth = None
    if settings.impact is ImpactKind.BOOK:
        depth = load_depth(companion(depth_path, input_path, "--depth", "depth"), db, exchanges, symbol)
    lm = res.liqmap()
    report = build_map_report(lm, bars, settings, profile=res.config.profile, warnings=res.warnings, depth=depth)
    return res, lm, report
