"""Asymmetry: how far price must move up (shorts) or down (longs) to liquidate a target notional, and
how much each way a given move liquidates.

Both read the interpolated cumulative curves of :mod:`liqmap.analytics._curves`: a bin is fully
liquidated once price reaches its centre and its notional accrues linearly from the previous centre (or
from the price). Moves are reported as positive magnitudes in USD and in % of the map's price. A target
larger than all the notional on a side is *not reachable*: the move is ``None`` and ``reachable_*`` is
``False`` — never ``inf`` or ``NaN``.

>>> import numpy as np
>>> from liqmap.engine.results import LiqMap
>>> bins = np.arange(90.0, 111.0)
>>> lm = LiqMap("X", 0, 100.0, bins, np.where(bins == 95, 2e6, 0.0), np.where(bins == 104, 6e6, 0.0))
>>> m = moves_to_liquidate(lm, [3e6])[0]
>>> m.move_up_usd, m.reachable_down
(3.5, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from liqmap.analytics._curves import check_map, distance_for, notional_within, side_knots
from liqmap.engine.results import LiqMap
from liqmap.errors import LiqmapError


@dataclass(frozen=True)
class MoveToLiquidate:
    """Move needed to liquidate ``target_usd`` of shorts (up) and of longs (down)."""

    target_usd: float
    move_up_usd: float | None
    move_up_pct: float | None
    reachable_up: bool
    move_down_usd: float | None
    move_down_pct: float | None
    reachable_down: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (unreachable moves are ``None``)."""
        return asdict(self)


@dataclass(frozen=True)
class LiquidatedByMove:
    """Notional liquidated by a rise of ``move_pct`` (shorts) and by a fall of ``move_pct`` (longs)."""

    move_pct: float
    up_price: float
    down_price: float
    shorts_liquidated_usd: float
    longs_liquidated_usd: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def moves_to_liquidate(lm: LiqMap, targets_usd: Sequence[float]) -> list[MoveToLiquidate]:
    """For each target notional, the smallest rise that liquidates it in shorts and fall in longs."""
    up, down = _curves(lm)
    out = []
    for target in targets_usd:
        if not np.isfinite(target) or target < 0:
            raise LiqmapError(f"target notional must be a finite USD amount ≥ 0, got {target!r}")
        d_up, d_down = distance_for(up, float(target)), distance_for(down, float(target))
        out.append(
            MoveToLiquidate(
                target_usd=float(target),
                move_up_usd=d_up,
                move_up_pct=None if d_up is None else 100.0 * d_up / lm.price,
                reachable_up=d_up is not None,
                move_down_usd=d_down,
                move_down_pct=None if d_down is None else 100.0 * d_down / lm.price,
                reachable_down=d_down is not None,
            )
        )
    return out


def liquidated_by_move(lm: LiqMap, moves_pct: Sequence[float]) -> list[LiquidatedByMove]:
    """For each move size ``Y`` (%, ≥ 0), shorts liquidated by a +Y % rise and longs by a −Y % fall."""
    up, down = _curves(lm)
    out = []
    for y in moves_pct:
        if not np.isfinite(y) or y < 0:
            raise LiqmapError(f"move must be a finite percentage ≥ 0, got {y!r}")
        d = lm.price * float(y) / 100
        out.append(
            LiquidatedByMove(
                move_pct=float(y),
                up_price=lm.price + d,
                down_price=max(lm.price - d, 0.0),
                shorts_liquidated_usd=notional_within(up, d),
                longs_liquidated_usd=notional_within(down, d),
            )
        )
    return out


def _curves(lm: LiqMap) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Checked map → (short curve upward, long curve downward)."""
    check_map(lm)
    return (
        side_knots(lm.price, lm.price_bins, lm.short_usd, up=True),
        side_knots(lm.price, lm.price_bins, lm.long_usd, up=False),
    )
