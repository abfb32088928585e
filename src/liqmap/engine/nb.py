# ruff: noqa: ANN001 — kernels take plain NumPy arrays and scalars (documented in the module docstring)
"""Numba kernels of the liquidation engine (imports only numpy/numba via :mod:`liqmap._jit`).

State of one exchange (``s`` = 0 long, 1 short; ``K`` leverages; ``N`` price bins):

* ``raw[s, k, e]`` — alive notional (USD at entry) of positions entered in bin ``e`` at leverage ``k``,
  stored *divided by* the side's lazy scale ``st[SCALE + s]``: true USD = ``raw * scale``. Proportional
  closure and decay multiply the scale (O(1)); it is folded back into ``raw`` when it underflows.
* ``age[s, k, e]`` — mass-weighted mean open time (ms), maintained only for ``OLDEST_FIRST`` closure.
* ``bounds[s, k] = (lo, hi)`` — hull of entry bins that may be non-empty (``lo > hi``: empty).
* ``lp_price[s, k, e]``/``lp_bin[s, k, e]`` — liquidation price of a position entered at the centre of
  bin ``e`` and its bin, precomputed once with :mod:`liqmap.margin`. For a fixed leverage the liquidation
  price rises with the entry, so a bar low liquidates a *suffix* of long entry bins and a bar high a
  *prefix* of short entry bins: scans stop at the first survivor (amortised O(1) per filled cell).
* ``st`` — scalars (see the ``ST_*`` indices), ``acct[s, j]`` — cumulative accounting (``A_*``).
* ``levw[r, k]`` — leverage mixes: rows 0/1 the aggressive/passive mix of longs, 2/3 those of shorts.

Exits before liquidation (calibrated, see :mod:`liqmap.engine.profiles`): of the positions whose
liquidation price a bar reaches, the side's ``P_LIQ_SHARE_*`` is force-liquidated and the rest counts as
exited just before (stops, added margin, manual closes); alive positions whose liquidation price lies
within ``P_ZONE`` (fraction of price) of the bar's extreme exit at ``P_HAZARD`` per ms × the bar's length,
scaled by ``1 − distance / zone`` (the hazard grows as price approaches).

Kernels take the book as a :class:`Book` and the exchange's read-only inputs as :class:`Tables` (NamedTuples
of arrays); the leaf kernels that scan cells (``open_side``, ``liquidate``, ``close_side``…) take the arrays
they use. :func:`step` advances one bar through small named kernels (:func:`trigger_range`, :func:`decay`,
:func:`remove_reached`, :func:`oi_flow`, :func:`trade`), inlined into it. Every kernel exists as a Python
twin ``*_py`` and a compiled ``*_nb`` built from the same source by :func:`liqmap._jit.compile_twins`; tests
assert both agree. The batch loop :func:`run_py` calls the very same :func:`step_py` that
:class:`liqmap.engine.IncrementalEngine` calls per bar (through :func:`advance`), so batch and incremental
agree bit for bit.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from liqmap._jit import compile_twins

# bar row fields (float64)
B_TS, B_OPEN, B_HIGH, B_LOW, B_CLOSE, B_VOL, B_QV, B_TBV, B_OI, B_MARK = range(10)
N_BAR_FIELDS = 10
# params (float64)
P_MODEL, P_CLOSURE, P_ENTRY, P_HALF_LIFE, P_VOLFRAC, P_SEED, P_SEED_SPREAD, P_USE_MARK = range(8)
P_GRID_LO, P_BIN, P_TURNOVER, P_SEED_SURVIVE, P_MARK_PATH = 8, 9, 10, 11, 12
P_LIQ_SHARE, P_HAZARD, P_ZONE, N_PARAMS = 13, 15, 16, 17  # P_LIQ_SHARE + s: side s's liquidated share
# state scalars (float64)
ST_SCALE, ST_TOT, ST_PREV_CLOSE, ST_PREV_TS, ST_SEEDED, ST_PREV_OI, ST_NAN_OI, ST_PREV_MARK = 0, 2, 4, 5, 6, 7, 8, 9
N_ST = 10
# accounting columns
A_SEEDED, A_OPENED, A_CLOSED, A_LIQUIDATED, A_DECAYED, A_EXITED = range(6)
N_ACCT = 6
# event int columns
E_TS, E_SIDE, E_LEV, E_BIN = range(4)
# model / closure / entry codes (mirrors of liqmap.engine.enums)
MODEL_OI, MODEL_VOLUME = 0, 1
CLOSE_PROPORTIONAL, CLOSE_OLDEST, CLOSE_PROFITABLE = 0, 1, 2
ENTRY_TRIANGULAR, ENTRY_UNIFORM, ENTRY_TYPICAL = 0, 1, 2

_LN2 = math.log(2.0)
_RENORM_BELOW = 1e-100
_FULL_CLOSE_RTOL = 1e-12


class Book(NamedTuple):
    """Mutable state of one exchange's book (see the module docstring)."""

    raw: np.ndarray  # (2, K, N) alive notional / the side's lazy scale
    age: np.ndarray  # (2, K, N) mass-weighted mean open time (ms)
    bounds: np.ndarray  # (2, K, 2) int64 hull of non-empty entry bins
    st: np.ndarray  # (N_ST,) state scalars
    acct: np.ndarray  # (2, N_ACCT) cumulative accounting


