"""``liqmap scan``: a screener over every (exchange, symbol) series the store holds, one map report per series.

The numbers are the map report's (docs/analytics.md, "Scan"); the defaults are
:class:`liqmap.analytics.scan.ScanSettings`'s (an option left out keeps them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from liqmap.timeframes import MS_PER_SECOND

if TYPE_CHECKING:
    from liqmap.analytics.scan import Scan


def scan(
    db: Annotated[
        Path | None, typer.Option("--db", help="DuckDB store path (default: $LIQMAP_DB or the user data dir).")
    ] = None,
    exchange: Annotated[
        list[str] | None, typer.Option("--exchange", help="Only these exchanges (repeat); default: all stored.")
    ] = None,
    symbol: Annotated[
        list[str] | None, typer.Option("--symbol", help="Only these symbols (repeat); default: all stored.")
    ] = None,
    min_cluster_usd: Annotated[
        float | None,
        typer.Option("--min-cluster-usd", min=0.01, help="Smallest cluster reported each side, USD (default 1e6)."),
    ] = None,
    window_pct: Annotated[
        float | None, typer.Option("--window-pct", min=0.01, max=50, help="Imbalance window, ± % (default 5).")
    ] = None,
    notional_usd: Annotated[
        float | None,
        typer.Option("--notional-usd", min=0.01, help="Notional whose liquidation the move columns measure (1e6)."),
    ] = None,
    shock_pct: Annotated[
        float | None, typer.Option("--shock-pct", min=0.001, max=50, help="± shock of the cascade columns (1).")
    ] = None,
    days: Annotated[
        float | None, typer.Option("--days", min=0.01, max=3660, help="Bars read per series: the last N days (90).")
    ] = None,
    model: Annotated[str, typer.Option("--model", help="Engine model: oi-delta | volume | uniform.")] = "oi-delta",
    profile: Annotated[
        str, typer.Option("--profile", help="Calibration profile: default | prior | PATH.json.")
    ] = "default",
    bins: Annotated[int | None, typer.Option("--bins", min=10, help="Price bins (engine default 1,000).")] = None,
    tiers_from: Annotated[
        str,
        typer.Option("--tiers-from", help="Venue lending its tier table to venues without one; 'none' skips them."),
    ] = "binance",
    sort: Annotated[str, typer.Option("--sort", help="Column to sort by (a --json row key), e.g. above_pct.")] = (
        "symbol"
    ),
    desc: Annotated[bool, typer.Option("--desc", help="Sort descending (missing values stay last).")] = False,
    dask: Annotated[
        bool | None,
        typer.Option(
            "--dask/--serial", help="Run on a local Dask cluster / in this process (default: Dask if > 400 series)."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Dask workers (default: cores).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Show only the first N rows.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scan as one JSON object (as GET /api/scan).")] = (
        False
    ),
) -> None:
    """Screen every stored series: nearest clusters each side, imbalance, move to liquidate, cascades, freshness."""
    import json
    from dataclasses import replace

    from rich.console import Console

    from liqmap.analytics.scan import ScanSettings
    from liqmap.data.store import default_db_path
    from liqmap.scan import scan_store

    given = {
        "min_cluster_usd": min_cluster_usd,
        "window_pct": window_pct,
        "notional_usd": notional_usd,
        "shock_pct": shock_pct,
        "days": days,
    }
    settings = replace(ScanSettings(), **{k: v for k, v in given.items() if v is not None})
    path = Path(db) if db is not None else default_db_path()
    lender = None if tiers_from.lower() == "none" else tiers_from.lower()
    with Console(stderr=True).status("scanning the store…"):
        result = scan_store(
            path,
            settings,
            exchanges=exchange,
            symbols=symbol,
            model=model,
            profile=profile,
            n_bins=bins,
            tiers_from=lender,
            sort=sort,
            descending=desc,
            dask=dask,
            n_workers=workers,
        )
    scanned = len(result.rows)
    if limit is not None:
        result = replace(result, rows=result.rows[:limit])
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    _print(result, scanned)


def _print(result: Scan, scanned: int) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from liqmap.symbols import venue_symbol
    from liqmap.viz._style import fmt_price, fmt_usd

    s = result.settings
    shown = f", first {len(result.rows)} shown" if len(result.rows) < scanned else ""

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:+.2f}%"

    def cluster(peak: float | None, usd: float | None, dist: float | None) -> str:
        return "—" if peak is None or usd is None else f"{fmt_price(peak)} {fmt_usd(usd)} {pct(dist)}"

    title = (
        f"liquidation scan: {scanned} series{shown} ({result.runner}, {result.seconds:.1f} s) — clusters ≥ "
        f"{fmt_usd(s.min_cluster_usd)}, imbalance ±{s.window_pct:g}%, moves to liquidate {fmt_usd(s.notional_usd)}, "
        f"cascades ±{s.shock_pct:g}%"
    )
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    columns: tuple[str, ...] = ("exchange", "symbol", "price", "longs below ≥ min", "shorts above ≥ min", "short:long")
    columns += ("liq up", "liq down", "casc ↑/↓", "last bar UTC", "age", "tiers")
    for col in columns:
        table.add_column(col, justify="left" if col in ("exchange", "symbol", "tiers") else "right", no_wrap=True)
    for r in result.rows:
        age = f"{r.age_hours / 24:.0f} d" if r.age_hours >= 48 else f"{r.age_hours:.1f} h"
        table.add_row(
            r.exchange,
            venue_symbol(r.symbol),
            fmt_price(r.price),
            cluster(r.below_peak, r.below_usd, r.below_pct),
            cluster(r.above_peak, r.above_usd, r.above_pct),
            "—" if r.imbalance_ratio is None else f"{r.imbalance_ratio:.2f}",
            pct(r.move_up_pct),
            pct(r.move_down_pct),
            f"{r.cascade_up_amplification:.2f}/{r.cascade_down_amplification:.2f}",
            _utc(r.last_bar_ms),
            age,
            r.tiers,
        )
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=200)
    console.print(table)
    for skip in result.skipped:
        console.print(f"[yellow]skipped {skip.exchange} {skip.symbol}: {skip.reason}[/yellow]")
    console.print(f"[dim]{result.caveat}[/dim]")


def _utc(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / MS_PER_SECOND, tz=UTC).strftime("%Y-%m-%d %H:%M")


def register(app: typer.Typer) -> None:
    """Add ``scan``."""
    app.command("scan")(scan)
