"""Deterministic canonical tables for the data-layer tests (importable as `datafactories`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

T0_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MINUTE_MS = 60_000


def make_bars(
    n: int = 10, step_ms: int = MINUTE_MS, exchange: str = "binance", symbol: str = "BTCUSDT", t0_ms: int = T0_MS
) -> pd.DataFrame:
    """Deterministic valid 1-minute bars with every optional column filled."""
    i = np.arange(n, dtype="float64")
    close = 90_000.0 + 10.0 * i
    return pd.DataFrame(
        {
            "exchange": exchange,
            "symbol": symbol,
            "timestamp": t0_ms + np.arange(n, dtype="int64") * step_ms,
            "open": close - 5.0,
            "high": close + 20.0,
            "low": close - 20.0,
            "close": close,
            "volume": 1.0 + i,
            "quote_volume": (1.0 + i) * close,
            "taker_buy_volume": 0.5 * (1.0 + i),
            "open_interest": 1000.0 + i,
            "open_interest_usd": (1000.0 + i) * close,
            "funding_rate": 1e-4,
            "mark_price": close + 1.0,
            "long_short_ratio": 1.5,
        }
    )


def make_tiers() -> pd.DataFrame:
    """Two valid Binance BTCUSDT margin tiers (canonical columns without ``valid_from``/``source``)."""
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "tier": [1, 2],
            "notional_floor": [0.0, 300_000.0],
            "notional_cap": [300_000.0, 800_000.0],
            "max_leverage": [150.0, 100.0],
            "maintenance_margin_rate": [0.004, 0.005],
            "maintenance_amount": [0.0, 300.0],
        }
    )
