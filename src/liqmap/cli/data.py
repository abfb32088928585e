"""``liqmap import``, ``liqmap fetch`` and ``liqmap data info|gaps|export``: fill and inspect the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from liqmap.cli._common import DbOpt, JsonOpt, parse_time_ms
from liqmap.data.kinds import TableKind

data_app = typer.Typer(help="Inspect and export the embedded store.", no_args_is_help=True)

ExchangeOne = Annotated[str | None, typer.Option("--exchange", help="Exchange (binance, bybit, okx, ...).")]
SymbolOne = Annotated[str | None, typer.Option("--symbol", help="Symbol, e.g. BTCUSDT or BTC/USDT:USDT.")]


def import_file(
    kind: Annotated[TableKind, typer.Argument(help="Table: bars | liquidations | depth | tiers.")],
    file: Annotated[Path, typer.Argument(help="CSV/Parquet/JSON file, or a directory with <kind>.parquet.")],
    exchange: ExchangeOne = None,
    symbol: SymbolOne = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv | parquet | json (default: suffix).")] = None,
    db: DbOpt = None,
) -> None:
    """Validate a file and upsert it into the store (idempotent: re-importing changes nothing).

    Recognises the canonical layout, Binance public-data klines/metrics CSVs, ccxt fetch_ohlcv JSON and the
    shared/data parquet files. OI/funding/ratio-only files are attached to already stored bars.
    """
    from liqmap.data.io import read_table
    from liqmap.data.store import Store

    conv = read_table(file, kind, fmt, exchange, symbol)  # a bad file fails before the store is opened
    with Store(db) as store:
        before = store.info()["rows"]
        written = store.write_converted(conv)
        after = store.info()["rows"]
        path = store.path
    what = f"updated {written:,} stored bars" if conv.fields_only else f"wrote {written:,} {conv.kind} rows"
    added = after[conv.kind] - before[conv.kind]
    typer.echo(f"{file}: {what} ({conv.layout} layout; {added:+,} new rows) into {path}")
    if conv.note:
        typer.echo(f"note: {conv.note}")


@data_app.command("info")
def info(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """What the store holds: row counts, and per series its range, rows, timeframe and gaps."""
    from rich.console import Console
    from rich.table import Table

    from liqmap.data._sql import iso
    from liqmap.data.store import Store

    with Store(db, read_only=True) as store:
        summary = store.info()
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    console = Console()
    console.print(
        f"store {summary['path']} ({summary['size_bytes'] / 1e6:.1f} MB): "
        + ", ".join(f"{n:,} {k}" for k, n in summary["rows"].items())
    )
    table = Table()
    for col in ("table", "exchange", "symbol", "first (UTC)", "last (UTC)", "rows", "timeframe", "gaps"):
        table.add_column(col, justify="right" if col in ("rows", "gaps") else "left", no_wrap=col == "symbol")
    for s in summary["series"]:
        table.add_row(
            s["kind"],
            s["exchange"],
            s["symbol"],
            iso(s["first_ms"]) if s["first_ms"] is not None else "",
            iso(s["last_ms"]) if s["last_ms"] is not None else "",
            f"{s['rows']:,}",
            s["timeframe"] or "",
            str(s.get("gaps", "")),
        )
    console.print(table)


@data_app.command("gaps")
def gaps(exchange: ExchangeOne = None, symbol: SymbolOne = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List missing bars per series (reported, never filled)."""
    from rich.console import Console
    from rich.table import Table

    from liqmap.data._sql import iso
    from liqmap.data.store import Store
    from liqmap.symbols import normalize_symbol

    with Store(db, read_only=True) as store:
        series = store.symbols("bars")
        if exchange:
            series = series[series["exchange"] == exchange.lower()]
        if symbol:
            series = series[series["symbol"] == normalize_symbol(symbol)]
        found = {(e, s): store.gaps(e, s) for e, s in series[["exchange", "symbol"]].itertuples(index=False)}
    if as_json:
        typer.echo(json.dumps({f"{e} {s}": g.to_dict("records") for (e, s), g in found.items()}))
        return
    table = Table(title="gaps in stored bars")
    for col in ("exchange", "symbol", "first missing (UTC)", "last missing (UTC)", "missing bars"):
        table.add_column(col)
    for (e, s), g in found.items():
        for lo, hi, n in g[["from_ms", "to_ms", "missing_bars"]].astype("int64").itertuples(index=False, name=None):
            table.add_row(e, s, iso(lo), iso(hi), f"{n:,}")
    Console().print(table if table.row_count else "no gaps in stored bars")


@data_app.command("export")
def export(
    kind: Annotated[TableKind, typer.Argument(help="Table: bars | liquidations | depth | tiers.")],
    out: Annotated[Path, typer.Argument(help="Output file (.parquet, .csv or .json).")],
    exchange: ExchangeOne = None,
    symbol: SymbolOne = None,
    db: DbOpt = None,
) -> None:
    """Write a stored table (optionally one exchange/symbol) to Parquet/CSV/JSON."""
    from liqmap.data.store import Store

    with Store(db, read_only=True) as store:
        n = store.export(kind, out, exchange, symbol)
    typer.echo(f"wrote {n:,} {kind} rows to {out}")


def fetch(
    exchange: Annotated[
        str,
        typer.Option(
            "--exchange",
            help="binance, bybit, okx; hyperliquid, bitget, gate, kucoinfutures, mexc, htx, bingx (ccxt unified).",
        ),
    ],
    symbol: Annotated[str, typer.Option("--symbol", help="e.g. BTC/USDT:USDT or BTCUSDT.")],
    since: Annotated[str, typer.Option("--since", help="Start (ISO date/time UTC or epoch ms).")],
    until: Annotated[str | None, typer.Option("--until", help="End (default: now).")] = None,
    timeframe: Annotated[str, typer.Option("--timeframe", help="Bar timeframe, e.g. 1m, 5m, 1h.")] = "1h",
    what: Annotated[
        str, typer.Option("--what", help="Comma list: ohlcv,oi,funding,ratio,taker,depth,tiers,liquidations.")
    ] = "ohlcv,oi,funding",
    resume: Annotated[bool, typer.Option(help="Start after the last stored bar when later than --since.")] = True,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="Send requests to this base URL (a proxy, mirror or local fake).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Download market data through ccxt into the store (paginated, rate-limited, retried, resumable)."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from liqmap.data.connectors import Dataset, connector, fetch_into_store
    from liqmap.data.store import Store

    since_ms = parse_time_ms(since, "--since")
    until_ms = parse_time_ms(until, "--until")
    datasets = [Dataset.parse(w) for w in what.split(",") if w.strip()]
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"))
    with Store(db) as store, Progress(*columns, TimeRemainingColumn()) as progress:
        tasks: dict[str, TaskID] = {}

        def report(name: str, done: float) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=1.0)
            progress.update(tasks[name], completed=done)

        conn = connector(exchange, api_url=api_url)
        counts = fetch_into_store(
            store, exchange, symbol, datasets, since_ms or 0, until_ms, timeframe, resume, report, conn
        )
    for name, n in counts.items():
        typer.echo(f"{name}: {n:,} rows")


def register(app: typer.Typer) -> None:
    """Add ``import``, ``fetch`` and the ``data`` group to ``app``."""
    app.command("import")(import_file)
    app.command("fetch")(fetch)
    app.add_typer(data_app, name="data")
