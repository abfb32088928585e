"""Options and loaders shared by the commands that read bars (`heatmap`, `map`, `levels`, `cascade`, ...).

Every such command takes its bars either from files (``--input``: a canonical bars CSV/Parquet file, or a
directory holding ``bars.parquet`` as ``liqmap sim`` writes it) or from the embedded store (``--db``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer

from liqmap.engine.enums import Model
from liqmap.errors import LiqmapError

if TYPE_CHECKING:
    from liqmap.engine import EngineConfig, EngineResult

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
    from liqmap.data.store import Store
    from liqmap.symbols import normalize_symbol

    start_ms, end_ms = parse_time_ms(start, "--start"), parse_time_ms(end, "--end")
    if input_path is not None:
        bars = read_bars(input_path)
        out = filter_rows(bars, exchanges, symbol, start_ms, end_ms)
        if out.empty:
            found = sorted(set(zip(bars["exchange"], bars["symbol"], strict=True)))
            raise LiqmapError(
                f"{input_path}: no bars for {normalize_symbol(symbol)} {exchanges or ''} in range; file holds {found}"
            )
        return out
    with Store(db, read_only=True) as store:
        return store.query_bars(exchanges or None, symbol, start_ms, end_ms)


def load_trades(path: Path | None, exchanges: list[str] | None, symbol: str) -> pd.DataFrame | None:
    """Trades from a Parquet or CSV file, narrowed to ``symbol`` and ``exchanges`` when the file has those
    columns (the engine validates the rest); ``None`` passes through."""
    from liqmap.symbols import normalize_symbol

    if path is None:
        return None
    reader = {".parquet": pd.read_parquet, ".csv": pd.read_csv}.get(path.suffix.lower())
    if reader is None:
        raise LiqmapError(f"--trades: {path} is neither .parquet nor .csv")
    if not path.is_file():
        raise LiqmapError(f"--trades: {path}: no such file")
    try:
        trades = reader(path)
    except (OSError, ValueError) as exc:
        raise LiqmapError(f"--trades: {path} is not readable ({str(exc).splitlines()[0]})") from None
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


def engine_config(bars: pd.DataFrame, tiers_from: str | None = None, **config: Any) -> EngineConfig:
    """``EngineConfig(**config)`` with ``None`` values dropped; ``tiers_from`` lends that exchange's tier table
    to the venues in ``bars`` that have none for the symbol."""
    from liqmap.engine import EngineConfig
    from liqmap.margin import available_tiers

    cfg = {k: v for k, v in config.items() if v is not None}
    if tiers_from:
        symbol = str(bars["symbol"].iloc[0])
        have = {ex for ex, sym in available_tiers() if sym == symbol} | {"sim"}
        cfg["tier_exchange"] = {ex: tiers_from for ex in bars["exchange"].unique() if ex not in have}
    return EngineConfig(**cfg)


def run_engine(
    bars: pd.DataFrame,
    model: Model | str,
    *,
    tiers_from: str | None = None,
    trades: pd.DataFrame | None = None,
    **config: Any,
) -> EngineResult:
    """Run the engine with :func:`engine_config` and optional ``trades``."""
    from liqmap.engine import run

    return run(bars, model, engine_config(bars, tiers_from, **config), trades=trades)
