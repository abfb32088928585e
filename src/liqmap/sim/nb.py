"""Simulator kernels (numpy/numba only): the per-trader market loop with its own seeded generator.

Every kernel is plain Python (``*_py``) with a compiled twin (``*_nb``) built by
:func:`liqmap._jit.compile_twins`; the market loop computes liquidation prices with the margin package's
kernel (:func:`liqmap.margin.nb.liq_one_py`, compiled: ``liq_one_nb``), so the venue's tier rules are exact.

State is grouped in records: :class:`Traders` (population and per-trader state arrays), :class:`Tiers` (the
venue's margin tiers), :class:`Orders` (one sub-step's batch of market orders), ``mk`` (market scalars, see
the ``MK_*`` indices) and ``counters`` (:class:`~liqmap.sim.enums.Counter`). :func:`simulate` is a short
driver: per sub-step :func:`news` → :func:`decide` → :func:`clear` (rounds of :func:`match`, :func:`fill`,
:func:`fill_makers`, :func:`scan_liquidations`), per minute :func:`close_bar`. All state arrays are mutated
in place; the generator state is an explicit integer threaded through the kernels (a 48-bit linear
congruential generator, identical in Python and numba because only the low 48 bits of the product are
kept).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from liqmap._jit import compile_twins
from liqmap.margin.nb import liq_one_nb
from liqmap.margin.nb import liq_one_py as liq_one
from liqmap.sim.enums import N_BAR_COLS, N_COUNTERS, N_LIQ_COLS, BarCol, Counter, LiqCol, Param, TraderKind

_MASK48 = (1 << 48) - 1
_LCG_A = 25214903917
_LCG_C = 11
_TWO48 = float(1 << 48)

# market scalars ``mk`` (float64)
MK_LOG_LAST, MK_LOG_INDEX, MK_LAST, MK_INDEX, MK_MARK, MK_EMA_BASIS, MK_EMA_FAST, MK_EMA_SLOW = range(8)
MK_VAR_EWMA, MK_DEPTH, MK_F_LAST, MK_PREM_SUM, MK_PREM_N, MK_FEES, MK_INSURANCE, MK_DEPOSITS = range(8, 16)
MK_TAU = 16  # time to the next funding as a share of the interval (the mark's funding basis)
MK_HI_LONG_LP, MK_LO_SHORT_LP = 17, 18  # bounds on the long/short liquidation prices (see :func:`decide`)
MK_MM_WEIGHT = 19  # Σ makers' capital
N_MK = 20


class Traders(NamedTuple):
    """The trader population (first seven fields, read-only) and its state (updated in place)."""

    kind: np.ndarray  # TraderKind
    cap0: np.ndarray  # capital (USD)
    lev_pref: np.ndarray  # preferred leverage
    frac: np.ndarray  # share of the wallet committed as margin
    sl_pct: np.ndarray  # stop-loss distance (0: none)
    tp_pct: np.ndarray  # take-profit distance (0: none)
    hold_sub: np.ndarray  # mean holding time (sub-steps)
    wallet: np.ndarray
    pos: np.ndarray  # signed base units
    entry: np.ndarray
    margin: np.ndarray  # isolated margin (makers: 0, their wallet backs the position)
    lev: np.ndarray
    lp: np.ndarray  # liquidation price
    sl: np.ndarray
    tp: np.ndarray
    next_t: np.ndarray  # int64 sub-step of the next decision
    pos_id: np.ndarray  # int64 position id (-1: flat)
    liq_count: np.ndarray  # int64 liquidations per trader


class Tiers(NamedTuple):
    """The venue's margin tiers (:mod:`liqmap.margin`)."""

    floors: np.ndarray
    rates: np.ndarray
    amounts: np.ndarray
    max_lev: np.ndarray
    formula: int
    basis: int
    fee: float


class Orders(NamedTuple):
    """One batch of market orders (the first ``n_ord`` rows are live)."""

    idx: np.ndarray  # int64 trader
    dq: np.ndarray  # signed base units
    liq: np.ndarray  # bool: forced (liquidation) order


def uniform(state: int) -> tuple[int, float]:
    """Next ``(state, u)`` of the 48-bit LCG (drand48 constants), ``u`` strictly inside (0, 1)."""
    state = (state * _LCG_A + _LCG_C) & _MASK48
    return state, (state + 0.5) / _TWO48


def seed_state(seed: int) -> int:
    """Initial generator state for a non-negative integer seed."""
    return (int(seed) * 0x9E3779B1 ^ 0x5DEECE66D) & _MASK48


