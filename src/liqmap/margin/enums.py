"""Enumerations of the margin package: which formula a venue uses and what picks its tier."""

from __future__ import annotations

from enum import IntEnum


class Formula(IntEnum):
    """Liquidation-price formula family (ints so numba kernels can branch on them)."""

    LINEAR_MARK_MM = 0  # linear; maintenance margin on the mark notional (Binance USDⓈ-M, OKX, Hyperliquid)
    LINEAR_ENTRY_MM = 1  # linear; maintenance margin on the entry notional (Bybit USDT isolated)
    INVERSE_MARK_MM = 2  # inverse; maintenance margin on the mark notional in coin (Binance COIN-M, Bybit)


class TierBasis(IntEnum):
    """What a tier's floor/cap are compared with."""

    NOTIONAL_AT_LIQUIDATION = 0  # position notional at the liquidation price (Binance, Hyperliquid: iterate)
    NOTIONAL_AT_ENTRY = 1  # position value at entry (Bybit risk limit)
    QUANTITY = 2  # position size in base units (OKX tiers are in contracts × ctVal)