class Tables(NamedTuple):
    """Read-only inputs of one exchange's kernels."""

    params: np.ndarray  # (N_PARAMS,)
    levw: np.ndarray  # (4, K) leverage mixes
    lp_price: np.ndarray  # (2, K, N) liquidation price per entry bin
    lp_bin: np.ndarray  # (2, K, N) int64 its bin


def new_book(n_lev: int, n_bins: int) -> Book:
    """The :class:`Book` of an empty exchange."""
    raw = np.zeros((2, n_lev, n_bins))
    age = np.zeros((2, n_lev, n_bins))
    bounds = np.empty((2, n_lev, 2), dtype=np.int64)
    bounds[:, :, 0] = n_bins
    bounds[:, :, 1] = -1
    st = np.zeros(N_ST)
    st[ST_SCALE] = st[ST_SCALE + 1] = 1.0
    st[ST_PREV_CLOSE] = st[ST_PREV_TS] = st[ST_PREV_MARK] = np.nan
    acct = np.zeros((2, N_ACCT))
    return Book(raw, age, bounds, st, acct)


def bin_of(price: float, grid_lo: float, bin_usd: float, n_bins: int) -> int:
    """Bin holding ``price`` on the grid, clamped to ``[0, n_bins − 1]``."""
    x = (price - grid_lo) / bin_usd
    if not x >= 0.0:  # also NaN
        return 0
    if x >= n_bins:
        return n_bins - 1
    return int(x)


def entry_cdf(x: float, a: float, m: float, b: float, dist: int) -> float:
    """CDF at ``x`` of the entry distribution on ``[a, b]`` (triangular mode ``m`` or uniform)."""
    if x <= a:
        return 0.0
    if x >= b:
        return 1.0
    if dist == ENTRY_UNIFORM:
        return (x - a) / (b - a)
    if x <= m:
        return (x - a) * (x - a) / ((b - a) * (m - a))
    return 1.0 - (b - x) * (b - x) / ((b - a) * (b - m))


def add_cell(raw, age, bounds, st, s, k, e, usd, ts, track_age) -> float:
    """Add ``usd`` of notional to cell ``(s, k, e)``; returns what was added."""
    if usd <= 0.0:
        return 0.0
    r = usd / st[ST_SCALE + s]
    old = raw[s, k, e]
    if track_age:
        age[s, k, e] = (age[s, k, e] * old + ts * r) / (old + r)
    raw[s, k, e] = old + r
    st[ST_TOT + s] += r
    if e < bounds[s, k, 0]:
        bounds[s, k, 0] = e
    if e > bounds[s, k, 1]:
        bounds[s, k, 1] = e
    return usd


def open_side(raw, age, bounds, st, params, s, usd, a, m, b, levw, ts, prof_bin, prof_w) -> float:
    """Open ``usd`` on side ``s`` spread over entries and leverages by ``levw``: in proportion to the bar's
    traded notional per bin (``prof_bin``/``prof_w``) when it has trades, else by the entry distribution
    over ``[a, b]``."""
    if usd <= 0.0:
        return 0.0
    grid_lo, bin_usd = params[P_GRID_LO], params[P_BIN]
    n_bins = raw.shape[2]
    n_lev = raw.shape[1]
    dist = int(params[P_ENTRY])
    track = int(params[P_CLOSURE]) == CLOSE_OLDEST
    added = 0.0
    if prof_w.shape[0] > 0:
        traded = 0.0
        for j in range(prof_w.shape[0]):
            traded += prof_w[j]
        for j in range(prof_w.shape[0]):
            w = prof_w[j] / traded
            for k in range(n_lev):
                added += add_cell(raw, age, bounds, st, s, k, prof_bin[j], usd * w * levw[k], ts, track)
        return added
    e0 = bin_of(a, grid_lo, bin_usd, n_bins)
    e1 = bin_of(b, grid_lo, bin_usd, n_bins)
    if dist == ENTRY_TYPICAL or e0 == e1 or not b > a:
        e = bin_of(m, grid_lo, bin_usd, n_bins)
        for k in range(n_lev):
            added += add_cell(raw, age, bounds, st, s, k, e, usd * levw[k], ts, track)
        return added
    prev = 0.0
    for e in range(e0, e1 + 1):
        hi = b if e == e1 else grid_lo + (e + 1) * bin_usd
        cdf = entry_cdf(hi, a, m, b, dist)
        w = cdf - prev
        prev = cdf
        if w > 0.0:
            for k in range(n_lev):
                added += add_cell(raw, age, bounds, st, s, k, e, usd * w * levw[k], ts, track)
    return added