_MAKER = int(TraderKind.MAKER)
_TREND = int(TraderKind.TREND)
_MEANREV = int(TraderKind.MEANREV)


def liq_price(tiers: Tiers, s: float, entry: float, size: float, margin: float) -> float:
    """Liquidation price of a position (side ``s`` = ±1) under the venue's tiers."""
    return liq_one(
        tiers.formula, tiers.basis, s, entry, size, margin, tiers.floors, tiers.rates, tiers.amounts, tiers.fee
    )[0]


def mark_price(index: float, f_last: float, tau: float, ema_basis: float, last: float) -> float:
    """Binance-style mark: the median of index × (1 + funding × τ), index + EMA basis, and the last price."""
    p1 = index * (1.0 + f_last * tau)
    return max(min(p1, index + ema_basis), min(max(p1, index + ema_basis), last))


def liquidatable(q: float, mark: float, lp: float) -> bool:
    """Whether a position ``q`` with liquidation price ``lp`` is liquidated at ``mark``."""
    return q != 0.0 and ((q > 0.0 and mark <= lp) or (q < 0.0 and mark >= lp))


def pay_funding(rate: float, mark: float, tr: Traders, tiers: Tiers) -> float:
    """Settle one funding interval: each position pays ``position × mark × rate`` from its isolated margin
    (makers: wallet) and gets its liquidation price recomputed; returns the net paid (≈ 0: a transfer)."""
    kind, pos, entry, wallet, margin, lp = tr.kind, tr.pos, tr.entry, tr.wallet, tr.margin, tr.lp
    paid = 0.0
    for i in range(pos.shape[0]):
        q = pos[i]
        if q == 0.0:
            continue
        pay = q * mark * rate
        paid += pay
        if kind[i] == _MAKER:
            wallet[i] -= pay
            mg = wallet[i]
        else:
            margin[i] -= pay
            mg = margin[i]
        if mg > 0.0:
            lp[i] = liq_price(tiers, 1.0 if q > 0.0 else -1.0, entry[i], abs(q), mg)
        else:
            lp[i] = np.inf if q > 0.0 else 0.0
    return paid


def account(mark: float, tr: Traders, row: np.ndarray) -> None:
    """Fill a bar's ledger columns: open interest per side, accounts per side (takers), cash and PnL."""
    kind, pos, entry, wallet, margin = tr.kind, tr.pos, tr.entry, tr.wallet, tr.margin
    cash = 0.0
    upnl = 0.0
    long_qty = 0.0
    short_qty = 0.0
    n_long = 0
    n_short = 0
    for i in range(pos.shape[0]):
        cash += wallet[i] + margin[i]
        q = pos[i]
        if q > 0.0:
            long_qty += q
            if kind[i] != _MAKER:
                n_long += 1
        elif q < 0.0:
            short_qty -= q
            if kind[i] != _MAKER:
                n_short += 1
        upnl += q * (mark - entry[i])
    row[BarCol.LONG_QTY] = long_qty
    row[BarCol.SHORT_QTY] = short_qty
    row[BarCol.N_LONG] = n_long
    row[BarCol.N_SHORT] = n_short
    row[BarCol.CASH] = cash
    row[BarCol.UPNL] = upnl


def bin_truth(price: float, bin_usd: float, half: int, tr: Traders, out_long: np.ndarray, out_short: np.ndarray) -> int:
    """Add each open position's entry notional to the truth bin of its liquidation price, on the absolute
    grid of ``bin_usd`` within ``half`` bins of ``price``; returns the grid index of the first bin."""
    pos, entry, lp = tr.pos, tr.entry, tr.lp
    k0 = math.floor(price / bin_usd) - half
    n_bins = out_long.shape[0]
    for i in range(pos.shape[0]):
        q = pos[i]
        if q == 0.0 or not (0.0 < lp[i] < np.inf):
            continue
        kb = math.floor(lp[i] / bin_usd) - k0
        if 0 <= kb < n_bins:
            if q > 0.0:
                out_long[kb] += q * entry[i]
            else:
                out_short[kb] -= q * entry[i]
    return k0


