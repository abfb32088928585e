"""Liquidation-price kernels (numpy/numba only).

One position per call of :func:`liq_one_py`; :func:`liq_many_nb` loops it over arrays. Units:
linear — ``size`` is the quantity in base units and ``margin``/``amount`` are in quote (USD);
inverse — ``size`` is the contract value in USD and ``margin``/``amount`` are in coin.

Formulas (``s`` = +1 long / −1 short, ``EP`` entry, ``M`` margin, ``R`` maintenance rate, ``A`` maintenance
amount; derived from *equity = maintenance margin*, see docs/margin.md):

* LINEAR_MARK_MM:  ``LP = (s·Q·EP − M − A) / (Q·(s − R))``  (MM = Q·LP·R − A)
* LINEAR_ENTRY_MM: ``LP = EP − s·(M − (Q·EP·R − A)) / Q``    (MM fixed at entry)
* INVERSE_MARK_MM: ``LP = U·(1 + s·R) / (s·(M + A) + U/EP)`` (MM = U/LP·R − A, in coin)

A long that cannot be liquidated gets 0.0; a short that cannot be liquidated gets +inf. Every kernel is
plain Python (``*_py``) with a compiled twin (``*_nb``) built by :func:`liqmap._jit.compile_twins`.
"""

from __future__ import annotations

import numpy as np

from liqmap._jit import compile_twins

MAX_TIER_ITERATIONS = 8


def tier_index(x: float, floors: np.ndarray) -> int:
    """Index of the tier whose floor is the largest one ≤ ``x`` (tier 0 below the first floor)."""
    i = 0
    for k in range(floors.shape[0]):
        if x >= floors[k]:
            i = k
    return i


def price(formula: int, s: float, entry: float, size: float, margin: float, rate: float, amount: float) -> float:
    """Liquidation price for one maintenance rate/amount (0 / +inf when a long / short cannot be liquidated)."""
    if formula == 0:
        lp = (s * size * entry - margin - amount) / (size * (s - rate))
    elif formula == 1:
        lp = entry - s * (margin - (size * entry * rate - amount)) / size
    else:
        den = s * (margin + amount) + size / entry
        if den <= 0.0:
            return np.inf
        lp = size * (1.0 + s * rate) / den
    if s > 0 and lp < 0.0:
        return 0.0
    return lp


def bankruptcy(formula: int, s: float, entry: float, size: float, margin: float) -> float:
    """Price at which the position's equity is zero."""
    if formula == 2:
        den = 1.0 / entry + s * margin / size
        if den <= 0.0:
            return np.inf
        return 1.0 / den
    bp = entry - s * margin / size
    return 0.0 if bp < 0.0 else bp


def liq_one(
    formula: int,
    basis: int,
    s: float,
    entry: float,
    size: float,
    margin: float,
    floors: np.ndarray,
    rates: np.ndarray,
    amounts: np.ndarray,
    fee_rate: float,
) -> tuple[float, float, float, float, int]:
    """(liquidation, bankruptcy, maintenance rate, maintenance amount, tier index) of one position."""
    if basis == 2:
        tier = tier_index(size, floors)
    elif formula == 2:
        tier = tier_index(size / entry, floors)  # coin value at entry
    else:
        tier = tier_index(size * entry, floors)
    rate = rates[tier] + fee_rate
    lp = price(formula, s, entry, size, margin, rate, amounts[tier])
    if basis == 0:
        # Binance: the bracket that applies is the one at the liquidation price; iterate to a fixed point.
        for _ in range(MAX_TIER_ITERATIONS):
            if lp <= 0.0 or not np.isfinite(lp):
                break
            x = size / lp if formula == 2 else size * lp
            t2 = tier_index(x, floors)
            if t2 == tier:
                break
            tier = t2
            rate = rates[tier] + fee_rate
            lp = price(formula, s, entry, size, margin, rate, amounts[tier])
    return lp, bankruptcy(formula, s, entry, size, margin), rate, amounts[tier], tier


def liq_many(
    formula: int,
    basis: int,
    side: np.ndarray,
    entry: np.ndarray,
    size: np.ndarray,
    margin: np.ndarray,
    floors: np.ndarray,
    rates: np.ndarray,
    amounts: np.ndarray,
    fee_rate: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`liq_one` over equally long arrays."""
    n = entry.shape[0]
    lp = np.empty(n)
    bp = np.empty(n)
    rate = np.empty(n)
    amount = np.empty(n)
    tier = np.empty(n, dtype=np.int64)
    for i in range(n):
        lp[i], bp[i], rate[i], amount[i], tier[i] = liq_one(
            formula, basis, float(side[i]), entry[i], size[i], margin[i], floors, rates, amounts, fee_rate
        )
    return lp, bp, rate, amount, tier


_NB = compile_twins(globals(), ("tier_index", "price", "bankruptcy", "liq_one", "liq_many"))

liq_one_py, liq_one_nb = liq_one, _NB.liq_one
liq_many_py, liq_many_nb = liq_many, _NB.liq_many
