"""The analysis choices of a map report (:class:`ReportSettings`) and their shared defaults.

Kept apart from :mod:`liqmap.analytics.report` so that the CLI can show the defaults in ``--help`` without
importing NumPy; ``liqmap.analytics.report`` re-exports both names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from liqmap.analytics.enums import ImpactKind
from liqmap.errors import LiqmapError

__all__ = ["DEFAULT_MOVES_PCT", "ReportSettings"]

DEFAULT_MOVES_PCT = (1.0, 2.0, 3.0, 5.0, 10.0)


@dataclass(frozen=True)
class ReportSettings:
    """Every analysis choice of a map report, with the one set of defaults all surfaces share.

    ``targets_usd=None`` picks :func:`default_targets_usd`; cascades run at ``+shock_pct`` and
    ``−shock_pct`` (a size, > 0); ``impact`` is calibrated on the mapped venues' bars up to the map time
    (``sqrt``, over ``impact_lookback_days``) or walks a depth snapshot (``book``).
    """

    window_pct: float = 5.0
    top: int = 10
    targets_usd: tuple[float, ...] | None = None
    moves_pct: tuple[float, ...] = DEFAULT_MOVES_PCT
    shock_pct: float = 1.0
    resilience: float = 0.0
    runaway_amplification: float = 2.0
    max_shock_pct: float = 10.0
    impact: ImpactKind = ImpactKind.SQRT
    impact_lookback_days: float = 30.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "impact", ImpactKind(self.impact))
        set_(self, "moves_pct", tuple(float(m) for m in self.moves_pct))
        if self.targets_usd is not None:
            set_(self, "targets_usd", tuple(float(t) for t in self.targets_usd))
        if not (math.isfinite(self.shock_pct) and 0 < self.shock_pct < 100):
            raise LiqmapError(
                f"shock_pct is the size of the ±shock: use a non-zero finite % below 100, got {self.shock_pct!r}"
            )
        if not (math.isfinite(self.window_pct) and self.window_pct >= 0):
            raise LiqmapError(f"window_pct must be a finite number ≥ 0, got {self.window_pct!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``targets_usd`` null: automatic)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(
            targets_usd=None if self.targets_usd is None else list(self.targets_usd),
            moves_pct=list(self.moves_pct),
            impact=self.impact.value,
        )
        return out