def seed_side(raw, age, bounds, st, params, lp_price, s, usd, a, m, b, levw, trigger, ts) -> float:
    """Seed ``usd`` on side ``s`` like :func:`open_side`, but only in cells whose liquidation price lies
    beyond ``trigger`` (longs below, shorts above: positions alive now survived that price). Per leverage
    the entry density is renormalised over those cells, so the seeded total and the leverage mix are kept;
    a leverage with no surviving cell is seeded untruncated."""
    grid_lo, bin_usd = params[P_GRID_LO], params[P_BIN]
    n_bins = raw.shape[2]
    dist = int(params[P_ENTRY])
    track = int(params[P_CLOSURE]) == CLOSE_OLDEST
    e0 = bin_of(a, grid_lo, bin_usd, n_bins)
    e1 = bin_of(b, grid_lo, bin_usd, n_bins)
    if dist == ENTRY_TYPICAL or not b > a:
        e0 = e1 = bin_of(m, grid_lo, bin_usd, n_bins)
    added = 0.0
    for k in range(raw.shape[1]):
        alive_w = 0.0
        for rep in range(2):  # pass 0: surviving share of the entry density; pass 1: add it renormalised
            prev = 0.0
            for e in range(e0, e1 + 1):
                cdf = 1.0 if e == e1 else entry_cdf(grid_lo + (e + 1) * bin_usd, a, m, b, dist)
                w = cdf - prev
                prev = cdf
                lp = lp_price[s, k, e]
                survives = (s == 0 and lp < trigger) or (s == 1 and lp > trigger)
                if rep == 0:
                    if survives:
                        alive_w += w
                elif w > 0.0 and (survives or alive_w <= 0.0):
                    norm = alive_w if alive_w > 0.0 else 1.0
                    added += add_cell(raw, age, bounds, st, s, k, e, usd * w / norm * levw[k], ts, track)
    return added


def clear_side(raw, age, bounds, st, s) -> None:
    """Remove every position of side ``s``."""
    n_bins = raw.shape[2]
    for k in range(raw.shape[1]):
        for e in range(bounds[s, k, 0], bounds[s, k, 1] + 1):
            raw[s, k, e] = 0.0
            age[s, k, e] = 0.0
        bounds[s, k, 0] = n_bins
        bounds[s, k, 1] = -1
    st[ST_TOT + s] = 0.0
    st[ST_SCALE + s] = 1.0


def renormalise(raw, bounds, st, s) -> None:
    """Fold the lazy scale of side ``s`` back into ``raw`` once it gets tiny."""
    sc = st[ST_SCALE + s]
    if sc >= _RENORM_BELOW:
        return
    for k in range(raw.shape[1]):
        for e in range(bounds[s, k, 0], bounds[s, k, 1] + 1):
            raw[s, k, e] *= sc
    st[ST_TOT + s] *= sc
    st[ST_SCALE + s] = 1.0


