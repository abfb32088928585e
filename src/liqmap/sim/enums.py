"""Enumerations of the simulator: regimes, trader kinds and the integer layouts the kernels share.

The ``IntEnum`` layouts index the float arrays that cross the kernel boundary (numba branches on ints),
so the kernel in :mod:`liqmap.sim.nb` and the wrapper in :mod:`liqmap.sim.market` agree on one table.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Regime(StrEnum):
    """Market regime presets (see :data:`liqmap.sim.market.REGIMES` for the parameters)."""

    CALM = "calm"  # driftless, low volatility, no jumps
    TREND = "trend"  # persistent up-drift: shorts get squeezed, longs pile in
    CRASH = "crash"  # down-drift with sell-off jumps: long liquidation cascades


class TraderKind(IntEnum):
    """Behaviour of one simulated account."""

    NOISE = 0  # random direction, random holding time
    TREND = 1  # follows the fast-vs-slow EMA signal
    MEANREV = 2  # fades deviations from the slow EMA
    MAKER = 3  # passive counterparty of the net taker flow; cross margin, low leverage


class Param(IntEnum):
    """Index of each scalar in the kernel's ``params`` array."""

    START_PRICE = 0
    SUBSTEPS = 1  # sub-steps per 1-minute bar
    DRIFT_SUB = 2  # exogenous log drift per sub-step
    SIGMA_SUB = 3  # exogenous log volatility per sub-step
    JUMP_PROB_SUB = 4  # probability of a news jump per sub-step
    JUMP_MEAN = 5  # mean absolute log size of a jump
    JUMP_SIGN = 6  # -1 sell-offs only, +1 rallies only, 0 either
    KAPPA = 7  # share of the perp-index basis closed per sub-step (arbitrage / resilience)
    BETA = 8  # share of a perp impact move that the index (spot) follows
    DEPTH_1PCT = 9  # base units resting within 1 % of price on each side, calm conditions
    DEPTH_EXPONENT = 10  # cumulative depth D(x) = DEPTH_1PCT · (x / 1 %) ** a
    DEPTH_VOL_K = 11  # how fast depth thins when realised volatility exceeds its calm level
    TAKER_FEE = 12  # fraction of notional paid by takers (makers pay zero)
    FUNDING_CAP = 13  # |funding rate| cap per interval
    INTEREST = 14  # interest component of the funding rate per interval (Binance 0.01 %)
    FUNDING_EVERY_MIN = 15  # funding interval in minutes (480 = 8 h)
    FIRST_FUNDING_MIN = 16  # minutes from the start to the first funding time
    LONG_BIAS = 17  # probability that a noise trader opens long
    TREND_THRESHOLD = 18  # |ema_fast / ema_slow − 1| needed by trend followers
    MEANREV_THRESHOLD = 19  # |close / ema_slow − 1| needed by mean reverters
    BIN_USD = 20  # truth grid bin width
    TRUTH_HALF_BINS = 21  # truth window: this many bins each side of price
    TRUTH_EVERY_MIN = 22  # truth snapshot interval in minutes
    MAX_ROUNDS = 23  # clearing rounds per sub-step (voluntary flow + liquidation cascade)
    REFILL_SHARE = 24  # a flat trader whose wallet fell below this share of its capital re-deposits
    MARK_ALPHA = 25  # EMA weight of the basis in the mark price's Price2 per sub-step
    MAX_MOVE = 26  # price band: largest log move of one clearing round (the rest fills at the band)


N_PARAMS = len(Param)


class BarCol(IntEnum):
    """Columns of the kernel's per-minute output (bars plus the conservation ledger)."""

    OPEN = 0
    HIGH = 1
    LOW = 2
    CLOSE = 3
    VOLUME = 4
    QUOTE_VOLUME = 5
    TAKER_BUY = 6
    LONG_QTY = 7  # open long contracts (base) at bar close
    SHORT_QTY = 8  # open short contracts (base) at bar close
    MARK = 9
    INDEX = 10
    FUNDING_RATE = 11  # last funding rate applied at or before the bar's close
    N_LONG = 12  # accounts holding a long
    N_SHORT = 13  # accounts holding a short
    DEPTH_1PCT = 14  # base units within 1 % of price per side at bar close
    CASH = 15  # Σ wallets + Σ isolated margins
    UPNL = 16  # Σ position × (mark − entry)
    FEES = 17  # cumulative trading fees collected by the venue
    INSURANCE = 18  # insurance fund balance (starts at 0; liquidation surplus in, deficits out)
    DEPOSITS = 19  # cumulative deposits (initial capital + re-deposits of broke traders)
    FUNDING_PAID = 20  # Σ funding paid by longs minus received by shorts at this bar (≈ 0)


N_BAR_COLS = len(BarCol)


class LiqCol(IntEnum):
    """Columns of the kernel's liquidation-event output."""

    SUBSTEP = 0  # global sub-step index of the fill
    SIDE = 1  # +1 long position liquidated, −1 short
    PRICE = 2  # fill price of the forced order
    QUANTITY = 3  # base units
    TRADER = 4
    POSITION = 5  # unique position id
    MARK = 6  # mark price that triggered it
    LIQ_PRICE = 7  # the position's liquidation price
    TO_INSURANCE = 8  # margin + PnL at the fill handed to the insurance fund (negative: deficit)


N_LIQ_COLS = len(LiqCol)


class Counter(IntEnum):
    """Integer counters returned by the kernel."""

    OPENED = 0  # positions opened (each gets a unique id)
    CLOSED = 1  # positions closed voluntarily (signal, stop-loss, take-profit)
    LIQUIDATED = 2  # positions closed by liquidation
    N_LIQ_EVENTS = 3  # rows written to the liquidation output
    RNG_STATE = 4  # generator state after the run


N_COUNTERS = len(Counter)
