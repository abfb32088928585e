"""Public liquidation-price API: validate at the edge → call the kernel → wrap the result."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np

from liqmap.enums import ContractType, Exchange, MarginMode, Side
from liqmap.errors import LiqmapError
from liqmap.margin import nb
from liqmap.margin.tiers import TierTable, get_tiers


class LiquidationArrays(NamedTuple):
    """Vectorised result: one entry per input position."""

    liquidation_price: np.ndarray
    bankruptcy_price: np.ndarray
    maintenance_margin_rate: np.ndarray
    maintenance_amount: np.ndarray
    tier: np.ndarray  # 1-based, as venues number them


@dataclass(frozen=True)
class LiquidationResult:
    """One position's liquidation (mark-price trigger) and bankruptcy (margin = 0) prices."""

    exchange: str
    symbol: str
    side: str
    margin_mode: str
    entry: float
    leverage: float
    notional_usd: float
    quantity: float  # base units (linear) or contracts' coin value at entry (inverse)
    margin: float  # USD (linear) or coin (inverse): isolated margin, or the cross wallet's effective margin
    liquidation_price: float
    bankruptcy_price: float
    maintenance_margin_rate: float
    maintenance_amount: float
    tier: int
    tier_max_leverage: float
    distance_pct: float  # (liquidation − entry) / entry × 100
    naive_price: float  # entry × (1 − side/leverage), what most public maps use

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def liquidation_prices(
    tiers: TierTable,
    side: np.ndarray,
    entry: np.ndarray,
    leverage: np.ndarray,
    notional_usd: np.ndarray,
    margin: np.ndarray | None = None,
) -> LiquidationArrays:
    """Liquidation prices of many isolated positions (or cross, when ``margin`` is given).

    ``side`` is +1 (long) / −1 (short); ``notional_usd`` is the position value at entry; the isolated
    margin defaults to ``notional_usd / leverage`` (in coin for inverse contracts). ``margin`` overrides it
    (same units), e.g. a cross wallet's ``balance − other maintenance + other unrealised PnL``.

    >>> t = get_tiers("binance", "BTCUSDT")
    >>> out = liquidation_prices(t, np.array([1, -1]), np.full(2, 94_000.0), np.full(2, 10.0), np.full(2, 94_000.0))
    >>> [round(float(p), 2) for p in out.liquidation_price]
    [84939.76, 102988.05]
    """
    side_a, entry_a, lev_a, notional_a = np.broadcast_arrays(
        _arr(side, "side"), _arr(entry, "entry"), _arr(leverage, "leverage"), _arr(notional_usd, "notional_usd")
    )
    if not np.all(np.isin(side_a, (1, -1))):
        raise LiqmapError("side must be +1 (long) or -1 (short)")
    for name, a in (("entry", entry_a), ("leverage", lev_a), ("notional_usd", notional_a)):
        if np.any(a <= 0):
            raise LiqmapError(f"{name} must be positive, got {float(a[a <= 0][0])!r}")
    inverse = tiers.contract_type == ContractType.INVERSE
    size = notional_a if inverse else notional_a / entry_a
    if margin is None:
        margin_a = notional_a / lev_a / (entry_a if inverse else 1.0)
    else:
        margin_a = np.broadcast_to(_arr(margin, "margin"), entry_a.shape)
        if np.any(margin_a <= 0):
            raise LiqmapError("margin must be positive (a position with no margin is already bankrupt)")
    _check_leverage(tiers, lev_a, size, entry_a, inverse)
    lp, bp, rate, amount, tier = nb.liq_many_nb(
        int(tiers.formula),
        int(tiers.basis),
        side_a.astype(np.float64),
        entry_a.astype(np.float64),
        size.astype(np.float64),
        margin_a.astype(np.float64),
        tiers.notional_floor,
        tiers.maintenance_margin_rate,
        tiers.maintenance_amount,
        float(tiers.fee_rate),
    )
    return LiquidationArrays(lp, bp, rate, amount, tier + 1)


