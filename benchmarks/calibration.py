"""Calibration time and the out-of-sample amount scores it buys (the protocol of ``liqmap calibrate``).

Runs the grid on the bundled sample (SOL, DOGE, HYPE on Hyperliquid — daily totals — and OKX — hourly orders;
one engine run per candidate and series), the asset- and time-split cross-validation and the never-fitted OKX
BTC/ETH check, without writing the profile. Prints the wall time, engine runs per second and, per
split/series/side, predicted/realized, Spearman and log error beside the share-fitted ``drawdown × OI`` /
``run-up × OI`` anchor (raw for the never-fitted rows) and the log score of where the OKX orders happened;
the last line is one JSON object.

    .venv/bin/python benchmarks/calibration.py
"""

from __future__ import annotations

import json

from liqmap.cli.calibrate import FIT_COINS, calibrate_sample


def main() -> None:
    profile, report = calibrate_sample()
    runs = report["candidates"] * 2 * len(FIT_COINS)
    print(
        f"calibrated {report['candidates']} candidates × {2 * len(FIT_COINS)} series in {report['total_s']:.1f} s "
        f"({runs / report['engine_runs_s']:.1f} engine runs/s over ~2,100 hourly bars each)"
    )
    fitted = profile.scores["in_sample"]
    print(f"chosen {fitted['params']}, liquidation shares {fitted['liquidation_share']}")
    rows = {}
    for split in ("asset_split", "time_split", "not_fitted"):
        for s in report[split]:
            for side in ("long", "short"):
                m, a = s["model"][side], s["anchor_scaled"][side]
                key = f"{split} {s['series']} {side}"
                rows[key] = {k: m[k] for k in ("ratio", "spearman", "log_error")} | {
                    "anchor_spearman": a["spearman"],
                    "anchor_log_error": a["log_error"],
                    "where_log_score": s["location_log_score"],
                }
                print(f"{key:34s} {s['periods']:3d}  " + "  ".join(f"{k} {_f(v)}" for k, v in rows[key].items()))
    print(json.dumps({"seconds": round(report["total_s"], 1), "candidates": report["candidates"], "scores": rows}))


def _f(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    main()
