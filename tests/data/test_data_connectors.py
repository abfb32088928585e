"""Connectors against a local fake exchange (127.0.0.1): pagination, resume, retries, faults, parsing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqmap.data.connectors import Dataset, connector, fetch_into_store
from liqmap.data.connectors.base import ConnectorError
from liqmap.data.sample import sample_bars, sample_liquidations

SINCE = 1_764_892_800_000  # 2025-12-05 00:00 UTC
UNTIL = SINCE + 40 * 24 * 3_600_000  # 40 days of hourly bars
H = 3_600_000


def _conn(exchange, fake, **kw):
    delays: list[float] = []
    kw.setdefault("timeout_ms", 10_000)  # the "timeout" fault tests pass a short one
    conn = connector(exchange, api_url=fake.url, rate_limit_ms=1, backoff_s=0.01, sleep=delays.append, **kw)
    return conn, delays


def _real(exchange, coin="BTC"):
    b = sample_bars()
    return b[(b["exchange"] == exchange) & (b["symbol"] == f"{coin}/USDT:USDT")].reset_index(drop=True)


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx"])
def test_fetch_ohlcv_oi_funding_reproduces_the_real_rows(exchange, fake_exchange, store):
    conn, _ = _conn(exchange, fake_exchange)
    counts = fetch_into_store(
        store,
        exchange,
        "BTC/USDT:USDT",
        [Dataset.OHLCV, Dataset.OPEN_INTEREST, Dataset.FUNDING],
        SINCE,
        UNTIL,
        "1h",
        client=conn,
    )
    got = store.query_bars(exchange, "BTCUSDT")
    real = _real(exchange)
    real = real[(real["timestamp"] >= SINCE) & (real["timestamp"] <= UNTIL)].reset_index(drop=True)
    assert counts["ohlcv"] == len(real) == len(got)
    np.testing.assert_allclose(
        got[["open", "high", "low", "close", "volume"]], real[["open", "high", "low", "close", "volume"]]
    )
    np.testing.assert_allclose(got["quote_volume"], real["quote_volume"], rtol=1e-12)
    # OI snapshots stamped at each bar close come back onto the same bars
    both = real["open_interest"].notna()
    np.testing.assert_allclose(got.loc[both, "open_interest"], real.loc[both, "open_interest"], rtol=1e-9)
    np.testing.assert_allclose(got.loc[both, "open_interest_usd"], real.loc[both, "open_interest_usd"], rtol=1e-6)
    # funding: every 8-hourly value recorded in the sample is re-derived through the venue's endpoint
    np.testing.assert_allclose(got["funding_rate"].iloc[8:], real["funding_rate"].iloc[8:], rtol=1e-6)
    if exchange == "binance":
        np.testing.assert_allclose(got["taker_buy_volume"], got["volume"] / 2)


def test_pagination_uses_venue_page_sizes_and_windows(fake_exchange, store):
    conn, _ = _conn("bybit", fake_exchange)
    fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.OHLCV, Dataset.OPEN_INTEREST], SINCE, UNTIL, client=conn)
    klines = fake_exchange.calls("/v5/market/kline")
    oi = fake_exchange.calls("/v5/market/open-interest")
    assert len(klines) == 1 and klines[0]["limit"] == "1000"  # 961 hourly bars fit one page
    assert [int(q["startTime"]) for q in oi][:2] == [SINCE - H, SINCE - H + 200 * H]
    assert all(int(q["endTime"]) - int(q["startTime"]) == 199 * H for q in oi[:-1])
    assert all(q["category"] == "linear" and q["intervalTime"] == "1h" for q in oi)


def test_okx_uses_exclusive_before_after(fake_exchange, store):
    conn, _ = _conn("okx", fake_exchange)
    fetch_into_store(store, "okx", "ETH-USDT-SWAP", [Dataset.OHLCV], SINCE, SINCE + 250 * H, client=conn)
    calls = fake_exchange.calls("/api/v5/market/history-candles")
    assert [(int(q["before"]), int(q["after"])) for q in calls] == [
        (SINCE - 1, SINCE + 99 * H + 1),
        (SINCE + 100 * H - 1, SINCE + 199 * H + 1),
        (SINCE + 200 * H - 1, SINCE + 250 * H + 1),
    ]
    assert len(store.query_bars("okx", "ETH")) == 251 - 11  # okx bars start at 11:00 on 2025-12-05


def test_resume_continues_from_last_stored_bar_without_duplicates(fake_exchange, store):
    conn, _ = _conn("binance", fake_exchange)
    fetch_into_store(store, "binance", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 100 * H, client=conn)
    first = len(fake_exchange.calls("/fapi/v1/klines"))
    fetch_into_store(store, "binance", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 300 * H, client=conn)
    second = fake_exchange.calls("/fapi/v1/klines")[first:]
    assert int(second[0]["startTime"]) == SINCE + 100 * H  # restarts at the last stored bar
    assert store.info()["rows"]["bars"] == 301
    fetch_into_store(store, "binance", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 300 * H, client=conn)
    assert store.info()["rows"]["bars"] == 301


@pytest.mark.parametrize("fault", [429, 500, 503, "timeout"])
def test_transient_faults_are_retried_with_exponential_backoff(fault, fake_exchange, store):
    conn, delays = _conn("binance", fake_exchange, timeout_ms=2000)  # the "timeout" fault: gives up after 2 s
    fake_exchange.fail("/fapi/v1/klines", fault, fault, fault)
    n = fetch_into_store(store, "binance", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 23 * H, client=conn)
    assert n == {"ohlcv": 24}
    assert delays == [0.01, 0.02, 0.04]
    assert len(fake_exchange.calls("/fapi/v1/klines")) == 4


@pytest.mark.parametrize("exchange,path", [("bybit", "/v5/market/kline"), ("okx", "/api/v5/market/history-candles")])
def test_rate_limit_answers_of_every_venue_are_retried(exchange, path, fake_exchange, store):
    conn, delays = _conn(exchange, fake_exchange)
    fake_exchange.fail(path, 429, 502)
    fetch_into_store(store, exchange, "BTCUSDT", [Dataset.OHLCV], SINCE + 11 * H, SINCE + 20 * H, client=conn)
    assert delays == [0.01, 0.02]
    assert len(store.query_bars(exchange, "BTCUSDT")) == 10


def test_persistent_failure_gives_up_with_a_clear_error_and_keeps_earlier_pages(fake_exchange, store):
    conn, delays = _conn("okx", fake_exchange, max_retries=2)
    fake_exchange.fail("/api/v5/market/history-candles", "ok", 500, 500, 500)
    with pytest.raises(ConnectorError, match=r"okx: publicGetMarketHistoryCandles failed after 3 attempts"):
        fetch_into_store(store, "okx", "BTCUSDT", [Dataset.OHLCV], SINCE + 11 * H, SINCE + 310 * H, client=conn)
    assert delays == [0.01, 0.02]
    kept = store.query_bars("okx", "BTCUSDT")
    assert len(kept) == 100 and kept["timestamp"].max() == SINCE + 110 * H  # the first page survived
    fetch_into_store(store, "okx", "BTCUSDT", [Dataset.OHLCV], SINCE + 11 * H, SINCE + 310 * H, client=conn)
    resumed = fake_exchange.calls("/api/v5/market/history-candles")[4:]
    assert int(resumed[0]["before"]) == SINCE + 110 * H - 1  # resumes at the last stored bar
    assert len(store.query_bars("okx", "BTCUSDT")) == 300


@pytest.mark.parametrize(
    "exchange,path,fault,message",
    [
        ("binance", "/fapi/v1/klines", "shape", "malformed fapiPublicGetKlines payload"),
        ("bybit", "/v5/market/kline", "shape", "malformed publicGetV5MarketKline payload"),
        ("okx", "/api/v5/market/history-candles", "shape", "malformed publicGetMarketHistoryCandles payload"),
        ("binance", "/fapi/v1/klines", "html", "malformed fapiPublicGetKlines payload"),
    ],
)
def test_malformed_payloads_fail_loudly(exchange, path, fault, message, fake_exchange, store):
    conn, _ = _conn(exchange, fake_exchange, max_retries=0)
    fake_exchange.fail(path, fault)
    with pytest.raises(ConnectorError, match=message):
        fetch_into_store(store, exchange, "BTCUSDT", [Dataset.OHLCV], SINCE + 11 * H, SINCE + 20 * H, client=conn)
    assert store.info()["rows"]["bars"] == 0


def test_okx_liquidations_are_normalised_to_position_side_and_base_units(fake_exchange, store):
    conn, _ = _conn("okx", fake_exchange)
    real = sample_liquidations()
    real = real[real["symbol"] == "BTC/USDT:USDT"].reset_index(drop=True)
    n = fetch_into_store(
        store,
        "okx",
        "BTCUSDT",
        [Dataset.LIQUIDATIONS],
        int(real["timestamp"].min()),
        int(real["timestamp"].max()),
        client=conn,
    )
    assert n == {"liquidations": 1611}
    got = store.query_liquidations("okx", "BTCUSDT")
    pd.testing.assert_series_equal(got["side"], real["side"], check_dtype=False)
    np.testing.assert_allclose(got["quantity"], real["quantity"], rtol=1e-9)
    assert (
        len(fake_exchange.calls("/api/v5/public/liquidation-orders")) == 18
    )  # 17 pages of ≤100, plus one re-asking the oldest millisecond


def test_order_book_and_tiers(fake_exchange, store):
    conn, _ = _conn("binance", fake_exchange)
    fetch_into_store(store, "binance", "BTCUSDT", [Dataset.DEPTH], SINCE, client=conn)
    depth = store.query_depth("binance", "BTCUSDT")
    assert depth.groupby("side").size().to_dict() == {"ask": 25, "bid": 25}
    assert depth.loc[depth["side"] == "bid", "price"].max() == 11657.07
    with pytest.raises(ConnectorError, match="signed"):
        fetch_into_store(store, "binance", "BTCUSDT", [Dataset.TIERS], SINCE, client=conn)
    bybit, _ = _conn("bybit", fake_exchange)
    fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.TIERS], SINCE, client=bybit)
    tiers = store.query_tiers("bybit", "BTCUSDT")
    assert tiers["notional_cap"].tolist() == [2_000_000.0, 2_600_000.0, 3_200_000.0]
    assert tiers["maintenance_amount"].tolist() == [0.0, 1200.0, 2760.0]


def test_unsupported_and_unknown(fake_exchange, store):
    conn, _ = _conn("binance", fake_exchange)
    with pytest.raises(ConnectorError, match="forceOrder websocket"):
        fetch_into_store(store, "binance", "BTCUSDT", [Dataset.LIQUIDATIONS], SINCE, client=conn)
    with pytest.raises(ConnectorError, match="lists no market DOGE/USDT:USDT"):
        fetch_into_store(store, "binance", "DOGEUSDT", [Dataset.OHLCV], SINCE, SINCE + H, client=conn)
    with pytest.raises(ConnectorError, match="no connector for 'kraken'"):
        connector("kraken")
    with pytest.raises(ConnectorError, match="unknown dataset 'trades'"):
        Dataset.parse("trades")


def test_rate_limiter_is_on_by_default_and_all_traffic_is_local(fake_exchange):
    conn = connector("okx", api_url=fake_exchange.url)
    assert conn.client.enableRateLimit is True and conn.client.rateLimit == pytest.approx(110)
    urls = [v for v in conn.client.urls["api"].values() if isinstance(v, str)]
    assert urls and all(u.startswith("http://127.0.0.1:") for u in urls)


@pytest.mark.parametrize("exchange", ["binance", "okx"])
def test_taker_volume_is_attached_per_bar(exchange, fake_exchange, store):
    conn, _ = _conn(exchange, fake_exchange)
    since, until = SINCE + 11 * H, SINCE + 60 * H
    fetch_into_store(store, exchange, "ETHUSDT", [Dataset.OHLCV], since, until, client=conn)
    store.attach(store.query_bars(exchange, "ETH")[["exchange", "symbol", "timestamp"]].assign(taker_buy_volume=0.0))
    n = fetch_into_store(store, exchange, "ETHUSDT", [Dataset.TAKER], since, until, resume=False, client=conn)
    got = store.query_bars(exchange, "ETH")
    assert n == {"taker": 50}
    np.testing.assert_allclose(got["taker_buy_volume"], got["volume"] * 0.4, rtol=1e-9)


def test_bybit_has_no_taker_history(fake_exchange, store):
    conn, _ = _conn("bybit", fake_exchange)
    with pytest.raises(ConnectorError, match="bybit has no taker history"):
        fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.TAKER], SINCE, SINCE + H, client=conn)
