"""Symbol normalisation: every table and API uses ccxt's unified perpetual symbols.

``BTC/USDT:USDT`` is a USDT-margined linear perpetual, ``BTC/USD:BTC`` a coin-margined inverse one.
Venue spellings are accepted at the edge and normalised here:

>>> normalize_symbol("BTCUSDT")
'BTC/USDT:USDT'
>>> normalize_symbol("BTC-USDT-SWAP")
'BTC/USDT:USDT'
>>> normalize_symbol("BTCUSD_PERP")
'BTC/USD:BTC'
>>> normalize_symbol("eth")
'ETH/USDT:USDT'
"""

from __future__ import annotations

import re

from liqmap.enums import ContractType
from liqmap.errors import UnknownSymbolError

_QUOTES = ("USDT", "USDC", "USD")
_UNIFIED = re.compile(r"^([A-Z0-9]+)/([A-Z]+):([A-Z0-9]+)$")


def normalize_symbol(symbol: str) -> str:
    """Return the ccxt unified perpetual symbol for any common venue spelling of ``symbol``."""
    if not isinstance(symbol, str) or not symbol.strip():
        raise UnknownSymbolError(f"symbol must be a non-empty string, got {symbol!r}")
    s = symbol.strip().upper()
    if _UNIFIED.match(s):
        return s
    if "/" in s:  # spot-like "BTC/USDT" → linear perp
        base, quote = s.split("/", 1)
        return _compose(base, quote, symbol)
    s = s.removesuffix("-SWAP").removesuffix("_PERP").removesuffix("PERP").replace("-", "")
    for quote in _QUOTES:
        if s.endswith(quote) and len(s) > len(quote):
            return _compose(s[: -len(quote)], quote, symbol)
    if s.isalnum():
        return _compose(s, "USDT", symbol)
    raise UnknownSymbolError(f"cannot read symbol {symbol!r}: use e.g. BTCUSDT or BTC/USDT:USDT")


def _compose(base: str, quote: str, original: str) -> str:
    if not base.isalnum() or quote not in _QUOTES:
        raise UnknownSymbolError(f"cannot read symbol {original!r}: use e.g. BTCUSDT or BTC/USDT:USDT")
    settle = base if quote == "USD" else quote
    return f"{base}/{quote}:{settle}"


def base_asset(symbol: str) -> str:
    """``"BTC/USDT:USDT"`` → ``"BTC"``."""
    return normalize_symbol(symbol).split("/", 1)[0]


def contract_type(symbol: str) -> ContractType:
    """Linear when settled in the quote currency, inverse when settled in the base coin."""
    unified = normalize_symbol(symbol)
    base, rest = unified.split("/", 1)
    return ContractType.INVERSE if rest.split(":", 1)[1] == base else ContractType.LINEAR


def venue_symbol(symbol: str) -> str:
    """Compact venue-style id used in file names and tier keys: ``BTC/USDT:USDT`` → ``BTCUSDT``."""
    unified = normalize_symbol(symbol)
    base, rest = unified.split("/", 1)
    return base + rest.split(":", 1)[0]