def maker_fill(j: int, d: float, px: float, tr: Traders, tiers: Tiers, counters: np.ndarray) -> None:
    """Maker ``j``'s passive fill of ``d`` at ``px`` under cross margin (the wallet backs the position):
    average the entry when adding, realise PnL into the wallet when reducing, a new position id when opening
    from flat or flipping (``counters``: opened/closed positions)."""
    pos, entry, wallet, lp, pos_id = tr.pos, tr.entry, tr.wallet, tr.lp, tr.pos_id
    q = pos[j]
    if q == 0.0 or (q > 0.0) == (d > 0.0):
        if q == 0.0:
            pos_id[j] = counters[Counter.OPENED]
            counters[Counter.OPENED] += 1
        entry[j] = (q * entry[j] + d * px) / (q + d)
        pos[j] = q + d
    else:
        c = min(abs(d), abs(q))
        wallet[j] += (c if q > 0.0 else -c) * (px - entry[j])
        pos[j] = q + d
        if abs(d) > abs(q):
            entry[j] = px
            counters[Counter.CLOSED] += 1
            pos_id[j] = counters[Counter.OPENED]
            counters[Counter.OPENED] += 1
        elif pos[j] == 0.0:
            counters[Counter.CLOSED] += 1
            pos_id[j] = -1
            lp[j] = 0.0
            return
    if wallet[j] > 0.0:
        lp[j] = liq_price(tiers, 1.0 if pos[j] > 0.0 else -1.0, entry[j], abs(pos[j]), wallet[j])
    else:
        lp[j] = np.inf if pos[j] > 0.0 else 0.0


def init_market(params: np.ndarray, tr: Traders) -> tuple[np.ndarray, np.ndarray]:
    """``(mk, makers)``: the market scalars at the start price and the indices of the market makers."""
    n = tr.kind.shape[0]
    mk = np.zeros(N_MK)
    sigma = params[Param.SIGMA_SUB]
    mk[MK_LOG_LAST] = math.log(params[Param.START_PRICE])
    mk[MK_LOG_INDEX] = mk[MK_LOG_LAST]
    mk[MK_LAST] = mk[MK_INDEX] = mk[MK_MARK] = math.exp(mk[MK_LOG_LAST])
    mk[MK_EMA_FAST] = mk[MK_EMA_SLOW] = mk[MK_LAST]
    mk[MK_VAR_EWMA] = sigma * sigma * int(params[Param.SUBSTEPS])
    mk[MK_DEPTH] = params[Param.DEPTH_1PCT]
    mk[MK_F_LAST] = params[Param.INTEREST]
    mk[MK_LO_SHORT_LP] = np.inf
    kind, wallet, margin, cap0 = tr.kind, tr.wallet, tr.margin, tr.cap0
    deposits = 0.0
    mm_weight = 0.0
    n_mm = 0
    for i in range(n):
        deposits += wallet[i] + margin[i]
        if kind[i] == _MAKER:
            mm_weight += cap0[i]
            n_mm += 1
    mk[MK_DEPOSITS] = deposits
    mk[MK_MM_WEIGHT] = mm_weight
    makers = np.zeros(n_mm, dtype=np.int64)
    n_mm = 0
    for i in range(n):
        if kind[i] == _MAKER:
            makers[n_mm] = i
            n_mm += 1
    return mk, makers


def news(m: int, r: int, params: np.ndarray, mk: np.ndarray, bar: np.ndarray, state: int) -> int:
    """Sub-step ``r`` of minute ``m``: exogenous news (a Gaussian step plus a rare jump) moves index and perp
    together, arbitrage closes part of the basis, then the premium, the basis EMA and the mark update.
    Returns the generator state."""
    R = int(params[Param.SUBSTEPS])
    f_every = int(params[Param.FUNDING_EVERY_MIN])
    f_first = int(params[Param.FIRST_FUNDING_MIN])
    state, u1 = uniform(state)
    state, u2 = uniform(state)
    dlog = params[Param.DRIFT_SUB] + params[Param.SIGMA_SUB] * math.sqrt(-2.0 * math.log(u1)) * math.cos(
        2.0 * math.pi * u2
    )
    state, u3 = uniform(state)
    if u3 < params[Param.JUMP_PROB_SUB]:
        state, u4 = uniform(state)
        sgn = params[Param.JUMP_SIGN]
        if sgn == 0.0:
            state, u5 = uniform(state)
            sgn = 1.0 if u5 < 0.5 else -1.0
        dlog += sgn * (-math.log(u4)) * params[Param.JUMP_MEAN]
    mk[MK_LOG_INDEX] += dlog
    log_last = mk[MK_LOG_LAST] + dlog
    log_last -= params[Param.KAPPA] * (log_last - mk[MK_LOG_INDEX])
    mk[MK_LOG_LAST] = log_last
    last = math.exp(log_last)
    index = math.exp(mk[MK_LOG_INDEX])
    mk[MK_LAST] = last
    mk[MK_INDEX] = index
    bar[BarCol.HIGH] = max(bar[BarCol.HIGH], last)
    bar[BarCol.LOW] = min(bar[BarCol.LOW], last)
    mk[MK_EMA_BASIS] += params[Param.MARK_ALPHA] * ((last - index) - mk[MK_EMA_BASIS])
    mk[MK_PREM_SUM] += (last - index) / index
    mk[MK_PREM_N] += 1.0
    since = (m - f_first) % f_every if m >= f_first else m - f_first + f_every
    mk[MK_TAU] = (f_every - since - r / R) / f_every
    mk[MK_MARK] = mark_price(index, mk[MK_F_LAST], mk[MK_TAU], mk[MK_EMA_BASIS], last)
    return state