def close_ordered(raw, age, bounds, st, s, usd, rule) -> float:
    """Close ``usd`` of side ``s`` cell by cell: most-profitable entries first, or oldest first."""
    sc = st[ST_SCALE + s]
    n_lev, n_bins = raw.shape[1], raw.shape[2]
    rem = usd
    if rule == CLOSE_PROFITABLE:
        e_lo, e_hi = n_bins, -1
        for k in range(n_lev):
            e_lo = min(e_lo, bounds[s, k, 0])
            e_hi = max(e_hi, bounds[s, k, 1])
        for i in range(e_hi - e_lo + 1):
            e = e_lo + i if s == 0 else e_hi - i  # longs: lowest entry first; shorts: highest first
            cell = 0.0
            for k in range(n_lev):
                cell += raw[s, k, e]
            if cell <= 0.0:
                continue
            cell_usd = cell * sc
            f = 0.0 if cell_usd <= rem else 1.0 - rem / cell_usd
            for k in range(n_lev):
                st[ST_TOT + s] -= raw[s, k, e] * (1.0 - f)
                raw[s, k, e] *= f
            rem -= min(rem, cell_usd)
            if rem <= 0.0:
                break
    else:
        n = 0
        for k in range(n_lev):
            n += max(0, bounds[s, k, 1] - bounds[s, k, 0] + 1)
        keys = np.empty(n)
        cells = np.empty(n, dtype=np.int64)
        n = 0
        for k in range(n_lev):
            for e in range(bounds[s, k, 0], bounds[s, k, 1] + 1):
                if raw[s, k, e] > 0.0:
                    keys[n] = age[s, k, e]
                    cells[n] = k * n_bins + e
                    n += 1
        order = np.argsort(keys[:n], kind="mergesort")
        for j in range(n):
            k, e = cells[order[j]] // n_bins, cells[order[j]] % n_bins
            cell_usd = raw[s, k, e] * sc
            f = 0.0 if cell_usd <= rem else 1.0 - rem / cell_usd
            st[ST_TOT + s] -= raw[s, k, e] * (1.0 - f)
            raw[s, k, e] *= f
            rem -= min(rem, cell_usd)
            if rem <= 0.0:
                break
    if st[ST_TOT + s] < 0.0:
        st[ST_TOT + s] = 0.0
    return usd - rem


def close_side(raw, age, bounds, st, s, usd, rule) -> float:
    """Close ``usd`` of side ``s`` by the closure ``rule``; returns what was closed (≤ alive)."""
    if usd <= 0.0:
        return 0.0
    alive = st[ST_TOT + s] * st[ST_SCALE + s]
    if alive <= 0.0:
        return 0.0
    if usd >= alive * (1.0 - _FULL_CLOSE_RTOL):
        clear_side(raw, age, bounds, st, s)
        return alive
    if rule == CLOSE_PROPORTIONAL:
        st[ST_SCALE + s] *= 1.0 - usd / alive
        renormalise(raw, bounds, st, s)
        return usd
    return close_ordered(raw, age, bounds, st, s, usd, rule)


def liquidate(raw, age, bounds, st, lp_price, lp_bin, s, trigger, share, ts, ev_i, ev_usd, n_ev) -> tuple[float, int]:
    """Remove side-``s`` positions whose liquidation price the bar reached; append/merge events of the
    ``share`` of them that is force-liquidated (the rest exited just before).

    Returns ``(removed_usd, n_ev)``. Longs die when ``low ≤ LP`` (a suffix of entry bins per
    leverage), shorts when ``high ≥ LP`` (a prefix)."""
    sc = st[ST_SCALE + s]
    n_bins = raw.shape[2]
    total = 0.0
    side_sign = 1 if s == 0 else -1
    for k in range(raw.shape[1]):
        lo, hi = bounds[s, k, 0], bounds[s, k, 1]
        if s == 0:
            e = hi
            while e >= lo and lp_price[s, k, e] >= trigger:
                e -= 1
            first, last = e + 1, hi
            bounds[s, k, 1] = e
        else:
            e = lo
            while e <= hi and lp_price[s, k, e] <= trigger:
                e += 1
            first, last = lo, e - 1
            bounds[s, k, 0] = e
        for j in range(first, last + 1):
            cell = raw[s, k, j]
            if cell <= 0.0:
                continue
            usd = cell * sc
            total += usd
            st[ST_TOT + s] -= cell
            raw[s, k, j] = 0.0
            age[s, k, j] = 0.0
            usd *= share
            if usd <= 0.0:
                continue
            b = lp_bin[s, k, j]
            if (
                n_ev > 0
                and ev_i[n_ev - 1, E_TS] == ts
                and ev_i[n_ev - 1, E_SIDE] == side_sign
                and ev_i[n_ev - 1, E_LEV] == k
                and ev_i[n_ev - 1, E_BIN] == b
            ):
                ev_usd[n_ev - 1] += usd
            else:
                ev_i[n_ev, E_TS] = ts
                ev_i[n_ev, E_SIDE] = side_sign
                ev_i[n_ev, E_LEV] = k
                ev_i[n_ev, E_BIN] = b
                ev_usd[n_ev] = usd
                n_ev += 1
        if bounds[s, k, 0] > bounds[s, k, 1]:
            bounds[s, k, 0] = n_bins
            bounds[s, k, 1] = -1
    empty = True
    for k in range(raw.shape[1]):
        if bounds[s, k, 0] <= bounds[s, k, 1]:
            empty = False
    if empty or st[ST_TOT + s] < 0.0:
        st[ST_TOT + s] = 0.0
        if empty:
            st[ST_SCALE + s] = 1.0
    return total, n_ev


