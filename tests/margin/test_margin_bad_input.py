"""Bad input raises a clear ValueError (CLI: exit code 2 and a one-line message), never a wrong number."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from liqmap.errors import LiqmapError, UnknownSymbolError
from liqmap.margin import get_tiers, liquidation_price, liquidation_prices, tiers_from_ccxt


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"leverage": 151}, "exceeds binance BTC/USDT:USDT's maximum of 150x"),
        ({"leverage": 101, "notional_usd": 500_000}, "maximum of 100x"),
        ({"leverage": 0}, "leverage must be a positive finite number"),
        ({"leverage": -5}, "leverage must be a positive finite number"),
        ({"entry": 0}, "entry must be a positive finite number"),
        ({"entry": -1}, "entry must be a positive finite number"),
        ({"entry": math.nan}, "entry must be a positive finite number"),
        ({"notional_usd": 0}, "notional_usd must be a positive finite number"),
        ({"notional_usd": math.inf}, "notional_usd must be a positive finite number"),
        ({"side": "up"}, "unknown side 'up'"),
        ({"margin_mode": "cross"}, "cross margin needs the wallet balance"),
        ({"margin_mode": "cross", "wallet_usd": 100, "other_maintenance_usd": 200}, "must be positive"),
        ({"exchange": "ftx"}, "unknown exchange 'ftx'"),
        ({"symbol": "NOTACOINUSDT"}, "no tier table for binance:NOTACOIN/USDT:USDT"),
        ({"symbol": "!!"}, "cannot read symbol"),
    ],
)
def test_bad_scalar_input(kwargs, message):
    args = {
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "side": "long",
        "entry": 94_000,
        "leverage": 10,
        "notional_usd": 94_000,
    } | kwargs
    with pytest.raises(LiqmapError, match=message.replace("(", r"\(").replace(")", r"\)")):
        liquidation_price(**args)


def test_unknown_symbol_is_a_value_error():
    assert issubclass(UnknownSymbolError, ValueError)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("entry", np.nan, "entry must be finite"),
        ("leverage", 0.0, "leverage must be positive"),
        ("notional_usd", -1.0, "notional_usd must be positive"),
        ("side", 0, "side must be"),
    ],
)
def test_bad_vector_input(field, value, message):
    args = {
        "side": np.array([1, 1]),
        "entry": np.array([94_000.0, 94_000.0]),
        "leverage": np.array([10.0, 10.0]),
        "notional_usd": np.array([1e4, 1e4]),
    }
    args[field] = np.array([args[field][0], value])
    with pytest.raises(LiqmapError, match=message):
        liquidation_prices(get_tiers("binance", "BTCUSDT"), **args)


def test_ccxt_tiers_loader_reads_binance_raw_output():
    raw = [
        {
            "tier": 1.0,
            "minNotional": 0.0,
            "maxNotional": 300000.0,
            "maintenanceMarginRate": 0.004,
            "maxLeverage": 150.0,
            "info": {"bracket": "1", "notionalCap": "300000", "notionalFloor": "0", "cum": "0.0"},
        },
        {
            "tier": 2.0,
            "minNotional": 300000.0,
            "maxNotional": 800000.0,
            "maintenanceMarginRate": 0.005,
            "maxLeverage": 100.0,
            "info": {"bracket": "2", "notionalCap": "800000", "notionalFloor": "300000", "cum": "300.0"},
        },
    ]
    t = tiers_from_ccxt("binance", "BTC/USDT:USDT", raw, valid_from="2026-09")
    assert t.maintenance_amount.tolist() == [0.0, 300.0] and t.max_leverage.tolist() == [150.0, 100.0]
    with pytest.raises(LiqmapError, match="malformed ccxt tier"):
        tiers_from_ccxt("binance", "BTC/USDT:USDT", [{"tier": 1}])
    with pytest.raises(LiqmapError, match="empty tier list"):
        tiers_from_ccxt("binance", "BTC/USDT:USDT", [])


def test_okx_ccxt_tiers_are_contracts():
    raw = [
        {
            "tier": 1,
            "minNotional": 0,
            "maxNotional": 500,
            "maintenanceMarginRate": 0.004,
            "maxLeverage": 125,
            "info": {},
        }
    ]
    t = tiers_from_ccxt("okx", "BTC-USDT-SWAP", raw, contract_size=0.01, fee_rate=0.0005)
    assert float(t.notional_cap[0]) == 5.0  # 500 contracts × 0.01 BTC


def _cli(command: str) -> subprocess.CompletedProcess:
    """Run ``python -m liqmap <command>`` (words split on whitespace)."""
    return subprocess.run(
        [sys.executable, "-m", "liqmap", *command.split()], capture_output=True, text=True, timeout=120
    )


def test_cli_json_and_exit_codes():
    ok = _cli(
        "liq-price --exchange binance --symbol BTCUSDT --side short --entry 94000 --leverage 10"
        " --notional-usd 94000 --json"
    )
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert round(data["liquidation_price"], 2) == 102_988.05
    assert {
        "liquidation_price",
        "bankruptcy_price",
        "maintenance_margin_rate",
        "maintenance_amount",
        "tier",
        "exchange",
        "symbol",
        "side",
    } <= set(data)
    assert (data["exchange"], data["symbol"], data["side"], data["tier"]) == ("binance", "BTC/USDT:USDT", "short", 1)
    bad = _cli("liq-price --exchange binance --symbol BTCUSDT --side long --entry 94000 --leverage 500")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "exceeds" in bad.stderr