def stop_hit(q: float, last: float, sl: float, tp: float) -> bool:
    """Whether ``last`` reached the stop-loss or take-profit of a position ``q`` (NaN levels: none)."""
    return (last <= sl or last >= tp) if q > 0.0 else (last >= sl or last <= tp)


def strategy_exit(k: int, q: float, trend: float, dev: float, state: int) -> tuple[int, bool]:
    """Whether a taker of kind ``k`` holding ``q`` closes at its decision time: trend followers when the
    trend turned, mean reverters when price came back, noise traders on a coin. Returns ``(state, hit)``."""
    if k == _TREND:
        return state, trend * q < 0.0
    if k == _MEANREV:
        return state, dev * q >= 0.0
    state, u = uniform(state)
    return state, u < 0.5


def entry_side(k: int, trend: float, dev: float, params: np.ndarray, state: int) -> tuple[int, float]:
    """Direction (+1 long, −1 short, 0 none) a flat taker of kind ``k`` opens: trend followers with the EMA
    signal, mean reverters against the deviation, noise traders at random. Returns ``(state, side)``."""
    s = 0.0
    if k == _TREND:
        if abs(trend) > params[Param.TREND_THRESHOLD]:
            s = 1.0 if trend > 0.0 else -1.0
    elif k == _MEANREV:
        if abs(dev) > params[Param.MEANREV_THRESHOLD]:
            s = -1.0 if dev > 0.0 else 1.0
    else:
        state, u = uniform(state)
        s = 1.0 if u < params[Param.LONG_BIAS] else -1.0
    return state, s


def order_size(lv: float, budget: float, floors: np.ndarray, max_lev: np.ndarray) -> tuple[float, float]:
    """``(leverage, notional)`` of a new position of ``budget × lv`` (``budget``: the margin the taker commits),
    the preferred leverage ``lv`` capped by the tier the notional opens in."""
    notional = budget * lv
    t = 0  # the tier this notional opens in (its floor is the largest one ≤ notional)
    while t + 1 < floors.shape[0] and notional >= floors[t + 1]:
        t += 1
    if lv > max_lev[t]:
        lv = max_lev[t]
        notional = budget * lv
    return lv, notional


def add_order(
    o_idx: np.ndarray, o_dq: np.ndarray, o_liq: np.ndarray, n_ord: int, i: int, dq: float, forced: bool
) -> int:
    """Append trader ``i``'s order of ``dq`` to the :class:`Orders` arrays; returns the new order count."""
    o_idx[n_ord] = i
    o_dq[n_ord] = dq
    o_liq[n_ord] = forced
    return n_ord + 1


