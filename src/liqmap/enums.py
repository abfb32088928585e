"""Enumerations shared across liqmap (exchanges, sides, margin modes, contract types, data provenance)."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from liqmap.errors import LiqmapError


class Exchange(StrEnum):
    """Venues whose margin rules and data liqmap knows.

    Binance, Bybit and OKX have dedicated connectors and tier rules; the other venues (values are ccxt
    ids) are large perpetual-swap venues whose ccxt class has the unified ``fetchOHLCV`` and
    ``fetchFundingRateHistory``: their data comes through the generic connector and their maps borrow
    another venue's tiers (``--tiers-from``). ``LIGHTER`` (a DEX; ccxt has its bars but no funding history,
    so no connector) is here for the bundled real sample, the one venue with real hourly OI *and* bars.
    ``SIM`` labels simulated markets.
    """

    BINANCE = "binance"
    BYBIT = "bybit"
    OKX = "okx"
    HYPERLIQUID = "hyperliquid"
    BITGET = "bitget"
    GATE = "gate"
    KUCOINFUTURES = "kucoinfutures"
    MEXC = "mexc"
    HTX = "htx"
    BINGX = "bingx"
    LIGHTER = "lighter"
    SIM = "sim"


class Side(IntEnum):
    """Side of a *position* (+1 long, −1 short); the sign used in every formula."""

    LONG = 1
    SHORT = -1

    @classmethod
    def parse(cls, value: str | int | Side) -> Side:
        """Parse ``"long"``/``"short"``/``1``/``-1`` into a :class:`Side`."""
        if isinstance(value, Side):
            return value
        if isinstance(value, str):
            key = value.strip().lower()
            if key in ("long", "l", "buy"):
                return cls.LONG
            if key in ("short", "s", "sell"):
                return cls.SHORT
            raise LiqmapError(f"unknown side {value!r}: use 'long' or 'short'")
        try:
            return cls(int(value))
        except ValueError:
            raise LiqmapError(f"unknown side {value!r}: use 1 (long) or -1 (short)") from None


class MarginMode(StrEnum):
    """Isolated margin (one position's own margin) or cross margin (shared wallet)."""

    ISOLATED = "isolated"
    CROSS = "cross"


class ContractType(StrEnum):
    """Linear (USDT/USDC-margined, PnL in quote) or inverse (coin-margined, PnL in base)."""

    LINEAR = "linear"
    INVERSE = "inverse"


class Provenance(StrEnum):
    """How a stored bar column was made when it is *not* the venue's own series, as its importer recorded it
    (:meth:`liqmap.data.store.Store.record_provenance`; nothing recorded: the venue's own, as far as the store
    knows)."""

    PROXY = "proxy"  # another series standing in (the sample's OI: Hyperliquid's path scaled to the venue)
    APPROXIMATED = "approximated"  # computed from the bar's other columns (the sample's quote volume)
