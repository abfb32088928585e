"""The one ccxt-tier parser (``tiers_from_ccxt``) on a recorded real ``fetch_leverage_tiers`` payload."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liqmap.margin import get_tiers, liquidation_price, tiers_from_ccxt
from liqmap.margin.enums import Formula, TierBasis

RECORDED = Path(__file__).parents[1] / "data" / "fixtures" / "ccxt_binance_leverage_tiers_2026-09_sol_doge.json"


@pytest.fixture(scope="module")
def payload() -> dict[str, list[dict]]:
    return json.loads(RECORDED.read_text())


@pytest.mark.parametrize("symbol", ["SOL/USDT:USDT", "DOGE/USDT:USDT"])
def test_info_cum_is_the_maintenance_amount_and_equals_the_bundled_table(payload, symbol):
    table = tiers_from_ccxt("binance", symbol, payload[symbol])
    bundled = get_tiers("binance", symbol)
    assert table.maintenance_amount.tolist() == [float(t["info"]["cum"]) for t in payload[symbol]]
    for name in ("notional_floor", "notional_cap", "max_leverage", "maintenance_margin_rate", "maintenance_amount"):
        assert np.array_equal(getattr(table, name), getattr(bundled, name)), name


@pytest.mark.parametrize("symbol", ["SOL/USDT:USDT", "DOGE/USDT:USDT"])
def test_without_info_the_amount_follows_tier_continuity(payload, symbol):
    bare = [{k: v for k, v in t.items() if k != "info"} for t in payload[symbol]]
    table = tiers_from_ccxt("binance", symbol, bare)
    floor, mmr, cum = table.notional_floor, table.maintenance_margin_rate, table.maintenance_amount
    assert cum[0] == 0.0
    assert np.allclose(cum[1:], cum[:-1] + floor[1:] * (mmr[1:] - mmr[:-1]), rtol=0, atol=1e-6)
    # Binance's own cum obeys the same rule, so the derived amounts are the venue's
    assert cum.tolist() == pytest.approx([float(t["info"]["cum"]) for t in payload[symbol]], abs=1e-6)
    # maintenance margin is continuous at every tier boundary
    assert np.allclose(floor[1:] * mmr[1:] - cum[1:], floor[1:] * mmr[:-1] - cum[:-1], atol=1e-6)


def test_sol_liquidation_price_from_the_parsed_payload(payload):
    bare = [{k: v for k, v in t.items() if k != "info"} for t in payload["SOL/USDT:USDT"]]
    table = tiers_from_ccxt("binance", "SOL/USDT:USDT", bare)
    # 10x long of 1M USDT at 150 → bracket 3 at the liquidation price (1 %, cum 1,475): (1M − 100k − 1,475)/(Q·0.99)
    r = liquidation_price("binance", "SOLUSDT", "long", 150.0, 10, 1_000_000, tiers=table)
    assert r.liquidation_price == pytest.approx((1_000_000 - 100_000 - 1_475) / (1_000_000 / 150 * 0.99), rel=1e-12)
    assert round(r.liquidation_price, 2) == 136.14 and r.tier == 3


def test_generic_venue_tables_get_the_assumed_binance_style_rules(payload):
    table = tiers_from_ccxt("gate", "SOL/USDT:USDT", payload["SOL/USDT:USDT"])
    assert (table.formula, table.basis) == (Formula.LINEAR_MARK_MM, TierBasis.NOTIONAL_AT_LIQUIDATION)
    assert any("rules assumed" in n for n in table.notes)


def test_okx_contract_tiers_are_converted_to_base_units():
    tiers = [{"tier": 1, "minNotional": None, "maxNotional": 1000, "maxLeverage": 100, "maintenanceMarginRate": 0.004}]
    table = tiers_from_ccxt("okx", "BTC/USDT:USDT", tiers, contract_size=0.01)
    assert table.notional_floor.tolist() == [0.0] and table.notional_cap.tolist() == [10.0]