def decide(
    ts: int, params: np.ndarray, mk: np.ndarray, tr: Traders, tiers: Tiers, orders: Orders, state: int
) -> tuple[int, int]:
    """Liquidation checks, stops and decisions of every trader at sub-step ``ts`` → one batch of market
    orders; also the bounds on the surviving long/short liquidation prices. Returns ``(state, n_ord)``.

    Records are unpacked before the loop: reading a NamedTuple field takes a reference (an atomic
    increment and decrement) each time."""
    mark, last = mk[MK_MARK], mk[MK_LAST]
    trend = mk[MK_EMA_FAST] / mk[MK_EMA_SLOW] - 1.0
    dev = last / mk[MK_EMA_SLOW] - 1.0
    refill = params[Param.REFILL_SHARE]
    kind, cap0, lev_pref, frac, hold_sub = tr.kind, tr.cap0, tr.lev_pref, tr.frac, tr.hold_sub
    wallet, pos, lev, lp, sl, tp, next_t = tr.wallet, tr.pos, tr.lev, tr.lp, tr.sl, tr.tp, tr.next_t
    floors, max_lev = tiers.floors, tiers.max_lev
    o_idx, o_dq, o_liq = orders
    n_ord = 0
    hi_long_lp = 0.0
    lo_short_lp = np.inf
    for i in range(pos.shape[0]):
        q = pos[i]
        if liquidatable(q, mark, lp[i]):
            n_ord = add_order(o_idx, o_dq, o_liq, n_ord, i, -q, True)
            continue
        if q > 0.0:
            hi_long_lp = max(hi_long_lp, lp[i])
        elif q < 0.0:
            lo_short_lp = min(lo_short_lp, lp[i])
        k = kind[i]
        if k == _MAKER or (q == 0.0 and ts < next_t[i]):
            continue
        if q != 0.0:
            hit = stop_hit(q, last, sl[i], tp[i])
            if not hit and ts >= next_t[i]:
                state, u = uniform(state)
                next_t[i] = ts + 1 + int(-math.log(u) * hold_sub[i])
                state, hit = strategy_exit(k, q, trend, dev, state)
            if hit:
                n_ord = add_order(o_idx, o_dq, o_liq, n_ord, i, -q, False)
            continue
        state, u = uniform(state)
        next_t[i] = ts + 1 + int(-math.log(u) * hold_sub[i])
        if wallet[i] < refill * cap0[i]:
            mk[MK_DEPOSITS] += cap0[i] - wallet[i]
            wallet[i] = cap0[i]
        state, s = entry_side(k, trend, dev, params, state)
        if s != 0.0:
            lev[i], notional = order_size(lev_pref[i], frac[i] * wallet[i], floors, max_lev)
            n_ord = add_order(o_idx, o_dq, o_liq, n_ord, i, s * notional / last, False)
    mk[MK_HI_LONG_LP] = hi_long_lp
    mk[MK_LO_SHORT_LP] = lo_short_lp
    return state, n_ord


def match(params: np.ndarray, mk: np.ndarray, orders: Orders, n_ord: int, bar: np.ndarray) -> tuple[float, float]:
    """Net the batch against the book: the price moves by the depth curve's impact (capped at the band),
    the index follows by ``BETA``; the bar's range and volumes grow. Returns ``(net, fill_price)``."""
    a = params[Param.DEPTH_EXPONENT]
    o_dq = orders.dq
    buy = 0.0
    sell = 0.0
    for k2 in range(n_ord):
        d = o_dq[k2]
        if d > 0.0:
            buy += d
        else:
            sell -= d
    net = buy - sell
    move = 0.0
    if net != 0.0:
        move = min(0.01 * (abs(net) / mk[MK_DEPTH]) ** (1.0 / a), params[Param.MAX_MOVE])
        if net < 0.0:
            move = -move
    px = mk[MK_LAST] * math.exp(move * a / (1.0 + a))
    mk[MK_LOG_LAST] += move
    mk[MK_LOG_INDEX] += params[Param.BETA] * move
    last = math.exp(mk[MK_LOG_LAST])
    mk[MK_LAST] = last
    mk[MK_INDEX] = math.exp(mk[MK_LOG_INDEX])
    bar[BarCol.HIGH] = max(bar[BarCol.HIGH], last)
    bar[BarCol.LOW] = min(bar[BarCol.LOW], last)
    bar[BarCol.VOLUME] += buy + sell
    bar[BarCol.QUOTE_VOLUME] += (buy + sell) * px
    bar[BarCol.TAKER_BUY] += buy
    return net, px


def record_liquidation(
    ts: int, i: int, px: float, to_ins: float, mk: np.ndarray, tr: Traders, liqs: np.ndarray, counters: np.ndarray
) -> np.ndarray:
    """Append trader ``i``'s liquidation (its position still open) to ``liqs`` (grown when full); returns
    ``liqs``."""
    n_liq = counters[Counter.N_LIQ_EVENTS]
    if n_liq == liqs.shape[0]:
        grown = np.zeros((2 * n_liq, N_LIQ_COLS))
        grown[:n_liq] = liqs
        liqs = grown
    q = tr.pos[i]
    liqs[n_liq, LiqCol.SUBSTEP] = ts
    liqs[n_liq, LiqCol.SIDE] = 1.0 if q > 0.0 else -1.0
    liqs[n_liq, LiqCol.PRICE] = px
    liqs[n_liq, LiqCol.QUANTITY] = abs(q)
    liqs[n_liq, LiqCol.TRADER] = i
    liqs[n_liq, LiqCol.POSITION] = tr.pos_id[i]
    liqs[n_liq, LiqCol.MARK] = mk[MK_MARK]
    liqs[n_liq, LiqCol.LIQ_PRICE] = tr.lp[i]
    liqs[n_liq, LiqCol.TO_INSURANCE] = to_ins
    counters[Counter.N_LIQ_EVENTS] = n_liq + 1
    return liqs


