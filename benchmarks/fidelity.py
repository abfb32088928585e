"""Fidelity of each engine model against the simulator's known liquidation map, per regime and seed.

For every (regime, seed) a market is simulated (``--days`` days, ``--traders`` traders, one warm-up day so
positions pre-exist), the engine runs each model on the simulated bars, and :mod:`liqmap.sim.score` compares
its heatmap with the truth (hourly, ±15 % of price). Prints one Markdown row per run and model, then the means
per regime and whether ``oi-delta`` beats both baselines on each metric; the last line is one JSON object.

    .venv/bin/python benchmarks/fidelity.py [--seeds 1 2 3] [--days 7] [--traders 5000]
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd

from liqmap.sim import Regime, SimConfig, simulate
from liqmap.sim.score import MODELS, score_models

METRICS = ("density_corr", "emd_pct", "top_decile_capture", "liq_volume_corr")
EXTRA = ("liq_volume_ratio",)
HIGHER_IS_BETTER = {"density_corr": True, "emd_pct": False, "top_decile_capture": True, "liq_volume_corr": True}


def _fmt(x: object) -> str:
    return "—" if x is None or (isinstance(x, float) and pd.isna(x)) else f"{x:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--regimes", nargs="+", default=[r.value for r in Regime])
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--traders", type=int, default=5_000)
    args = ap.parse_args()

    t0 = time.perf_counter()
    rows = []
    for regime in args.regimes:
        for seed in args.seeds:
            run = simulate(SimConfig(seed=seed, days=args.days, n_traders=args.traders, regime=regime))
            move = run.bars["close"].iloc[-1] / run.bars["open"].iloc[0] - 1
            for model, s in score_models(run.bars, run.truth, run.liquidations, MODELS).items():
                rows.append(
                    {"regime": regime, "seed": seed, "move_pct": 100 * move, "model": model}
                    | {m: getattr(s, m) for m in METRICS + EXTRA}
                )
    df = pd.DataFrame(rows)
    print(f"{args.days:g} days × {args.traders:,} traders per run; ±15 % window, hourly truth\n")
    print(
        "| regime | seed | price move | model | density corr ↑ | EMD % of price ↓ | top-decile capture ↑ "
        "| liq-volume corr ↑ | predicted / realised liq. volume |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['regime']} | {r['seed']} | {r['move_pct']:+.1f} % | {r['model']} | "
            + " | ".join(_fmt(r[m]) for m in METRICS + EXTRA)
            + " |"
        )
    means = df.groupby(["regime", "model"], sort=False)[list(METRICS + EXTRA)].mean()
    print("\nMeans over seeds\n")
    print("| regime | model | density corr | EMD % | top-decile capture | liq-volume corr | predicted / realised |")
    print("|---|---|---|---|---|---|---|")
    for (regime, model), r in means.iterrows():
        print(f"| {regime} | {model} | " + " | ".join(_fmt(r[m]) for m in METRICS + EXTRA) + " |")
    wins = {}
    for m in METRICS:
        piv = df.pivot_table(index=["regime", "seed"], columns="model", values=m, dropna=False)
        oi = piv["oi-delta"]
        beats = [
            (oi > piv[b]) if HIGHER_IS_BETTER[m] else (oi < piv[b])
            for b in ("volume", "uniform")
            if not piv[b].isna().all()
        ]
        ok = pd.concat(beats, axis=1).all(axis=1)
        wins[m] = f"{int(ok.sum())}/{len(ok)}"
    print(
        "\nRuns where oi-delta beats every baseline that has the metric: "
        + ", ".join(f"{m} {w}" for m, w in wins.items())
    )
    print(
        json.dumps(
            {
                "runs": len(df) // len(MODELS),
                "oi_delta_wins": wins,
                "means": {
                    f"{k[0]}/{k[1]}": {m: (None if pd.isna(v[m]) else round(float(v[m]), 4)) for m in METRICS + EXTRA}
                    for k, v in means.iterrows()
                },
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
