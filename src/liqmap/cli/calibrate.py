"""``liqmap calibrate``: fit the ``default`` profile to realized liquidations and score it out of sample.

Protocol (docs/calibration.md): fit on SOL, DOGE and HYPE — Hyperliquid (Binance's prices, Binance's volume
scaled by the OI ratio, Hyperliquid's real OI, labelled ``hyperliquid`` so its margin rules apply) against its
realized daily liquidations, and OKX (the sample's bars, OI proxy) against OKX's real liquidation orders per
hour and per price; liquidation shares per venue (venues without realized amounts use OKX's). Out of sample:
each asset's series scored by a fit on the other assets (asset split), every series' periods from 2026-01-01
by a fit on the periods before (time split), and OKX BTC/ETH, never fitted.

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

import typer

from liqmap.cli._common import JsonOpt
from liqmap.errors import LiqmapError
from liqmap.timeframes import MS_PER_DAY, MS_PER_HOUR

FIT_COINS = ("SOL", "DOGE", "HYPE")
REPORT_COINS = ("BTC", "ETH")
SPLIT = "2026-01-01"
PROFILE_FILE = Path(__file__).resolve().parents[1] / "engine" / "profile_files" / "default.json"


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to ``app``."""
    app.command("calibrate")(calibrate_command)


def sample_series() -> tuple[list[Any], list[Any]]:
    """``(fit, report)`` calibration series from the bundled sample: per fitted coin, Hyperliquid's daily
    totals and OKX's hourly orders (amounts and, for OKX, where they happened); OKX BTC/ETH only to report."""
    from liqmap.analytics import calibration as cal
    from liqmap.data import sample

    hl_bars, hl_totals = sample.hyperliquid_bars(), sample.hyperliquid_liquidation_totals()
    okx_bars, okx_liq = sample.sample_bars(), sample.sample_liquidations()
    okx_bars = okx_bars[okx_bars["exchange"] == "okx"]

    def okx(coin: str) -> Any:
        symbol = f"{coin}/USDT:USDT"
        bars = okx_bars[okx_bars["symbol"] == symbol].reset_index(drop=True)
        events = okx_liq[(okx_liq["exchange"] == "okx") & (okx_liq["symbol"] == symbol)]
        return cal.series_from(f"okx {coin}", bars, events, MS_PER_HOUR, events=events, asset=coin)

    fit = []
    for coin in FIT_COINS:
        symbol = f"{coin}/USDC:USDC"
        bars = hl_bars[hl_bars["symbol"] == symbol].reset_index(drop=True)
        totals = hl_totals[hl_totals["symbol"] == symbol]
        fit += [cal.series_from(f"hyperliquid {coin}", bars, totals, MS_PER_DAY, asset=coin), okx(coin)]
    return fit, [okx(coin) for coin in REPORT_COINS]


