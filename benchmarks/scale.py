"""Scale-out: the engine over many series, serially vs on a local Dask cluster.

Builds a temporary DuckDB store with ``--series`` synthetic 1-minute series (``--days`` each; exchanges
binance/bybit/okx/sim × BTC/ETH), then runs every series serially in this process and in parallel on a
``LocalCluster`` (one single-threaded worker process per core). Prints series/s and the speed-up; the last
line is one JSON object.

    .venv/bin/python benchmarks/scale.py [--series 8] [--days 30]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster

from engine import synthetic_bars  # benchmarks/engine.py
from liqmap.data.store import Store
from liqmap.engine import EngineConfig
from liqmap.scale import SeriesJob, run_series

SERIES = [(ex, sym) for sym in ("BTC/USDT:USDT", "ETH/USDT:USDT") for ex in ("binance", "bybit", "okx", "sim")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=8, choices=range(1, len(SERIES) + 1))
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    n_bars = args.days * 1_440
    config = EngineConfig(tier_exchange={"bybit": "binance", "okx": "binance"})
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "scale.duckdb")
        with Store(db) as store:
            for i, (ex, sym) in enumerate(SERIES[: args.series]):
                bars = synthetic_bars(n_bars, seed=i + 1).assign(exchange=ex, symbol=sym)
                if sym.startswith("ETH"):
                    bars[["open", "high", "low", "close", "mark_price"]] /= 25.0
                store.upsert("bars", bars)
        jobs = [SeriesJob(sym, (ex,)) for ex, sym in SERIES[: args.series]]
        run_series(jobs[0], db, "oi-delta", config, False)  # warm the JIT cache in this process

        t0 = time.perf_counter()
        for job in jobs:
            run_series(job, db, "oi-delta", config, False)
        serial_s = time.perf_counter() - t0

        workers = os.cpu_count() or 1
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            client.gather(
                client.map(
                    run_series,
                    jobs[:workers],
                    db_path=db,
                    model="oi-delta",
                    config=config,
                    keep_heatmap=False,
                    pure=False,
                )
            )  # warm each worker
            t0 = time.perf_counter()
            client.gather(
                client.map(
                    run_series, jobs, db_path=db, model="oi-delta", config=config, keep_heatmap=False, pure=False
                )
            )
            dask_s = time.perf_counter() - t0
    print(f"{args.series} series × {n_bars:,} one-minute bars ({args.series * n_bars:,} bars)")
    print(f"serial: {serial_s:.2f} s ({args.series / serial_s:.2f} series/s)")
    print(f"dask LocalCluster, {workers} workers: {dask_s:.2f} s ({args.series / dask_s:.2f} series/s)")
    print(f"speed-up: {serial_s / dask_s:.2f}x on {workers} cores")
    print(
        json.dumps(
            {
                "series": args.series,
                "bars_per_series": n_bars,
                "workers": workers,
                "serial_s": round(serial_s, 2),
                "dask_s": round(dask_s, 2),
                "speedup": round(serial_s / dask_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
