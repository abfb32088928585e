"""The bundled Binance tiers hold every USDⓈ-M symbol of the 2026-09 bracket dump, with the dump's values."""

import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqmap.cli import app
from liqmap.engine.options import engine_config
from liqmap.margin import available_tiers, get_tiers, liquidation_price
from liqmap.margin.tiers import _bundled
from liqmap.symbols import contract_type, normalize_symbol, venue_symbol

DUMP = Path(__file__).resolve().parents[3] / "shared" / "data" / "tiers" / "binance_usdm_leverage_tiers_2026-09.json"
BUNDLED = resources.files("liqmap.margin") / "tiers" / "binance.json"

# Rows [floor, cap, max leverage, MMR, cum] of the bundled file before it grew to every symbol (commit 243464a).
BTC_BEFORE = [
    [0, 300000, 150.0, 0.004, 0.0],
    [300000, 800000, 100.0, 0.005, 300.0],
    [800000, 3000000, 75.0, 0.0065, 1500.0],
    [3000000, 12000000, 50.0, 0.01, 12000.0],
    [12000000, 70000000, 25.0, 0.02, 132000.0],
    [70000000, 100000000, 20.0, 0.025, 482000.0],
    [100000000, 230000000, 10.0, 0.05, 2982000.0],
    [230000000, 480000000, 5.0, 0.1, 14482000.0],
    [480000000, 600000000, 4.0, 0.125, 26482000.0],
    [600000000, 800000000, 3.0, 0.15, 41482000.0],
    [800000000, 1200000000, 2.0, 0.25, 121482000.0],
    [1200000000, 1800000000, 1.0, 0.5, 421482000.0],
]
ETH_BEFORE = [
    [0, 300000, 150.0, 0.004, 0.0],
    [300000, 800000, 100.0, 0.005, 300.0],
    [800000, 3000000, 75.0, 0.0065, 1500.0],
    [3000000, 12000000, 50.0, 0.01, 12000.0],
    [12000000, 50000000, 25.0, 0.02, 132000.0],
    [50000000, 65000000, 20.0, 0.025, 382000.0],
    [65000000, 150000000, 10.0, 0.05, 2007000.0],
    [150000000, 320000000, 5.0, 0.1, 9507000.0],
    [320000000, 400000000, 4.0, 0.125, 17507000.0],
    [400000000, 530000000, 3.0, 0.15, 27507000.0],
    [530000000, 800000000, 2.0, 0.25, 80507000.0],
    [800000000, 1200000000, 1.0, 0.5, 280507000.0],
]

# Hand-picked rows of the dump: (symbol, tier) → info {notionalFloor, notionalCap, initialLeverage,
# maintMarginRatio, cum}.
DUMP_ROWS = {
    ("SOL/USDT:USDT", 1): (0, 50_000, 100, 0.005, 0.0),
    ("SOL/USDT:USDT", 3): (400_000, 1_000_000, 50, 0.01, 1_475.0),
    ("SOL/USDT:USDT", 10): (200_000_000, 400_000_000, 1, 0.5, 66_731_475.0),
    ("DOGE/USDT:USDT", 1): (0, 80_000, 75, 0.0065, 0.0),
    ("DOGE/USDT:USDT", 6): (4_000_000, 20_000_000, 10, 0.05, 116_280.0),
    ("DOGE/USDT:USDT", 10): (100_000_000, 200_000_000, 1, 0.5, 33_366_280.0),
    ("HYPE/USDT:USDT", 1): (0, 20_000, 75, 0.01, 0.0),
    ("HYPE/USDT:USDT", 5): (2_000_000, 5_000_000, 10, 0.05, 56_100.0),
    ("HYPE/USDT:USDT", 9): (12_500_000, 15_000_000, 1, 0.5, 4_868_600.0),
    ("SOL/USDC:USDC", 4): (200_000, 500_000, 40, 0.012, 590.0),
}
TIER_COUNTS = {"SOL/USDT:USDT": 10, "DOGE/USDT:USDT": 10, "HYPE/USDT:USDT": 9, "SOL/USDC:USDC": 11}


def _row(symbol: str, tier: int) -> tuple[float, ...]:
    t = get_tiers("binance", symbol)
    i = tier - 1
    columns = (t.notional_floor, t.notional_cap, t.max_leverage, t.maintenance_margin_rate, t.maintenance_amount)
    return tuple(float(c[i]) for c in columns)


