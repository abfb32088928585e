"""The bundled real sample: five coins on three venues (BTC/ETH rows unchanged), the documented OI proxy,
funding alignment, liquidation units."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from liqmap.data.sample import (
    SAMPLE_DIR,
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


COINS = ("BTC", "DOGE", "ETH", "HYPE", "SOL")
VENUES = ("binance", "bybit", "okx")
T = {  # bar opens, epoch ms (UTC)
    "12-05 00h": 1764892800000,
    "12-05 11h": 1764932400000,
    "12-05 12h": 1764936000000,
    "12-07 10h": 1765101600000,  # the bar whose close meets Hyperliquid's first OI reading
    "03-05 10h": 1772704800000,
    "03-05 11h": 1772708400000,
}
# (first, last) bar open per venue and coin: the shared candles' own spans inside 2025-12-05 → 2026-03-05
SPANS = {
    **{(v, c): (T["12-05 00h"], T["03-05 10h"]) for v in ("binance", "bybit") for c in ("BTC", "ETH")},
    **{(v, c): (T["12-05 00h"], T["03-05 11h"]) for v in ("binance", "bybit") for c in ("SOL", "DOGE", "HYPE")},
    **{("okx", c): (T["12-05 11h"], T["03-05 10h"]) for c in ("BTC", "ETH")},
    **{("okx", c): (T["12-05 12h"], T["03-05 11h"]) for c in ("SOL", "DOGE", "HYPE")},
}
# What the BTC/ETH rows were before the sample grew to five coins (commit 243464a): row count and
# sha256(pd.util.hash_pandas_object(rows, index=False)) of the file's BTC/ETH rows in file order, first 16 hex.
BTC_ETH_BEFORE = {
    "bars.parquet": (13004, "5038f7773ff59149"),
    "funding.parquet": (1644, "760ae40ea457da04"),
    "venue_oi_snapshots.parquet": (6, "17564b9c771d79cf"),
    "hyperliquid_oi.parquet": (4284, "0916dd75c397da73"),
}


@pytest.mark.parametrize("name", BTC_ETH_BEFORE)
def test_btc_eth_rows_are_unchanged(name):
    df = pd.read_parquet(SAMPLE_DIR / name)
    rows = df[df["symbol"].str.split("/").str[0].isin(["BTC", "ETH"])].reset_index(drop=True)
    digest = hashlib.sha256(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes()).hexdigest()
    assert (len(rows), digest[:16]) == BTC_ETH_BEFORE[name]


def test_bars_cover_three_venues_five_coins_hourly():
    bars = sample_bars()
    assert len(bars) == 32_516
    for (venue, symbol), part in bars.groupby(["exchange", "symbol"]):
        first, last = SPANS[(venue, symbol.split("/")[0])]
        assert (part["timestamp"].min(), part["timestamp"].max()) == (first, last), (venue, symbol)
        assert len(part) == (last - first) // H + 1 and (np.diff(part["timestamp"]) == H).all()  # no gaps
    assert set(bars.groupby(["exchange", "symbol"]).groups) == {(v, f"{c}/USDT:USDT") for v in VENUES for c in COINS}
    assert bars.groupby("exchange").size().to_dict() == {"binance": 10_858, "bybit": 10_858, "okx": 10_800}
    assert bars["taker_buy_volume"].isna().all() and bars["funding_rate"].notna().all()
    np.testing.assert_allclose(bars["quote_volume"], bars["volume"] * bars["close"])  # documented approximation


def test_every_coin_has_funding_and_an_oi_snapshot_per_venue():
    events, snaps = sample_funding(), venue_open_interest_snapshots()
    want = {(v, f"{c}/USDT:USDT"): 274 for v in VENUES for c in COINS}
    want[("binance", "HYPE/USDT:USDT")] = want[("okx", "HYPE/USDT:USDT")] = 548  # 4-hourly funding
    assert events.groupby(["exchange", "symbol"]).size().to_dict() == want
    assert len(snaps) == 15 and set(snaps.groupby(["exchange", "symbol"]).groups) == set(want)
    assert sorted(hyperliquid_open_interest().groupby("symbol").size().to_dict().items()) == [
        (f"{c}/USDC:USDC", 2142) for c in COINS
    ]


def test_oi_proxy_is_hyperliquid_path_scaled_to_each_venue_snapshot():
    bars, hl, snaps = sample_bars(), hyperliquid_open_interest(), venue_open_interest_snapshots()
    for snap in snaps.itertuples():
        coin = snap.symbol.split("/")[0]
        path = hl[hl["symbol"] == f"{coin}/USDC:USDC"].set_index("timestamp")["open_interest_usd"]
        anchor = path[path.index <= snap.timestamp].iloc[-1]
        bars_of = bars[(bars["exchange"] == snap.exchange) & (bars["symbol"] == snap.symbol)]
        series = bars_of.dropna(subset=["open_interest_usd"])
        hl_at_close = path.reindex(series["timestamp"] + H, method="pad").to_numpy()  # as of each close
        np.testing.assert_allclose(series["open_interest_usd"] / hl_at_close, snap.open_interest_usd / anchor)
        np.testing.assert_allclose(series["open_interest"] * series["close"], series["open_interest_usd"])
        # null before 2025-12-07 10:00 and for 17 bars of Hyperliquid's 19 h gap: 2,096 (BTC/ETH) or 2,097
        assert (
            len(series)
            == (bars_of["timestamp"] >= T["12-07 10h"]).sum() - 17
            == (2096 if coin in ("BTC", "ETH") else 2097)
        )


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
