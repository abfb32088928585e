"""Analytics traders read off a liquidation map: key levels, imbalance, asymmetry, cascades, validation.

Pure functions over :class:`liqmap.engine.results.LiqMap` / :class:`~liqmap.engine.results.Heatmap` (no I/O).
Every output carries :data:`liqmap.CAVEAT` where it leaves the library (reports, CLI).
"""

from liqmap.analytics.asymmetry import (
    LiquidatedByMove,
    MoveToLiquidate,
    liquidated_by_move,
    moves_to_liquidate,
)
from liqmap.analytics.imbalance import Imbalance, SideSplit, imbalance
from liqmap.analytics.levels import Cluster, key_levels
from liqmap.analytics.report import MapReport, ReportSettings, build_map_report, default_targets_usd

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
