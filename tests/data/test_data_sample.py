"""The bundled real sample: contents, the documented OI proxy, funding alignment, liquidation units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqmap.data.sample import (
    hyperliquid_bars,
    hyperliquid_liquidation_totals,
    hyperliquid_open_interest,
    lighter_bars,
    sample_bars,
    sample_depth,
    sample_funding,
    sample_liquidations,
    venue_open_interest_snapshots,
)
from liqmap.engine import EngineConfig, run

H = 3_600_000


def test_bars_cover_three_venues_two_coins_hourly():
    bars = sample_bars()
    rows = bars.groupby(["exchange", "symbol"]).size().to_dict()
    assert rows == {
        ("binance", "BTC/USDT:USDT"): 2171,
        ("binance", "ETH/USDT:USDT"): 2171,
        ("bybit", "BTC/USDT:USDT"): 2171,
        ("bybit", "ETH/USDT:USDT"): 2171,
        ("okx", "BTC/USDT:USDT"): 2160,
        ("okx", "ETH/USDT:USDT"): 2160,
    }
    assert bars["timestamp"].min() == 1764892800000  # 2025-12-05 00:00 UTC
    assert bars["timestamp"].max() == 1772704800000  # 2026-03-05 10:00 UTC
    assert bars["taker_buy_volume"].isna().all()
    np.testing.assert_allclose(bars["quote_volume"], bars["volume"] * bars["close"])  # documented approximation


def test_oi_proxy_is_hyperliquid_path_scaled_to_each_venue_snapshot():
    bars, hl, snaps = sample_bars(), hyperliquid_open_interest(), venue_open_interest_snapshots()
    for snap in snaps.itertuples():
        coin = snap.symbol.split("/")[0]
        path = hl[hl["symbol"] == f"{coin}/USDC:USDC"].set_index("timestamp")["open_interest_usd"]
        anchor = path[path.index <= snap.timestamp].iloc[-1]
        series = bars[(bars["exchange"] == snap.exchange) & (bars["symbol"] == snap.symbol)].dropna(
            subset=["open_interest_usd"]
        )
        hl_at_close = path.reindex(series["timestamp"] + H, method="pad").to_numpy()  # as of each close
        np.testing.assert_allclose(series["open_interest_usd"] / hl_at_close, snap.open_interest_usd / anchor)
        np.testing.assert_allclose(series["open_interest"] * series["close"], series["open_interest_usd"])
        assert len(series) == 2096  # null before 2025-12-07 10:00 and through Hyperliquid's 19 h gap


def test_bar_funding_is_the_last_event_before_the_close():
    bars, events = sample_bars(), sample_funding()
    for (ex, sym), part in bars.groupby(["exchange", "symbol"]):
        ev = events[(events["exchange"] == ex) & (events["symbol"] == sym)]
        pos = np.searchsorted(ev["timestamp"].to_numpy(), part["timestamp"].to_numpy() + H, side="left") - 1
        np.testing.assert_array_equal(part["funding_rate"].to_numpy(), ev["funding_rate"].to_numpy()[pos])


def test_liquidations_are_positions_in_base_units():
    liq = sample_liquidations()
    assert liq.groupby("symbol").size().to_dict() == {
        "BTC/USDT:USDT": 1611,
        "DOGE/USDT:USDT": 1422,
        "ETH/USDT:USDT": 1632,
        "HYPE/USDT:USDT": 99,  # kept since HYPE-USDT-SWAP's contract value (0.1 HYPE) is in the table
        "SOL/USDT:USDT": 1052,
    }
    np.testing.assert_allclose(liq["notional_usd"], liq["quantity"] * liq["price"])
    first = liq[liq["symbol"] == "BTC/USDT:USDT"].iloc[0]
    assert (first["timestamp"], first["side"], first["price"]) == (1772664343781, "long", 72431.4)
    assert first["quantity"] == pytest.approx(0.0021, rel=1e-9)  # 0.21 contracts × 0.01 BTC
    btc = liq[liq["symbol"] == "BTC/USDT:USDT"].groupby("side")["notional_usd"].sum()
    assert (round(btc["long"]), round(btc["short"])) == (3365456, 5812641)


def test_depth_snapshots():
    depth = sample_depth()
    first = depth[depth["timestamp"] == depth["timestamp"].min()]
    assert first.groupby("side").size().to_dict() == {"ask": 25, "bid": 25}
    assert first.loc[first["side"] == "bid", "price"].max() == 11657.07
    assert first.loc[first["side"] == "ask", "price"].min() == 11657.08
    assert pd.Timestamp(depth["timestamp"].max(), unit="ms") == pd.Timestamp("2022-11-01 23:49:39.146")


def test_lighter_bars_carry_real_oi_and_the_engine_conserves_it():
    bars = lighter_bars()
    assert bars.groupby(["exchange", "symbol"]).size().to_dict() == {
        ("lighter", "BTC/USDC:USDC"): 663,
        ("lighter", "ETH/USDC:USDC"): 663,
    }
    assert (bars["timestamp"].min(), bars["timestamp"].max()) == (1765371600000, 1769277600000)  # 12-10 13h → 01-24 18h
    assert bars.groupby("symbol")["open_interest_usd"].count().to_dict() == {"BTC/USDC:USDC": 649, "ETH/USDC:USDC": 649}
    assert bars["funding_rate"].count() == 2 * 649 and bars["taker_buy_volume"].isna().all()
    np.testing.assert_allclose(bars["open_interest"] * bars["close"], bars["open_interest_usd"])
    btc = bars[bars["symbol"] == "BTC/USDC:USDC"].reset_index(drop=True)
    assert btc["open_interest_usd"].iloc[-1] == pytest.approx(161_956_714.65)  # Lighter's OI at 2026-01-24 19:00
    res = run(btc, "oi-delta", EngineConfig(tier_exchange={"lighter": "binance"}))
    # the engine's identity: alive = seed OI × first close + Σ ΔOI × typical price over bars with OI (gaps bridged)
    have = btc.dropna(subset=["open_interest"])
    typical = ((have["high"] + have["low"] + have["close"]) / 3).to_numpy()
    oi = have["open_interest"].to_numpy()
    modelled = oi[0] * have["close"].iloc[0] + np.sum(np.diff(oi) * typical[1:])
    alive = res.accounting.set_index("side")["alive_usd"]
    assert alive["long"] == pytest.approx(modelled, rel=1e-9) and alive["short"] == pytest.approx(modelled, rel=1e-9)
    assert res.heatmap.long_usd[-1].sum() == pytest.approx(modelled, rel=1e-9)
    assert round(modelled) == 169_074_573  # 1,812.6 BTC of real Lighter OI valued at the modelled entries


def test_hyperliquid_bars_real_oi_and_funding_on_binance_prices():
    bars = hyperliquid_bars()
    rows = bars.groupby("symbol").size().to_dict()
    assert rows == {
        "BTC/USDC:USDC": 2113,
        "DOGE/USDC:USDC": 2114,
        "ETH/USDC:USDC": 2113,
        "HYPE/USDC:USDC": 2114,
        "SOL/USDC:USDC": 2114,
    }
    assert (bars["exchange"] == "hyperliquid").all()
    assert bars["timestamp"].min() == 1765101600000  # 2025-12-07 10:00, the bar closing at Hyperliquid's first OI
    assert bars.groupby("symbol")["timestamp"].max().to_dict()["BTC/USDC:USDC"] == 1772704800000  # 2026-03-05 10:00
    assert bars.groupby("symbol")["open_interest_usd"].count().min() == 2096  # null only through the 19 h gap
    assert bars["funding_rate"].notna().all() and bars["taker_buy_volume"].isna().all()
    np.testing.assert_allclose(bars["open_interest"] * bars["close"], bars["open_interest_usd"])
    sol = bars[(bars["symbol"] == "SOL/USDC:USDC") & (bars["timestamp"] == 1767222000000)].iloc[0]  # 12-31 23:00
    assert sol["open_interest_usd"] == pytest.approx(480_232_204.7963081, rel=1e-12)  # shared HL OI at 01-01 00:00
    assert (sol["open"], sol["close"]) == (124.78, 124.59)  # Binance's SOLUSDT bar
    assert sol["volume"] == pytest.approx(250_213.72 * 0.3538, rel=1e-3)  # Binance volume × the OI ratio
    hl = hyperliquid_open_interest().set_index(["symbol", "timestamp"])["open_interest_usd"]
    btc = bars[bars["symbol"] == "BTC/USDC:USDC"].dropna(subset=["open_interest_usd"])
    np.testing.assert_allclose(
        btc["open_interest_usd"], hl.loc["BTC/USDC:USDC"].reindex(btc["timestamp"] + H, method="pad")
    )


def test_hyperliquid_liquidation_totals_are_the_realized_archive():
    t = hyperliquid_liquidation_totals()
    assert t.groupby("symbol").size().to_dict() == {"DOGE/USDC:USDC": 12, "HYPE/USDC:USDC": 11, "SOL/USDC:USDC": 50}
    assert (t["period_ms"] == 86_400_000).all() and (t["timestamp"] % 86_400_000 == 0).all()
    sol = t[t["symbol"] == "SOL/USDC:USDC"]
    assert (sol["timestamp"].min(), sol["timestamp"].max()) == (1765065600000, 1769472000000)  # 12-07 → 01-27
    assert (round(sol["long_usd"].sum(), 2), round(sol["short_usd"].sum(), 2)) == (166_006_164.88, 42_644_722.07)
    assert int(sol["count"].sum()) == 35_867
    days = (sol["timestamp"].max() - sol["timestamp"].min()) // 86_400_000 + 1
    assert days - len(sol) == 2  # two absent days: unknown, not zero — no row is invented for them
