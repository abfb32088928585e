"""``liqmap sim`` (simulate a perpetual market with known truth) and ``liqmap score`` (engine fidelity).

Examples::

    liqmap sim --seed 1 --days 7 --regime crash --traders 5000 --out sim-crash/
    liqmap heatmap --input sim-crash/ --symbol BTCUSDT          # every command reads the run like real data
    liqmap score --sim sim-crash/ --model oi-delta --json
    liqmap score --sim sim-crash/ --model oi-delta --baselines   # table with the volume/uniform baselines
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqmap import CAVEAT
from liqmap.cli._common import JsonOpt
from liqmap.engine.enums import Model
from liqmap.errors import LiqmapError
from liqmap.sim.enums import Regime

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from liqmap.sim.score import FidelityScore

FILES = ("bars.parquet", "liquidations.parquet", "depth.parquet", "truth.parquet", "sim.json")


@cache
def truth_schema() -> pa.Schema:
    """The schema of ``truth.parquet`` (also as the module attribute ``TRUTH``, built on first use)."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("timestamp", pa.int64(), nullable=False),  # snapshot time (close of its last bar), UTC ms
            pa.field("price", pa.float64(), nullable=False),  # bin centre, USD
            pa.field("long_usd", pa.float64(), nullable=False),  # entry notional of longs liquidating in the bin
            pa.field("short_usd", pa.float64(), nullable=False),
        ]
    )


def __getattr__(name: str) -> Any:  # PEP 562: TRUTH without importing pyarrow at module scope
    if name == "TRUTH":
        return truth_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register(app: typer.Typer) -> None:
    """Add ``sim`` and ``score`` to ``app``."""
    app.command("sim")(sim_command)
    app.command("score")(score_command)


def sim_command(
    out: Annotated[Path, typer.Option("--out", help="Directory for bars/liquidations/depth/truth Parquet files.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; equal seeds give identical files.")] = 0,
    days: Annotated[float, typer.Option("--days", help="Simulated days of 1-minute bars.")] = 7.0,
    regime: Annotated[Regime, typer.Option("--regime", help="calm | trend | crash.")] = Regime.CALM,
    traders: Annotated[int, typer.Option("--traders", help="Number of simulated accounts.")] = 2_000,
    warmup_days: Annotated[
        float, typer.Option("--warmup-days", help="Simulated but not written, so positions pre-exist.")
    ] = 1.0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier run in --out.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a perpetual-futures market with known liquidation levels and write it as canonical tables."""
    from rich.console import Console
    from rich.table import Table

    from liqmap.sim.market import SimConfig, config_dict, simulate

    cfg = SimConfig(seed=seed, days=days, regime=regime, n_traders=traders, warmup_days=warmup_days)
    existing = [f for f in FILES if (out / f).exists()]
    if existing and not overwrite:
        raise LiqmapError(f"--out {out} already holds {', '.join(existing)}; pass --overwrite or pick a new directory")
    if out.exists() and not out.is_dir():
        raise LiqmapError(f"--out {out} is a file; give a directory")
    res = simulate(cfg)
    write_run(res.bars, res.liquidations, res.depth, res.truth, out, {"config": config_dict(cfg)} | res.summary())
    summary = res.summary()
    if as_json:
        typer.echo(json.dumps(summary | {"out": str(out)}))
        return
    table = Table(title=f"liqmap sim — {cfg.regime} regime, seed {cfg.seed}", show_header=False)
    for key, value in summary.items():
        table.add_row(key, f"{value:,.2f}" if isinstance(value, float) else str(value))
    console = Console()
    console.print(table)
    console.print(f"wrote {', '.join(FILES)} to {out}")


def write_run(
    bars: pd.DataFrame,
    liquidations: pd.DataFrame,
    depth: pd.DataFrame,
    truth: pd.DataFrame,
    out: Path,
    meta: dict[str, object],
) -> None:
    """Write a run's tables in their canonical schemas (temporary files renamed into place)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from liqmap.data.io import write_table
    from liqmap.data.schemas import LIQUIDATIONS

    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, frame, kind in (
            ("bars", bars, "bars"),
            ("liquidations", liquidations[LIQUIDATIONS.names], "liquidations"),
            ("depth", depth, "depth"),
        ):
            tmp = out / f".{name}.tmp.parquet"
            write_table(frame, tmp, kind)
            staged.append((tmp, out / f"{name}.parquet"))
        tmp = out / ".truth.tmp.parquet"
        schema = truth_schema()
        pq.write_table(pa.Table.from_pandas(truth[schema.names], schema=schema, preserve_index=False), tmp)
        staged.append((tmp, out / "truth.parquet"))
        tmp = out / ".sim.tmp.json"
        tmp.write_text(json.dumps(meta, indent=2))
        staged.append((tmp, out / "sim.json"))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)


def read_truth(directory: Path) -> pd.DataFrame:
    """The ``truth.parquet`` of a ``liqmap sim`` run directory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = truth_schema().names
    path = directory / "truth.parquet"
    if not path.is_file():
        raise LiqmapError(f"{path} not found: create the run with `liqmap sim --out {directory}`")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise LiqmapError(f"{path}: not a readable Parquet file ({exc})") from None
    missing = [c for c in names if c not in table.column_names]
    if missing:
        raise LiqmapError(f"{path}: missing columns {missing}; expected {names}")
    return table.select(names).to_pandas()


def score_command(
    sim_dir: Annotated[Path, typer.Option("--sim", help="Directory written by `liqmap sim --out`.")],
    model: Annotated[Model, typer.Option("--model", help="oi-delta | volume | uniform.")] = Model.OI_DELTA,
    baselines: Annotated[
        bool, typer.Option("--baselines", help="Also score the volume and uniform baselines.")
    ] = False,
    window_pct: Annotated[float, typer.Option("--window-pct", help="Score within ± this % of price.")] = 15.0,
    as_json: JsonOpt = False,
) -> None:
    """Score an engine model against a simulated run's known liquidation map (see docs/sim.md)."""
    from liqmap.data.io import read_bars, read_liquidations
    from liqmap.sim.score import MODELS, score_models

    if not sim_dir.is_dir():
        raise LiqmapError(f"--sim {sim_dir} is not a directory; create it with `liqmap sim --out {sim_dir}`")
    truth = read_truth(sim_dir)
    bars, liqs = read_bars(sim_dir), read_liquidations(sim_dir)
    models = [str(model)] + ([m for m in MODELS if m != str(model)] if baselines else [])
    scores = score_models(bars, truth, liqs, models, window_pct=window_pct)
    head = scores[str(model)]
    if as_json:
        payload = head.to_dict()
        if baselines:
            payload["baselines"] = {m: s.to_dict() for m, s in scores.items() if m != str(model)}
        typer.echo(json.dumps(payload))
        return
    _print_scores(scores, sim_dir)


def _print_scores(scores: dict[str, FidelityScore], sim_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"fidelity vs simulated truth — {sim_dir}")
    for col in ("model", "density corr ↑", "EMD % ↓", "top-decile capture ↑", "liq-volume corr ↑", "snapshots"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, s in scores.items():
        table.add_row(
            name,
            f"{s.density_corr:.3f}",
            "—" if s.emd_pct is None else f"{s.emd_pct:.2f}",
            f"{s.top_decile_capture:.3f}",
            "—" if s.liq_volume_corr is None else f"{s.liq_volume_corr:.3f}",
            str(s.snapshots),
        )
    console = Console()
    console.print(table)
    console.print(f"[dim]{CAVEAT}[/dim]")
