"""Engine throughput: one year of synthetic 1-minute bars (525,600) × 2,000 price bins × 6 leverages.

Prints the batch time and bars/s (hourly heatmap snapshots), the incremental ``update(bar)`` latency
percentiles, state memory and peak RSS; the last line is one JSON object.

    .venv/bin/python benchmarks/engine.py [--bars 525600] [--bins 2000]

NumPy asks the kernel for transparent huge pages on large arrays; on hosts with THP ``defrag=madvise`` (this
VM) first-touching the 280 MB heatmap then stalls in page compaction. The benchmark therefore defaults
``NUMPY_MADVISE_HUGEPAGE=0`` (a deployment setting, see docs/engine.md); run it with
``NUMPY_MADVISE_HUGEPAGE=1`` to measure NumPy's default.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")  # must precede the NumPy import

import argparse
import gc
import json
import resource
import time

import numpy as np
import pandas as pd

from liqmap.engine import EngineConfig, IncrementalEngine, Model, run
from liqmap.engine._prep import split_bars


def synthetic_bars(n: int, seed: int = 1) -> pd.DataFrame:
    """A 1-minute BTC-like random walk (fat-tailed returns) with wicks, taker flow, a mark basis and OI."""
    rng = np.random.default_rng(seed)
    ret = rng.standard_t(4, n) * 0.0004
    close = 60_000 * np.exp(np.cumsum(ret))
    open_ = np.concatenate([[60_000.0], close[:-1]])
    wick = np.abs(rng.normal(0, 0.0004, (2, n))) * close
    vol = rng.gamma(2.0, 20.0, n)
    oi = 80_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, n)))
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTC/USDT:USDT",
            "timestamp": 1_735_689_600_000 + np.arange(n, dtype=np.int64) * 60_000,
            "open": open_,
            "high": np.maximum(open_, close) + wick[0],
            "low": np.minimum(open_, close) - wick[1],
            "close": close,
            "volume": vol,
            "quote_volume": vol * close,
            "taker_buy_volume": vol * rng.uniform(0.3, 0.7, n),
            "open_interest": oi,
            "mark_price": close * (1 + rng.normal(0, 1e-4, n)),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=525_600)
    ap.add_argument("--bins", type=int, default=2_000)
    ap.add_argument("--updates", type=int, default=100_000, help="bars fed one by one for the latency figure")
    args = ap.parse_args()
    bars = synthetic_bars(args.bars)
    cfg = EngineConfig(n_bins=args.bins, snapshot_every_ms=3_600_000)
    run(bars.iloc[:2_000], config=cfg)  # JIT warm-up (cached after the first ever run)

    t0 = time.perf_counter()
    res = run(bars, config=cfg)
    batch_s = time.perf_counter() - t0
    hm = res.heatmap
    eng = res.engines["binance"]
    lo, hi = float(bars["low"].min()), float(bars["high"].max())
    print(f"bars: {len(bars):,} 1-minute bars, price {lo:,.0f}–{hi:,.0f}")
    print(f"NUMPY_MADVISE_HUGEPAGE={os.environ['NUMPY_MADVISE_HUGEPAGE']}, load average {os.getloadavg()[0]:.1f}")
    print(f"grid: {len(res.grid):,} bins of {hm.bin_usd:,.2f} USD × {len(cfg.leverages)} leverages")
    print(f"batch: {batch_s:.2f} s → {len(bars) / batch_s:,.0f} bars/s")
    print(f"heatmap: {hm.long_usd.shape[0]:,} hourly snapshots × {hm.long_usd.shape[1]:,} bins")
    print(
        f"events: {len(res.events):,} predicted liquidation rows, {res.events['notional_usd'].sum() / 1e9:,.1f} B USD"
    )
    print(f"state: {eng.state_nbytes / 1e6:.2f} MB per exchange (O(bins × leverages))")

    t = time.perf_counter()
    _, arrays, _ = split_bars(bars, Model.OI_DELTA)
    validate_s = time.perf_counter() - t
    bare = IncrementalEngine("binance", "BTCUSDT", config=cfg, price_bins=res.grid)
    no_rows = np.full(len(bars), -1, dtype=np.int64)
    empty = (np.zeros((1, 0)), np.zeros((1, 0)), np.zeros((1, 0, 0)), np.zeros((1, 0, 0)))
    t = time.perf_counter()
    bare.run_bars(arrays["binance"], no_rows, empty, False)
    kernel_s = time.perf_counter() - t
    print(f"phases: validation {validate_s:.2f} s, kernel without snapshots {kernel_s:.2f} s")

    live = IncrementalEngine("binance", "BTCUSDT", config=cfg, price_bins=res.grid)
    rows = bars.iloc[: args.updates].to_dict("records")
    gc.freeze()  # the harness's 100k input dicts are not the engine's: keep them out of GC passes
    lat = np.empty(len(rows))
    clock = time.perf_counter_ns
    cpu = time.process_time()
    for i, row in enumerate(rows):
        t = clock()
        live.update(row)
        lat[i] = clock() - t
    update_cpu_us = (time.process_time() - cpu) / len(rows) * 1e6  # CPU time: steadier than wall on a shared VM
    lat_us = lat / 1e3
    p50, p99, p999 = (float(np.percentile(lat_us, q)) for q in (50, 99, 99.9))
    print(f"update(bar): p50 {p50:.1f} µs, p99 {p99:.1f} µs, p99.9 {p999:.1f} µs over {len(rows):,} bars")
    print(f"update(bar) CPU time: {update_cpu_us:.2f} µs per bar (with the latency clock)")
    t = time.perf_counter()
    n_maps = 200
    for _ in range(n_maps):
        live.liqmap()
    map_us = (time.perf_counter() - t) / n_maps * 1e6
    map_cpu = []
    for _ in range(5):
        cpu = time.process_time()
        for _ in range(n_maps):
            live.liqmap()
        map_cpu.append((time.process_time() - cpu) / n_maps * 1e6)
    map_cpu_us = min(map_cpu)
    print(f"liqmap() snapshot: {map_us:.0f} µs wall, {map_cpu_us:.1f} µs CPU time (min of 5 × {n_maps})")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:,.0f} MB (includes the {len(bars):,}-row input frame and the heatmap)")
    print(
        json.dumps(
            {
                "bars": len(bars),
                "bins": len(res.grid),
                "leverages": len(cfg.leverages),
                "batch_s": round(batch_s, 3),
                "bars_per_s": round(len(bars) / batch_s),
                "snapshots": int(hm.long_usd.shape[0]),
                "validate_s": round(validate_s, 3),
                "kernel_s": round(kernel_s, 3),
                "update_p50_us": round(p50, 2),
                "update_p99_us": round(p99, 2),
                "update_p999_us": round(p999, 2),
                "update_cpu_us": round(update_cpu_us, 2),
                "liqmap_us": round(map_us, 1),
                "liqmap_cpu_us": round(map_cpu_us, 1),
                "state_mb": round(eng.state_nbytes / 1e6, 3),
                "peak_rss_mb": round(peak_mb, 1),
                "numpy_madvise_hugepage": os.environ["NUMPY_MADVISE_HUGEPAGE"],
                "load_average": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
