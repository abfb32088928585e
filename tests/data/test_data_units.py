"""Units at the edge: contract counts become base units once, with one contract-value table."""

from __future__ import annotations

import ccxt
import numpy as np
import pandas as pd
import pytest

from liqmap.data.contracts import base_per_contract, contract_value, contract_values
from liqmap.data.layouts import Layout, okx_liquidations, to_canonical
from liqmap.data.sample import sample_bars, sample_liquidations
from liqmap.errors import DataValidationError

DAY_MS = 86_400_000


# Median over UTC days of Σ volume × close, in $ M (3 significant figures), per coin: binance, bybit, okx.
MEDIAN_DAILY_USD_M = {
    "BTC/USDT:USDT": (13_200, 6_240, 6_540),
    "ETH/USDT:USDT": (11_900, 3_520, 9_660),
    "SOL/USDT:USDT": (2_710, 1_260, 1_060),
    "DOGE/USDT:USDT": (605, 188, 438),
    "HYPE/USDT:USDT": (295, 146, 108),
}


@pytest.mark.parametrize("symbol", MEDIAN_DAILY_USD_M)
def test_daily_usd_volume_agrees_across_venues(symbol):
    """Every coin: OKX's contracts no longer read as coins (BTC was ~50× Binance); the venues agree within 5×."""
    bars = sample_bars()
    coin = bars[bars["symbol"] == symbol]
    usd = (coin["volume"] * coin["close"]).groupby([coin["exchange"], coin["timestamp"] // DAY_MS]).sum()
    median = usd.groupby(level=0).median()
    assert set(median.index) == {"binance", "bybit", "okx"}
    assert median.max() / median.min() < 5
    got = tuple(float(f"{median[v] / 1e6:.3g}") for v in ("binance", "bybit", "okx"))
    assert got == MEDIAN_DAILY_USD_M[symbol]


def test_okx_volume_is_contracts_times_contract_value():
    first = sample_bars().query("exchange == 'okx' and symbol == 'BTC/USDT:USDT'").iloc[0]
    # shared candles_1h, okx BTC 2025-12-05 11:00: v = 196,500.88 contracts of 0.01 BTC
    assert first["timestamp"] == 1764932400000
    assert first["volume"] == pytest.approx(196_500.88 * 0.01, rel=1e-12)
    assert contract_value("okx", "BTC/USDT:USDT") == 0.01 and contract_value("okx", "ETH/USDT:USDT") == 0.1


def test_one_table_serves_candles_and_liquidations():
    table = contract_values()
    assert not table.duplicated(["exchange", "symbol"]).any() and table["source"].str.len().gt(0).all()
    assert dict(zip(table["venue_symbol"], table["contract_value"], strict=True)) == {
        "BTC-USDT-SWAP": 0.01,
        "ETH-USDT-SWAP": 0.1,
        "SOL-USDT-SWAP": 1.0,
        "DOGE-USDT-SWAP": 1000.0,
        "HYPE-USDT-SWAP": 0.1,
    }
    size = base_per_contract(
        pd.Series(["okx", "binance", "okx"]), pd.Series(["DOGE/USDT:USDT"] * 2 + ["XRP/USDT:USDT"])
    )
    np.testing.assert_array_equal(size, [1000.0, 1.0, np.nan])  # base-unit venues ×1, unknown instrument NaN
    with pytest.raises(DataValidationError, match="no contract value for okx XRP/USDT:USDT"):
        contract_value("okx", "XRP/USDT:USDT")
    hype = sample_liquidations().query("symbol == 'HYPE/USDT:USDT'")
    assert len(hype) == 99  # kept now that HYPE-USDT-SWAP's contract value is known


def test_unknown_contract_values_are_dropped_not_guessed():
    rows = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:00", "2026-01-01 00:00"], utc=True),
            "venue": ["okx", "okx", "binance"],
            "coin": ["BTC", "XRP", "XRP"],
            "o": 1.0,
            "h": 1.0,
            "l": 1.0,
            "c": 1.0,
            "v": [100.0, 100.0, 100.0],
        }
    )
    conv = to_canonical(rows, Layout.SHARED_CANDLES)
    assert conv.frame[["exchange", "symbol", "volume"]].values.tolist() == [
        ["binance", "XRP/USDT:USDT", 100.0],
        ["okx", "BTC/USDT:USDT", 1.0],
    ]
    assert conv.note == "dropped 1 rows of okx XRP/USDT:USDT (contract value unknown)"
    liq = rows.assign(side="buy", size_usd=10.0, price=5.0).iloc[:2]
    out = okx_liquidations(liq)
    assert out.frame["quantity"].tolist() == [0.02] and "dropped 1 rows of XRP" in out.note


def test_ccxt_volume_fields():
    """What ccxt 4.5 puts in the OHLCV volume of a linear swap: base units (okx ``volCcy``) or contracts (gate)."""
    okx = ccxt.okx()
    swap = {"type": "swap", "spot": False, "swap": True, "contract": True, "linear": True, "inverse": False}
    row = ["1764932400000", "91234.8", "91522.9", "91079.0", "91309.9", "196500.88", "1965.0088", "1.79e8", "1"]
    assert okx.parse_ohlcv(row, swap)[5] == 1965.0088  # volCcy (base), not vol (contracts)
    gate = ccxt.gate().parse_ohlcv({"t": 1764932400, "v": 19650088, "o": "1", "h": "1", "l": "1", "c": "1"}, swap)
    assert gate[5] == 19650088  # contracts: the generic connector multiplies by contractSize
