"""The screener (``liqmap scan``) over a large store, serially and on a local Dask cluster.

Builds a temporary DuckDB store with ``--symbols`` made-up symbols × 3 venues (binance, bybit, okx) × ``--days``
of hourly bars (random walks with wicks and an OI path, prices from $0.05 to $50k) and, for every series, a
stored two-tier table (none of the symbols is bundled, so every map uses the store's tiers: the store →
bundled → error resolution). Then scans the store with ``liqmap.scan.scan_store`` serially and on Dask, as
``liqmap scan`` does (the Dask wall time includes starting the ``LocalCluster``; a second Dask figure reuses
a running cluster). Goal: 100 symbols × 3 venues × 90 days scanned in < 30 s on the 2-core VM. The last line
is one JSON object.

    .venv/bin/python benchmarks/scan.py [--symbols 100] [--days 90] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

from liqmap.data.store import Store
from liqmap.margin import make_table
from liqmap.scan import scan_store

VENUES = ("binance", "bybit", "okx")
HOUR_MS = 3_600_000
START_MS = 1_764_547_200_000  # 2025-12-01 00:00 UTC
GOAL_S = 30.0


def hourly_bars(n: int, seed: int, price0: float) -> pd.DataFrame:
    """A random walk (≈ 2.5 % daily volatility, a few ±4 % hours) with wicks, volume and an OI path."""
    rng = np.random.default_rng(seed)
    ret = rng.normal(0, 0.005, n)
    ret[rng.integers(0, n, 6)] = rng.choice([-0.04, 0.04], 6)
    close = price0 * np.exp(np.cumsum(ret))
    open_ = np.concatenate([[price0], close[:-1]])
    wick = np.abs(rng.normal(0, 0.003, (2, n))) * close
    volume = rng.gamma(2.0, 5e6 / price0, n)
    oi = (4e8 / price0) * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pd.DataFrame(
        {
            "timestamp": START_MS + np.arange(n, dtype=np.int64) * HOUR_MS,
            "open": open_,
            "high": np.maximum(open_, close) + wick[0],
            "low": np.minimum(open_, close) - wick[1],
            "close": close,
            "volume": volume,
            "quote_volume": volume * close,
            "open_interest": oi,
        }
    )


def build_store(db: str, n_symbols: int, days: int) -> tuple[int, int]:
    """Write the bars and a stored tier table per series; ``(bar rows, tier rows)``."""
    n = days * 24
    prices = np.geomspace(0.05, 50_000, n_symbols)
    bar_rows = tier_rows = 0
    with Store(db) as store:
        for i in range(n_symbols):
            symbol = f"C{i:03d}/USDT:USDT"
            frames, tiers = [], []
            for j, venue in enumerate(VENUES):
                frames.append(hourly_bars(n, seed=1_000 * i + j, price0=float(prices[i])).assign(exchange=venue))
                # 50x to $1M, then 20x, maintenance by continuity; OKX tiers are base-unit quantities (tier 1 up
                # to $100M at the start price, so the grid's lowest bins, far below price, stay in it)
                floor = 1e6 if venue != "okx" else 1e8 / float(prices[i])
                rows = [(0.0, floor, 50.0, 0.01, None), (floor, floor * 1e4, 20.0, 0.025, None)]
                tiers += make_table(venue, symbol, rows, valid_from="2026-12-01", source="benchmark").to_records()
            bar_rows += store.upsert("bars", pd.concat(frames, ignore_index=True).assign(symbol=symbol))
            tier_rows += store.upsert("tiers", pd.DataFrame(tiers))
    return bar_rows, tier_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    series = args.symbols * len(VENUES)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "scan.duckdb")
        t0 = time.perf_counter()
        bar_rows, tier_rows = build_store(db, args.symbols, args.days)
        build_s = time.perf_counter() - t0
        scan_store(db, symbols=["C000/USDT:USDT"], dask=False)  # load the numba cache in this process

        t0 = time.perf_counter()
        serial = scan_store(db, dask=False)
        serial_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        dask = scan_store(db, dask=True, n_workers=args.workers)
        dask_s = time.perf_counter() - t0  # includes starting the cluster, as `liqmap scan --dask` does

        with (
            LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            warmup = [f"C{i:03d}/USDT:USDT" for i in range(2 * args.workers)]  # one task or more per worker
            scan_store(db, symbols=warmup, client=client)  # load every worker's numba cache first
            t0 = time.perf_counter()
            warm = scan_store(db, client=client)
            warm_s = time.perf_counter() - t0

    def rows(scan: object) -> list[dict]:
        return [r.to_dict() | {"age_hours": 0} for r in scan.rows]  # the age depends on when each scan ran

    same = rows(serial) == rows(dask) == rows(warm)
    tiers = sorted({r.tiers for r in serial.rows})
    for skip in serial.skipped[:3]:
        print(f"skipped {skip.exchange} {skip.symbol}: {skip.reason}")
    print(f"store: {args.symbols} symbols × {len(VENUES)} venues × {args.days} days of hourly bars")
    print(f"       {bar_rows:,} bars and {tier_rows:,} stored tier rows written in {build_s:.1f} s")
    print(f"rows: {len(serial.rows)} (skipped {len(serial.skipped)}), tier tables used: {', '.join(tiers)}")
    print(f"serial: {serial_s:.2f} s — {series / serial_s:.1f} series/s, {args.symbols / serial_s:.1f} symbols/s")
    print(
        f"dask ({args.workers} workers, cluster start included): {dask_s:.2f} s — {series / dask_s:.1f} series/s, "
        f"{args.symbols / dask_s:.1f} symbols/s"
    )
    print(f"dask on a running cluster: {warm_s:.2f} s — {series / warm_s:.1f} series/s")
    print(f"ratio dask/serial (throughput): {serial_s / dask_s:.2f}x (running cluster {serial_s / warm_s:.2f}x)")
    best = min(serial_s, dask_s)
    verdict = "met" if best < GOAL_S else "missed"
    print(f"goal < {GOAL_S:.0f} s for the whole scan: {verdict} ({best:.2f} s, best of serial and dask)")
    print(f"dask rows equal serial rows: {same}")
    print(
        json.dumps(
            {
                "symbols": args.symbols,
                "venues": len(VENUES),
                "series": series,
                "days": args.days,
                "bars": bar_rows,
                "tier_rows": tier_rows,
                "workers": args.workers,
                "build_s": round(build_s, 2),
                "serial_s": round(serial_s, 2),
                "dask_s": round(dask_s, 2),
                "dask_running_cluster_s": round(warm_s, 2),
                "series_per_s_serial": round(series / serial_s, 2),
                "series_per_s_dask": round(series / dask_s, 2),
                "ratio_dask_over_serial": round(serial_s / dask_s, 2),
                "goal_s": GOAL_S,
                "goal_met": best < GOAL_S,
                "rows_equal": same,
            }
        )
    )


if __name__ == "__main__":
    main()
