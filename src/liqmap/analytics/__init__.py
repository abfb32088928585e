"""Analytics traders read off a liquidation map: key levels, imbalance, asymmetry, cascades, validation.

Pure functions over :class:`liqmap.engine.results.LiqMap` / :class:`~liqmap.engine.results.Heatmap` (no I/O).
Every output carries :data:`liqmap.CAVEAT` where it leaves the library (reports, CLI).

The names below load on first use (:mod:`liqmap._lazy`): ``liqmap.analytics.enums`` and
``liqmap.analytics.settings`` alone import no NumPy; ``liqmap.analytics.imbalance`` is the function.
"""

from typing import TYPE_CHECKING

from liqmap._lazy import attach

if TYPE_CHECKING:
    from liqmap.analytics.asymmetry import (
        LiquidatedByMove,
        MoveToLiquidate,
        liquidated_by_move,
        moves_to_liquidate,
    )
    from liqmap.analytics.imbalance import Imbalance, SideSplit, imbalance
    from liqmap.analytics.levels import Cluster, key_levels
    from liqmap.analytics.report import MapReport, build_map_report, default_targets_usd
    from liqmap.analytics.settings import ReportSettings

__all__ = [
    "Cluster",
    "Imbalance",
    "LiquidatedByMove",
    "MapReport",
    "MoveToLiquidate",
    "ReportSettings",
    "SideSplit",
    "build_map_report",
    "default_targets_usd",
    "imbalance",
    "key_levels",
    "liquidated_by_move",
    "moves_to_liquidate",
]

__getattr__, __dir__ = attach(
    __name__,
    {
        **dict.fromkeys(
            ("LiquidatedByMove", "MoveToLiquidate", "liquidated_by_move", "moves_to_liquidate"),
            "liqmap.analytics.asymmetry",
        ),
        **dict.fromkeys(("Imbalance", "SideSplit", "imbalance"), "liqmap.analytics.imbalance"),
        **dict.fromkeys(("Cluster", "key_levels"), "liqmap.analytics.levels"),
        **dict.fromkeys(("MapReport", "build_map_report", "default_targets_usd"), "liqmap.analytics.report"),
        "ReportSettings": "liqmap.analytics.settings",
    },
    shadowed=("imbalance",),
)