def calibrate_sample() -> tuple[Any, dict[str, Any]]:
    """Run the protocol on the bundled sample: ``(profile, report)`` (the report also holds timings)."""
    import pandas as pd

    from liqmap.analytics import calibration as cal
    from liqmap.engine.profiles import Profile, settings_of

    t0 = time.perf_counter()
    series, report_series = sample_series()
    base = replace(cal.base_config(), tier_exchange={"okx": "binance"})  # OKX bundles BTC's tier 1 only
    candidates = cal.run_candidates(series, cal.grid_configs(base))
    t_runs = time.perf_counter() - t0
    chosen = cal.fit(candidates, [s.name for s in series])
    split_ms = int(pd.Timestamp(SPLIT, tz="UTC").value // 1_000_000)
    cv = cal.cross_validate(candidates, series, split_ms)
    unfitted = cal.run_candidates(report_series, [(chosen.params, replace(chosen.config, liquidation_share=(1, 1)))])
    by_name = {s.name: s for s in report_series}
    not_fitted = cal.score_series(unfitted[0], by_name, chosen, list(by_name))
    seconds = time.perf_counter() - t0
    fitted_on = {
        "series": {s.name: len(s.totals) for s in series},
        "data": "bundled sample: hyperliquid_bars.parquet (Binance prices, scaled Binance volume, Hyperliquid OI) "
        "against hyperliquid_liquidation_totals.parquet (Hyperliquid's realized daily liquidations); "
        "bars.parquet OKX bars (OI proxy) against liquidations.parquet (OKX's real orders, per hour and price)",
        "grid": {k: list(v) for k, v in cal.GRID.items()},
        "objective": f"mean log error per period and series (both sides; shares pooled per venue in closed form) "
        f"− {cal.LOCATION_WEIGHT:g} × mean log score of the OKX orders' prices",
        "liquidation_share": f"fitted per venue; venues without realized amounts use {cal.GENERAL_VENUE}'s",
        "tier_tables": "each venue's own; OKX borrows Binance's (it bundles BTC's tier 1 only)",
        "command": "liqmap calibrate",
    }
    scores = {
        "in_sample": chosen.to_dict(),
        "asset_split": [s.to_dict() for s in cv["asset_split"]],
        "time_split": [s.to_dict() for s in cv["time_split"]],
        "not_fitted": [s.to_dict() for s in not_fitted],
    }
    profile = Profile(
        name="default",
        version=1,
        description="fitted to realized liquidations: Hyperliquid's daily totals and OKX's orders for SOL, DOGE "
        "and HYPE; see docs/calibration.md",
        settings=settings_of(chosen.config),
        fitted_at=datetime.now(UTC).strftime("%Y-%m-%d"),
        fitted_on=fitted_on,
        scores=scores,
    )
    return profile, {"candidates": len(candidates), "engine_runs_s": t_runs, "total_s": seconds, **scores}


def calibrate_command(
    out: Annotated[Path, typer.Option("--out", help="Profile file to write (default: the bundled default).")] = (
        PROFILE_FILE
    ),
    as_json: JsonOpt = False,
) -> None:
    """Fit the default profile on the bundled sample (Hyperliquid daily totals, OKX orders) and print its
    out-of-sample scores."""
    from rich.console import Console
    from rich.table import Table

    tmp = out.with_suffix(".json.tmp")
    try:  # fail before the fit, not after it
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.touch()
    except OSError as exc:
        raise LiqmapError(f"--out {out}: cannot write there ({exc.strerror}); choose a writable path") from None
    try:
        profile, report = calibrate_sample()
        tmp.write_text(json.dumps(profile.to_dict(), indent=1) + "\n")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    if as_json:
        typer.echo(json.dumps(report, indent=1))
        return
    console = Console(width=max(Console().width, 110))
    t = Table(title=f"Calibrated amounts, out of sample ({report['candidates']} candidates, {report['total_s']:.0f} s)")
    for col in ("split", "series", "periods", "side", "ratio", "ρ", "log err", "anchor ρ", "anchor log err", "where"):
        t.add_column(col, justify="right")

    def fmt(x: float | None, spec: str = ".2f") -> str:
        return "—" if x is None else format(x, spec)

    for split in ("asset_split", "time_split", "not_fitted"):
        for s in report[split]:
            for side in ("long", "short"):
                m, a = s["model"][side], s["anchor_scaled"][side]
                t.add_row(
                    split.replace("_", " "), s["series"], str(s["periods"]), side, fmt(m["ratio"]),
                    fmt(m["spearman"]), fmt(m["log_error"]), fmt(a["spearman"]), fmt(a["log_error"]),
                    fmt(s["location_log_score"]),
                )  # fmt: skip
    console.print(t)
    console.print(
        f"wrote {out} (profile 'default': tilt {profile.settings['leverage_tilt']}, liquidation share "
        f"{profile.settings['liquidation_share']}, per venue {profile.settings['venue_liquidation_share']})"
    )
