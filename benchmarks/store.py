"""Store throughput: import one year of 1-minute bars (525,600 rows) and query 30 days at 1m and 1h.

Run: ``.venv/bin/python benchmarks/store.py``. Synthetic bars (a seeded random walk with every column
filled) in a temporary DuckDB file. Targets (issue 3): import ≥ 500k rows/s, 30-day query < 50 ms.
"""

from __future__ import annotations

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


def _median_ms(fn) -> float:
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    bars = synthetic_bars()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        with Store(path) as store:
            t = time.perf_counter()
            store.upsert("bars", bars)
            first_s = time.perf_counter() - t
            t = time.perf_counter()
            store.upsert("bars", bars)  # idempotent re-import: every row replaced, none added
            again_s = time.perf_counter() - t
            rows = store.info()["rows"]["bars"]
        with Store(path, read_only=True) as store:
            start = T0_MS + 200 * 1440 * MINUTE_MS
            end = start + 30 * 1440 * MINUTE_MS - MINUTE_MS
            n_1m = len(store.query_bars("binance", "BTCUSDT", start, end))
            n_1h = len(store.query_bars("binance", "BTCUSDT", start, end, timeframe="1h"))
            q_1m = _median_ms(lambda: store.query_bars("binance", "BTCUSDT", start, end))
            q_1h = _median_ms(lambda: store.query_bars("binance", "BTCUSDT", start, end, timeframe="1h"))
            q_4h_year = _median_ms(lambda: store.query_bars("binance", "BTCUSDT", timeframe="4h"))
    print(f"bars stored: {rows:,} (after import + idempotent re-import of {N_BARS:,})")
    print(
        f"import (validate + upsert): {N_BARS / first_s:,.0f} rows/s ({first_s * 1000:.0f} ms); "
        f"target ≥ 500,000 rows/s → {N_BARS / first_s / 500_000:.2f}× target"
    )
    print(f"re-import (replace all):    {N_BARS / again_s:,.0f} rows/s ({again_s * 1000:.0f} ms)")
    print(
        f"query 30 days @1m ({n_1m:,} rows): {q_1m:.1f} ms median of {REPEATS}; target < 50 ms → "
        f"{50 / q_1m:.1f}× headroom"
    )
    print(f"query 30 days @1h ({n_1h:,} rows, resampled from 1m): {q_1h:.1f} ms; → {50 / q_1h:.1f}× headroom")
    print(f"query 1 year @4h (resampled, {N_BARS // 240:,} buckets): {q_4h_year:.1f} ms")


if __name__ == "__main__":
    main()
