"""``map_report``: everything a trader reads off one map, as one JSON-ready dict (for ``liqmap map --json``).

>>> import numpy as np
>>> from liqmap.engine.results import LiqMap

DEFAULT_MOVES_PCT = (1.0, 2.0, 3.0, 5.0, 10.0)
>>> bins = np.arange(90.0, 111.0)
>>> lm = LiqMap("X", 0, 100.0, bins, np.where(bins == 95, 2e6, 0.0), np.where(bins == 104, 6e6, 0.0))
>>> r = map_report(lm, window_pct=10, targets_usd=[1e6])
>>> r["imbalance"]["ratio"], r["asymmetry"][0]["move_down_usd"], len(r["clusters"])
(3.0, 4.5, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from liqmap import CAVEAT
from liqmap.analytics.asymmetry import liquidated_by_move, moves_to_liquidate
from liqmap.analytics.imbalance import imbalance
from liqmap.analytics.levels import key_levels
from liqmap.engine.results import LiqMap

DEFAULT_MOVES_PCT = (1.0, 2.0, 3.0, 5.0, 10.0)


def default_targets_usd(lm: LiqMap) -> list[float]:
    """Three round targets: the largest power of ten not above the bigger side's total, and the two below.

    A map with $14B of shorts and $900M of longs gets ``[1e8, 1e9, 1e10]``; an empty map ``[]``.
    """
    total = max(float(lm.long_cumulative_usd[0]), float(lm.short_cumulative_usd[-1]))
    if total <= 0:
        return []
    k = math.floor(math.log10(total))
    return [10.0**j for j in range(k - 2, k + 1)]


def map_report(
    lm: LiqMap,
    window_pct: float = 5.0,
    targets_usd: Sequence[float] | None = None,
    top: int = 10,
    moves_pct: Sequence[float] = DEFAULT_MOVES_PCT,
) -> dict[str, Any]:
    """``clusters`` (ranked key levels), ``imbalance`` within ±``window_pct``, ``asymmetry`` per target
    notional (default :func:`default_targets_usd`; unreachable moves are ``null`` with
    ``reachable_up``/``reachable_down`` false), ``by_move`` (notional liquidated by ±Y % for each of
    ``moves_pct``) and the ``caveat``."""
    targets = default_targets_usd(lm) if targets_usd is None else list(targets_usd)
    imb = imbalance(lm, window_pct=window_pct)
    return {
        "symbol": lm.symbol,
        "as_of_ms": lm.as_of_ms,
        "price": lm.price,
        "model": lm.model,
        "clusters": [c.to_dict() for c in key_levels(lm, top=top)],
        "imbalance": imb.to_dict(),
        "asymmetry": [m.to_dict() for m in moves_to_liquidate(lm, targets)],
        "by_move": [m.to_dict() for m in liquidated_by_move(lm, moves_pct)],
        "caveat": CAVEAT,
    }
