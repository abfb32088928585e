"""The generic connector over ccxt's unified methods: driven as ccxt ``bybit`` against the local fake exchange."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liqmap.data.connectors import (
    CONNECTORS,
    UNIFIED_EXCHANGES,
    Dataset,
    Unified,
    connector,
    fetch_into_store,
)
from liqmap.data.connectors.base import ConnectorError
from liqmap.data.sample import sample_bars

SINCE = 1_764_892_800_000  # 2025-12-05 00:00 UTC
H = 3_600_000
KLINE = "/v5/market/kline"
FIXTURES = Path(__file__).parent / "fixtures"


def _unified(fake, **kw):
    delays: list[float] = []
    conn = Unified(
        "bybit",
        options={"fetchMarkets": {"types": ["linear"]}},  # the fake lists linear instruments only
        api_url=fake.url,
        rate_limit_ms=1,
        backoff_s=0.01,
        sleep=delays.append,
        **{"timeout_ms": 10_000, **kw},  # the "timeout" fault tests pass a short one
    )
    return conn, delays


def test_unified_methods_reproduce_the_real_rows_across_pages(fake_exchange, store):
    conn, _ = _unified(fake_exchange)  # a retried page would send its window twice
    until = SINCE + 2500 * H
    counts = fetch_into_store(
        store,
        "bybit",
        "BTC/USDT:USDT",
        [Dataset.OHLCV, Dataset.OPEN_INTEREST, Dataset.FUNDING],
        SINCE,
        until,
        client=conn,
    )
    b = sample_bars()
    real = b[(b["exchange"] == "bybit") & (b["symbol"] == "BTC/USDT:USDT") & (b["timestamp"] <= until)]
    real = real.reset_index(drop=True)
    got = store.query_bars("bybit", "BTCUSDT")
    assert counts["ohlcv"] == len(real) == len(got) == 2171
    cols = ["timestamp", "open", "high", "low", "close", "volume"]
    np.testing.assert_allclose(got[cols], real[cols])
    assert got["quote_volume"].isna().all()  # ccxt's unified OHLCV has no quote volume
    # fetch_ohlcv pages of ccxt's 1,000-bar limit, each window's end sent as the unified ``until``
    windows = [(int(q["start"]), int(q["end"]), q["limit"]) for q in fake_exchange.calls(KLINE)]
    assert windows == [
        (SINCE, SINCE + 999 * H, "1000"),
        (SINCE + 1000 * H, SINCE + 1999 * H, "1000"),
        (SINCE + 2000 * H, until, "1000"),
    ]
    both = real["open_interest"].notna()
    assert both.sum() > 1000
    np.testing.assert_allclose(got.loc[both, "open_interest"], real.loc[both, "open_interest"], rtol=1e-9)
    np.testing.assert_allclose(got["funding_rate"].iloc[8:], real["funding_rate"].iloc[8:], rtol=1e-6)
    oi = fake_exchange.calls("/v5/market/open-interest")
    assert len(oi) == 26 and all(q["limit"] == "100" and q["intervalTime"] == "1h" for q in oi)


def test_unified_resume_writes_no_duplicates(fake_exchange, store):
    conn, _ = _unified(fake_exchange)
    fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 100 * H, client=conn)
    first = len(fake_exchange.calls(KLINE))
    fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 300 * H, client=conn)
    assert int(fake_exchange.calls(KLINE)[first]["start"]) == SINCE + 100 * H  # restarts at the last stored bar
    assert store.info()["rows"]["bars"] == 301
    fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 300 * H, client=conn)
    assert store.info()["rows"]["bars"] == 301


@pytest.mark.parametrize("faults", [(429, 429), (429, "timeout")])
def test_unified_retries_what_ccxt_calls_transient(faults, fake_exchange, store):
    conn, delays = _unified(fake_exchange, timeout_ms=2000)  # the "timeout" fault: the client gives up after 2 s
    fake_exchange.fail(KLINE, *faults)
    n = fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 9 * H, client=conn)
    assert n == {"ohlcv": 10}
    assert delays == [0.01, 0.02]
    assert len(fake_exchange.calls(KLINE)) == 3


def test_unified_gives_up_after_the_retries(fake_exchange, store):
    conn, delays = _unified(fake_exchange, max_retries=2)
    fake_exchange.fail(KLINE, 429, 429, 429)
    with pytest.raises(ConnectorError, match="bybit: fetch_ohlcv failed after 3 attempts: RateLimitExceeded"):
        fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.OHLCV], SINCE, SINCE + 9 * H, client=conn)
    assert delays == [0.01, 0.02] and store.info()["rows"]["bars"] == 0


def test_unified_tiers_and_missing_datasets(fake_exchange, store):
    conn, _ = _unified(fake_exchange)
    fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.TIERS], SINCE, client=conn)
    tiers = store.query_tiers("bybit", "BTCUSDT")
    assert tiers["notional_cap"].tolist() == [2_000_000.0, 2_600_000.0, 3_200_000.0]
    assert tiers["maintenance_amount"].tolist() == [0.0, 1200.0, 2760.0]
    with pytest.raises(ConnectorError, match=r"bybit has no taker history \(ccxt has no unified taker-volume"):
        fetch_into_store(store, "bybit", "BTCUSDT", [Dataset.TAKER], SINCE, SINCE + H, client=conn)


def test_tiers_without_deduction_get_the_continuity_amounts_of_the_one_parser(fake_exchange):
    """A recorded ccxt Binance SOL payload with ``info`` removed (as venues without a deduction field send it):
    the connector's rows come from ``tiers_from_ccxt``, whose derived amounts are Binance's own ``cum``."""
    conn, _ = _unified(fake_exchange)
    recorded = json.loads((FIXTURES / "ccxt_binance_leverage_tiers_2026-09_sol_doge.json").read_text())
    sol = recorded["SOL/USDT:USDT"]
    bare = [{k: v for k, v in t.items() if k != "info"} for t in sol]
    conn.client.fetch_market_leverage_tiers = lambda symbol: bare
    got = conn.tiers("BTCUSDT")
    cum = [float(t["info"]["cum"]) for t in sol]
    assert cum[:4] == [0.0, 75.0, 1475.0, 11475.0]
    assert got["maintenance_amount"].tolist() == pytest.approx(cum, abs=1e-6)
    assert got["maintenance_margin_rate"].tolist()[:3] == [0.005, 0.0065, 0.01]
    assert got["tier"].tolist() == list(range(1, 11))
    assert set(got["source"]) == {"ccxt bybit fetch_market_leverage_tiers"}


def test_other_exchanges_get_the_unified_connector_gated_by_ccxt_has():
    assert {e: type(connector(e)) for e in CONNECTORS} == CONNECTORS  # the dedicated adapters stay
    assert UNIFIED_EXCHANGES == ("hyperliquid", "bitget", "gate", "kucoinfutures", "mexc", "htx", "bingx")
    for name in UNIFIED_EXCHANGES:  # why they are liqmap exchanges: ccxt perps with unified bars and funding
        conn = connector(name)
        assert isinstance(conn, Unified) and conn.exchange == conn.client.id == name
        assert conn.client.has["swap"] and conn.supports("ohlcv") is None and conn.supports("funding") is None
    hl = connector("hyperliquid")
    assert hl.ohlcv.method == "fetch_ohlcv" and hl.ohlcv.page_limit == 5000
    assert hl.supports("oi") == "ccxt's hyperliquid has no fetchOpenInterestHistory" and hl.open_interest is None
    assert hl.supports("tiers") == "ccxt's hyperliquid has no fetchMarketLeverageTiers or fetchLeverageTiers"
    assert hl.supports("depth") is None and hl.funding is not None
    gate = connector("gate")
    assert gate.supports("oi") is None and gate.supports("tiers") is None
    assert gate.step_for(gate.open_interest, "2h") == "1h"  # finest OI period not above the bars


def test_unsupported_datasets_fail_before_any_request(store):
    hl = connector("hyperliquid")
    with pytest.raises(ConnectorError, match=r"hyperliquid has no oi history \(ccxt's hyperliquid has no fetchOpen"):
        fetch_into_store(store, "hyperliquid", "BTC/USDC:USDC", [Dataset.OPEN_INTEREST], SINCE, SINCE + H, client=hl)
    with pytest.raises(ConnectorError, match="hyperliquid: ccxt's hyperliquid has no fetchMarketLeverageTiers"):
        hl.tiers("BTC/USDC:USDC")
    with pytest.raises(
        ConnectorError, match=r"hyperliquid has no ratio history \(ccxt has no unified long/short-ratio"
    ):
        fetch_into_store(store, "hyperliquid", "BTC/USDC:USDC", [Dataset.LONG_SHORT], SINCE, SINCE + H, client=hl)


@pytest.mark.parametrize(
    "name,reason",
    [
        ("nowhere", "not a ccxt exchange id"),
        ("kraken", "ccxt's kraken lists no perpetual swaps"),
        ("lighter", "ccxt's lighter has no fetchFundingRateHistory"),  # an Exchange value (sample data) all the same
        ("deribit", "ccxt knows it, but liqmap's tables accept only the exchanges in liqmap.enums.Exchange"),
    ],
)
def test_other_ids_fail_with_the_reason(name, reason):
    with pytest.raises(ConnectorError, match=rf"no connector for '{name}' \({reason}\): use one of binance, bybit"):
        connector(name)


def test_gate_candle_volume_in_contracts_is_stored_in_base_units(fake_exchange, store):
    """ccxt's gate returns swap candle volume as contracts (``v``); the connector multiplies by ``contractSize``."""
    conn = Unified(
        "gate",
        options={"fetchMarkets": {"types": ["swap"]}, "swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}}},
        api_url=fake_exchange.url,
        rate_limit_ms=1,
        timeout_ms=2000,
    )
    until = SINCE + 99 * H
    fetch_into_store(store, "gate", "BTC/USDT:USDT", [Dataset.OHLCV], SINCE, until, client=conn)
    assert conn.market("BTC/USDT:USDT")["contractSize"] == 0.0001
    wire = [c["v"] for c in fake_exchange.served_gate_candles("BTC_USDT", SINCE, until)]
    b = sample_bars()
    real = b[(b["exchange"] == "binance") & (b["symbol"] == "BTC/USDT:USDT")].head(100)
    got = store.query_bars("gate", "BTC/USDT:USDT")
    np.testing.assert_allclose(got["volume"], real["volume"], rtol=1e-9)  # base units, as Binance counts them
    np.testing.assert_allclose(np.asarray(wire) * 0.0001, real["volume"], rtol=1e-9)  # the wire counts contracts
