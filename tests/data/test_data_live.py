"""Against the real exchanges (``pytest -m live``; off by default and in CI, which has no network)."""

import time

import numpy as np
import pytest

from liqmap.data.connectors import Dataset, fetch_into_store
from liqmap.data.store import Store

pytestmark = pytest.mark.live

HOUR_MS = 3_600_000


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx"])
def test_fetch_one_day_of_hourly_bars_with_oi_and_funding(tmp_path, exchange):
    since = (int(time.time() * 1000) // HOUR_MS - 48) * HOUR_MS
    until = since + 23 * HOUR_MS
    datasets = [Dataset.OHLCV, Dataset.OPEN_INTEREST, Dataset.FUNDING]
    with Store(tmp_path / "live.duckdb") as store:
        first = fetch_into_store(store, exchange, "BTC/USDT:USDT", datasets, since, until)
        again = fetch_into_store(store, exchange, "BTC/USDT:USDT", datasets, since, until)
        bars = store.query_bars(exchange, "BTC/USDT:USDT", since, until)
    assert first["ohlcv"] == 24 and len(bars) == 24
    assert np.all(np.diff(bars["timestamp"].to_numpy()) == HOUR_MS)
    assert (bars["low"] <= bars["close"]).all() and (bars["close"] <= bars["high"]).all()
    assert bars["close"].between(1_000, 10_000_000).all()
    assert bars["open_interest"].notna().any() and (bars["open_interest"].dropna() > 0).all()
    assert again["ohlcv"] <= 1  # resume re-fetches only the last stored bar
