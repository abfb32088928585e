"""Simulator throughput: 30 simulated days (43,200 one-minute bars) with 10,000 traders.

Prints the wall time of the run (after a small warm-up run that loads the compiled kernel from numba's
cache or compiles it), one-minute steps per second and trader-steps per second, plus the run's headline
numbers; the last line is one JSON object.

    .venv/bin/python benchmarks/sim.py [--days 30] [--traders 10000] [--regime crash] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import time

from liqmap.sim import SimConfig, simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--traders", type=int, default=10_000)
    ap.add_argument("--regime", default="calm")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    t0 = time.perf_counter()
    simulate(SimConfig(seed=0, days=0.1, n_traders=50, warmup_days=0.0))
    load_s = time.perf_counter() - t0

    cfg = SimConfig(seed=args.seed, days=args.days, n_traders=args.traders, regime=args.regime, warmup_days=0.0)
    t0 = time.perf_counter()
    res = simulate(cfg)
    run_s = time.perf_counter() - t0
    steps = cfg.n_minutes
    out = {
        "days": args.days,
        "traders": args.traders,
        "regime": args.regime,
        "steps": steps,
        "substeps_per_step": cfg.substeps,
        "seconds": round(run_s, 2),
        "steps_per_s": round(steps / run_s),
        "trader_steps_per_s": round(steps * args.traders / run_s),
        "kernel_load_or_compile_s": round(load_s, 2),
        "liquidations": len(res.liquidations),
        "positions_opened": res.counters["opened"],
        "truth_rows": len(res.truth),
        "under_a_minute": run_s < 60.0,
    }
    print(
        f"simulated {args.days:g} days ({steps:,} one-minute steps) with {args.traders:,} traders "
        f"({args.regime}) in {run_s:.1f} s"
    )
    print(
        f"{steps / run_s:,.0f} steps/s, {steps * args.traders / run_s:,.0f} trader-steps/s "
        f"(kernel load/compile {load_s:.1f} s, excluded)"
    )
    print(f"{len(res.liquidations):,} liquidations, {res.counters['opened']:,} positions opened")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
