"""Options and loaders shared by the commands that read bars (`heatmap`, `map`, `levels`, `cascade`, ...).

Every such command takes its bars either from files (``--input``: a canonical bars CSV/Parquet file, or a
directory holding ``bars.parquet`` as ``liqmap sim`` writes it) or from the embedded store (``--db``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from liqmap.errors import LiqmapError

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
        sym = normalize_symbol(symbol)
        mask = bars["symbol"] == sym
        if exchanges:
            mask &= bars["exchange"].isin(exchanges)
        if start_ms is not None:
            mask &= bars["timestamp"] >= start_ms
        if end_ms is not None:
            mask &= bars["timestamp"] <= end_ms
        out = bars[mask].reset_index(drop=True)
        if out.empty:
            found = sorted(set(zip(bars["exchange"], bars["symbol"], strict=True)))
            raise LiqmapError(f"{input_path}: no bars for {sym} {exchanges or ''} in range; file holds {found}")
        return out
    with Store(db, read_only=True) as store:
        return store.query_bars(exchanges or None, symbol, start_ms, end_ms)
