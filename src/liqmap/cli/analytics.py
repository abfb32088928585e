"""``liqmap levels``, ``liqmap cascade`` and ``liqmap validate``: what traders read off the map.

Each takes its bars like ``liqmap map`` (``--input`` files or the ``--db`` store), runs the engine with
``--model`` and prints rich tables, or one JSON object with ``--json``; every output carries the caveat.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from liqmap import CAVEAT
from liqmap.analytics.enums import ImpactKind, Objective
from liqmap.cli._common import (
    AtOpt,
    BinsOpt,
    BinUsdOpt,
    DbOpt,
    EndOpt,
    ExchangeOpt,
    InputOpt,
    JsonOpt,
    ModelOpt,
    StartOpt,
    SymbolOpt,
    TiersFromOpt,
    engine_config,
    filter_rows,
    load_bars,
    parse_time_ms,
    run_engine,
)
from liqmap.engine.enums import Model
from liqmap.errors import LiqmapError
from liqmap.viz._style import fmt_usd, fmt_utc

STALE_DEPTH_HOURS = 24.0  # cascade --impact book: warn when the order book is older than this at the map time


def levels(
    input_path: InputOpt = None,
    db: DbOpt = None,
    exchange: ExchangeOpt = None,
    symbol: SymbolOpt = "BTC/USDT:USDT",
    start: StartOpt = None,
    end: EndOpt = None,
    model: ModelOpt = Model.OI_DELTA,
    at: AtOpt = None,
    bins: BinsOpt = None,
    bin_usd: BinUsdOpt = None,
    tiers_from: TiersFromOpt = None,
    top: Annotated[int, typer.Option("--top", help="Number of clusters to list.")] = 10,
    window_pct: Annotated[float, typer.Option("--window-pct", help="Imbalance window, ± % of price.")] = 5.0,
    target_usd: Annotated[
        list[float] | None, typer.Option("--target-usd", help="Asymmetry target notional (repeat); default auto.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Key liquidation levels (clusters), short/long imbalance and up/down asymmetry of the map."""
    from liqmap.analytics import map_report

    bars = load_bars(input_path, db, exchange, symbol, start, end)
    lm = run_engine(bars, model, tiers_from=tiers_from, n_bins=bins, bin_usd=bin_usd).liqmap(parse_time_ms(at, "--at"))
    report = map_report(lm, window_pct=window_pct, targets_usd=target_usd, top=top)
    if as_json:
        typer.echo(json.dumps(report))
        return
    from liqmap.viz.report import map_report_renderables

    console = Console()
    for renderable in map_report_renderables(report):
        console.print(renderable)


