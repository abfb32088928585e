"""``liqmap heatmap`` and ``liqmap map``: run the liquidation engine over stored or file bars.

Examples::

    liqmap heatmap --input bars.parquet --symbol BTCUSDT --out heatmap.parquet --events-out events.parquet
    liqmap map --db liqmap.duckdb --exchange binance --exchange bybit --symbol BTCUSDT --at 2026-02-01T12:00
    liqmap map --input sim-run/ --symbol BTCUSDT --model volume --bin-usd 100 --json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqmap import CAVEAT
from liqmap.cli._common import (
    REPORT,
    AtOpt,
    BinsOpt,
    BinUsdOpt,
    DbOpt,
    EndOpt,
    ExchangeOpt,
    InputOpt,
    JsonOpt,
    ModelOpt,
    ProfileOpt,
    StartOpt,
    SymbolOpt,
    TiersFromOpt,
    TopOpt,
    TradesOpt,
    WindowOpt,
    analyse,
    load_bars,
    load_trades,
    run_engine,
)
from liqmap.engine.enums import Model
from liqmap.engine.profiles import DEFAULT as DEFAULT_PROFILE
from liqmap.errors import LiqmapError
from liqmap.timeframes import format_ms, parse_duration_ms

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

ClosureOpt = Annotated[
    str, typer.Option("--closure", help="OI-decrease rule: proportional | oldest-first | most-profitable-first.")
]
HalfLifeOpt = Annotated[
    str | None, typer.Option("--half-life", help="Decay half-life of positions, e.g. 12h, 3d (default none).")
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Write the result: .parquet (data), .html (interactive chart) or .png/.svg/.pdf."),
]

_SHOW_LEVELS_PCT = (1.0, 2.0, 5.0, 10.0)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` (with its ``attrs`` as metadata) to ``path``; the parent directory must exist."""
    if not path.parent.is_dir():
        raise LiqmapError(f"--out: directory {path.parent} does not exist; create it first")
    frame.to_parquet(path, index=False)
    return path


def _config(bin_usd: float | None, bins: int | None, closure: str, half_life: str | None, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "bin_usd": bin_usd,
        "n_bins": bins,
        "closure": closure,
        "decay_half_life_ms": None if half_life is None else parse_duration_ms(half_life, "--half-life"),
        **kw,
    }
    return {k: v for k, v in out.items() if v is not None}