def liquidate_one(
    ts: int, i: int, px: float, mk: np.ndarray, tr: Traders, liqs: np.ndarray, counters: np.ndarray
) -> np.ndarray:
    """Forced close of trader ``i`` at ``px``: margin + PnL go to the insurance fund (makers: the whole
    wallet, then the desk recapitalises); returns ``liqs``."""
    to_ins = tr.margin[i] + tr.pos[i] * (px - tr.entry[i])
    if tr.kind[i] == _MAKER:  # cross margin: the whole wallet backs the position
        to_ins += tr.wallet[i]
        mk[MK_DEPOSITS] += tr.cap0[i]  # the desk recapitalises at once
        tr.wallet[i] = tr.cap0[i]
    mk[MK_INSURANCE] += to_ins
    liqs = record_liquidation(ts, i, px, to_ins, mk, tr, liqs, counters)
    counters[Counter.LIQUIDATED] += 1
    tr.liq_count[i] += 1
    tr.margin[i] = 0.0
    tr.pos[i] = 0.0
    tr.pos_id[i] = -1
    return liqs


def close_one(i: int, px: float, fee_rate: float, mk: np.ndarray, tr: Traders, counters: np.ndarray) -> None:
    """Voluntary close of trader ``i`` at ``px``: margin + PnL − fee back to the wallet (a deficit is borne by
    the insurance fund)."""
    q = tr.pos[i]
    fee = fee_rate * abs(q) * px
    back = tr.margin[i] + q * (px - tr.entry[i]) - fee
    if back < 0.0:
        mk[MK_INSURANCE] += back
        back = 0.0
    tr.wallet[i] += back
    mk[MK_FEES] += fee
    tr.margin[i] = 0.0
    tr.pos[i] = 0.0
    tr.pos_id[i] = -1
    counters[Counter.CLOSED] += 1


def open_one(
    i: int, d: float, px: float, fee_rate: float, mk: np.ndarray, tr: Traders, tiers: Tiers, counters: np.ndarray
) -> None:
    """Trader ``i`` opens ``d`` at ``px`` on isolated margin ``notional / lev``: a new position id, its
    liquidation price (widening the bounds of :func:`decide`) and its stop-loss / take-profit levels."""
    notional = abs(d) * px
    fee = fee_rate * notional
    tr.margin[i] = notional / tr.lev[i]
    tr.wallet[i] -= tr.margin[i] + fee
    mk[MK_FEES] += fee
    tr.pos[i] = d
    tr.entry[i] = px
    tr.pos_id[i] = counters[Counter.OPENED]
    counters[Counter.OPENED] += 1
    s = 1.0 if d > 0.0 else -1.0
    lp = liq_price(tiers, s, px, abs(d), tr.margin[i])
    tr.lp[i] = lp
    if s > 0.0:
        mk[MK_HI_LONG_LP] = max(mk[MK_HI_LONG_LP], lp)
    else:
        mk[MK_LO_SHORT_LP] = min(mk[MK_LO_SHORT_LP], lp)
    tr.sl[i] = px * (1.0 - s * tr.sl_pct[i]) if tr.sl_pct[i] > 0.0 else np.nan
    tr.tp[i] = px * (1.0 + s * tr.tp_pct[i]) if tr.tp_pct[i] > 0.0 else np.nan


def fill(
    ts: int,
    px: float,
    params: np.ndarray,
    mk: np.ndarray,
    tr: Traders,
    tiers: Tiers,
    orders: Orders,
    n_ord: int,
    liqs: np.ndarray,
    counters: np.ndarray,
) -> np.ndarray:
    """Fill the batch's orders at ``px``: forced ones liquidate, others close or open; returns ``liqs``."""
    fee_rate = params[Param.TAKER_FEE]
    o_idx, o_dq, o_liq = orders
    pos = tr.pos
    for k2 in range(n_ord):
        i = o_idx[k2]
        if o_liq[k2]:
            liqs = liquidate_one(ts, i, px, mk, tr, liqs, counters)
        elif pos[i] != 0.0:
            close_one(i, px, fee_rate, mk, tr, counters)
        else:
            open_one(i, o_dq[k2], px, fee_rate, mk, tr, tiers, counters)
    return liqs


