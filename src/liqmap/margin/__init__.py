"""Exact liquidation prices under each exchange's own margin rules and maintenance-margin tiers.

>>> from liqmap.margin import liquidation_price
>>> r = liquidation_price("binance", "BTCUSDT", "short", entry=94_000, leverage=100, notional_usd=94_000)
>>> round(r.liquidation_price, 2)
94561.75
"""

from liqmap.margin.api import (
    LiquidationArrays,
    LiquidationResult,
    liquidation_price,
    liquidation_prices,
    maintenance_margin,
)
from liqmap.margin.enums import Formula, TierBasis
from liqmap.margin.tiers import (
    TierTable,
    available_tiers,
    get_tiers,
    make_table,
    relabel_tiers,
    tiers_from_ccxt,
    tiers_from_records,
)

__all__ = [
    "Formula",
    "LiquidationArrays",
    "LiquidationResult",
    "TierBasis",
    "TierTable",
    "available_tiers",
    "get_tiers",
    "liquidation_price",
    "liquidation_prices",
    "maintenance_margin",
    "make_table",
    "relabel_tiers",
    "tiers_from_ccxt",
    "tiers_from_records",
]