def cascade(
    shock: Annotated[str, typer.Option("--shock", help="Initial move, e.g. +1% or -2.5%.")],
    input_path: InputOpt = None,
    db: DbOpt = None,
    exchange: ExchangeOpt = None,
    symbol: SymbolOpt = "BTC/USDT:USDT",
    start: StartOpt = None,
    end: EndOpt = None,
    model: ModelOpt = Model.OI_DELTA,
    at: AtOpt = None,
    bins: BinsOpt = None,
    bin_usd: BinUsdOpt = None,
    tiers_from: TiersFromOpt = None,
    impact: Annotated[
        ImpactKind, typer.Option("--impact", help="sqrt (square-root law) | book (order-book walk).")
    ] = ImpactKind.SQRT,
    depth: Annotated[
        Path | None, typer.Option("--depth", help="Depth file/dir for --impact book (default: --input or --db).")
    ] = None,
    resilience: Annotated[
        float, typer.Option("--resilience", help="Fraction of impact that decays before the next round (0…1).")
    ] = 0.0,
    runaway_amplification: Annotated[
        float, typer.Option("--runaway-amplification", help="Amplification counted as a runaway.")
    ] = 2.0,
    max_shock_pct: Annotated[
        float, typer.Option("--max-shock-pct", help="Largest shock searched for the critical shock.")
    ] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Simulate the liquidation cascade set off by a price shock, and the smallest runaway shock each way."""
    from liqmap.analytics.cascade import Direction, critical_shock_pct, simulate_cascade

    shock_pct = parse_pct(shock, "--shock")
    bars = load_bars(input_path, db, exchange, symbol, start, end)
    lm = run_engine(bars, model, tiers_from=tiers_from, n_bins=bins, bin_usd=bin_usd).liqmap(parse_time_ms(at, "--at"))
    depth_path = _companion(depth, input_path, "--depth", "depth")
    model_impact, impact_info = _impact(impact, bars, depth_path, db, exchange, symbol, lm.as_of_ms)
    kw: dict[str, Any] = {"resilience": resilience, "runaway_amplification": runaway_amplification}
    res = simulate_cascade(lm, shock_pct, model_impact, **kw)
    out = res.to_dict()
    for key, direction in (("critical_shock_up_pct", Direction.UP), ("critical_shock_down_pct", Direction.DOWN)):
        out[key] = critical_shock_pct(lm, model_impact, direction, max_shock_pct=max_shock_pct, **kw)
    out.update(symbol=lm.symbol, as_of_ms=lm.as_of_ms, model=lm.model, impact=impact_info)
    if as_json:
        typer.echo(json.dumps(out))
        return
    console = Console()
    t = Table(title=f"Cascade {shock_pct:+g}% on {lm.symbol} {lm.model} @ {fmt_utc(lm.as_of_ms)} ({impact.value})")
    for col in ("round", "price", "move", "liquidated", "side"):
        t.add_column(col, justify="right")
    for r in res.rounds:
        move = 100 * (r.price - res.start_price) / res.start_price
        t.add_row(str(r.index), f"{r.price:,.2f}", f"{move:+.2f}%", fmt_usd(r.liquidated_usd), r.side)
    console.print(t)
    console.print(
        f"start {res.start_price:,.2f} → final {res.final_price:,.2f} ({res.final_move_pct:+.2f}%), "
        f"liquidated {fmt_usd(res.total_liquidated_usd)}, amplification {res.amplification:.2f}"
        f"{' — RUNAWAY' if res.runaway else ''}{' (left the map)' if res.hit_edge else ''}"
    )
    age_h = impact_info.get("depth_age_hours")
    if age_h is not None and age_h > STALE_DEPTH_HOURS:
        console.print(
            f"order book of {fmt_utc(impact_info['depth_as_of_ms'])}, {age_h / 24:,.0f} days before the map: "
            "its depth may be far from today's liquidity"
        )
    up, down = (
        f"none ≤ {max_shock_pct:g}%" if v is None else f"{v:.3f}%"
        for v in (out["critical_shock_up_pct"], out["critical_shock_down_pct"])
    )
    console.print(f"critical shock (runaway): up {up}, down {down}")
    console.print(f"[dim]{CAVEAT}[/dim]")


def validate(
    input_path: InputOpt = None,
    db: DbOpt = None,
    exchange: ExchangeOpt = None,
    symbol: SymbolOpt = "BTC/USDT:USDT",
    start: StartOpt = None,
    end: EndOpt = None,
    model: ModelOpt = Model.OI_DELTA,
    bins: BinsOpt = None,
    bin_usd: BinUsdOpt = None,
    tiers_from: TiersFromOpt = None,
    liquidations: Annotated[
        Path | None,
        typer.Option("--liquidations", help="Realized liquidations file/dir (default: --input dir or --db)."),
    ] = None,
    train_frac: Annotated[
        float, typer.Option("--train-frac", help="Share of the events' span used to calibrate (0: no split).")
    ] = 0.5,
    calibrate: Annotated[
        bool, typer.Option(help="Grid-search the leverage mix and turnover on the training span.")
    ] = True,
    window_pct: Annotated[
        float, typer.Option("--window-pct", help="Rank the bins within ± this % of price (scores' population).")
    ] = 10.0,
    objective: Annotated[
        Objective, typer.Option("--objective", help="Calibration target: capture | log-score.")
    ] = Objective.CAPTURE,
    as_json: JsonOpt = False,
) -> None:
    """Score a model against realized liquidations: top-decile capture, lift over baselines, correlation."""
    from liqmap.analytics.validation import validate as run_validation

    bars = load_bars(input_path, db, exchange, symbol, start, end)
    liqs_path = _companion(liquidations, input_path, "--liquidations", "liquidations")
    liqs = _liquidations(liqs_path, db, exchange, symbol, start, end)
    res = run_validation(
        bars,
        liqs,
        model.value,
        config=engine_config(bars, tiers_from, n_bins=bins, bin_usd=bin_usd),
        train_frac=train_frac,
        calibrate=calibrate,
        window_pct=window_pct,
        objective=objective,
    )
    out = res.to_dict()
    if as_json:
        typer.echo(json.dumps(out))
        return
    console = Console()
    span = f"{fmt_utc(res.span_ms[0])} → {fmt_utc(res.span_ms[1])}"
    t = Table(title=f"Validation of {model} on {res.events} realized liquidations ({span})")
    for col in ("model", "events", "top-decile capture", "median percentile", "log score", "hourly corr"):
        t.add_column(col, justify="right")
    for s in res.scores.values():
        t.add_row(
            s.model,
            str(s.events),
            _num(s.top_decile_capture, "{:.1%}"),
            _num(s.median_percentile, "{:.1f}"),
            _num(s.log_score, "{:+.3f}"),
            _num(s.liq_volume_corr, "{:.3f}"),
        )
    console.print(t)
    console.print(
        f"lift vs volume {_num(res.lift_vs_volume, '{:.2f}')}, vs uniform {_num(res.lift_vs_uniform, '{:.2f}')}, "
        f"vs proximity {_num(res.lift_vs_proximity, '{:.2f}')}"
    )
    if res.calibration:
        cal = res.calibration
        default_capture = _num(cal["test_capture_default_mix"], "{:.1%}")
        console.print(
            f"calibrated ({cal['objective']}) on {fmt_utc(cal['train_span_ms'][0])} → "
            f"{fmt_utc(cal['train_span_ms'][1])}: "
            f"chose {cal['chosen']} (test capture with the default mix {default_capture})"
        )
    console.print(f"[dim]{CAVEAT}[/dim]")


def register(app: typer.Typer) -> None:
    """Add ``levels``, ``cascade`` and ``validate`` to ``app``."""
    app.command("levels")(levels)
    app.command("cascade")(cascade)
    app.command("validate")(validate)


def parse_pct(value: str, name: str = "--shock") -> float:
    """``"+1%"``, ``"-2.5%"``, ``"1"`` → the float percentage."""
    try:
        return float(value.strip().removesuffix("%"))
    except ValueError:
        raise LiqmapError(f"{name}: cannot read {value!r}; use a percentage like +1% or -2.5%") from None


def _impact(
    kind: ImpactKind,
    bars: pd.DataFrame,
    depth_path: Path | None,
    db: Path | None,
    exchanges: list[str] | None,
    symbol: str,
    map_ms: int,
) -> tuple[Any, dict[str, Any]]:
    from liqmap.analytics.impact import BookImpact, SqrtImpact

    if kind is ImpactKind.SQRT:
        m = SqrtImpact.from_bars(bars)
        return m, {"model": "sqrt", "sigma_daily": m.sigma_daily, "volume_daily_usd": m.volume_daily_usd, "y": m.y}
    if depth_path is not None:
        from liqmap.data.io import read_depth

        depth = filter_rows(read_depth(depth_path), exchanges, symbol, None, None)
    else:
        from liqmap.data.store import Store

        with Store(db, read_only=True) as store:
            depth = store.query_depth(exchanges or None, symbol)
    if depth.empty:
        raise LiqmapError("--impact book needs depth snapshots: give --depth FILE or import depth into the store")
    close_ms = map_ms + _bar_ms(bars)  # the map is the state at its bar's close
    book = BookImpact.from_depth(depth, at_ms=close_ms)
    info = {
        "model": "book",
        "depth_as_of_ms": book.as_of_ms,
        "depth_age_hours": (close_ms - book.as_of_ms) / 3_600_000 if book.as_of_ms is not None else None,
        "bid_exponent": book.bid_exponent,
        "ask_exponent": book.ask_exponent,
        "bid_depth_usd": float(book.bid_depth_usd[-1]),
        "bid_depth_pct": 100 * float(book.bid_dist[-1]),
        "ask_depth_usd": float(book.ask_depth_usd[-1]),
        "ask_depth_pct": 100 * float(book.ask_dist[-1]),
    }
    return book, info


def _companion(explicit: Path | None, input_path: Path | None, option: str, table: str) -> Path | None:
    """The file/dir for a second table: ``explicit``, else the ``--input`` directory, else None (the store)."""
    if explicit is not None:
        return explicit
    if input_path is None:
        return None
    if not input_path.is_dir():
        raise LiqmapError(f"--input {input_path} is a bars file; give {option} FILE for the {table} table")
    return input_path


def _liquidations(
    path: Path | None, db: Path | None, exchanges: list[str] | None, symbol: str, start: str | None, end: str | None
) -> pd.DataFrame:
    start_ms, end_ms = parse_time_ms(start, "--start"), parse_time_ms(end, "--end")
    if path is not None:
        from liqmap.data.io import read_liquidations

        out = filter_rows(read_liquidations(path), exchanges, symbol, start_ms, end_ms)
    else:
        from liqmap.data.store import Store

        with Store(db, read_only=True) as store:
            out = store.query_liquidations(exchanges or None, symbol, start_ms, end_ms)
    if out.empty:
        raise LiqmapError(f"no realized liquidations for {symbol} in range; give --liquidations FILE or import some")
    return out


def _bar_ms(bars: pd.DataFrame) -> int:
    from liqmap.analytics.validation import bar_length_ms

    return bar_length_ms(bars)


def _move(usd: float | None, pct: float | None, sign: str) -> str:
    return "not reachable" if usd is None or pct is None else f"{sign}{usd:,.2f} ({sign}{pct:.2f}%)"


def _num(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else fmt.format(x)
