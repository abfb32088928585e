"""Builders of canonical bars DataFrames in memory for the engine tests (imported as ``engine_bars``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqmap.engine import EngineConfig, IncrementalEngine

SYMBOL = "BTC/USDT:USDT"

# Hand-computable setup: two leverages, takers all at 50x and makers all at 10x, 1-USD bins from 50 to 150.
TINY_CFG = EngineConfig(
    leverages=(10.0, 50.0),
    aggressive_weights=(0.0, 1.0),  # takers all at 50x
    passive_weights=(1.0, 0.0),  # makers all at 10x
    price_range=(50.0, 150.0),
    bin_usd=1.0,  # bin i covers [50 + i, 51 + i), centre 50.5 + i
    seed_spread_pct=0.0,
    snapshot_every_ms=60_000,
)


def assert_incremental_matches(bars: pd.DataFrame, res, cfg: EngineConfig, trades_per_bar=None) -> None:
    """Feed ``bars`` (one exchange) bar by bar to an :class:`IncrementalEngine` on ``res``'s grid and assert
    every snapshot, the events, the accounting and the final books equal the batch result ``res`` bit for bit;
    ``trades_per_bar(i)`` gives bar ``i``'s trades."""
    exchange = str(bars["exchange"].iloc[0])
    eng = IncrementalEngine(exchange, str(bars["symbol"].iloc[0]), config=cfg, price_bins=res.grid)
    for i, row in enumerate(bars.to_dict("records")):
        eng.update(row, trades=None if trades_per_bar is None else trades_per_bar(i))
        lng, sht, lev_l, lev_s = eng.project()
        assert np.array_equal(lng, res.heatmap.long_usd[i]) and np.array_equal(sht, res.heatmap.short_usd[i])
        assert np.array_equal(lev_l, res.heatmap.long_by_leverage[i])
        assert np.array_equal(lev_s, res.heatmap.short_by_leverage[i])
    pd.testing.assert_frame_equal(eng.events(), res.events)
    pd.testing.assert_frame_equal(eng.accounting(), res.accounting)
    batch = res.engines[exchange]
    for a, b in ((eng.raw, batch.raw), (eng.st, batch.st), (eng.bounds, batch.bounds)):
        assert np.array_equal(a, b, equal_nan=True)


def flat_bars(prices, oi, exchange="binance", step_ms=60_000, **extra) -> pd.DataFrame:
    """Bars whose open = high = low = close = ``prices[i]`` (entries land in one bin)."""
    p = np.asarray(prices, dtype=float)
    df = pd.DataFrame(
        {
            "exchange": exchange,
            "symbol": SYMBOL,
            "timestamp": np.arange(len(p), dtype=np.int64) * step_ms,
            "open": p,
            "high": p,
            "low": p,
            "close": p,
            "volume": 4.0,
            "open_interest": np.asarray(oi, dtype=float),
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def random_bars(n=1_500, seed=7, exchange="binance", step_ms=60_000, start_ms=1_767_225_600_000) -> pd.DataFrame:
    """A random walk around 94k with wicks, taker flow, a mark basis, OI swings and a few crashes."""
    rng = np.random.default_rng(seed)
    ret = rng.normal(0, 0.002, n)
    ret[rng.integers(0, n, 5)] = rng.choice([-0.04, 0.04], 5)
    close = 94_000 * np.exp(np.cumsum(ret))
    open_ = np.concatenate([[94_000.0], close[:-1]])
    wick = np.abs(rng.normal(0, 0.0015, (2, n))) * close
    vol = rng.gamma(2.0, 5.0, n)
    oi = 50_000 + np.cumsum(rng.normal(0, 40, n))
    return pd.DataFrame(
        {
            "exchange": exchange,
            "symbol": SYMBOL,
            "timestamp": start_ms + np.arange(n, dtype=np.int64) * step_ms,
            "open": open_,
            "high": np.maximum(open_, close) + wick[0],
            "low": np.minimum(open_, close) - wick[1],
            "close": close,
            "volume": vol,
            "quote_volume": vol * close,
            "taker_buy_volume": vol * rng.uniform(0.2, 0.8, n),
            "open_interest": oi,
            "mark_price": close * (1 + rng.normal(0, 2e-4, n)),
        }
    )
