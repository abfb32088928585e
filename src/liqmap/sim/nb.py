"""Simulator kernels (numpy/numba only): the per-trader market loop with its own seeded generator.

Every kernel is plain Python (``*_py``) with a compiled twin (``*_nb``) built by
:func:`liqmap._jit.compile_twins`; the market loop computes liquidation prices with the margin package's
kernel (:func:`liqmap.margin.nb.liq_one_py`, compiled: ``liq_one_nb``), so the venue's tier rules are exact.
All state arrays are mutated in place; the generator state is an explicit integer threaded through the loop
(a 48-bit linear congruential generator, identical in Python and numba because only the low 48 bits of the
product are kept).
"""

from __future__ import annotations

import math

import numpy as np

from liqmap._jit import compile_twins
from liqmap.margin.nb import liq_one_nb
from liqmap.margin.nb import liq_one_py as liq_one
from liqmap.sim.enums import N_BAR_COLS, N_COUNTERS, N_LIQ_COLS, BarCol, Counter, LiqCol, Param, TraderKind

_MASK48 = (1 << 48) - 1
_LCG_A = 25214903917
_LCG_C = 11
_TWO48 = float(1 << 48)


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


def pay_funding(
    rate: float,
    mark: float,
    kind: np.ndarray,
    pos: np.ndarray,
    entry: np.ndarray,
    wallet: np.ndarray,
    margin: np.ndarray,
    lp: np.ndarray,
    floors: np.ndarray,
    rates: np.ndarray,
    amounts: np.ndarray,
    formula: int,
    basis: int,
    tier_fee: float,
) -> float:
    """Settle one funding interval: each position pays ``position × mark × rate`` from its isolated margin
    (makers: wallet) and gets its liquidation price recomputed; returns the net paid (≈ 0: a transfer)."""
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
            s = 1.0 if q > 0.0 else -1.0
            lp[i] = liq_one(formula, basis, s, entry[i], abs(q), mg, floors, rates, amounts, tier_fee)[0]
        else:
            lp[i] = np.inf if q > 0.0 else 0.0
    return paid


def account(
    mark: float,
    kind: np.ndarray,
    pos: np.ndarray,
    entry: np.ndarray,
    wallet: np.ndarray,
    margin: np.ndarray,
    row: np.ndarray,
) -> None:
    """Fill a bar's ledger columns: open interest per side, accounts per side (takers), cash and PnL."""
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


def bin_truth(
    price: float,
    bin_usd: float,
    half: int,
    pos: np.ndarray,
    entry: np.ndarray,
    lp: np.ndarray,
    out_long: np.ndarray,
    out_short: np.ndarray,
) -> int:
    """Add each open position's entry notional to the truth bin of its liquidation price, on the absolute
    grid of ``bin_usd`` within ``half`` bins of ``price``; returns the grid index of the first bin."""
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


def maker_fill(
    j: int,
    d: float,
    px: float,
    pos: np.ndarray,
    entry: np.ndarray,
    wallet: np.ndarray,
    lp: np.ndarray,
    pos_id: np.ndarray,
    opened: int,
    closed: int,
    floors: np.ndarray,
    rates: np.ndarray,
    amounts: np.ndarray,
    formula: int,
    basis: int,
    tier_fee: float,
) -> tuple[int, int]:
    """Maker ``j``'s passive fill of ``d`` at ``px`` under cross margin (the wallet backs the position):
    average the entry when adding, realise PnL into the wallet when reducing, a new position id when opening
    from flat or flipping. Returns the updated (opened, closed) position counters."""
    q = pos[j]
    if q == 0.0 or (q > 0.0) == (d > 0.0):
        if q == 0.0:
            pos_id[j] = opened
            opened += 1
        entry[j] = (q * entry[j] + d * px) / (q + d)
        pos[j] = q + d
    else:
        c = min(abs(d), abs(q))
        wallet[j] += (c if q > 0.0 else -c) * (px - entry[j])
        pos[j] = q + d
        if abs(d) > abs(q):
            entry[j] = px
            closed += 1
            pos_id[j] = opened
            opened += 1
        elif pos[j] == 0.0:
            closed += 1
            pos_id[j] = -1
            lp[j] = 0.0
            return opened, closed
    if wallet[j] > 0.0:
        s = 1.0 if pos[j] > 0.0 else -1.0
        lp[j] = liq_one(formula, basis, s, entry[j], abs(pos[j]), wallet[j], floors, rates, amounts, tier_fee)[0]
    else:
        lp[j] = np.inf if pos[j] > 0.0 else 0.0
    return opened, closed


