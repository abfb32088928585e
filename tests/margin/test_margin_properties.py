"""Hypothesis properties of the liquidation-price math for every formula family."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from liqmap.margin import get_tiers, liquidation_price, liquidation_prices, make_table, nb

TABLES = {
    "binance-linear": get_tiers("binance", "BTCUSDT"),
    "binance-inverse": get_tiers("binance", "BTCUSD"),
    "bybit-linear": make_table("bybit", "BTCUSDT", [(0, 2e6, 100, 0.005, 0.0), (2e6, 1e7, 50, 0.01, 10_000.0)]),
    "okx-linear": make_table(
        "okx", "BTCUSDT", [(0, 20, 125, 0.004, 0.0), (20, 1e5, 50, 0.01, 0.0)], fee_rate=0.0005, contract_size=0.01
    ),
}

positions = st.tuples(
    st.sampled_from(sorted(TABLES)),
    st.sampled_from([1, -1]),
    st.floats(1_000, 200_000),
    st.floats(1.5, 100),
    st.floats(50, 5_000_000),
)


def _result(key, side, entry, lev, notional):
    t = TABLES[key]
    max_lev = float(
        t.max_leverage[
            t.tier_of(notional / entry if key.endswith("inverse") else (notional / entry if t.basis == 2 else notional))
        ]
    )
    assume(lev <= max_lev)
    return t, liquidation_price(t.exchange, t.symbol, side, entry, lev, notional, tiers=t)


@settings(max_examples=300, deadline=None)
@given(positions)
def test_long_below_entry_below_short(pos):
    key, side, entry, lev, notional = pos
    _, r = _result(key, side, entry, lev, notional)
    if side == 1:
        assert 0 <= r.liquidation_price < entry and r.bankruptcy_price < r.liquidation_price
    else:
        assert r.liquidation_price > entry and r.bankruptcy_price > r.liquidation_price


@settings(max_examples=300, deadline=None)
@given(positions, st.floats(1.05, 3))
def test_higher_leverage_moves_liquidation_closer(pos, factor):
    key, side, entry, lev, notional = pos
    _, low = _result(key, side, entry, lev, notional)
    _, high = _result(key, side, entry, lev * factor, notional)
    assert abs(high.liquidation_price - entry) < abs(low.liquidation_price - entry) or low.liquidation_price == 0


@settings(max_examples=300, deadline=None)
@given(positions)
def test_equity_equals_maintenance_margin_at_liquidation(pos):
    key, side, entry, lev, notional = pos
    _, r = _result(key, side, entry, lev, notional)
    lp = r.liquidation_price
    assume(0 < lp < np.inf)
    if key.endswith("inverse"):  # coin units: margin + PnL (coin) = U/LP·R − A
        equity = r.margin + side * notional * (1 / entry - 1 / lp)
        mm = notional / lp * r.maintenance_margin_rate - r.maintenance_amount
    elif key.startswith("bybit"):  # Bybit fixes MM at the entry value
        equity = r.margin + side * r.quantity * (lp - entry)
        mm = notional * r.maintenance_margin_rate - r.maintenance_amount
    else:  # Binance / OKX: MM on the mark notional at LP
        equity = r.margin + side * r.quantity * (lp - entry)
        mm = r.quantity * lp * r.maintenance_margin_rate - r.maintenance_amount
    assert equity == pytest.approx(mm, rel=1e-9, abs=1e-9 * notional)


@settings(max_examples=200, deadline=None)
@given(st.floats(1_000, 1_999_999))
def test_tier_lookup_follows_table(notional):
    t = TABLES["bybit-linear"]
    r = liquidation_price("bybit", "BTCUSDT", "long", 50_000, 10, notional, tiers=t)
    assert (r.maintenance_margin_rate, r.maintenance_amount, r.tier) == (0.005, 0.0, 1)
    r2 = liquidation_price("bybit", "BTCUSDT", "long", 50_000, 10, notional + 2e6, tiers=t)
    assert (r2.maintenance_margin_rate, r2.maintenance_amount, r2.tier) == (0.01, 10_000.0, 2)


def test_kernel_twins_agree():
    t = TABLES["binance-linear"]
    rng = np.random.default_rng(3)
    n = 200
    args = (
        int(t.formula),
        int(t.basis),
        rng.choice([1.0, -1.0], n),
        rng.uniform(1e3, 2e5, n),
        rng.uniform(0.01, 30, n),
        rng.uniform(10, 1e5, n),
        t.notional_floor,
        t.maintenance_margin_rate,
        t.maintenance_amount,
        0.0,
    )
    for a, b in zip(nb.liq_many_py(*args), nb.liq_many_nb(*args), strict=True):
        np.testing.assert_array_equal(a, b)


def test_vectorised_broadcasts_and_one_based_tiers():
    out = liquidation_prices(TABLES["binance-linear"], np.array([1, -1]), 94_000.0, 10.0, np.array([1e5, 1e6]))
    assert out.tier.tolist() == [1, 3] and out.liquidation_price.shape == (2,)