def exit_near(raw, bounds, st, lp_price, s, trigger, zone, rate) -> float:
    """Early exits of side-``s`` positions whose liquidation price lies within ``zone`` (fraction of price)
    beyond ``trigger`` (the bar's extreme): each cell loses ``min(1, rate · (1 − distance / zone))`` of its
    notional. Returns the USD that exited."""
    if rate <= 0.0 or zone <= 0.0:
        return 0.0
    sc = st[ST_SCALE + s]
    total = 0.0
    for k in range(raw.shape[1]):
        lo, hi = bounds[s, k, 0], bounds[s, k, 1]
        e = hi if s == 0 else lo
        while lo <= e <= hi:
            x = (trigger - lp_price[s, k, e]) / trigger if s == 0 else (lp_price[s, k, e] - trigger) / trigger
            if x >= zone:
                break
            cell = raw[s, k, e]
            if cell > 0.0:
                f = min(1.0, rate * (1.0 - max(x, 0.0) / zone))
                raw[s, k, e] = cell * (1.0 - f)
                st[ST_TOT + s] -= cell * f
                total += cell * f * sc
            e += -1 if s == 0 else 1
    if st[ST_TOT + s] < 0.0:
        st[ST_TOT + s] = 0.0
    return total


def records(tab, book) -> tuple[Tables, Book]:
    """``(Tables(*tab), Book(*book))``: the entry kernel :func:`run`, called from Python, also takes plain
    tuples, which numba's dispatcher types in C, while a NamedTuple argument is typed in Python (~3 µs a call,
    as much as a whole :func:`step`)."""
    return Tables(*tab), Book(*book)


def trigger_range(bar, params, st) -> tuple[float, float]:
    """``(low, high)`` of the price path that triggers liquidations in this bar: the bar's range bridged from
    the previous close, shifted onto the mark (or the mark's close-to-close path) when the mark is used."""
    high, low, close = bar[B_HIGH], bar[B_LOW], bar[B_CLOSE]
    lo_t, hi_t = low, high
    pc = st[ST_PREV_CLOSE]
    if pc == pc:  # price travelled from the previous close (bridges gaps)
        lo_t = min(lo_t, pc)
        hi_t = max(hi_t, pc)
    mark = bar[B_MARK]
    pm = st[ST_PREV_MARK]
    if params[P_USE_MARK] > 0.0 and params[P_MARK_PATH] > 0.0 and mark == mark and pm == pm:
        lo_t = min(pm, mark)  # exchanges trigger on the (smoothed) mark: its close-to-close path
        hi_t = max(pm, mark)
    elif params[P_USE_MARK] > 0.0 and mark == mark:
        lo_t += mark - close
        hi_t += mark - close
    return lo_t, hi_t


def decay(book, params, ts) -> None:
    """Shrink both sides by the half-life decay since the previous bar (O(1): the lazy scale)."""
    st, acct = book.st, book.acct
    half_life = params[P_HALF_LIFE]
    prev_ts = st[ST_PREV_TS]
    if half_life > 0.0 and prev_ts == prev_ts and ts > prev_ts:
        f = math.exp(-_LN2 * (ts - prev_ts) / half_life)
        for s in range(2):
            acct[s, A_DECAYED] += st[ST_TOT + s] * st[ST_SCALE + s] * (1.0 - f)
            st[ST_SCALE + s] *= f
            renormalise(book.raw, book.bounds, st, s)


