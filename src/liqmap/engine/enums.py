"""Enumerations of the engine: position models, OI-decrease closure rules, entry distributions, tier sources.

The ``IntEnum`` codes are what the numba kernels in :mod:`liqmap.engine.nb` branch on.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Model(StrEnum):
    """How positions are inferred from bars.

    ``oi-delta``: open-interest increases open longs *and* shorts, decreases close them (primary).
    ``volume``: a fraction of traded volume opens both sides, decaying with a half-life (no OI needed).
    ``uniform``: baseline — the oi-delta totals spread uniformly over ±15 % of price.
    """

    OI_DELTA = "oi-delta"
    VOLUME = "volume"
    UNIFORM = "uniform"

    @classmethod
    def parse(cls, value: str | Model) -> Model:
        """Parse a model name, with a message listing the valid ones."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"unknown model {value!r}; choose one of {', '.join(m.value for m in cls)}") from None


class ClosureRule(IntEnum):
    """Which open positions an open-interest decrease closes."""

    PROPORTIONAL = 0  # every open position shrinks by the same fraction (O(1) per bar: lazy scale)
    OLDEST_FIRST = 1  # cells with the oldest mass-weighted open time first (O(cells·log cells) per bar)
    MOST_PROFITABLE_FIRST = 2  # longs from the lowest entry up, shorts from the highest down (O(cells))


class EntryDistribution(IntEnum):
    """How a bar's opened notional is spread over entry prices within the bar's [low, high]."""

    TRIANGULAR = 0  # triangular on [low, high] with its mode at the typical price (h + l + c) / 3
    UNIFORM = 1  # uniform on [low, high]
    TYPICAL = 2  # all at the typical price


class TierSource(StrEnum):
    """Where an engine run took a venue's tier table from (:func:`liqmap.engine._prep.tier_source`).

    ``given``: the venue's own table from ``EngineConfig.tier_tables`` (the store's fetched table for every
    caller that reads a store); ``bundled``: the venue's table bundled with liqmap; ``lent``: another venue's
    table (``EngineConfig.tier_exchange``, CLI ``--tiers-from``), given or bundled.
    """

    GIVEN = "given"
    BUNDLED = "bundled"
    LENT = "lent"
