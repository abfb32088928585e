"""Builders of canonical bars DataFrames in memory for the engine tests (imported as ``engine_bars``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

SYMBOL = "BTC/USDT:USDT"


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