def liquidation_price(
    exchange: str | Exchange,
    symbol: str,
    side: str | int | Side,
    entry: float,
    leverage: float,
    notional_usd: float | None = None,
    margin_mode: str | MarginMode = MarginMode.ISOLATED,
    wallet_usd: float | None = None,
    other_maintenance_usd: float = 0.0,
    other_unrealized_pnl_usd: float = 0.0,
    tiers: TierTable | None = None,
) -> LiquidationResult:
    """Liquidation price of one position under ``exchange``'s rules for ``symbol``.

    Isolated margin is ``notional_usd / leverage``. Cross margin takes the wallet balance and, as Binance
    defines it, subtracts the other positions' maintenance margin and adds their unrealised PnL. The default
    notional is one unit of the base coin (linear) or 100 USD of contracts (inverse).
    Computed with the plain-Python kernel twin; :func:`liquidation_prices` gives identical numbers.

    >>> r = liquidation_price("binance", "BTCUSDT", "long", entry=94_000, leverage=10, notional_usd=94_000)
    >>> (round(r.liquidation_price, 2), round(r.bankruptcy_price, 2), r.tier)
    (84939.76, 84600.0, 1)
    """
    table = tiers if tiers is not None else get_tiers(exchange, symbol)
    s = Side.parse(side)
    mode = MarginMode(str(margin_mode).lower()) if not isinstance(margin_mode, MarginMode) else margin_mode
    inverse = table.contract_type == ContractType.INVERSE
    if notional_usd is None:
        notional_usd = 100.0 if inverse else float(entry)
    entry_f, lev_f, notional_f = (
        _scalar(entry, "entry"),
        _scalar(leverage, "leverage"),
        _scalar(notional_usd, "notional_usd"),
    )
    size = notional_f if inverse else notional_f / entry_f
    if mode == MarginMode.CROSS:
        if wallet_usd is None:
            raise LiqmapError("cross margin needs the wallet balance: pass wallet_usd (--wallet-usd)")
        cross = _scalar(wallet_usd, "wallet_usd") - other_maintenance_usd + other_unrealized_pnl_usd
        margin = cross / entry_f if inverse else cross
        if margin <= 0:
            raise LiqmapError("cross margin: wallet − other maintenance + other PnL must be positive")
    else:
        margin = notional_f / lev_f / (entry_f if inverse else 1.0)
    tier_max = _check_leverage(table, np.array([lev_f]), np.array([size]), np.array([entry_f]), inverse)
    lp, bp, rate, amount, tier = nb.liq_one_py(
        int(table.formula),
        int(table.basis),
        float(s),
        entry_f,
        size,
        margin,
        table.notional_floor,
        table.maintenance_margin_rate,
        table.maintenance_amount,
        float(table.fee_rate),
    )
    return LiquidationResult(
        exchange=str(table.exchange),
        symbol=table.symbol,
        side="long" if s == Side.LONG else "short",
        margin_mode=mode.value,
        entry=entry_f,
        leverage=lev_f,
        notional_usd=notional_f,
        quantity=notional_f / entry_f,
        margin=float(margin),
        liquidation_price=float(lp),
        bankruptcy_price=float(bp),
        maintenance_margin_rate=float(rate),
        maintenance_amount=float(amount),
        tier=int(tier) + 1,
        tier_max_leverage=float(tier_max[0]),
        distance_pct=(float(lp) - entry_f) / entry_f * 100.0,
        naive_price=entry_f * (1.0 - int(s) / lev_f),
    )


def maintenance_margin(tiers: TierTable, notional: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """``(rate, amount)`` for positions of ``notional`` (mark notional, in the table's units):
    maintenance margin = ``notional × rate − amount``. For ``TierBasis.QUANTITY`` tables pass quantities."""
    idx = tiers.tier_of(notional)
    return tiers.maintenance_margin_rate[idx] + tiers.fee_rate, tiers.maintenance_amount[idx]


def _check_leverage(
    tiers: TierTable, leverage: np.ndarray, size: np.ndarray, entry: np.ndarray, inverse: bool
) -> np.ndarray:
    """Initial-margin check at entry: leverage may not exceed the max of the tier the position opens in."""
    value = size / entry if inverse else (size if tiers.basis == 2 else size * entry)
    tier_max = tiers.max_leverage[tiers.tier_of(value)]
    over = leverage > tier_max
    if np.any(over):
        i = int(np.argmax(over))
        raise LiqmapError(
            f"leverage {float(leverage[i]):g}x exceeds {tiers.exchange} {tiers.symbol}'s maximum of "
            f"{float(tier_max[i]):g}x for a position of this size; lower the leverage or the notional"
        )
    return tier_max


def _arr(x: Any, name: str) -> np.ndarray:
    a = np.atleast_1d(np.asarray(x, dtype=float))
    if not np.all(np.isfinite(a)):
        raise LiqmapError(f"{name} must be finite numbers (got NaN or inf)")
    return a


def _scalar(x: Any, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise LiqmapError(f"{name} must be a number, got {x!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise LiqmapError(f"{name} must be a positive finite number, got {x!r}")
    return v
