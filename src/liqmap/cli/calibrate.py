"""``liqmap calibrate``: fit the ``default`` profile to realized liquidation amounts and score it out of sample.

Protocol (docs/analytics.md, "Calibrated amounts"): fit on Hyperliquid SOL, DOGE and HYPE — bars with
Binance's prices, Binance's volume scaled by the OI ratio and Hyperliquid's real OI, labelled ``hyperliquid``
so its margin rules apply — against Hyperliquid's realized daily liquidations (bundled sample). Out of sample:
each asset scored by a fit on the other two (asset split), every asset's days from 2026-01-01 by a fit on the
days before (time split), and OKX BTC/ETH per hour against OKX's real liquidation orders (never fitted).

Examples::

    liqmap calibrate                 # fit, print the scores, rewrite the bundled default profile
    liqmap calibrate --out my.json   # write elsewhere; then --profile my.json on map/heatmap/levels/…
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from liqmap.cli._common import JsonOpt

FIT_COINS = ("SOL", "DOGE", "HYPE")
REPORT_COINS = ("BTC", "ETH")
SPLIT = "2026-01-01"
DAY_MS, HOUR_MS = 86_400_000, 3_600_000
PROFILE_FILE = Path(__file__).resolve().parents[1] / "engine" / "profile_files" / "default.json"


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to ``app``."""
    app.command("calibrate")(calibrate_command)


def calibrate_sample() -> tuple[Any, dict[str, Any]]:
    """Run the protocol on the bundled sample: ``(profile, report)`` (the report also holds timings)."""
    from liqmap.analytics import calibration as cal
    from liqmap.analytics.amounts import amount_scores, per_period, realized_totals, scored_periods
    from liqmap.data import sample
    from liqmap.engine import run
    from liqmap.engine.profiles import Profile, settings_of

    t0 = time.perf_counter()
    bars, totals = sample.hyperliquid_bars(), sample.hyperliquid_liquidation_totals()
    series, by_name = [], {}
    for coin in FIT_COINS:
        symbol = f"{coin}/USDC:USDC"
        b = bars[bars["symbol"] == symbol].reset_index(drop=True)
        series.append(cal.series_from(coin, b, totals[totals["symbol"] == symbol], DAY_MS))
        by_name[coin] = b
    base = cal.base_config()
    candidates = cal.run_candidates(series, cal.grid_configs(base))
    t_runs = time.perf_counter() - t0
    chosen = cal.fit(candidates, list(FIT_COINS))
    split_ms = int(pd.Timestamp(SPLIT, tz="UTC").value // 1_000_000)
    cv = cal.cross_validate(candidates, by_name, split_ms)
    okx_bars, okx_liq = sample.sample_bars(), sample.sample_liquidations()
    okx: dict[str, Any] = {}
    for coin in REPORT_COINS:
        symbol = f"{coin}/USDT:USDT"
        b = okx_bars[(okx_bars["exchange"] == "okx") & (okx_bars["symbol"] == symbol)].reset_index(drop=True)
        hours = scored_periods(realized_totals(okx_liq[okx_liq["symbol"] == symbol], HOUR_MS), b, HOUR_MS)
        cfg = replace(chosen.config, tier_exchange={"okx": "binance"} if coin != "BTC" else {})  # no OKX ETH table
        table = per_period(run(b, config=cfg).events, hours, HOUR_MS)
        okx[coin] = {"hours": len(table), **{s: v.to_dict() for s, v in amount_scores(table).items()}}
    seconds = time.perf_counter() - t0
    fitted_on = {
        "series": [f"hyperliquid {c}/USDC:USDC" for c in FIT_COINS],
        "days": {s.name: len(s.totals) for s in series},
        "data": "bundled sample: hyperliquid_bars.parquet (Binance prices, scaled Binance volume, Hyperliquid OI) "
        "and hyperliquid_liquidation_totals.parquet (Hyperliquid's realized daily liquidations)",
        "grid": {k: list(v) for k, v in cal.GRID.items()},
        "objective": "mean daily log error, both sides, liquidation shares pooled in closed form",
        "command": "liqmap calibrate",
    }
    scores = {
        "in_sample": chosen.to_dict(),
        "asset_split": [s.to_dict() for s in cv["asset_split"]],
        "time_split": [s.to_dict() for s in cv["time_split"]],
        "okx_hourly_not_fitted": okx,
    }
    profile = Profile(
        name="default",
        version=1,
        description="fitted to Hyperliquid's realized daily liquidations (SOL, DOGE, HYPE); see docs/analytics.md",
        settings=settings_of(chosen.config),
        fitted_at=datetime.now(UTC).strftime("%Y-%m-%d"),
        fitted_on=fitted_on,
        scores=scores,
    )
    report = {"candidates": len(candidates), "engine_runs_s": t_runs, "total_s": seconds, **scores}
    return profile, report


def calibrate_command(
    out: Annotated[Path, typer.Option("--out", help="Profile file to write (default: the bundled default).")] = (
        PROFILE_FILE
    ),
    as_json: JsonOpt = False,
) -> None:
    """Fit the default profile on the bundled Hyperliquid sample and print its out-of-sample amount scores."""
    profile, report = calibrate_sample()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(profile.to_dict(), indent=1) + "\n")
    tmp.replace(out)
    if as_json:
        typer.echo(json.dumps(report, indent=1))
        return
    console = Console(width=max(Console().width, 110))
    t = Table(title=f"Calibrated amounts, out of sample ({report['candidates']} candidates, {report['total_s']:.0f} s)")
    for col in ("split", "series", "days", "side", "ratio", "spearman", "log err", "anchor ρ", "anchor log err"):
        t.add_column(col, justify="right")

    def fmt(x: float | None, spec: str = ".2f") -> str:
        return "—" if x is None else format(x, spec)

    for split in ("asset_split", "time_split"):
        for s in report[split]:
            for side in ("long", "short"):
                m, a = s["model"][side], s["anchor_scaled"][side]
                t.add_row(
                    split.replace("_", " "), s["series"], str(s["periods"]), side, fmt(m["ratio"]),
                    fmt(m["spearman"]), fmt(m["log_error"]), fmt(a["spearman"]), fmt(a["log_error"]),
                )  # fmt: skip
    for coin, r in report["okx_hourly_not_fitted"].items():
        for side in ("long", "short"):
            m = r[side]
            t.add_row(
                "okx hourly", coin, f"{r['hours']} h", side, fmt(m["ratio"]), fmt(m["spearman"]), fmt(m["log_error"])
            )
    console.print(t)
    console.print(
        f"wrote {out} (profile 'default', settings {profile.settings['leverage_tilt']} tilt, "
        f"liquidation share {profile.settings['liquidation_share']})"
    )
