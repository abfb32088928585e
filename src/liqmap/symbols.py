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

Unified symbols of any ccxt market name are kept as they are, including bases that are not Latin
(Binance's ``币安人生/USDT:USDT``), stablecoin quotes with digits (``BTC/USD1:USD1``) and dated futures
with ccxt's expiry suffix (``BTC/USDT:USDT-260925``).
"""

from __future__ import annotations

import re

from liqmap.enums import ContractType
from liqmap.errors import UnknownSymbolError

_QUOTES = ("USDT", "USDC", "USD")
# base: any letters/digits (``str.isalnum``, as ``_compose`` accepts); optional ccxt expiry ``-YYMMDD``.
_UNIFIED = re.compile(r"^([^\W_]+)/([A-Z0-9]+):([A-Z0-9]+)(-\d{6})?$")


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


def contract_type(symbol: str) -> ContractType:
    """Linear when settled in the quote currency, inverse when settled in the base coin."""
    base, _, settle, _ = _parts(symbol)
    return ContractType.INVERSE if settle == base else ContractType.LINEAR


def venue_symbol(symbol: str) -> str:
    """Compact venue-style id used in file names and tier keys: ``BTC/USDT:USDT`` → ``BTCUSDT``.

    >>> venue_symbol("BTC/USDT:USDT-260925")
    'BTCUSDT_260925'
    """
    base, quote, _, expiry = _parts(symbol)
    return base + quote + (f"_{expiry}" if expiry else "")


def _parts(symbol: str) -> tuple[str, str, str, str]:
    """``(base, quote, settle, expiry)`` of the unified symbol; expiry ``YYMMDD`` or ``""``."""
    match = _UNIFIED.match(normalize_symbol(symbol))
    assert match is not None  # normalize_symbol only returns unified symbols
    base, quote, settle, expiry = match.groups()
    return base, quote, settle, (expiry or "").removeprefix("-")