def remove_reached(book, tab, ts, lo_t, hi_t, ev_i, ev_usd, n_ev) -> tuple[float, int]:
    """Liquidations over the trigger range ``[lo_t, hi_t]``, hazard exits near it, and the counterparty
    closes that keep long = short. Returns ``(removed_usd, n_ev)``: the larger side's liquidated + exited."""
    params, lp_price, lp_bin = tab.params, tab.lp_price, tab.lp_bin
    raw, age, bounds, st, acct = book
    rule = int(params[P_CLOSURE])
    ts_i = np.int64(ts)
    share_l, share_s = params[P_LIQ_SHARE], params[P_LIQ_SHARE + 1]
    liq_l, n_ev = liquidate(raw, age, bounds, st, lp_price, lp_bin, 0, lo_t, share_l, ts_i, ev_i, ev_usd, n_ev)
    liq_s, n_ev = liquidate(raw, age, bounds, st, lp_price, lp_bin, 1, hi_t, share_s, ts_i, ev_i, ev_usd, n_ev)
    acct[0, A_LIQUIDATED] += liq_l * share_l
    acct[1, A_LIQUIDATED] += liq_s * share_s
    acct[0, A_EXITED] += liq_l * (1.0 - share_l)
    acct[1, A_EXITED] += liq_s * (1.0 - share_s)
    prev_ts = st[ST_PREV_TS]
    if params[P_HAZARD] > 0.0 and prev_ts == prev_ts and ts > prev_ts:  # exits as price nears liquidation
        rate = params[P_HAZARD] * (ts - prev_ts)
        ex_l = exit_near(raw, bounds, st, lp_price, 0, lo_t, params[P_ZONE], rate)
        ex_s = exit_near(raw, bounds, st, lp_price, 1, hi_t, params[P_ZONE], rate)
        acct[0, A_EXITED] += ex_l
        acct[1, A_EXITED] += ex_s
        liq_l += ex_l
        liq_s += ex_s
    # every contract has two sides: the counterparties of what was liquidated or exited close too
    if liq_l > liq_s:
        acct[1, A_CLOSED] += close_side(raw, age, bounds, st, 1, liq_l - liq_s, rule)
    elif liq_s > liq_l:
        acct[0, A_CLOSED] += close_side(raw, age, bounds, st, 0, liq_s - liq_l, rule)
    return max(liq_l, liq_s), n_ev


def taker_mix(bar, levw, w_long, w_short) -> None:
    """Leverage mixes of this bar's new longs and shorts (``w_*`` (K,)): the aggressive and passive mixes
    blended by the taker-buy share (from taker-buy volume, else the close's location in the range)."""
    high, low, close = bar[B_HIGH], bar[B_LOW], bar[B_CLOSE]
    vol, tbv = bar[B_VOL], bar[B_TBV]
    if tbv == tbv and vol > 0.0:
        buy = tbv / vol
    elif high > low:
        buy = (close - low) / (high - low)  # close location value as taker-buy share
    else:
        buy = 0.5
    buy = min(max(buy, 0.0), 1.0)
    for k in range(levw.shape[1]):
        w_long[k] = buy * levw[0, k] + (1.0 - buy) * levw[1, k]
        w_short[k] = (1.0 - buy) * levw[2, k] + buy * levw[3, k]


def seed(book, tab, oi, close, lo_t, hi_t, ts, w_seed_l, w_seed_s) -> None:
    """Seed the book with the first OI reading, spread around ``close`` (``w_seed_*``: (K,) work rows)."""
    params, levw, lp_price = tab.params, tab.levw, tab.lp_price
    raw, age, bounds, st, acct = book
    for k in range(levw.shape[1]):
        w_seed_l[k] = 0.5 * (levw[0, k] + levw[1, k])
        w_seed_s[k] = 0.5 * (levw[2, k] + levw[3, k])
    sp = params[P_SEED_SPREAD]
    a, b = close * (1.0 - sp), close * (1.0 + sp)
    usd = oi * close
    if params[P_SEED_SURVIVE] > 0.0:  # seeded positions survived this bar's trigger range
        a_l, b_s = lo_t, hi_t
    else:
        a_l, b_s = math.inf, -math.inf
    acct[0, A_SEEDED] += seed_side(raw, age, bounds, st, params, lp_price, 0, usd, a, close, b, w_seed_l, a_l, ts)
    acct[1, A_SEEDED] += seed_side(raw, age, bounds, st, params, lp_price, 1, usd, a, close, b, w_seed_s, b_s, ts)


