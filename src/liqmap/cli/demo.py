"""``liqmap demo``: the whole job on the bundled real sample, end to end.

Store the sample in the embedded DuckDB store → run the ``oi-delta`` engine on BTC/USDT:USDT (Binance, and
Binance + Bybit + OKX aggregated, and Lighter) → one ``MapReport`` per map (key levels, imbalance,
asymmetry, cascades each way: the same analysis and defaults as ``liqmap map`` and ``/api/map``) → write
the heatmap, the liquidation maps, the cascade charts, ``report.json`` + ``report.md``, and validation
scores against the sample's real OKX liquidations and against a simulated market → print a summary.
``--quick`` runs the same steps on a small slice (the last week of bars, a one-day simulation).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import typer

from liqmap import CAVEAT
from liqmap.timeframes import MS_PER_DAY, MS_PER_HOUR

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from liqmap.analytics.report import MapReport
    from liqmap.engine.results import EngineResult, LiqMap

SYMBOL = "BTC/USDT:USDT"
VENUES = ("binance", "bybit", "okx")
BIN_USD = 50.0  # `liqmap map --bin-usd 50` and `/api/map?bin_usd=50` give the same map
QUICK_DAYS = 7


class _SimParams(TypedDict):
    seed: int
    days: float
    n_traders: int
    regime: str


SIM_FULL: _SimParams = {"seed": 7, "days": 7.0, "n_traders": 2_000, "regime": "crash"}
SIM_QUICK: _SimParams = {"seed": 7, "days": 1.0, "n_traders": 500, "regime": "crash"}
DEMO_DB = "liqmap.duckdb"  # the demo's own store, inside its output folder: clones never share state
OKX_NOTE = (
    "real OKX BTC-USDT-SWAP liquidation orders: {events:,} over {hours:.1f} h ({first} → {last} UTC; price is "
    "OKX's bankruptcy price). The engine's open-interest input for OKX is a PROXY: Hyperliquid's hourly OI "
    "path scaled to OKX's one real OI snapshot (see src/liqmap/data/sample/PROVENANCE.md)."
)
LIGHTER_SYMBOL = "BTC/USDC:USDC"
LIGHTER_NOTE = (
    "the one map here built from REAL open interest: Lighter's own hourly OI and funding with its real candles "
    "({start} → {end} UTC); Lighter's margin rules are not bundled, so positions borrow Binance's BTC tiers."
)
SIM_NOTE = (
    "SIMULATED market (liqmap.sim agent-based simulator, {regime} regime, {days:g} day(s), {n_traders:,} "
    "traders, seed {seed}): its liquidations are simulated, not real."
)


@dataclass
class DemoRun:
    """State shared by the demo steps: where outputs go, what was computed, what was skipped."""

    out: Path
    db: Path | None
    quick: bool
    report: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bars: pd.DataFrame | None = None
    results: dict[str, EngineResult] = field(default_factory=dict)
    maps: dict[str, LiqMap] = field(default_factory=dict)
    map_bars: dict[str, pd.DataFrame] = field(default_factory=dict)
    reports: dict[str, MapReport] = field(default_factory=dict)
    map_notes: dict[str, str] = field(default_factory=dict)
    tier_tables: tuple[Any, ...] = ()  # the store's tier tables for the demo's venues (used before the bundled)

    def write_chart(self, fig_for: Callable[..., Any], stem: str) -> None:
        """Draw a chart with both backends and save ``<stem>.html`` and ``<stem>.png``."""
        from liqmap.viz import save

        for backend, suffix in (("plotly", ".html"), ("matplotlib", ".png")):
            self.files.append(save(fig_for(backend=backend), self.out / f"{stem}{suffix}"))


def _load(run: DemoRun) -> None:
    """Upsert the bundled sample into the store, then read BTC bars (all venues) back from it."""
    from liqmap.data.sample import load_sample_into
    from liqmap.data.store import Store

    with Store(run.db) as store:
        written = load_sample_into(store)
        db_path = store.path
        bars = store.query_bars(list(VENUES), SYMBOL)
        run.tier_tables = store.tier_tables(list(VENUES), SYMBOL)
    if run.quick:
        bars = bars[bars["timestamp"] >= bars["timestamp"].max() - QUICK_DAYS * MS_PER_DAY].reset_index(drop=True)
    run.bars = bars
    import pandas as pd

    span = pd.to_datetime([bars["timestamp"].min(), bars["timestamp"].max()], unit="ms")
    run.report["data"] = {
        "store": str(db_path),
        "rows_written": written,
        "symbol": SYMBOL,
        "bars": {str(k): int(v) for k, v in bars.groupby("exchange").size().items()},
        "start": span[0].isoformat() + "Z",
        "end": span[1].isoformat() + "Z",
        "quick": run.quick,
        "open_interest_note": "open interest of the sample bars is a proxy (Hyperliquid's OI path scaled to each "
        "venue's one real snapshot); see src/liqmap/data/sample/PROVENANCE.md",
    }


def _engine(run: DemoRun) -> None:
    """Run ``oi-delta`` on Binance alone, on the three venues aggregated, and on Lighter's real-OI bars."""
    from liqmap.data.sample import lighter_bars
    from liqmap.engine import run as run_engine
    from liqmap.engine.options import engine_config
    from liqmap.viz._style import fmt_utc

    assert run.bars is not None
    lighter = lighter_bars()
    lighter = lighter[lighter["symbol"] == LIGHTER_SYMBOL].reset_index(drop=True)
    if run.quick:
        lighter = lighter[lighter["timestamp"] >= lighter["timestamp"].max() - QUICK_DAYS * MS_PER_DAY]
    series = (
        ("binance", run.bars[run.bars["exchange"] == "binance"].reset_index(drop=True), None),
        ("all", run.bars[run.bars["exchange"].isin(VENUES)].reset_index(drop=True), None),
        ("lighter", lighter.reset_index(drop=True), "binance"),
    )
    for key, bars, tiers_from in series:
        tables = run.tier_tables if key != "lighter" else ()
        res = run_engine(
            bars, "oi-delta", engine_config(bars, bin_usd=BIN_USD, tiers_from=tiers_from, tier_tables=tables)
        )
        run.results[key], run.maps[key], run.map_bars[key] = res, res.liqmap(), bars
    run.map_notes["lighter"] = LIGHTER_NOTE.format(
        start=fmt_utc(lighter["timestamp"].min()), end=fmt_utc(lighter["timestamp"].max())
    )
    run.report["engine"] = {
        "model": "oi-delta",
        "profile": run.results["all"].config.profile,
        "bin_usd": BIN_USD,
        "snapshots": len(run.results["all"].heatmap.times_ms),
        "warnings": sorted({w for r in run.results.values() for w in r.warnings}),
    }