@pytest.mark.parametrize(("key", "want"), DUMP_ROWS.items(), ids=[f"{s}-{n}" for s, n in DUMP_ROWS])
def test_new_symbols_equal_the_dump(key, want):
    symbol, tier = key
    assert _row(symbol, tier) == want
    t = get_tiers("binance", symbol)
    assert len(t) == TIER_COUNTS[symbol] and t.valid_from == "2026-09"
    assert "binance_usdm_leverage_tiers_2026-09.json" in t.source


def test_btc_eth_unchanged():
    for symbol, rows in (("BTC/USDT:USDT", BTC_BEFORE), ("ETH/USDT:USDT", ETH_BEFORE)):
        t = get_tiers("binance", symbol)
        assert [list(_row(symbol, n + 1)) for n in range(len(t))] == rows
    coin_m = get_tiers("binance", "BTCUSD")
    assert coin_m.contract_size == 100.0 and coin_m.valid_from.startswith("unknown") and len(coin_m) == 10


def test_sol_10x_liquidation_price():
    # tier 1 (≤ 50k, 0.5 %, cum 0): (15,000 − 1,500) / (100 × 0.995)
    r = liquidation_price("binance", "SOLUSDT", "long", 150, 10, 15_000)
    assert r.tier == 1 and round(r.liquidation_price, 4) == 135.6784
    # 1M notional: at the LP the notional is ≈ 907.6k, bracket 3 (400k–1M, 1 %, cum 1,475)
    q = 1_000_000 / 150
    r = liquidation_price("binance", "SOLUSDT", "long", 150, 10, 1_000_000)
    assert r.tier == 3 and r.maintenance_amount == 1_475.0
    assert r.liquidation_price == pytest.approx((1_000_000 - 100_000 - 1_475) / (q * 0.99), rel=1e-12)
    assert round(r.liquidation_price, 4) == 136.1402
    # short, tier 1: (15,000 + 1,500) / (100 × 1.005)
    r = liquidation_price("binance", "SOLUSDT", "short", 150, 10, 15_000)
    assert round(r.liquidation_price, 4) == 164.1791


def test_every_dump_symbol_is_bundled():
    binance = [sym for ex, sym in available_tiers() if ex == "binance"]
    assert len(binance) == 907 + 1  # every USDⓈ-M symbol of the dump + COIN-M BTC/USD:BTC
    # the odd names of the dump are unified symbols too: non-Latin bases, USD1 quotes, dated futures
    for sym in ("币安人生/USDT:USDT", "BTC/USD1:USD1", "BTC/USDT:USDT-260925", "ETH/BTC:BTC", "BTC/U:U"):
        assert sym in binance and normalize_symbol(sym) == sym and contract_type(sym) == "linear"
    assert venue_symbol("BTC/USDT:USDT-260925") == "BTCUSDT_260925"
    assert len(get_tiers("binance", "BTC/USDT:USDT-260925")) > 0


@pytest.mark.skipif(not DUMP.is_file(), reason="needs ../shared/data/tiers")
def test_every_table_equals_the_dump():
    raw = json.loads(DUMP.read_text())
    for symbol, tiers in raw.items():
        keys = ("notionalFloor", "notionalCap", "initialLeverage", "maintMarginRatio", "cum")
        want = [tuple(float(t["info"][k]) for k in keys) for t in tiers]
        assert [_row(symbol, n + 1) for n in range(len(tiers))] == want, symbol


def test_bundled_file_is_small_and_read_once():
    assert len(BUNDLED.read_bytes()) < 1_500_000
    get_tiers("binance", "SOLUSDT")  # warm: the file is parsed once per process
    parsed = _bundled.cache_info().misses
    for _ in range(100):
        get_tiers("binance", "DOGEUSDT")
    assert _bundled.cache_info().misses == parsed  # not parsed again per lookup


def test_tiers_cli_shows_sol():
    res = CliRunner().invoke(app, ["tiers", "--exchange", "binance", "--symbol", "SOLUSDT", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert len(rows) == 10 and rows[2]["maintenance_amount"] == 1_475.0 and rows[0]["max_leverage"] == 100.0


def test_tier_lending_only_for_venues_without_a_table():
    """``engine_config(tiers_from=...)`` reads ``available_tiers()``: Binance now has SOL, Bybit and OKX do not."""
    bars = pd.DataFrame({"exchange": ["binance", "bybit", "okx"], "symbol": ["SOL/USDT:USDT"] * 3})
    assert engine_config(bars, tiers_from="binance").tier_exchange == {"bybit": "binance", "okx": "binance"}