def oi_flow(bar, book, tab, liq, typical, lo_t, hi_t, scratch) -> tuple[float, float]:
    """``(net, turnover)`` USD of the OI-delta model: ΔOI × typical price + what was removed (re-opened),
    and the positions changing hands; the first OI reading seeds the book instead."""
    params, st = tab.params, book.st
    oi = bar[B_OI]
    if oi != oi:
        st[ST_NAN_OI] += 1.0
        return (liq if st[ST_SEEDED] != 0.0 else 0.0), 0.0  # unknown ΔOI counts as zero
    net = 0.0
    turnover = 0.0
    if st[ST_SEEDED] == 0.0:
        st[ST_SEEDED] = 1.0
        if params[P_SEED] > 0.0:
            seed(book, tab, oi, bar[B_CLOSE], lo_t, hi_t, bar[B_TS], scratch[2], scratch[3])
    else:
        d_oi = oi - st[ST_PREV_OI]
        net = d_oi * typical + liq
        turnover = params[P_TURNOVER] * max(bar[B_VOL] - abs(d_oi), 0.0) * typical
    st[ST_PREV_OI] = oi
    return net, turnover


def trade(bar, book, tab, net, turnover, typical, w_long, w_short, prof_bin, prof_w) -> None:
    """Apply the bar's flow: turnover (closed by the rule, reopened), then open ``net`` USD per side at the
    bar's prices (``net > 0``) or close ``−net`` (``net < 0``)."""
    params = tab.params
    raw, age, bounds, st, acct = book
    rule = int(params[P_CLOSURE])
    ts, high, low = bar[B_TS], bar[B_HIGH], bar[B_LOW]
    if turnover > 0.0:  # positions changing hands: old ones closed by the rule, reopened in this bar
        moved = close_side(raw, age, bounds, st, 0, turnover, rule)
        acct[0, A_CLOSED] += moved
        acct[1, A_CLOSED] += close_side(raw, age, bounds, st, 1, moved, rule)
        net += moved
    if net > 0.0:
        m = min(max(typical, low), high)
        acct[0, A_OPENED] += open_side(raw, age, bounds, st, params, 0, net, low, m, high, w_long, ts, prof_bin, prof_w)
        acct[1, A_OPENED] += open_side(
            raw, age, bounds, st, params, 1, net, low, m, high, w_short, ts, prof_bin, prof_w
        )
    elif net < 0.0:
        acct[0, A_CLOSED] += close_side(raw, age, bounds, st, 0, -net, rule)
        acct[1, A_CLOSED] += close_side(raw, age, bounds, st, 1, -net, rule)


def step(bar, tab, book, ev_i, ev_usd, n_ev, scratch, prof_bin, prof_w) -> int:
    """Advance the book of one exchange by one bar; returns the new event count. ``scratch``: (4, K) work
    rows (no allocation per bar); ``prof_bin``/``prof_w``: the bar's traded notional per price bin (empty: no
    trades, entries follow the entry distribution).

    Order: :func:`decay` → :func:`remove_reached` (liquidations over the bar's :func:`trigger_range`, hazard
    exits, counterparty closes that keep long = short) → the model's flow (:func:`oi_flow` or a volume
    share) → :func:`trade` (turnover, then opens/closes; positions opened in a bar are not liquidated in
    it)."""
    ts = bar[B_TS]
    high, low, close = bar[B_HIGH], bar[B_LOW], bar[B_CLOSE]
    params, st = tab.params, book.st
    lo_t, hi_t = trigger_range(bar, params, st)
    decay(book, params, ts)
    liq, n_ev = remove_reached(book, tab, ts, lo_t, hi_t, ev_i, ev_usd, n_ev)
    typical = (high + low + close) / 3.0
    taker_mix(bar, tab.levw, scratch[0], scratch[1])
    turnover = 0.0
    if int(params[P_MODEL]) == MODEL_OI:
        net, turnover = oi_flow(bar, book, tab, liq, typical, lo_t, hi_t, scratch)
    else:
        qv = bar[B_QV]
        if qv != qv:
            qv = bar[B_VOL] * typical
        net = qv * params[P_VOLFRAC]
    trade(bar, book, tab, net, turnover, typical, scratch[0], scratch[1], prof_bin, prof_w)
    st[ST_PREV_CLOSE] = close
    st[ST_PREV_TS] = ts
    st[ST_PREV_MARK] = bar[B_MARK]
    return n_ev


def advance(
    bar, params, levw, lp_price, lp_bin, raw, age, bounds, st, acct, ev_i, ev_usd, n_ev, scratch, prof_bin, prof_w
) -> int:
    """:func:`step` for the per-bar call from Python (:meth:`liqmap.engine.IncrementalEngine.update`): the
    dispatcher types loose arrays fastest (a NamedTuple ~3 µs, a plain tuple ~0.3 µs, against ~6 µs a bar), so
    this boundary takes the :class:`Tables` and :class:`Book` fields loose and builds the records."""
    tab, book = Tables(params, levw, lp_price, lp_bin), Book(raw, age, bounds, st, acct)
    return step(bar, tab, book, ev_i, ev_usd, n_ev, scratch, prof_bin, prof_w)