def _maps_report(run: DemoRun) -> None:
    """One ``MapReport`` per map (``liqmap.analytics.build_map_report`` with the shared defaults), its
    impact calibrated on that map's own venues."""
    from liqmap.analytics import build_map_report

    for key, lm in run.maps.items():
        res = run.results[key]
        run.reports[key] = build_map_report(lm, run.map_bars[key], profile=res.config.profile, warnings=res.warnings)
    run.report["maps"] = {key: rep.to_dict() for key, rep in run.reports.items()}
    for key, note in run.map_notes.items():
        run.report["maps"][key]["note"] = note


def _charts(run: DemoRun) -> None:
    """Heatmap with candles, and the liquidation maps (by leverage; by exchange) as HTML + PNG."""
    from liqmap.viz import fmt_price, plot_heatmap, plot_liqmap

    assert run.bars is not None
    binance_bars = run.bars[run.bars["exchange"] == "binance"]
    hm = run.results["binance"].heatmap
    run.write_chart(partial(plot_heatmap, hm, bars=binance_bars), "heatmap_binance")
    venues = {"binance": "Binance", "all": "Binance + Bybit + OKX", "lighter": "Lighter, real OI"}
    for key, stack in (("binance", "leverage"), ("all", "exchange"), ("lighter", "leverage")):
        rep = run.reports[key]
        lm = run.maps[key]
        title = f"{lm.symbol} liquidation map · {venues[key]} · price {fmt_price(lm.price)} · profile {lm.profile}"
        chart = partial(plot_liqmap, lm, clusters=rep.clusters, imbalance=rep.imbalance, stack=stack, title=title)
        run.write_chart(chart, f"liqmap_{key}")


def _cascade(run: DemoRun) -> None:
    """Charts of the aggregated map report's cascade runs each way."""
    from liqmap.viz import plot_cascade

    cascades = run.reports["all"].cascades
    for name, res in (("up", cascades.up), ("down", cascades.down)):
        run.write_chart(partial(plot_cascade, res), f"cascade_{name}")


def _validate_real(run: DemoRun) -> None:
    """Score ``oi-delta`` (and the baselines) against the sample's real OKX BTC liquidations."""
    from liqmap.analytics.validation import validate
    from liqmap.data.store import Store
    from liqmap.engine.options import engine_config
    from liqmap.viz._style import fmt_utc

    assert run.bars is not None
    with Store(run.db, read_only=True) as store:
        events = store.query_liquidations("okx", SYMBOL)
    okx = run.bars[run.bars["exchange"] == "okx"]
    res = validate(okx, events, "oi-delta", config=engine_config(okx, bin_usd=BIN_USD))
    first_ms, last_ms = int(events["timestamp"].min()), int(events["timestamp"].max())
    what = OKX_NOTE.format(
        events=len(events), hours=(last_ms - first_ms) / MS_PER_HOUR, first=fmt_utc(first_ms), last=fmt_utc(last_ms)
    )
    run.report["validation_real"] = {"what": what, **res.to_dict()}