def simulate(
    params: np.ndarray,
    n_minutes: int,
    kind: np.ndarray,
    cap0: np.ndarray,
    lev_pref: np.ndarray,
    frac: np.ndarray,
    sl_pct: np.ndarray,
    tp_pct: np.ndarray,
    hold_sub: np.ndarray,
    wallet: np.ndarray,
    pos: np.ndarray,
    entry: np.ndarray,
    margin: np.ndarray,
    lev: np.ndarray,
    lp: np.ndarray,
    sl: np.ndarray,
    tp: np.ndarray,
    next_t: np.ndarray,
    pos_id: np.ndarray,
    liq_count: np.ndarray,
    floors: np.ndarray,
    rates: np.ndarray,
    amounts: np.ndarray,
    max_lev: np.ndarray,
    formula: int,
    basis: int,
    tier_fee: float,
    state: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run ``n_minutes`` one-minute bars; return (bars, liquidations, truth_long, truth_short, truth_k0,
    counters). Trader state arrays are updated in place (see :mod:`liqmap.sim.market`)."""
    n = kind.shape[0]
    R = int(params[Param.SUBSTEPS])
    drift = params[Param.DRIFT_SUB]
    sigma = params[Param.SIGMA_SUB]
    jump_prob = params[Param.JUMP_PROB_SUB]
    jump_mean = params[Param.JUMP_MEAN]
    jump_sign = params[Param.JUMP_SIGN]
    kappa = params[Param.KAPPA]
    beta = params[Param.BETA]
    depth_base = params[Param.DEPTH_1PCT]
    a = params[Param.DEPTH_EXPONENT]
    depth_k = params[Param.DEPTH_VOL_K]
    fee_rate = params[Param.TAKER_FEE]
    f_cap = params[Param.FUNDING_CAP]
    interest = params[Param.INTEREST]
    f_every = int(params[Param.FUNDING_EVERY_MIN])
    f_first = int(params[Param.FIRST_FUNDING_MIN])
    long_bias = params[Param.LONG_BIAS]
    thr_trend = params[Param.TREND_THRESHOLD]
    thr_mr = params[Param.MEANREV_THRESHOLD]
    bin_usd = params[Param.BIN_USD]
    half = int(params[Param.TRUTH_HALF_BINS])
    t_every = int(params[Param.TRUTH_EVERY_MIN])
    max_rounds = int(params[Param.MAX_ROUNDS])
    refill = params[Param.REFILL_SHARE]
    alpha = params[Param.MARK_ALPHA]
    max_move = params[Param.MAX_MOVE]

    bars = np.zeros((n_minutes, N_BAR_COLS))
    n_snap = n_minutes // t_every
    nb_truth = 2 * half + 1
    truth_long = np.zeros((n_snap, nb_truth))
    truth_short = np.zeros((n_snap, nb_truth))
    truth_k0 = np.zeros(n_snap, dtype=np.int64)
    liqs = np.zeros((max(1024, n), N_LIQ_COLS))
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    o_idx = np.zeros(n, dtype=np.int64)
    o_dq = np.zeros(n)
    o_liq = np.zeros(n, dtype=np.bool_)

    log_last = math.log(params[Param.START_PRICE])
    log_index = log_last
    last = math.exp(log_last)
    index = last
    mark = last
    ema_basis = 0.0
    ema_fast = last
    ema_slow = last
    var_ewma = sigma * sigma * R
    sigma_min = sigma * math.sqrt(R)
    depth = depth_base
    f_last = interest
    prem_sum = 0.0
    prem_n = 0
    fees = 0.0
    insurance = 0.0
    deposits = 0.0
    n_liq = 0
    opened = 0
    closed = 0
    liquidated = 0
    mm_weight = 0.0
    n_mm = 0
    for i in range(n):
        deposits += wallet[i] + margin[i]
        if kind[i] == _MAKER:
            mm_weight += cap0[i]
            n_mm += 1
    makers = np.zeros(n_mm, dtype=np.int64)
    n_mm = 0
    for i in range(n):
        if kind[i] == _MAKER:
            makers[n_mm] = i
            n_mm += 1
    # bounds on the highest long and the lowest short liquidation price: while the mark stays strictly
    # between them no position can be liquidated and the cascade check is skipped (exact, not a guess)
    hi_long_lp = 0.0
    lo_short_lp = np.inf

    for m in range(n_minutes):
        bar_open = last
        hi = last
        lo = last
        vol = 0.0
        qvol = 0.0
        tbuy = 0.0
        for r in range(R):
            ts = m * R + r
            # 1. exogenous news moves index and perp together; arbitrage closes part of the basis.
            state, u1 = uniform(state)
            state, u2 = uniform(state)
            dlog = drift + sigma * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
            state, u3 = uniform(state)
            if u3 < jump_prob:
                state, u4 = uniform(state)
                sgn = jump_sign
                if sgn == 0.0:
                    state, u5 = uniform(state)
                    sgn = 1.0 if u5 < 0.5 else -1.0
                dlog += sgn * (-math.log(u4)) * jump_mean
            log_index += dlog
            log_last += dlog
            log_last -= kappa * (log_last - log_index)
            last = math.exp(log_last)
            index = math.exp(log_index)
            hi = max(hi, last)
            lo = min(lo, last)
            ema_basis += alpha * ((last - index) - ema_basis)
            prem_sum += (last - index) / index
            prem_n += 1
            since = (m - f_first) % f_every if m >= f_first else m - f_first + f_every
            tau = (f_every - since - r / R) / f_every
            p1 = index * (1.0 + f_last * tau)
            mark = max(min(p1, index + ema_basis), min(max(p1, index + ema_basis), last))

            # 2. liquidation checks, stops and decisions → one batch of market orders.
            n_ord = 0
            hi_long_lp = 0.0
            lo_short_lp = np.inf
            for i in range(n):
                q = pos[i]
                if q != 0.0 and ((q > 0.0 and mark <= lp[i]) or (q < 0.0 and mark >= lp[i])):
                    o_idx[n_ord] = i
                    o_dq[n_ord] = -q
                    o_liq[n_ord] = True
                    n_ord += 1
                    continue
                if q > 0.0:
                    hi_long_lp = max(hi_long_lp, lp[i])
                elif q < 0.0:
                    lo_short_lp = min(lo_short_lp, lp[i])
                k = kind[i]
                if k == _MAKER or (q == 0.0 and ts < next_t[i]):
                    continue
                if q != 0.0:
                    hit = (last <= sl[i] or last >= tp[i]) if q > 0.0 else (last >= sl[i] or last <= tp[i])
                    if not hit and ts >= next_t[i]:
                        state, u = uniform(state)
                        next_t[i] = ts + 1 + int(-math.log(u) * hold_sub[i])
                        if k == _TREND:
                            hit = (ema_fast / ema_slow - 1.0) * q < 0.0
                        elif k == _MEANREV:
                            hit = (last / ema_slow - 1.0) * q >= 0.0
                        else:
                            state, u = uniform(state)
                            hit = u < 0.5
                    if hit:
                        o_idx[n_ord] = i
                        o_dq[n_ord] = -q
                        o_liq[n_ord] = False
                        n_ord += 1
                    continue
                state, u = uniform(state)
                next_t[i] = ts + 1 + int(-math.log(u) * hold_sub[i])
                if wallet[i] < refill * cap0[i]:
                    deposits += cap0[i] - wallet[i]
                    wallet[i] = cap0[i]
                s = 0.0
                if k == _TREND:
                    sig = ema_fast / ema_slow - 1.0
                    if abs(sig) > thr_trend:
                        s = 1.0 if sig > 0.0 else -1.0
                elif k == _MEANREV:
                    dev = last / ema_slow - 1.0
                    if abs(dev) > thr_mr:
                        s = -1.0 if dev > 0.0 else 1.0
                else:
                    state, u = uniform(state)
                    s = 1.0 if u < long_bias else -1.0
                if s == 0.0:
                    continue
                lv = lev_pref[i]
                notional = frac[i] * wallet[i] * lv
                t = 0  # the tier this notional opens in (its floor is the largest one ≤ notional)
                while t + 1 < floors.shape[0] and notional >= floors[t + 1]:
                    t += 1
                if lv > max_lev[t]:
                    lv = max_lev[t]
                    notional = frac[i] * wallet[i] * lv
                lev[i] = lv
                o_idx[n_ord] = i
                o_dq[n_ord] = s * notional / last
                o_liq[n_ord] = False
                n_ord += 1

            # 3. clear the batch against the book; forced orders may trigger further rounds.
            for rnd in range(max_rounds):
                if n_ord == 0:
                    break
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
                    move = min(0.01 * (abs(net) / depth) ** (1.0 / a), max_move)
                    if net < 0.0:
                        move = -move
                px = last * math.exp(move * a / (1.0 + a))
                log_last += move
                log_index += beta * move
                last = math.exp(log_last)
                index = math.exp(log_index)
                hi = max(hi, last)
                lo = min(lo, last)
                vol += buy + sell
                qvol += (buy + sell) * px
                tbuy += buy
                for k2 in range(n_ord):
                    i = o_idx[k2]
                    d = o_dq[k2]
                    q = pos[i]
                    if o_liq[k2]:
                        to_ins = margin[i] + q * (px - entry[i])
                        if kind[i] == _MAKER:  # cross margin: the whole wallet backs the position
                            to_ins += wallet[i]
                            deposits += cap0[i]  # the desk recapitalises at once
                            wallet[i] = cap0[i]
                        insurance += to_ins
                        if n_liq == liqs.shape[0]:
                            grown = np.zeros((2 * n_liq, N_LIQ_COLS))
                            grown[:n_liq] = liqs
                            liqs = grown
                        liqs[n_liq, LiqCol.SUBSTEP] = ts
                        liqs[n_liq, LiqCol.SIDE] = 1.0 if q > 0.0 else -1.0
                        liqs[n_liq, LiqCol.PRICE] = px
                        liqs[n_liq, LiqCol.QUANTITY] = abs(q)
                        liqs[n_liq, LiqCol.TRADER] = i
                        liqs[n_liq, LiqCol.POSITION] = pos_id[i]
                        liqs[n_liq, LiqCol.MARK] = mark
                        liqs[n_liq, LiqCol.LIQ_PRICE] = lp[i]
                        liqs[n_liq, LiqCol.TO_INSURANCE] = to_ins
                        n_liq += 1
                        liquidated += 1
                        liq_count[i] += 1
                        margin[i] = 0.0
                        pos[i] = 0.0
                        pos_id[i] = -1
                    elif q != 0.0:
                        fee = fee_rate * abs(q) * px
                        back = margin[i] + q * (px - entry[i]) - fee
                        if back < 0.0:
                            insurance += back
                            back = 0.0
                        wallet[i] += back
                        fees += fee
                        margin[i] = 0.0
                        pos[i] = 0.0
                        pos_id[i] = -1
                        closed += 1
                    else:
                        notional = abs(d) * px
                        fee = fee_rate * notional
                        margin[i] = notional / lev[i]
                        wallet[i] -= margin[i] + fee
                        fees += fee
                        pos[i] = d
                        entry[i] = px
                        pos_id[i] = opened
                        opened += 1
                        s = 1.0 if d > 0.0 else -1.0
                        lp[i] = liq_one(formula, basis, s, px, abs(d), margin[i], floors, rates, amounts, tier_fee)[0]
                        if s > 0.0:
                            hi_long_lp = max(hi_long_lp, lp[i])
                        else:
                            lo_short_lp = min(lo_short_lp, lp[i])
                        sl[i] = px * (1.0 - s * sl_pct[i]) if sl_pct[i] > 0.0 else np.nan
                        tp[i] = px * (1.0 + s * tp_pct[i]) if tp_pct[i] > 0.0 else np.nan
                # market makers take the other side of the net flow, pro rata to their capital (a maker
                # liquidated in this round was recapitalised and takes its share as a fresh position)
                for j in makers:
                    if net == 0.0:
                        break
                    opened, closed = maker_fill(
                        j, -net * cap0[j] / mm_weight, px, pos, entry, wallet, lp, pos_id, opened, closed,
                        floors, rates, amounts, formula, basis, tier_fee,
                    )  # fmt: skip
                    if pos[j] > 0.0:
                        hi_long_lp = max(hi_long_lp, lp[j])
                    elif pos[j] < 0.0:
                        lo_short_lp = min(lo_short_lp, lp[j])
                p1 = index * (1.0 + f_last * tau)
                mark = max(min(p1, index + ema_basis), min(max(p1, index + ema_basis), last))
                n_ord = 0
                if rnd + 1 == max_rounds or (hi_long_lp < mark < lo_short_lp):
                    break
                for i in range(n):
                    q = pos[i]
                    if q != 0.0 and ((q > 0.0 and mark <= lp[i]) or (q < 0.0 and mark >= lp[i])):
                        o_idx[n_ord] = i
                        o_dq[n_ord] = -q
                        o_liq[n_ord] = True
                        n_ord += 1

        # 4. end of the minute: signals, book depth, funding, ledger, truth snapshot.
        ret = math.log(last / bar_open) if m > 0 else 0.0
        var_ewma += (2.0 / 61.0) * (ret * ret - var_ewma)
        # the book thins when volatility rises (Kaiko: 1 % depth halves in a sell-off), to half at most
        depth = depth_base / min(2.0, 1.0 + depth_k * max(0.0, math.sqrt(var_ewma) / sigma_min - 1.0))
        ema_fast += (2.0 / 16.0) * (last - ema_fast)
        ema_slow += (2.0 / 241.0) * (last - ema_slow)
        funding_paid = 0.0
        if m + 1 >= f_first and (m + 1 - f_first) % f_every == 0:
            prem = prem_sum / max(prem_n, 1)
            f_last = prem + min(max(interest - prem, -0.0005), 0.0005)
            f_last = min(max(f_last, -f_cap), f_cap)
            prem_sum = 0.0
            prem_n = 0
            funding_paid = pay_funding(
                f_last, mark, kind, pos, entry, wallet, margin, lp, floors, rates, amounts, formula, basis, tier_fee
            )
        b = bars[m]
        b[BarCol.OPEN] = bar_open
        b[BarCol.HIGH] = hi
        b[BarCol.LOW] = lo
        b[BarCol.CLOSE] = last
        b[BarCol.VOLUME] = vol
        b[BarCol.QUOTE_VOLUME] = qvol
        b[BarCol.TAKER_BUY] = tbuy
        b[BarCol.MARK] = mark
        b[BarCol.INDEX] = index
        b[BarCol.FUNDING_RATE] = f_last
        b[BarCol.DEPTH_1PCT] = depth
        b[BarCol.FEES] = fees
        b[BarCol.INSURANCE] = insurance
        b[BarCol.DEPOSITS] = deposits
        b[BarCol.FUNDING_PAID] = funding_paid
        account(mark, kind, pos, entry, wallet, margin, b)
        if (m + 1) % t_every == 0:
            snap = (m + 1) // t_every - 1
            truth_k0[snap] = bin_truth(last, bin_usd, half, pos, entry, lp, truth_long[snap], truth_short[snap])

    counters[Counter.OPENED] = opened
    counters[Counter.CLOSED] = closed
    counters[Counter.LIQUIDATED] = liquidated
    counters[Counter.N_LIQ_EVENTS] = n_liq
    counters[Counter.RNG_STATE] = state
    return bars, liqs[:n_liq], truth_long, truth_short, truth_k0, counters


_NB = compile_twins(
    {**globals(), "liq_one": liq_one_nb}, ("uniform", "maker_fill", "pay_funding", "account", "bin_truth", "simulate")
)
uniform_py, uniform_nb = uniform, _NB.uniform
simulate_py, simulate_nb = simulate, _NB.simulate