def fill_makers(
    net: float, px: float, makers: np.ndarray, mk: np.ndarray, tr: Traders, tiers: Tiers, counters: np.ndarray
) -> None:
    """Market makers take the other side of the net flow, pro rata to their capital (a maker liquidated in
    this round was recapitalised and takes its share as a fresh position)."""
    if net == 0.0:
        return
    mm_weight = mk[MK_MM_WEIGHT]
    cap0, pos, lp = tr.cap0, tr.pos, tr.lp
    for j in makers:
        maker_fill(j, -net * cap0[j] / mm_weight, px, tr, tiers, counters)
        if pos[j] > 0.0:
            mk[MK_HI_LONG_LP] = max(mk[MK_HI_LONG_LP], lp[j])
        elif pos[j] < 0.0:
            mk[MK_LO_SHORT_LP] = min(mk[MK_LO_SHORT_LP], lp[j])


def scan_liquidations(mark: float, tr: Traders, orders: Orders) -> int:
    """A batch of the forced orders of every position liquidatable at ``mark``; returns its size."""
    pos, lp = tr.pos, tr.lp
    o_idx, o_dq, o_liq = orders
    n_ord = 0
    for i in range(pos.shape[0]):
        q = pos[i]
        if liquidatable(q, mark, lp[i]):
            n_ord = add_order(o_idx, o_dq, o_liq, n_ord, i, -q, True)
    return n_ord


def clear(
    ts: int,
    params: np.ndarray,
    mk: np.ndarray,
    tr: Traders,
    tiers: Tiers,
    orders: Orders,
    n_ord: int,
    makers: np.ndarray,
    bar: np.ndarray,
    liqs: np.ndarray,
    counters: np.ndarray,
) -> np.ndarray:
    """Clear the batch against the book in rounds: :func:`match`, :func:`fill`, :func:`fill_makers`, a new
    mark; forced orders it triggers make the next round (the cascade), until none is left, the mark lies
    strictly between the liquidation-price bounds (no position can be liquidated) or ``MAX_ROUNDS``.
    Returns ``liqs``."""
    max_rounds = int(params[Param.MAX_ROUNDS])
    for rnd in range(max_rounds):
        if n_ord == 0:
            break
        net, px = match(params, mk, orders, n_ord, bar)
        liqs = fill(ts, px, params, mk, tr, tiers, orders, n_ord, liqs, counters)
        fill_makers(net, px, makers, mk, tr, tiers, counters)
        mark = mark_price(mk[MK_INDEX], mk[MK_F_LAST], mk[MK_TAU], mk[MK_EMA_BASIS], mk[MK_LAST])
        mk[MK_MARK] = mark
        if rnd + 1 == max_rounds or (mk[MK_HI_LONG_LP] < mark < mk[MK_LO_SHORT_LP]):
            break
        n_ord = scan_liquidations(mark, tr, orders)
    return liqs