def _validate_sim(run: DemoRun) -> None:
    """Score ``oi-delta`` against a simulated market's liquidations (the simulator knows the truth)."""
    from liqmap.analytics.validation import validate
    from liqmap.sim import SimConfig, simulate

    params = SIM_QUICK if run.quick else SIM_FULL
    sim = simulate(SimConfig(**params))
    res = validate(sim.bars, sim.liquidations, "oi-delta")
    run.report["validation_sim"] = {"what": SIM_NOTE.format(**params), "sim": sim.summary(), **res.to_dict()}


def _write_reports(run: DemoRun) -> None:
    """``report.json`` (everything above) and ``report.md`` (the same for humans)."""
    from liqmap.viz.report import report_markdown

    run.report["caveat"] = CAVEAT
    run.report["notes"] = run.notes
    run.report["files"] = [*sorted(p.name for p in run.files), "report.json", "report.md"]
    run.out.mkdir(parents=True, exist_ok=True)
    (run.out / "report.json").write_text(json.dumps(run.report, indent=2, default=_jsonable))
    (run.out / "report.md").write_text(report_markdown(run.report, run.reports, run.map_notes))
    run.files += [run.out / "report.json", run.out / "report.md"]


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


STEPS: tuple[tuple[str, Callable[[DemoRun], None], bool], ...] = (
    # (description, step, optional: a failure is reported as a note instead of aborting the demo)
    ("load the bundled sample into the store", _load, False),
    ("run the oi-delta engine (Binance; 3 venues; Lighter)", _engine, False),
    ("key levels, imbalance, asymmetry", _maps_report, False),
    ("draw heatmap and liquidation maps", _charts, False),
    ("draw the aggregated map's cascades", _cascade, False),
    ("validate against real OKX liquidations", _validate_real, True),
    ("validate against a simulated market", _validate_sim, True),
    ("write report.json and report.md", _write_reports, False),
)


def run_demo(out: Path, db: Path | None = None, quick: bool = False, console: Console | None = None) -> DemoRun:
    """Run every demo step with a progress bar; returns the finished :class:`DemoRun`. The store is ``db``,
    by default ``<out>/liqmap.duckdb`` (never ``$LIQMAP_DB`` or the user-wide store)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = console or Console()
    run = DemoRun(out=out, db=db if db is not None else out / DEMO_DB, quick=quick)
    timings: dict[str, float] = run.report.setdefault("timings_s", {})
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("liqmap demo", total=len(STEPS))
        for description, step, optional in STEPS:
            progress.update(task, description=description)
            t0 = time.perf_counter()
            try:
                step(run)
            except ImportError as exc:  # a piece of liqmap this step needs is not installed/built yet
                if not optional:
                    raise
                run.notes.append(f"skipped '{description}': {exc}")
            timings[description] = round(time.perf_counter() - t0, 2)
            progress.advance(task)
    return run


def register(app: typer.Typer) -> None:
    """Add ``liqmap demo`` to ``app``."""

    @app.command("demo")
    def demo(
        out: Annotated[Path, typer.Option("--out", help="Directory for the charts and reports.")] = Path("liqmap-demo"),
        quick: Annotated[
            bool, typer.Option("--quick", help="Small slice (last week of bars, 1-day simulation); same steps.")
        ] = False,
        db: Annotated[
            Path | None,
            typer.Option("--db", help="DuckDB store to load the sample into (default: <out>/liqmap.duckdb)."),
        ] = None,
    ) -> None:
        """Run the whole job on the bundled real sample: store → engine → charts, report, cascade, validation."""
        from rich.console import Console

        console = Console()
        t0 = time.perf_counter()
        run = run_demo(out, db, quick, console)
        from liqmap.viz.report import report_renderables

        for renderable in report_renderables(run.report, run.reports, run.maps.get("all"), console.width):
            console.print(renderable)
        console.print(f"[bold]wrote {len(run.files)} files to {out}[/] in {time.perf_counter() - t0:.0f} s")
        console.print(
            f"open {out / 'liqmap_all.html'} or {out / 'heatmap_binance.html'} in a browser (works offline); "
            f"the full report is {out / 'report.md'}"
        )
        console.print(f"the demo's store is {run.db} (liqmap map --db {run.db} ...)")
        for note in run.notes:
            console.print(f"[yellow]note:[/] {note}")
