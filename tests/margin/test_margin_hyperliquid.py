"""Hyperliquid's own margin rules: hand-computed examples to the cent and the docs' liquidation formula.

Docs (trading/liquidations): ``liq_price = price − side·margin_available / position_size / (1 − l·side)`` with
``l = 1 / MAINTENANCE_LEVERAGE``, ``margin_available = isolated_margin − maintenance_margin_required`` and, for
assets with margin tiers, the tier of the position value at the liquidation price. Maintenance margin is half
the initial margin at the (tier's) max leverage, so ``l = 1 / (2·max_leverage)``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from liqmap.enums import Exchange
from liqmap.errors import LiqmapError
from liqmap.margin import Formula, TierBasis, available_tiers, get_tiers, liquidation_price, liquidation_prices

SYMBOLS = ("BTC/USDC:USDC", "ETH/USDC:USDC", "SOL/USDC:USDC", "DOGE/USDC:USDC", "HYPE/USDC:USDC")
# (symbol) → [(lower bound USDC, max leverage), ...] from the Margin tiers page / meta.marginTables.
DOCS_TIERS = {
    "BTC/USDC:USDC": [(0, 40), (150e6, 20)],
    "ETH/USDC:USDC": [(0, 25), (100e6, 15)],
    "SOL/USDC:USDC": [(0, 20), (70e6, 10)],
    "DOGE/USDC:USDC": [(0, 10), (20e6, 5)],
    "HYPE/USDC:USDC": [(0, 10), (20e6, 5)],
}


def docs_liq_price(side: int, price: float, size: float, margin: float, notional_at_liq_tier: str) -> float:
    """The docs' formula, computed from the docs' tier definitions alone (no liqmap table)."""
    tiers = DOCS_TIERS[notional_at_liq_tier]
    rates = [1 / (2 * lev) for _, lev in tiers]
    deductions = [0.0]
    for n in range(1, len(tiers)):
        deductions.append(deductions[-1] + tiers[n][0] * (rates[n] - rates[n - 1]))
    for n in range(len(tiers)):  # the tier whose notional range holds the resulting liquidation price
        l_ = rates[n]
        maintenance_required = size * price * l_ - deductions[n]
        liq = price - side * (margin - maintenance_required) / size / (1 - l_ * side)
        upper = tiers[n + 1][0] if n + 1 < len(tiers) else np.inf
        if tiers[n][0] <= size * liq < upper:
            return liq
    raise AssertionError("no consistent tier")


def test_rules_and_bundled_tables():
    assert {sym for ex, sym in available_tiers() if ex == "hyperliquid"} == set(SYMBOLS)
    for sym in SYMBOLS:
        t = get_tiers("hyperliquid", sym)
        assert (t.exchange, t.formula, t.basis) == (
            Exchange.HYPERLIQUID,
            Formula.LINEAR_MARK_MM,
            TierBasis.NOTIONAL_AT_LIQUIDATION,
        )
        assert [(float(f), float(m)) for f, m in zip(t.notional_floor, t.max_leverage, strict=True)] == DOCS_TIERS[sym]
        assert t.source and t.valid_from and t.notes  # origin, date and caveats travel with the table
        assert "rules borrowed" not in " ".join(t.notes)


@pytest.mark.parametrize(("symbol", "max_lev"), [("BTC", 40), ("ETH", 25), ("SOL", 20), ("DOGE", 10), ("HYPE", 10)])
def test_mmr_is_half_the_initial_margin_at_max_leverage(symbol, max_lev):
    t = get_tiers("hyperliquid", f"{symbol}/USDC:USDC")
    np.testing.assert_allclose(t.maintenance_margin_rate, 1 / (2 * t.max_leverage), rtol=0, atol=1e-15)
    assert float(t.max_leverage[0]) == max_lev
    # the deduction keeps maintenance margin continuous at the tier boundary
    b = float(t.notional_floor[1])
    np.testing.assert_allclose(
        b * t.maintenance_margin_rate[0] - t.maintenance_amount[0],
        b * t.maintenance_margin_rate[1] - t.maintenance_amount[1],
    )


def test_deductions_to_the_cent():
    amounts = {s: float(get_tiers("hyperliquid", s).maintenance_amount[1]) for s in SYMBOLS}
    assert {s: round(a, 2) for s, a in amounts.items()} == {
        "BTC/USDC:USDC": 1_875_000.00,  # 150M × (2.5% − 1.25%)
        "ETH/USDC:USDC": 1_333_333.33,  # 100M × (1/30 − 2%)
        "SOL/USDC:USDC": 1_750_000.00,  # 70M × (5% − 2.5%)
        "DOGE/USDC:USDC": 1_000_000.00,  # 20M × (10% − 5%)
        "HYPE/USDC:USDC": 1_000_000.00,
    }


@pytest.mark.parametrize(
    ("symbol", "side", "entry", "leverage", "notional", "expected", "tier"),
    [
        # one coin, isolated: long (EP − EP/L)/(1 − R), short (EP + EP/L)/(1 + R)
        ("SOL/USDC:USDC", "long", 150, 10, None, 138.46, 1),  # 135 / 0.975
        ("SOL/USDC:USDC", "short", 150, 10, None, 160.98, 1),  # 165 / 1.025
        ("BTC/USDC:USDC", "long", 90_000, 40, None, 88_860.76, 1),  # 87,750 / 0.9875
        ("BTC/USDC:USDC", "short", 90_000, 40, None, 91_111.11, 1),  # 92,250 / 1.0125
        ("ETH/USDC:USDC", "long", 3_000, 25, None, 2_938.78, 1),  # 2,880 / 0.98
        ("ETH/USDC:USDC", "short", 3_000, 25, None, 3_058.82, 1),  # 3,120 / 1.02
        ("HYPE/USDC:USDC", "long", 25, 10, None, 23.68, 1),  # 22.5 / 0.95
        ("HYPE/USDC:USDC", "short", 25, 10, None, 26.19, 1),  # 27.5 / 1.05
        # higher tier: 2,000 BTC at 100k, 10x (M = 20M, R = 2.5%, A = 1.875M)
        ("BTC/USDC:USDC", "long", 100_000, 10, 200e6, 91_346.15, 2),  # 178.125M / (2,000 × 0.975)
        ("BTC/USDC:USDC", "short", 100_000, 10, 200e6, 108_231.71, 2),  # 221.875M / (2,000 × 1.025)
        # opens in tier 2 (160M) but is liquidated at 145.8M of notional, so tier 1 applies: 144M / (1,600 × 0.9875)
        ("BTC/USDC:USDC", "long", 100_000, 10, 160e6, 91_139.24, 1),
        ("SOL/USDC:USDC", "long", 150, 10, 80e6, 138.65, 2),  # 70.25M / (533,333.33 × 0.95)
    ],
)
def test_worked_examples_to_the_cent(symbol, side, entry, leverage, notional, expected, tier):
    r = liquidation_price("hyperliquid", symbol, side, entry=entry, leverage=leverage, notional_usd=notional)
    assert round(r.liquidation_price, 2) == expected
    assert r.tier == tier
    s = 1 if side == "long" else -1
    assert r.liquidation_price == pytest.approx(docs_liq_price(s, entry, r.quantity, r.margin, symbol), rel=1e-12)


def test_doge_sub_cent_prices():
    r = liquidation_price("hyperliquid", "DOGEUSDC", "long", entry=0.2, leverage=10, notional_usd=1_000)
    assert (r.symbol, round(r.liquidation_price, 6)) == ("DOGE/USDC:USDC", 0.189474)  # 900 / (5,000 × 0.95)


def test_docs_formula_is_independent_of_the_mark_it_is_evaluated_at():
    # An open SOL 10x long re-evaluated at mark 145: equity includes the unrealised PnL, the answer is unchanged.
    q, entry, margin, mark, l_ = 1.0, 150.0, 15.0, 145.0, 1 / 40
    available = margin + q * (mark - entry) - q * mark * l_
    at_mark = mark - available / q / (1 - l_)
    assert round(at_mark, 2) == round(liquidation_price("hyperliquid", "SOLUSDC", "long", 150, 10).liquidation_price, 2)


def test_scalar_and_vectorised_paths_agree():
    rng = np.random.default_rng(7)
    for sym in SYMBOLS:
        t = get_tiers("hyperliquid", sym)
        n = 300
        side = rng.choice([1, -1], n)
        price = {"BTC": 90_000.0, "ETH": 3_000.0, "SOL": 150.0, "DOGE": 0.2, "HYPE": 25.0}[sym.split("/")[0]]
        entry = price * rng.uniform(0.5, 1.5, n)
        notional = rng.uniform(100, 300e6, n)
        max_lev = t.max_leverage[t.tier_of(notional)]
        lev = np.maximum(1.0, np.floor(rng.uniform(0, 1, n) * max_lev))
        vec = liquidation_prices(t, side, entry, lev, notional)
        for i in range(n):
            r = liquidation_price("hyperliquid", sym, int(side[i]), entry[i], lev[i], notional[i])
            assert r.liquidation_price == vec.liquidation_price[i]
            assert r.tier == vec.tier[i]


@pytest.mark.parametrize(
    ("symbol", "leverage", "notional", "limit"),
    [
        ("SOL/USDC:USDC", 25, None, "20x"),
        ("BTC/USDC:USDC", 50, None, "40x"),
        ("HYPE/USDC:USDC", 11, None, "10x"),
        ("BTC/USDC:USDC", 40, 200e6, "20x"),  # a 200M position opens in tier 2
    ],
)
def test_leverage_above_the_max_is_refused(symbol, leverage, notional, limit):
    with pytest.raises(LiqmapError, match=f"exceeds hyperliquid {symbol}'s maximum of {limit}"):
        liquidation_price("hyperliquid", symbol, "long", entry=100, leverage=leverage, notional_usd=notional)
    t = get_tiers("hyperliquid", symbol)
    with pytest.raises(LiqmapError, match=f"maximum of {limit}"):
        liquidation_prices(
            t, np.array([1]), np.array([100.0]), np.array([float(leverage)]), np.array([notional or 100.0])
        )


def _cli(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liqmap", *command.split()], capture_output=True, text=True, timeout=120
    )


def test_cli_liq_price_and_tiers():
    ok = _cli("liq-price --exchange hyperliquid --symbol SOL/USDC:USDC --side long --entry 150 --leverage 10 --json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert (data["exchange"], data["symbol"], round(data["liquidation_price"], 2)) == (
        "hyperliquid",
        "SOL/USDC:USDC",
        138.46,
    )
    rows = json.loads(_cli("tiers --exchange hyperliquid --symbol BTC/USDC:USDC --json").stdout)
    assert [(r["notional_floor"], r["max_leverage"], r["maintenance_margin_rate"]) for r in rows] == [
        (0.0, 40.0, 0.0125),
        (150e6, 20.0, 0.025),
    ]
    bad = _cli("liq-price --exchange hyperliquid --symbol SOL/USDC:USDC --side long --entry 150 --leverage 25")
    assert bad.returncode == 2 and "maximum of 20x" in bad.stderr