def project(raw, bounds, st, params, lp_bin, out_long, out_short, lev_long, lev_short, keep_lev) -> None:
    """Add the notional that would be force-liquidated — alive notional × the side's liquidation share — to
    the bins of its liquidation prices (``out_*`` (N,), ``lev_*`` (K, N)). A leaf kernel: it takes the arrays
    it reads and writes, loose (also called from Python by :meth:`liqmap.engine.IncrementalEngine.project`,
    where numba's dispatcher unboxes loose arrays fastest)."""
    for s in range(2):
        sc = st[ST_SCALE + s] * params[P_LIQ_SHARE + s]
        out = out_long if s == 0 else out_short
        lev = lev_long if s == 0 else lev_short
        for k in range(raw.shape[1]):
            for e in range(bounds[s, k, 0], bounds[s, k, 1] + 1):
                v = raw[s, k, e] * sc
                if v > 0.0:
                    b = lp_bin[s, k, e]
                    out[b] += v
                    if keep_lev:
                        lev[k, b] += v


def run(bars, start, snap_row, prof, tab, book, ev_i, ev_usd, n_ev, hm, keep_lev, max_ev_per_bar) -> tuple[int, int]:
    """Loop :func:`step` over ``bars[start:]``, projecting heatmap row ``r = snap_row[i]`` of
    ``hm = (long, short, long_by_lev, short_by_lev)`` where ``r ≥ 0``. ``prof = (ptr, bin, w)``: the bars'
    trade profile (CSR), bar ``i``'s is ``bin[j]``/``w[j]`` for ``ptr[i] ≤ j < ptr[i + 1]``.

    Returns ``(next_bar, n_ev)``; stops early when the event buffer could overflow (caller grows it).
    ``tab``/``book`` may be plain tuples (see :func:`records`)."""
    tab, book = records(tab, book)
    prof_ptr, prof_bin, prof_w = prof
    cap = ev_usd.shape[0]
    scratch = np.empty((4, tab.levw.shape[1]))
    for i in range(start, bars.shape[0]):
        if n_ev + max_ev_per_bar > cap:
            return i, n_ev
        j0, j1 = prof_ptr[i], prof_ptr[i + 1]
        n_ev = step(bars[i], tab, book, ev_i, ev_usd, n_ev, scratch, prof_bin[j0:j1], prof_w[j0:j1])
        r = snap_row[i]
        if r >= 0:
            project(
                book.raw, book.bounds, book.st, tab.params, tab.lp_bin, hm[0][r], hm[1][r], hm[2][r], hm[3][r], keep_lev
            )
    return bars.shape[0], n_ev


KERNELS = (
    "bin_of",
    "entry_cdf",
    "add_cell",
    "open_side",
    "seed_side",
    "clear_side",
    "renormalise",
    "close_ordered",
    "close_side",
    "liquidate",
    "exit_near",
    "records",
    "trigger_range",
    "decay",
    "remove_reached",
    "taker_mix",
    "seed",
    "oi_flow",
    "trade",
    "step",
    "advance",
    "project",
    "run",
)
# hot leaf kernels and the parts of step (run once per bar, ~1 µs): inlined (no call overhead)
_INLINE = ("bin_of", "entry_cdf", "records")
_STEP_PARTS = ("trigger_range", "decay", "remove_reached", "taker_mix", "oi_flow", "trade")
# called per cell (leverages × entry bins, both sides, every bar): inlined, its four array arguments cost eight
# atomic reference-count operations a call, most of a bar's time; borrowed (no NRT) they cost none
_BORROW = ("add_cell",)
_NB = compile_twins(globals(), KERNELS, inline=_INLINE + _STEP_PARTS, borrow=_BORROW)

bin_of_py, bin_of_nb = bin_of, _NB.bin_of
entry_cdf_py, entry_cdf_nb = entry_cdf, _NB.entry_cdf
open_side_py, open_side_nb = open_side, _NB.open_side
close_side_py, close_side_nb = close_side, _NB.close_side
liquidate_py, liquidate_nb = liquidate, _NB.liquidate
exit_near_py, exit_near_nb = exit_near, _NB.exit_near
step_py, step_nb = step, _NB.step
advance_py, advance_nb = advance, _NB.advance
project_py, project_nb = project, _NB.project
run_py, run_nb = run, _NB.run
