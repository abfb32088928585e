"""Margin benchmark: vectorised liquidation-price throughput and how far the naive formula is off.

Run: ``python benchmarks/margin.py``. Prints positions/s of :func:`liqmap.margin.liquidation_prices`
(numba kernel) and, for a 1-BTC position at $94,000 on Binance's bundled BTCUSDT table, the exact
liquidation price next to the common ``entry × (1 ∓ 1/L)`` approximation. Last line: one JSON object.
"""

from __future__ import annotations

import json
import time

import numpy as np

from liqmap.margin import get_tiers, liquidation_price, liquidation_prices


def main() -> None:
    tiers = get_tiers("binance", "BTCUSDT")
    rng = np.random.default_rng(0)
    n = 2_000_000
    side = rng.choice([1, -1], n)
    entry = rng.uniform(60_000, 110_000, n)
    lev = rng.choice([5.0, 10.0, 20.0, 25.0, 50.0, 100.0], n)
    notional = rng.uniform(100, 250_000, n)
    liquidation_prices(tiers, side[:10], entry[:10], lev[:10], notional[:10])  # compile / load cache
    t0 = time.perf_counter()
    liquidation_prices(tiers, side, entry, lev, notional)
    per_s = n / (time.perf_counter() - t0)
    print(f"vectorised liquidation prices: {per_s:,.0f} positions/s ({n:,} positions)")
    print(f"{'case':<12}{'exact':>12}{'naive':>12}{'naive − exact':>16}")
    worst = 0.0
    for lev_x in (5, 10, 25, 50, 100):
        for side_name in ("long", "short"):
            r = liquidation_price("binance", "BTCUSDT", side_name, 94_000, lev_x, 94_000, tiers=tiers)
            diff = r.naive_price - r.liquidation_price
            worst = max(worst, abs(diff))
            print(f"{lev_x:>3}x {side_name:<7}{r.liquidation_price:>12,.2f}{r.naive_price:>12,.2f}{diff:>+16,.2f}")
    print(json.dumps({"positions_per_s": round(per_s), "max_naive_error_usd_at_94k": round(worst, 2)}))


if __name__ == "__main__":
    main()
