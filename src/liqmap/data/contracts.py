"""Contract values: base units per contract for venues whose files count sizes in contracts.

One bundled table, ``contract_values.csv`` (``exchange, symbol, venue_symbol, contract_value, source``),
is the only place liqmap keeps a contract value; every file converter that meets contract counts (the
shared OKX candles and liquidation orders) reads it. Live connectors use the venue's own
``market["contractSize"]`` instead. An exchange absent from the table sizes in base units.

>>> contract_value("okx", "BTC/USDT:USDT")
0.01
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from liqmap.errors import DataValidationError

CONTRACT_VALUES_FILE = Path(__file__).with_name("contract_values.csv")


@cache
def _table() -> pd.DataFrame:
    return pd.read_csv(CONTRACT_VALUES_FILE, dtype={"contract_value": "float64"})


def contract_values() -> pd.DataFrame:
    """The bundled table: ``exchange, symbol, venue_symbol, contract_value, source`` (a copy)."""
    return _table().copy()


def contract_value(exchange: str, symbol: str) -> float:
    """Base units per contract of one instrument (raises if the table does not list it)."""
    t = _table()
    row = t[(t["exchange"] == exchange) & (t["symbol"] == symbol)]
    if row.empty:
        known = ", ".join(t["exchange"] + " " + t["symbol"])
        raise DataValidationError(f"no contract value for {exchange} {symbol} (known: {known})")
    return float(row["contract_value"].iloc[0])


def base_per_contract(exchange: pd.Series, symbol: pd.Series) -> np.ndarray:
    """Row by row: 1.0 where the exchange sizes in base units (not in the table), its contract value where
    listed, NaN for an instrument of a contract-sized exchange that the table does not list (unknown)."""
    t = _table()
    key = pd.MultiIndex.from_arrays([exchange.to_numpy(), symbol.to_numpy()])
    value = pd.Series(t["contract_value"].to_numpy(), index=pd.MultiIndex.from_frame(t[["exchange", "symbol"]]))
    out = value.reindex(key).to_numpy(dtype="float64", copy=True)
    out[~exchange.isin(t["exchange"]).to_numpy() & np.isnan(out)] = 1.0
    return out
