"""Worked examples from the venues' documentation (and shared/docs/exchange-mechanics.md §1.5), to the cent."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap.margin import get_tiers, liquidation_price, liquidation_prices, make_table

# Binance USDⓈ-M BTCUSDT brackets as tabulated in exchange-mechanics.md §2.1 (cum derived by recursion).
BINANCE_DOC_ROWS = [
    (0, 50_000, 125, 0.004, None),
    (50_000, 600_000, 100, 0.005, None),
    (600_000, 3_000_000, 75, 0.0065, None),
    (3_000_000, 12_000_000, 50, 0.01, None),
    (12_000_000, 70_000_000, 25, 0.02, None),
    (70_000_000, 100_000_000, 20, 0.025, None),
    (100_000_000, 230_000_000, 10, 0.05, None),
    (230_000_000, 480_000_000, 5, 0.10, None),
    (480_000_000, 600_000_000, 4, 0.125, None),
    (600_000_000, 800_000_000, 3, 0.15, None),
    (800_000_000, 1_200_000_000, 2, 0.25, None),
    (1_200_000_000, 1_800_000_000, 1, 0.50, None),
]
BINANCE_DOC = make_table("binance", "BTCUSDT", BINANCE_DOC_ROWS)
BYBIT_DOC = make_table("bybit", "BTCUSDT", [(0, 2_000_000, 100, 0.005, 0.0)])
OKX_ILLUSTRATIVE = make_table("okx", "BTCUSDT", [(0, 1e9, 125, 0.004, 0.0)], fee_rate=0.0005, contract_size=0.01)
COINM_DOC = make_table("binance", "BTCUSD", [(0, 5, 125, 0.004, 0.0), (5, 10, 100, 0.005, None)])


def test_binance_cum_recursion_matches_published_table():
    expected_cum = [
        0,
        50,
        950,
        11_450,
        131_450,
        481_450,
        2_981_450,
        14_481_450,
        26_481_450,
        41_481_450,
        121_481_450,
        421_481_450,
    ]
    np.testing.assert_allclose(BINANCE_DOC.maintenance_amount, expected_cum)


@pytest.mark.parametrize(
    ("table", "side", "leverage", "expected"),
    [
        (BINANCE_DOC, "long", 10, 84_974.87),
        (BINANCE_DOC, "short", 10, 102_935.32),
        (BINANCE_DOC, "long", 100, 93_477.39),
        (BINANCE_DOC, "short", 100, 94_517.41),
        (BYBIT_DOC, "long", 10, 85_070.00),
        (BYBIT_DOC, "short", 10, 102_930.00),
        (BYBIT_DOC, "long", 100, 93_530.00),
        (BYBIT_DOC, "short", 100, 94_470.00),
        (OKX_ILLUSTRATIVE, "long", 10, 84_982.42),
        (OKX_ILLUSTRATIVE, "short", 10, 102_936.78),
        (OKX_ILLUSTRATIVE, "long", 100, 93_480.66),
        (OKX_ILLUSTRATIVE, "short", 100, 94_514.68),
        (COINM_DOC, "long", 10, 85_796.36),
        (COINM_DOC, "short", 10, 104_026.67),
        (COINM_DOC, "long", 100, 93_441.58),
        (COINM_DOC, "short", 100, 94_569.70),
    ],
)
def test_worked_example_entry_94k_one_btc(table, side, leverage, expected):
    r = liquidation_price(table.exchange, table.symbol, side, 94_000, leverage, 94_000, tiers=table)
    assert round(r.liquidation_price, 2) == expected


def test_binance_10x_long_equity_equals_maintenance_at_liquidation():
    r = liquidation_price("binance", "BTCUSDT", "long", 94_000, 10, 94_000, tiers=BINANCE_DOC)
    equity = 9_400 + (r.liquidation_price - 94_000)
    assert round(equity, 2) == 374.87 == round(r.liquidation_price * 0.005 - 50, 2)
    assert (r.tier, r.maintenance_margin_rate, r.maintenance_amount) == (2, 0.005, 50.0)
    assert r.bankruptcy_price == 84_600.0


def test_binance_cross_margin_example():
    r = liquidation_price(
        "binance", "BTCUSDT", "long", 94_000, 10, 94_000, margin_mode="cross", wallet_usd=20_000, tiers=BINANCE_DOC
    )
    assert round(r.liquidation_price, 2) == 74_321.61
    # other positions' maintenance margin and PnL shift the wallet as in Binance's formula
    r2 = liquidation_price(
        "binance",
        "BTCUSDT",
        "long",
        94_000,
        10,
        94_000,
        margin_mode="cross",
        wallet_usd=21_000,
        other_maintenance_usd=1_500,
        other_unrealized_pnl_usd=500,
        tiers=BINANCE_DOC,
    )
    assert r2.liquidation_price == r.liquidation_price


def test_bybit_help_center_example_50x():
    # Bybit: 1 BTC long at 20,000, 50x, MMR 0.5% → IM 400, MM 100, LP 19,700.
    r = liquidation_price("bybit", "BTCUSDT", "long", 20_000, 50, 20_000, tiers=BYBIT_DOC)
    assert r.liquidation_price == 19_700.0
    assert r.bankruptcy_price == 19_600.0


def test_bundled_binance_2026_table_values():
    t = get_tiers("binance", "BTC/USDT:USDT")
    first = (float(t.notional_cap[0]), float(t.max_leverage[0]), float(t.maintenance_margin_rate[0]))
    assert first == (300_000, 150, 0.004)
    assert float(t.maintenance_amount[1]) == 300.0 and t.valid_from == "2026-09"
    r = liquidation_price("binance", "BTCUSDT", "long", 94_000, 10, 94_000)
    assert round(r.liquidation_price, 2) == round((94_000 - 9_400) / 0.996, 2) == 84_939.76


def test_binance_bracket_at_liquidation_price_is_used():
    # 700k notional opens in bracket 2 (300k–800k) of the 2026 table; a 10x short's LP notional is
    # above 800k/700k·entry? no — a 5x short rises ~20%: 700k·1.2 = 840k → bracket 3 applies at LP.
    t = get_tiers("binance", "BTCUSDT")
    r = liquidation_price("binance", "BTCUSDT", "short", 94_000, 5, 700_000, tiers=t)
    q = 700_000 / 94_000
    assert r.tier == 3 and q * r.liquidation_price > 800_000
    assert r.liquidation_price == pytest.approx((700_000 + 140_000 + 1_500) / (q * 1.0065), rel=1e-12)


def test_vectorised_matches_scalar_bit_for_bit():
    t = get_tiers("binance", "BTCUSDT")
    rng = np.random.default_rng(7)
    n = 500
    side = rng.choice([1, -1], n)
    entry = rng.uniform(20_000, 120_000, n)
    lev = rng.choice([2, 5, 10, 20, 25, 50, 75], n).astype(float)
    notional = rng.uniform(100, 2_000_000, n)
    vec = liquidation_prices(t, side, entry, lev, notional)
    for i in range(n):
        r = liquidation_price("binance", "BTCUSDT", int(side[i]), entry[i], lev[i], notional[i], tiers=t)
        assert r.liquidation_price == vec.liquidation_price[i]
        assert r.bankruptcy_price == vec.bankruptcy_price[i]
        assert r.tier == vec.tier[i]