def heatmap(
    input_path: InputOpt = None,
    db: DbOpt = None,
    exchange: ExchangeOpt = None,
    symbol: SymbolOpt = "BTC/USDT:USDT",
    start: StartOpt = None,
    end: EndOpt = None,
    model: ModelOpt = Model.OI_DELTA,
    bin_usd: BinUsdOpt = None,
    bins: BinsOpt = None,
    every: Annotated[
        str | None, typer.Option("--every", help="Heatmap time step, e.g. 1h (default: every bar, ≤10,000 rows).")
    ] = None,
    closure: ClosureOpt = "proportional",
    half_life: HalfLifeOpt = None,
    by_leverage: Annotated[bool, typer.Option("--by-leverage", help="Keep per-leverage layers.")] = False,
    tiers_from: TiersFromOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
    trades_path: TradesOpt = None,
    out: OutOpt = None,
    events_out: Annotated[
        Path | None, typer.Option("--events-out", help="Write predicted liquidation events to this Parquet file.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Liquidation heatmap (time × price): outstanding long/short liquidation notional per price bin."""
    cfg = _config(
        bin_usd,
        bins,
        closure,
        half_life,
        snapshot_every_ms=None if every is None else parse_duration_ms(every, "--every"),
        keep_leverage_layers=by_leverage,
    )
    bars = load_bars(input_path, db, exchange, symbol, start, end)
    trades = load_trades(trades_path, exchange, symbol)
    from liqmap.cli._common import stored_tiers

    tables = stored_tiers(input_path, db, bars)
    res = run_engine(bars, model, tiers_from=tiers_from, trades=trades, profile=profile, tier_tables=tables, **cfg)
    hm = res.heatmap
    written = []
    if out is not None and out.suffix.lower() != ".parquet":
        from liqmap.viz import backend_for, plot_heatmap, save

        written.append(str(save(plot_heatmap(hm, bars=bars, backend=backend_for(out)), out)))
    elif out is not None:
        frame = hm.to_frame(layers=True)
        written.append(str(write_parquet(frame, out)))
    if events_out is not None:
        written.append(str(write_parquet(res.events, events_out)))
    summary: dict[str, Any] = {
        "symbol": hm.symbol,
        "model": res.model,
        "exchanges": sorted(res.engines),
        "snapshots": len(hm.times_ms),
        "snapshot_every_ms": res.snapshot_every_ms,
        "start": _iso(int(hm.times_ms[0])),
        "end": _iso(int(hm.times_ms[-1])),
        "bins": len(hm.price_bins),
        "bin_usd": hm.bin_usd,
        "price_range": [float(hm.price_bins[0]), float(hm.price_bins[-1])],
        "last_long_usd": float(hm.long_usd[-1].sum()),
        "last_short_usd": float(hm.short_usd[-1].sum()),
        "events": len(res.events),
        "events_notional_usd": float(res.events["notional_usd"].sum()),
        "written": written,
        "warnings": list(res.warnings),
        "caveat": CAVEAT,
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    from rich.table import Table

    from liqmap.viz._style import fmt_usd

    table = Table(title=f"{hm.symbol} liquidation heatmap ({res.model}, {', '.join(summary['exchanges'])})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("snapshots", f"{summary['snapshots']:,} × {format_ms(res.snapshot_every_ms)}")
    table.add_row("period", f"{summary['start']} → {summary['end']}")
    table.add_row("price bins", f"{summary['bins']:,} × {hm.bin_usd:,.2f} USD")
    table.add_row(
        "alive longs / shorts (last)", f"{fmt_usd(summary['last_long_usd'])} / {fmt_usd(summary['last_short_usd'])}"
    )
    table.add_row("predicted liquidations", f"{summary['events']:,} rows, {fmt_usd(summary['events_notional_usd'])}")
    for path in written:
        table.add_row("written", path)
    _print(table, res.warnings)


def liq_map(
    input_path: InputOpt = None,
    db: DbOpt = None,
    exchange: ExchangeOpt = None,
    symbol: SymbolOpt = "BTC/USDT:USDT",
    start: StartOpt = None,
    end: EndOpt = None,
    at: AtOpt = None,
    model: ModelOpt = Model.OI_DELTA,
    bin_usd: BinUsdOpt = None,
    bins: BinsOpt = None,
    closure: ClosureOpt = "proportional",
    half_life: HalfLifeOpt = None,
    tiers_from: TiersFromOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
    trades_path: TradesOpt = None,
    window_pct: WindowOpt = REPORT.window_pct,
    top: TopOpt = REPORT.top,
    layers: Annotated[
        bool, typer.Option("--layers", help="--json: also print the per-leverage layers (as GET /api/map?layers=1).")
    ] = False,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Liquidation map at one instant: long liquidations below price, shorts above, with cumulative curves."""
    from dataclasses import replace

    cfg = _config(bin_usd, bins, closure, half_life, snapshot_every_ms=None, max_snapshots=1_000)
    settings = replace(REPORT, window_pct=window_pct, top=top)
    res, lm, report = analyse(
        input_path,
        db,
        exchange,
        symbol,
        start,
        end,
        at,
        model,
        settings,
        tiers_from=tiers_from,
        trades_path=trades_path,
        profile=profile,
        **cfg,
    )
    if out is not None and out.suffix.lower() != ".parquet":
        from liqmap.viz import backend_for, plot_liqmap, save

        save(plot_liqmap(lm, clusters=report.clusters, imbalance=report.imbalance, backend=backend_for(out)), out)
    elif out is not None:
        write_parquet(lm.to_frame(), out)
    if as_json:  # the JSON of GET /api/map without the query's window (exchanges, start/end, bars)
        typer.echo(json.dumps(report.to_dict() | lm.to_dict(layers)))
        return
    from rich.console import Console

    from liqmap.viz.report import map_report_renderables

    console = Console()
    for renderable in map_report_renderables(report, lm, width=console.width):
        console.print(renderable)
    for w in res.warnings:
        console.print(f"[yellow]repaired:[/yellow] {w}")


def _print(table: Table, warnings: tuple[str, ...]) -> None:
    from rich.console import Console

    console = Console()
    console.print(table)
    for w in warnings:
        console.print(f"[yellow]repaired:[/yellow] {w}")
    console.print(f"[dim]{CAVEAT}[/dim]")


def _iso(ms: int) -> str:
    import pandas as pd

    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


def register(app: typer.Typer) -> None:
    """Add ``heatmap`` and ``map`` to ``app``."""
    app.command("heatmap")(heatmap)
    app.command("map")(liq_map)
