"""Maintenance-margin tier tables: the bundled real tables and ccxt ``fetch_leverage_tiers`` output.

A :class:`TierTable` holds one venue/contract's tiers as NumPy arrays plus the rules that say how the
venue applies them (:class:`~liqmap.margin.enums.Formula`, :class:`~liqmap.margin.enums.TierBasis`). The
bundled tables are package data (``liqmap/margin/tiers/*.json``), each with its origin and date; refresh
them with :func:`tiers_from_ccxt`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from liqmap.enums import ContractType, Exchange
from liqmap.errors import LiqmapError, UnknownSymbolError
from liqmap.margin.enums import Formula, TierBasis
from liqmap.symbols import contract_type, normalize_symbol

# How each venue applies its tiers, by contract type. OKX adds its taker fee to the maintenance rate. Hyperliquid
# (USDC-margined linear perps only) takes the tier of the notional at the liquidation price, as Binance does.
_RULES: dict[tuple[Exchange, ContractType], tuple[Formula, TierBasis]] = {
    (Exchange.BINANCE, ContractType.LINEAR): (Formula.LINEAR_MARK_MM, TierBasis.NOTIONAL_AT_LIQUIDATION),
    (Exchange.BINANCE, ContractType.INVERSE): (Formula.INVERSE_MARK_MM, TierBasis.NOTIONAL_AT_LIQUIDATION),
    (Exchange.BYBIT, ContractType.LINEAR): (Formula.LINEAR_ENTRY_MM, TierBasis.NOTIONAL_AT_ENTRY),
    (Exchange.BYBIT, ContractType.INVERSE): (Formula.INVERSE_MARK_MM, TierBasis.NOTIONAL_AT_ENTRY),
    (Exchange.OKX, ContractType.LINEAR): (Formula.LINEAR_MARK_MM, TierBasis.QUANTITY),
    (Exchange.OKX, ContractType.INVERSE): (Formula.INVERSE_MARK_MM, TierBasis.QUANTITY),
    (Exchange.HYPERLIQUID, ContractType.LINEAR): (Formula.LINEAR_MARK_MM, TierBasis.NOTIONAL_AT_LIQUIDATION),
}
# Venues without bundled tables of their own that borrow another venue's rules.
_ALIASES = {Exchange.SIM: Exchange.BINANCE}
# Venues with no rule entry (the generic ccxt venues: Bitget, Gate, …) whose tables come from the store: the
# Binance-style rule (maintenance margin on the mark, tier of the notional at liquidation) is assumed.
_DEFAULT_RULES = {
    ContractType.LINEAR: (Formula.LINEAR_MARK_MM, TierBasis.NOTIONAL_AT_LIQUIDATION),
    ContractType.INVERSE: (Formula.INVERSE_MARK_MM, TierBasis.NOTIONAL_AT_LIQUIDATION),
}


@dataclass(frozen=True)
class TierTable:
    """One contract's maintenance-margin tiers and the venue rules that apply them.

    Floors/caps are in quote currency for linear contracts and in coin for inverse ones, except with
    ``basis == TierBasis.QUANTITY`` where they are base-unit quantities (OKX contracts × ``contract_size``).
    ``fee_rate`` is added to the maintenance rate (OKX counts the taker fee in its margin ratio).
    """

    exchange: Exchange
    symbol: str
    contract_type: ContractType
    formula: Formula
    basis: TierBasis
    notional_floor: np.ndarray
    notional_cap: np.ndarray
    max_leverage: np.ndarray
    maintenance_margin_rate: np.ndarray
    maintenance_amount: np.ndarray
    fee_rate: float = 0.0
    contract_size: float | None = None
    valid_from: str = ""
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.notional_floor)
        arrays = (self.notional_cap, self.max_leverage, self.maintenance_margin_rate, self.maintenance_amount)
        if n == 0 or any(len(a) != n for a in arrays):
            raise LiqmapError(f"{self.exchange}:{self.symbol}: tier arrays must be non-empty and equally long")
        if np.any(np.diff(self.notional_floor) <= 0) or np.any(self.notional_cap <= self.notional_floor):
            raise LiqmapError(f"{self.exchange}:{self.symbol}: tier floors must ascend and each cap exceed its floor")
        if np.any(self.maintenance_margin_rate <= 0) or np.any(self.maintenance_margin_rate >= 1):
            raise LiqmapError(f"{self.exchange}:{self.symbol}: maintenance margin rates must lie in (0, 1)")

    def __len__(self) -> int:
        return len(self.notional_floor)

    def tier_of(self, value: np.ndarray | float) -> np.ndarray:
        """0-based tier index for notional (or quantity, per ``basis``) ``value``."""
        idx = np.searchsorted(self.notional_floor, np.asarray(value, dtype=float), side="right") - 1
        return np.clip(idx, 0, len(self) - 1)

    def to_records(self) -> list[dict[str, Any]]:
        """Rows in the canonical ``tiers`` schema (see :mod:`liqmap.data.schemas`)."""
        return [
            {
                "exchange": str(self.exchange),
                "symbol": self.symbol,
                "tier": i + 1,
                "notional_floor": float(self.notional_floor[i]),
                "notional_cap": float(self.notional_cap[i]),
                "max_leverage": float(self.max_leverage[i]),
                "maintenance_margin_rate": float(self.maintenance_margin_rate[i]),
                "maintenance_amount": float(self.maintenance_amount[i]),
                "valid_from": self.valid_from,
                "source": self.source,
            }
            for i in range(len(self))
        ]


def make_table(
    exchange: str | Exchange,
    symbol: str,
    rows: list[tuple[float, float, float, float, float | None]],
    *,
    fee_rate: float = 0.0,
    contract_size: float | None = None,
    valid_from: str = "",
    source: str = "",
    notes: tuple[str, ...] = (),
) -> TierTable:
    """Build a :class:`TierTable` from ``(floor, cap, max_leverage, mmr, maintenance_amount)`` rows.

    A ``None`` maintenance amount is derived with Binance's recursion
    ``amount_n = floor_n·(mmr_n − mmr_{n−1}) + amount_{n−1}`` (Hyperliquid defines its maintenance deduction
    the same way).

    >>> t = make_table("binance", "BTCUSDT", [(0, 50_000, 125, 0.004, None), (50_000, 600_000, 100, 0.005, None)])
    >>> float(t.maintenance_amount[1])
    50.0
    """
    ex = _exchange(exchange)
    sym = normalize_symbol(symbol)
    ctype = contract_type(sym)
    rule = _RULES.get((_ALIASES.get(ex, ex), ctype))
    if rule is None:
        notes = (*notes, f"{ex} rules assumed: maintenance margin on the mark, tier of the notional at liquidation")
    formula, basis = rule or _DEFAULT_RULES[ctype]
    arr = np.array([[r[0], r[1], r[2], r[3]] for r in rows], dtype=float).reshape(-1, 4)
    amounts = np.zeros(len(rows))
    for i, row in enumerate(rows):
        if row[4] is not None:
            amounts[i] = float(row[4])
        elif i > 0:
            amounts[i] = arr[i, 0] * (arr[i, 3] - arr[i - 1, 3]) + amounts[i - 1]
    return TierTable(
        exchange=ex,
        symbol=sym,
        contract_type=ctype,
        formula=formula,
        basis=basis,
        notional_floor=arr[:, 0],
        notional_cap=arr[:, 1],
        max_leverage=arr[:, 2],
        maintenance_margin_rate=arr[:, 3],
        maintenance_amount=amounts,
        fee_rate=fee_rate,
        contract_size=contract_size,
        valid_from=valid_from,
        source=source,
        notes=notes,
    )


def tiers_from_ccxt(exchange: str | Exchange, symbol: str, tiers: list[dict[str, Any]], **kwargs: Any) -> TierTable:
    """Build a :class:`TierTable` from ccxt ``fetch_leverage_tiers()[symbol]`` / ``fetch_market_leverage_tiers``.

    The one reader of ccxt tier lists (the connectors store its :meth:`TierTable.to_records`). ccxt has no
    maintenance-amount field: it is read from ``info`` (Binance ``cum``, Bybit ``mmDeduction``); where the
    venue sends none it is derived by the tier-continuity recursion
    ``amount_i = amount_{i−1} + floor_i·(mmr_i − mmr_{i−1})`` (:func:`make_table`), which keeps maintenance
    margin continuous in size (Binance's ``cum`` and Hyperliquid's deduction follow it). A missing
    ``minNotional`` is 0. OKX ``minNotional``/``maxNotional`` are contracts: pass ``contract_size`` (ctVal) and
    they are converted to base units. Example raw Binance tier::

        {"tier": 1.0, "minNotional": 0.0, "maxNotional": 300000.0, "maintenanceMarginRate": 0.004,
         "maxLeverage": 150.0, "info": {"bracket": "1", "notionalCap": "300000", "cum": "0.0"}}
    """
    if not tiers:
        raise LiqmapError(f"{exchange}:{symbol}: empty tier list; fetch it with ccxt fetch_leverage_tiers()")
    ex = _exchange(exchange)
    scale = float(kwargs.get("contract_size") or 1.0) if ex == Exchange.OKX else 1.0
    rows: list[tuple[float, float, float, float, float | None]] = []
    for t in tiers:
        try:
            info = t.get("info") or {}
            raw_amount = info.get("cum", info.get("mmDeduction"))
            amount = float(raw_amount) if raw_amount not in (None, "") else None
            rows.append(
                (
                    float(t["minNotional"] or 0.0) * scale,
                    float(t["maxNotional"]) * scale,
                    float(t["maxLeverage"]),
                    float(t["maintenanceMarginRate"]),
                    amount,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LiqmapError(f"{exchange}:{symbol}: malformed ccxt tier {t!r}: {exc}") from None
    return make_table(ex, symbol, sorted(rows, key=lambda r: r[0]), **kwargs)


def tiers_from_records(records: list[dict[str, Any]]) -> TierTable:
    """The inverse of :meth:`TierTable.to_records`: a table from canonical ``tiers`` rows of one
    exchange/symbol (any order; ``tier`` sorts them), e.g. the rows a store holds. The stored
    ``maintenance_amount`` is used as is; ``valid_from``/``source`` come from the first row; OKX gets the taker
    fee its bundled table adds to the maintenance rate (0.05 %)."""
    if not records:
        raise LiqmapError("no tier rows: fetch a table with `liqmap fetch --what tiers --exchange X --symbol Y`")
    rows = sorted(records, key=lambda r: int(r["tier"]))
    names = {(str(r["exchange"]), str(r["symbol"])) for r in rows}
    if len(names) != 1:
        raise LiqmapError(f"tier rows of several series given: {sorted(names)[:4]}; pass one exchange/symbol")
    (exchange, symbol), first = names.pop(), rows[0]
    return make_table(
        exchange,
        symbol,
        [
            (
                float(r["notional_floor"]),
                float(r["notional_cap"]),
                float(r["max_leverage"]),
                float(r["maintenance_margin_rate"]),
                float(r["maintenance_amount"]),
            )
            for r in rows
        ],
        fee_rate=_FEE_RATE.get(_exchange(exchange), 0.0),
        valid_from=str(first.get("valid_from") or ""),
        source=str(first.get("source") or ""),
        notes=("read from the store",),
    )


def get_tiers(exchange: str | Exchange, symbol: str) -> TierTable:
    """The bundled real tier table for ``exchange``/``symbol``.

    >>> t = get_tiers("binance", "BTCUSDT")
    >>> (t.symbol, float(t.maintenance_margin_rate[0]), float(t.max_leverage[0]))
    ('BTC/USDT:USDT', 0.004, 150.0)
    """
    ex = _exchange(exchange)
    sym = normalize_symbol(symbol)
    source_ex = _ALIASES.get(ex, ex)
    tables = _bundled(source_ex)
    if sym not in tables:
        known = sorted(tables)
        shown = ", ".join(known[:_SHOWN]) + (f", … ({len(known)} in all)" if len(known) > _SHOWN else "")
        raise UnknownSymbolError(
            f"no tier table for {ex}:{sym}; bundled: {shown or 'none'} (load others with liqmap.margin.tiers_from_ccxt)"
        )
    spec = tables[sym]
    table = make_table(
        source_ex,
        sym,
        [tuple(r) for r in spec["tiers"]],
        fee_rate=float(spec.get("fee_rate", 0.0)),
        contract_size=spec.get("contract_size"),
        valid_from=spec.get("valid_from", ""),
        source=spec.get("source", ""),
        notes=tuple(spec.get("notes", ())),
    )
    return table if ex == source_ex else _relabel(table, ex)


def available_tiers() -> list[tuple[str, str]]:
    """``(exchange, symbol)`` pairs with bundled tier tables."""
    return [(str(ex), sym) for ex in _RULE_EXCHANGES for sym in sorted(_bundled(ex))]


_RULE_EXCHANGES = (Exchange.BINANCE, Exchange.BYBIT, Exchange.OKX, Exchange.HYPERLIQUID)
_FEE_RATE = {Exchange.OKX: 0.0005}  # added to the maintenance rate of stored tables (OKX counts its taker fee)
_SHOWN = 8  # bundled symbols named in a "no tier table" error


def relabel_tiers(table: TierTable, exchange: str | Exchange) -> TierTable:
    """``table`` lent to ``exchange``: the lender's rules and tiers under the borrower's name (noted)."""
    return _relabel(table, _exchange(exchange))


def _relabel(table: TierTable, exchange: Exchange) -> TierTable:
    return replace(table, exchange=exchange, notes=(*table.notes, f"rules borrowed from {table.exchange}"))


def _exchange(exchange: str | Exchange) -> Exchange:
    try:
        return Exchange(str(exchange).lower())
    except ValueError:
        known = ", ".join(e.value for e in Exchange)
        raise UnknownSymbolError(f"unknown exchange {exchange!r}; known: {known}") from None


@cache
def _bundled(exchange: Exchange) -> dict[str, dict[str, Any]]:
    """Read the package's tier file for ``exchange`` (immutable package data, read once).

    File-level fields other than ``exchange`` and ``tables`` (e.g. ``source``, ``valid_from``) are defaults
    for every table, which may override them.
    """
    path = resources.files("liqmap.margin") / "tiers" / f"{exchange.value}.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    defaults = {k: v for k, v in data.items() if k not in ("exchange", "tables")}
    return {sym: defaults | spec for sym, spec in data["tables"].items()}
