"""Calibration time and the out-of-sample amount scores it buys (the protocol of ``liqmap calibrate``).

Runs the grid on the bundled Hyperliquid sample (SOL, DOGE, HYPE; engine runs per candidate and series),
the asset- and time-split cross-validation and the OKX BTC/ETH hourly check, without writing the profile.
Prints the wall time, engine runs per second and, per split/series/side, predicted/realized, Spearman and
log error beside the share-fitted ``drawdown × OI`` / ``run-up × OI`` anchor; the last line is one JSON object.

    .venv/bin/python benchmarks/calibration.py
"""

from __future__ import annotations

import json

from liqmap.cli.calibrate import FIT_COINS, calibrate_sample


def main() -> None:
    profile, report = calibrate_sample()
    runs = report["candidates"] * len(FIT_COINS)
    print(
        f"calibrated {report['candidates']} candidates × {len(FIT_COINS)} series in {report['total_s']:.1f} s "
        f"({runs / report['engine_runs_s']:.1f} engine runs/s over ~2,100 hourly bars each)"
    )
    print(f"chosen {profile.scores['in_sample']['params']}, liquidation share {profile.settings['liquidation_share']}")
    rows = {}
    for split in ("asset_split", "time_split"):
        for s in report[split]:
            for side in ("long", "short"):
                m, a = s["model"][side], s["anchor_scaled"][side]
                key = f"{split} {s['series']} {side}"
                rows[key] = {k: m[k] for k in ("ratio", "spearman", "log_error")} | {
                    "anchor_spearman": a["spearman"],
                    "anchor_log_error": a["log_error"],
                }
                print(f"{key:24s} {s['periods']:3d} d  " + "  ".join(f"{k} {_f(v)}" for k, v in rows[key].items()))
    for coin, r in report["okx_hourly_not_fitted"].items():
        for side in ("long", "short"):
            m = r[side]
            rows[f"okx {coin} {side}"] = {k: m[k] for k in ("ratio", "spearman", "log_error")}
            print(f"okx hourly {coin} {side:5s}   {r['hours']:3d} h  ratio {_f(m['ratio'])}  ρ {_f(m['spearman'])}")
    print(json.dumps({"seconds": round(report["total_s"], 1), "candidates": report["candidates"], "scores": rows}))


def _f(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    main()