def close_bar(m: int, params: np.ndarray, mk: np.ndarray, tr: Traders, tiers: Tiers, bar: np.ndarray) -> None:
    """End of minute ``m``: signals (EMAs, realised variance), book depth, funding when due, and the bar's
    ledger row."""
    last = mk[MK_LAST]
    f_every = int(params[Param.FUNDING_EVERY_MIN])
    f_first = int(params[Param.FIRST_FUNDING_MIN])
    sigma_min = params[Param.SIGMA_SUB] * math.sqrt(int(params[Param.SUBSTEPS]))
    ret = math.log(last / bar[BarCol.OPEN]) if m > 0 else 0.0
    mk[MK_VAR_EWMA] += (2.0 / 61.0) * (ret * ret - mk[MK_VAR_EWMA])
    # the book thins when volatility rises (Kaiko: 1 % depth halves in a sell-off), to half at most
    mk[MK_DEPTH] = params[Param.DEPTH_1PCT] / min(
        2.0, 1.0 + params[Param.DEPTH_VOL_K] * max(0.0, math.sqrt(mk[MK_VAR_EWMA]) / sigma_min - 1.0)
    )
    mk[MK_EMA_FAST] += (2.0 / 16.0) * (last - mk[MK_EMA_FAST])
    mk[MK_EMA_SLOW] += (2.0 / 241.0) * (last - mk[MK_EMA_SLOW])
    funding_paid = 0.0
    if m + 1 >= f_first and (m + 1 - f_first) % f_every == 0:
        prem = mk[MK_PREM_SUM] / max(mk[MK_PREM_N], 1.0)
        interest = params[Param.INTEREST]
        f_last = prem + min(max(interest - prem, -0.0005), 0.0005)
        f_cap = params[Param.FUNDING_CAP]
        mk[MK_F_LAST] = min(max(f_last, -f_cap), f_cap)
        mk[MK_PREM_SUM] = 0.0
        mk[MK_PREM_N] = 0.0
        funding_paid = pay_funding(mk[MK_F_LAST], mk[MK_MARK], tr, tiers)
    bar[BarCol.CLOSE] = last
    bar[BarCol.MARK] = mk[MK_MARK]
    bar[BarCol.INDEX] = mk[MK_INDEX]
    bar[BarCol.FUNDING_RATE] = mk[MK_F_LAST]
    bar[BarCol.DEPTH_1PCT] = mk[MK_DEPTH]
    bar[BarCol.FEES] = mk[MK_FEES]
    bar[BarCol.INSURANCE] = mk[MK_INSURANCE]
    bar[BarCol.DEPOSITS] = mk[MK_DEPOSITS]
    bar[BarCol.FUNDING_PAID] = funding_paid
    account(mk[MK_MARK], tr, bar)


def simulate(
    params: np.ndarray, n_minutes: int, tr: Traders, tiers: Tiers, state: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run ``n_minutes`` one-minute bars; return (bars, liquidations, truth_long, truth_short, truth_k0,
    counters). ``tr`` is updated in place (see :mod:`liqmap.sim.market`)."""
    n = tr.kind.shape[0]
    R = int(params[Param.SUBSTEPS])
    half = int(params[Param.TRUTH_HALF_BINS])
    t_every = int(params[Param.TRUTH_EVERY_MIN])
    bars = np.zeros((n_minutes, N_BAR_COLS))
    n_snap = n_minutes // t_every
    truth_long = np.zeros((n_snap, 2 * half + 1))
    truth_short = np.zeros((n_snap, 2 * half + 1))
    truth_k0 = np.zeros(n_snap, dtype=np.int64)
    liqs = np.zeros((max(1024, n), N_LIQ_COLS))
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    orders = Orders(np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n, dtype=np.bool_))
    mk, makers = init_market(params, tr)
    for m in range(n_minutes):
        bar = bars[m]
        bar[BarCol.OPEN] = bar[BarCol.HIGH] = bar[BarCol.LOW] = mk[MK_LAST]
        for r in range(R):
            ts = m * R + r
            state = news(m, r, params, mk, bar, state)
            state, n_ord = decide(ts, params, mk, tr, tiers, orders, state)
            liqs = clear(ts, params, mk, tr, tiers, orders, n_ord, makers, bar, liqs, counters)
        close_bar(m, params, mk, tr, tiers, bar)
        if (m + 1) % t_every == 0:
            snap = (m + 1) // t_every - 1
            truth_k0[snap] = bin_truth(
                mk[MK_LAST], params[Param.BIN_USD], half, tr, truth_long[snap], truth_short[snap]
            )
    counters[Counter.RNG_STATE] = state
    return bars, liqs[: counters[Counter.N_LIQ_EVENTS]], truth_long, truth_short, truth_k0, counters


_KERNELS = (
    "uniform",
    "liq_price",
    "mark_price",
    "liquidatable",
    "pay_funding",
    "account",
    "bin_truth",
    "maker_fill",
    "init_market",
    "news",
    "stop_hit",
    "strategy_exit",
    "entry_side",
    "order_size",
    "add_order",
    "decide",
    "match",
    "record_liquidation",
    "liquidate_one",
    "close_one",
    "open_one",
    "fill",
    "fill_makers",
    "scan_liquidations",
    "clear",
    "close_bar",
    "simulate",
)
# per-trader / per-order helpers of the hot loops: inlined (no call overhead)
_INLINE = (
    "uniform",
    "mark_price",
    "liquidatable",
    "stop_hit",
    "strategy_exit",
    "entry_side",
    "order_size",
    "add_order",
)
_NB = compile_twins({**globals(), "liq_one": liq_one_nb}, _KERNELS, inline=_INLINE)
uniform_py, uniform_nb = uniform, _NB.uniform
simulate_py, simulate_nb = simulate, _NB.simulate
