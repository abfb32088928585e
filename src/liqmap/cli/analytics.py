"""``liqmap levels``, ``liqmap cascade`` and ``liqmap validate``: what traders read off the map.

Each takes its bars like ``liqmap map`` (``--input`` files or the ``--db`` store), runs the engine with
``--model`` and prints rich tables, or one JSON object with ``--json``; every output carries the caveat.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqmap import CAVEAT
from liqmap.analytics.enums import Direction, ImpactKind, Objective
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
    WindowOpt,
    analyse,
    companion,
    filter_rows,
    load_bars,
    parse_time_ms,
)
from liqmap.engine.enums import Model
from liqmap.engine.profiles import DEFAULT as DEFAULT_PROFILE
from liqmap.errors import LiqmapError
from liqmap.timeframes import MS_PER_DAY

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table


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
    profile: ProfileOpt = DEFAULT_PROFILE,
    top: TopOpt = REPORT.top,
    window_pct: WindowOpt = REPORT.window_pct,
    target_usd: Annotated[
        list[float] | None, typer.Option("--target-usd", help="Asymmetry target notional (repeat); default auto.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Key liquidation levels (clusters), short/long imbalance and up/down asymmetry of the map."""
    settings = replace(REPORT, top=top, window_pct=window_pct, targets_usd=tuple(target_usd) if target_usd else None)
    _, _, report = analyse(
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
        profile=profile,
        n_bins=bins,
        bin_usd=bin_usd,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    from rich.console import Console

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
    profile: ProfileOpt = DEFAULT_PROFILE,
    impact: Annotated[
        ImpactKind, typer.Option("--impact", help="sqrt (square-root law) | book (order-book walk).")
    ] = REPORT.impact,
    depth: Annotated[
        Path | None, typer.Option("--depth", help="Depth file/dir for --impact book (default: --input or --db).")
    ] = None,
    resilience: Annotated[
        float, typer.Option("--resilience", help="Fraction of impact that decays before the next round (0…1).")
    ] = REPORT.resilience,
    runaway_amplification: Annotated[
        float, typer.Option("--runaway-amplification", help="Amplification counted as a runaway.")
    ] = REPORT.runaway_amplification,
    max_shock_pct: Annotated[
        float, typer.Option("--max-shock-pct", help="Largest shock searched for the critical shock.")
    ] = REPORT.max_shock_pct,
    as_json: JsonOpt = False,
) -> None:
    """Simulate the liquidation cascade set off by a price shock, and the smallest runaway shock each way.

    The map report holds the runs at +|shock| and −|shock|; the table shows the one in the shock's direction.
    """
    shock_pct = parse_pct(shock, "--shock")
    settings = replace(
        REPORT,
        shock_pct=abs(shock_pct),
        impact=impact,
        resilience=resilience,
        runaway_amplification=runaway_amplification,
        max_shock_pct=max_shock_pct,
    )
    _, _, report = analyse(
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
        profile=profile,
        depth_path=depth,
        n_bins=bins,
        bin_usd=bin_usd,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    from rich.console import Console

    from liqmap.viz.report import cascade_renderables

    console = Console()
    for renderable in cascade_renderables(report, Direction.UP if shock_pct > 0 else Direction.DOWN):
        console.print(renderable)


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
    profile: ProfileOpt = DEFAULT_PROFILE,
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
    from rich.console import Console
    from rich.table import Table

    from liqmap.analytics.validation import validate as run_validation
    from liqmap.engine.options import engine_config
    from liqmap.viz._style import fmt_utc

    bars = load_bars(input_path, db, exchange, symbol, start, end)
    liqs_path = companion(liquidations, input_path, "--liquidations", "liquidations")
    liqs, totals = _realized(liqs_path, db, exchange, symbol, start, end)
    from liqmap.cli._common import stored_tiers

    tables = stored_tiers(input_path, db, bars)
    config = engine_config(
        bars, profile=profile, n_bins=bins, bin_usd=bin_usd, tiers_from=tiers_from, tier_tables=tables
    )
    if totals:  # per-period totals carry no prices: only the amounts can be scored
        from liqmap.analytics.validation import validate_amounts

        amounts = validate_amounts(bars, liqs, config).to_dict()
        if as_json:
            typer.echo(json.dumps({"amounts": amounts, "caveat": CAVEAT}))
            return
        Console().print(_amounts_table(amounts))
        Console().print(f"[dim]{CAVEAT}[/dim]")
        return
    res = run_validation(
        bars,
        liqs,
        model.value,
        config=config,
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
    if res.amounts is not None:
        console.print(_amounts_table(res.amounts.to_dict()))
    console.print(f"[dim]{CAVEAT}[/dim]")


def register(app: typer.Typer) -> None:
    """Add ``levels``, ``cascade`` and ``validate`` to ``app``."""
    app.command("levels")(levels)
    app.command("cascade")(cascade)
    app.command("validate")(validate)


MIN_SHOCK_PCT = 0.001  # a smaller move rounds to no move at float precision in the cascade's price steps


def parse_pct(value: str, name: str = "--shock") -> float:
    """``"+1%"``, ``"-2.5%"``, ``"1"`` → the float percentage; its size must lie in [0.001, 100)."""
    try:
        pct = float(value.strip().removesuffix("%"))
    except ValueError:
        raise LiqmapError(f"{name}: cannot read {value!r}; use a percentage like +1% or -2.5%") from None
    if not (math.isfinite(pct) and MIN_SHOCK_PCT <= abs(pct) < 100):
        raise LiqmapError(
            f"{name}: {value!r} is out of range; use a move of at least {MIN_SHOCK_PCT}% and below 100%, up or down"
        )
    return pct


def _realized(
    path: Path | None, db: Path | None, exchanges: list[str] | None, symbol: str, start: str | None, end: str | None
) -> tuple[pd.DataFrame, bool]:
    """Realized liquidations for ``symbol``: ``(frame, is_totals)`` — events (LIQUIDATIONS) from a file or the
    store, or per-period totals (LIQUIDATION_TOTALS) from a file holding them."""
    from liqmap.data.schemas import TableKind

    start_ms, end_ms = parse_time_ms(start, "--start"), parse_time_ms(end, "--end")
    totals = False
    if path is not None and path.is_dir():
        from liqmap.data.io import read_liquidations

        out = filter_rows(read_liquidations(path), exchanges, symbol, start_ms, end_ms)
    elif path is not None:
        from liqmap.data.io import read_table

        conv = read_table(path)
        if conv.kind not in (TableKind.LIQUIDATIONS, TableKind.LIQUIDATION_TOTALS):
            raise LiqmapError(f"--liquidations {path} holds {conv.kind}, not liquidations or liquidation_totals")
        totals = conv.kind is TableKind.LIQUIDATION_TOTALS
        out = filter_rows(conv.frame, exchanges, symbol, start_ms, end_ms)
    else:
        from liqmap.data.store import Store

        with Store(db, read_only=True) as store:
            out = store.query_liquidations(exchanges or None, symbol, start_ms, end_ms)
    if out.empty:
        raise LiqmapError(f"no realized liquidations for {symbol} in range; give --liquidations FILE or import some")
    return out, totals


def _amounts_table(amounts: dict[str, Any]) -> Table:
    """Predicted vs realized amounts per side beside the naive anchor (``AmountValidation.to_dict()``)."""
    from rich.table import Table

    from liqmap.viz._style import fmt_usd

    unit = "day" if amounts["period_ms"] >= MS_PER_DAY else "hour"
    t = Table(title=f"How much: {amounts['periods']} {unit}s, profile {amounts['profile']}")
    for col in ("side", "realized", "predicted", "ratio", "ρ", "log err", "anchor ratio", "anchor ρ", "anchor log err"):
        t.add_column(col, justify="right")
    for side in ("long", "short"):
        m, a = amounts["model"][side], amounts["anchor"][side]
        t.add_row(
            side, fmt_usd(m["realized_usd"]), fmt_usd(m["predicted_usd"]), _num(m["ratio"], "{:.2f}"),
            _num(m["spearman"], "{:.2f}"), _num(m["log_error"], "{:.2f}"), _num(a["ratio"], "{:.2f}"),
            _num(a["spearman"], "{:.2f}"), _num(a["log_error"], "{:.2f}"),
        )  # fmt: skip
    return t


def _num(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else fmt.format(x)
