"""Conservation laws and exchange rules the simulated market must obey at every bar."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqmap.data.schemas import primary_key
from liqmap.margin import get_tiers, liquidation_prices, maintenance_margin


def test_long_open_interest_equals_short_at_every_bar(regime_run):
    led, bars = regime_run.ledger, regime_run.bars
    assert (led["long_qty"] > 0).all()
    np.testing.assert_allclose(led["long_qty"], led["short_qty"], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(bars["open_interest"], led["long_qty"], rtol=0)
    # notional at mark of both sides equals the USD open interest
    np.testing.assert_allclose(led["short_qty"] * led["mark"], bars["open_interest_usd"], rtol=1e-10)
    # funding is a transfer: what longs pay equals what shorts receive
    assert np.abs(led["funding_paid"]).max() < 1e-6


def test_balances_fees_and_insurance_are_conserved(regime_run):
    led = regime_run.ledger
    total = led["cash"] + led["upnl"] + led["fees"] + led["insurance"]
    np.testing.assert_allclose(total, led["deposits"], rtol=1e-12, atol=1e-5)
    assert led["fees"].iloc[-1] > 0
    assert led["deposits"].is_monotonic_increasing


def test_every_liquidated_position_appears_exactly_once(regime_run):
    liq, c = regime_run.liquidations, regime_run.counters
    run = regime_run.config
    assert c["liquidated"] == c["n_liq_events"] == c["liquidated_by_trader_total"] > 0
    assert liq["position_id"].is_unique
    # every position ever opened is closed, liquidated, or still open
    assert c["opened"] == c["closed"] + c["liquidated"] + len(regime_run.positions)
    assert len(liq) <= c["liquidated"]  # the frame drops the warm-up's events only
    assert liq["timestamp"].is_monotonic_increasing
    assert liq["timestamp"].iloc[0] >= run.start_ms
    # a long is liquidated only when the mark reaches its liquidation price, a short likewise
    longs = liq["side"] == "long"
    assert (liq.loc[longs, "mark_price"] <= liq.loc[longs, "liquidation_price"]).all()
    assert (liq.loc[~longs, "mark_price"] >= liq.loc[~longs, "liquidation_price"]).all()
    np.testing.assert_allclose(liq["notional_usd"], liq["quantity"] * liq["price"])
    assert not liq.duplicated(primary_key("liquidations")).any()  # the store keeps every event


def test_liquidation_prices_are_the_margin_packages(regime_run):
    pos = regime_run.positions
    tiers = get_tiers("binance", "BTC/USDT:USDT")
    notional = pos["quantity"] * pos["entry"]
    ref = liquidation_prices(
        tiers,
        pos["side"].to_numpy(),
        pos["entry"].to_numpy(),
        np.ones(len(pos)),
        notional.to_numpy(),
        margin=pos["margin"].to_numpy(),
    ).liquidation_price
    np.testing.assert_allclose(pos["liquidation_price"].to_numpy(), ref, rtol=1e-12)


def test_open_positions_hold_more_than_maintenance_margin(regime_run):
    pos, mark = regime_run.positions, float(regime_run.bars["mark_price"].iloc[-1])
    tiers = get_tiers("binance", "BTC/USDT:USDT")
    rate, amount = maintenance_margin(tiers, pos["quantity"].to_numpy() * mark)
    equity = pos["margin"] + pos["side"] * pos["quantity"] * (mark - pos["entry"])
    mm = pos["quantity"] * mark * rate - amount
    assert (equity > mm).all()


def test_bars_are_well_formed(regime_run):
    b = regime_run.bars
    assert (b["high"] >= b[["open", "close"]].max(axis=1)).all()
    assert (b["low"] <= b[["open", "close"]].min(axis=1)).all()
    assert (b["taker_buy_volume"] <= b["volume"] + 1e-12).all()
    assert (np.diff(b["timestamp"]) == 60_000).all()
    assert b["funding_rate"].abs().max() <= 0.0075
    assert set(b["exchange"]) == {"sim"} and set(b["symbol"]) == {"BTC/USDT:USDT"}
    # funding settles every 8 h; the ledger's transfer is non-zero only at those bars
    paid = regime_run.ledger["funding_paid"] != 0
    assert set(((b.loc[paid, "timestamp"] + 60_000) % (8 * 3_600_000)).unique()) <= {0}


def test_crash_liquidates_more_longs_than_shorts(crash_run):
    s = crash_run.summary()
    assert s["close"] < s["open"]
    assert s["liquidated_long_usd"] > s["liquidated_short_usd"]


def test_truth_totals_match_open_positions(regime_run):
    truth, cfg = regime_run.truth, regime_run.config
    last = truth[truth["timestamp"] == truth["timestamp"].max()]
    pos = regime_run.positions
    price = float(regime_run.bars["close"].iloc[-1])
    lo, hi = last["price"].min() - cfg.bin_usd / 2, last["price"].max() + cfg.bin_usd / 2
    inside = (pos["liquidation_price"] >= lo) & (pos["liquidation_price"] < hi)
    notional = pos["quantity"] * pos["entry"]
    assert last["long_usd"].sum() == pytest_approx(notional[inside & (pos["side"] > 0)].sum())
    assert last["short_usd"].sum() == pytest_approx(notional[inside & (pos["side"] < 0)].sum())
    assert lo < price < hi
    assert isinstance(truth, pd.DataFrame)


def pytest_approx(x: float):
    import pytest

    return pytest.approx(x, rel=1e-9)


def test_liquidation_cascades_happen_endogenously(regime_run):
    liq = regime_run.liquidations
    # forced orders of one clearing round push the mark through further liquidation prices, which are
    # liquidated in the next round of the same sub-step: same timestamp, a new (worse) fill price
    rounds = liq.groupby("timestamp")["price"].nunique()
    assert (rounds >= 2).sum() >= 3
    cascade = liq[liq["timestamp"].isin(rounds[rounds >= 2].index)]
    for _, g in cascade.groupby("timestamp"):
        forced = g.drop_duplicates("price").iloc[1:]  # rounds after the first carry only forced orders
        if forced["side"].nunique() == 1:
            steps = np.diff(forced["price"].to_numpy())
            assert (steps <= 0).all() if forced["side"].iloc[0] == "long" else (steps >= 0).all()
