"""The liquidation engine: from bars (price, volume, taker flow, open interest) to where leveraged positions
sit and where they would be force-liquidated — a time × price :class:`Heatmap`, a :class:`LiqMap` at any
instant and predicted liquidation events. Pure computation: no file, network or database access.

>>> from liqmap.engine import EngineConfig, Model, run
>>> Model.parse("oi-delta"), EngineConfig().closure.name
(<Model.OI_DELTA: 'oi-delta'>, 'PROPORTIONAL')
"""

from liqmap.engine.api import run
from liqmap.engine.config import EngineConfig
from liqmap.engine.enums import ClosureRule, EntryDistribution, Model
from liqmap.engine.incremental import BarReport, IncrementalEngine
from liqmap.engine.results import EVENT_COLUMNS, EngineResult, Heatmap, LiqMap, map_payload

__all__ = [
    "EVENT_COLUMNS",
    "BarReport",
    "ClosureRule",
    "EngineConfig",
    "EngineResult",
    "EntryDistribution",
    "Heatmap",
    "IncrementalEngine",
    "LiqMap",
    "Model",
    "map_payload",
    "run",
]
