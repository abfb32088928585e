"""Store throughput: import one year of 1-minute bars (525,600 rows) and query 30 days at 1m and 1h.

Run: ``.venv/bin/python benchmarks/store.py``. Synthetic bars (a seeded random walk with every column
filled) in a temporary DuckDB file. Targets (issue 3): import ≥ 500k rows/s, 30-day query < 50 ms.
The last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap.data.store import Store

N_BARS = 525_600
MINUTE_MS = 60_000
T0_MS = 1_735_689_600_000  # 2025-01-01 00:00 UTC
REPEATS = 15
IMPORT_RUNS = 3


def synthetic_bars(n: int = N_BARS, seed: int = 7) -> pd.DataFrame:
    """A seeded random walk of 1-minute BTC bars with consistent OHLC and every optional column."""
    rng = np.random.default_rng(seed)
    close = 90_000.0 * np.exp(np.cumsum(rng.normal(0.0, 4e-4, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    wick = np.abs(rng.normal(0.0, 2e-4, n)) * close
    volume = rng.gamma(2.0, 5.0, n)
    oi = 80_000.0 + np.cumsum(rng.normal(0.0, 20.0, n))
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTC/USDT:USDT",
            "timestamp": T0_MS + np.arange(n, dtype="int64") * MINUTE_MS,
            "open": open_,
            "high": np.maximum(open_, close) + wick,
            "low": np.minimum(open_, close) - wick,
            "close": close,
            "volume": volume,
            "quote_volume": volume * close,
            "taker_buy_volume": volume * rng.uniform(0.3, 0.7, n),
            "open_interest": oi,
            "open_interest_usd": oi * close,
            "funding_rate": np.repeat(rng.normal(1e-4, 5e-5, n // 480 + 1), 480)[:n],
            "mark_price": close * (1 + rng.normal(0.0, 1e-5, n)),
            "long_short_ratio": 1.5 + 0.1 * np.sin(np.arange(n) / 1440),
        }
    )


def _timed_ms(fn, repeats: int = REPEATS) -> tuple[float, float]:
    """(median, best) wall time in ms over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times)


def _import_once(bars: pd.DataFrame, path: Path) -> tuple[float, float]:
    """Import into a fresh store: (wall s, process CPU s)."""
    with Store(path) as store:
        wall, cpu = time.perf_counter(), time.process_time()
        store.upsert("bars", bars)
        return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    bars = synthetic_bars()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        runs = [_import_once(bars, Path(tmp) / f"bench{i}.duckdb") for i in range(IMPORT_RUNS)]
        path = Path(tmp) / "bench0.duckdb"
        with Store(path) as store:
            t = time.perf_counter()
            store.upsert("bars", bars)  # idempotent re-import: every row replaced, none added
            again_s = time.perf_counter() - t
            rows = store.info()["rows"]["bars"]
        with Store(path, read_only=True) as store:
            start = T0_MS + 200 * 1440 * MINUTE_MS
            end = start + 30 * 1440 * MINUTE_MS - MINUTE_MS
            n_1m = len(store.query_bars("binance", "BTCUSDT", start, end))
            n_1h = len(store.query_bars("binance", "BTCUSDT", start, end, timeframe="1h"))
            q_1m = _timed_ms(lambda: store.query_bars("binance", "BTCUSDT", start, end))
            q_1h = _timed_ms(lambda: store.query_bars("binance", "BTCUSDT", start, end, timeframe="1h"))
            q_4h = _timed_ms(lambda: store.query_bars("binance", "BTCUSDT", timeframe="4h"), 5)
    walls = sorted(w for w, _ in runs)
    best_wall, median_wall = walls[0], statistics.median(walls)
    cpu = min(c for _, c in runs)
    print(f"machine: {os.cpu_count()} cores, 1-min load average {load:.1f} at start (other jobs slow wall times)")
    print(f"bars stored: {rows:,} after {IMPORT_RUNS} fresh imports and one idempotent re-import of {N_BARS:,}")
    print(
        f"import (validate + upsert), best of {IMPORT_RUNS}: {N_BARS / best_wall:,.0f} rows/s "
        f"({best_wall * 1000:.0f} ms; median {N_BARS / median_wall:,.0f} rows/s); "
        f"target ≥ 500,000 rows/s → {N_BARS / best_wall / 500_000:.2f}× target"
    )
    print(f"import CPU time: {cpu * 1000:.0f} ms of process CPU → {N_BARS / cpu:,.0f} rows per CPU-second")
    print(f"re-import (replace all):    {N_BARS / again_s:,.0f} rows/s ({again_s * 1000:.0f} ms)")
    print(
        f"query 30 days @1m ({n_1m:,} rows): median {q_1m[0]:.1f} ms, best {q_1m[1]:.1f} ms of {REPEATS}; "
        f"target < 50 ms → {50 / q_1m[0]:.1f}× headroom (median)"
    )
    print(
        f"query 30 days @1h ({n_1h:,} rows, resampled from 1m): median {q_1h[0]:.1f} ms, best {q_1h[1]:.1f} ms; "
        f"→ {50 / q_1h[0]:.1f}× headroom (median)"
    )
    print(f"query 1 year @4h (resampled, {N_BARS // 240:,} buckets): median {q_4h[0]:.1f} ms")
    summary = {
        "rows": N_BARS,
        "import_rows_per_s_best": round(N_BARS / best_wall),
        "import_rows_per_s_median": round(N_BARS / median_wall),
        "import_rows_per_cpu_s": round(N_BARS / cpu),
        "reimport_rows_per_s": round(N_BARS / again_s),
        "query_30d_1m_ms": round(q_1m[0], 2),
        "query_30d_1h_ms": round(q_1h[0], 2),
        "query_1y_4h_ms": round(q_4h[0], 2),
        "load_average": round(load, 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
