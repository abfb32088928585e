"""``liqmap batch``: the engine over many symbols/exchanges at once, in parallel on a Dask cluster."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NotRequired, TypedDict

import typer

from liqmap import CAVEAT
from liqmap.cli._common import (
    BinsOpt,
    BinUsdOpt,
    DbOpt,
    EndOpt,
    ExchangeOpt,
    JsonOpt,
    ModelOpt,
    ProfileOpt,
    StartOpt,
    TiersFromOpt,
    parse_time_ms,
)
from liqmap.cli.engine import write_parquet
from liqmap.engine.enums import Model
from liqmap.engine.profiles import DEFAULT as DEFAULT_PROFILE
from liqmap.errors import LiqmapError

if TYPE_CHECKING:
    from liqmap.engine import EngineConfig
    from liqmap.scale import SeriesJob, SeriesResult

_WINDOW_PCT = 5.0


def batch(
    symbol: Annotated[list[str], typer.Option("--symbol", help="Symbol(s); repeat for several.")],
    db: DbOpt = None,
    exchange: ExchangeOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    model: ModelOpt = Model.OI_DELTA,
    bin_usd: BinUsdOpt = None,
    bins: BinsOpt = None,
    tiers_from: TiersFromOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
    aggregate: Annotated[bool, typer.Option("--aggregate", help="Also run each symbol over all its venues.")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Dask worker processes (default: cores).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for one map Parquet file per series.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the engine for every (exchange, symbol) series in the store on a local Dask cluster."""
    from rich.console import Console
    from rich.table import Table

    from liqmap.data.store import default_db_path
    from liqmap.engine.profiles import load_profile
    from liqmap.scale import run_batch  # Dask is heavy: import it only when the command runs
    from liqmap.symbols import venue_symbol
    from liqmap.viz._style import fmt_usd

    path = Path(db) if db is not None else default_db_path()
    base = load_profile(profile).config(bin_usd=bin_usd, n_bins=bins)
    jobs = _jobs(
        path,
        symbol,
        exchange,
        parse_time_ms(start, "--start"),
        parse_time_ms(end, "--end"),
        base,
        tiers_from,
        aggregate,
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    with Console(stderr=True).status(f"running {len(jobs)} series on Dask…"):
        results = run_batch(jobs, path, model=str(model), config=base, n_workers=workers)
    rows = [_summary(r) for r in results]
    if out is not None:
        for r, row in zip(results, rows, strict=True):
            name = f"{'+'.join(r.job.exchanges) or 'all'}_{venue_symbol(r.job.symbol)}_map.parquet"
            row["written"] = str(write_parquet(r.liqmap.to_frame(), out / name))
    if as_json:
        typer.echo(json.dumps({"series": rows, "model": str(model), "caveat": CAVEAT}))
        return
    table = Table(title=f"liquidation maps ({model}), ±{_WINDOW_PCT:g}% window")
    for col in ("series", "bars", "price", f"longs −{_WINDOW_PCT:g}%", f"shorts +{_WINDOW_PCT:g}%", "ratio", "s"):
        table.add_column(col, justify="right")
    for row in rows:
        ratio = row["ratio_short_long"]
        table.add_row(
            row["series"],
            f"{row['bars']:,}",
            f"{row['price']:,.2f}",
            fmt_usd(row["long_below_usd"]),
            fmt_usd(row["short_above_usd"]),
            "—" if ratio is None else f"{ratio:.2f}",
            f"{row['seconds']:.2f}",
        )
    console = Console()
    console.print(table)
    console.print(f"[dim]{CAVEAT}[/dim]")


def _jobs(
    path: Path,
    symbols: list[str],
    exchanges: list[str] | None,
    start_ms: int | None,
    end_ms: int | None,
    base: EngineConfig,
    tiers_from: str | None,
    aggregate: bool,
) -> list[SeriesJob]:
    from liqmap.data.store import Store
    from liqmap.margin import available_tiers
    from liqmap.scale import SeriesJob
    from liqmap.symbols import normalize_symbol

    with Store(path, read_only=True) as store:
        stored = store.symbols()
        have_tiers = set(available_tiers())
        have_tiers |= {(str(t.exchange), t.symbol) for s in symbols for t in store.tier_tables(None, s)}
    jobs: list[SeriesJob] = []
    for raw in symbols:
        sym = normalize_symbol(raw)
        venues = sorted(set(stored.loc[stored["symbol"] == sym, "exchange"]) & set(exchanges or stored["exchange"]))
        if not venues:
            raise LiqmapError(f"no stored bars for {sym} on {exchanges or 'any exchange'}; see `liqmap data info`")
        missing = [v for v in venues if (v, sym) not in have_tiers and v != "sim"]
        config = None
        if missing and tiers_from:
            config = replace(base, tier_exchange={v: tiers_from for v in missing})
        elif missing:
            raise LiqmapError(
                f"no tier table for {', '.join(missing)} {sym} in the store or bundled; fetch one with "
                f"`liqmap fetch --what tiers --exchange {missing[0]} --symbol {sym}` or pass --tiers-from binance"
            )
        groups = [(v,) for v in venues] + ([tuple(venues)] if aggregate and len(venues) > 1 else [])
        jobs += [SeriesJob(sym, g, start_ms, end_ms, config) for g in groups]
    return jobs


class _Summary(TypedDict):
    """One ``liqmap batch`` row (its ``--json`` shape); the window sums are :func:`liqmap.analytics.imbalance`'s."""

    series: str
    bars: int
    price: float
    as_of_ms: int
    long_below_usd: float
    short_above_usd: float
    ratio_short_long: float | None
    total_long_usd: float
    total_short_usd: float
    predicted_events: int
    seconds: float
    written: NotRequired[str]  # the map's Parquet file, with --out


def _summary(r: SeriesResult) -> _Summary:
    from liqmap.analytics import imbalance

    lm = r.liqmap
    imb = imbalance(lm, window_pct=_WINDOW_PCT)
    return {
        "series": r.job.label,
        "bars": r.bars,
        "price": lm.price,
        "as_of_ms": lm.as_of_ms,
        "long_below_usd": imb.long_below_usd,
        "short_above_usd": imb.short_above_usd,
        "ratio_short_long": imb.ratio,
        "total_long_usd": float(lm.long_usd.sum()),
        "total_short_usd": float(lm.short_usd.sum()),
        "predicted_events": r.events,
        "seconds": round(r.seconds, 3),
    }


def register(app: typer.Typer) -> None:
    """Add ``batch``."""
    app.command("batch")(batch)
