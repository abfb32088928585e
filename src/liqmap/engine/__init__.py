"""The liquidation engine: from bars (price, volume, taker flow, open interest) to where leveraged positions
sit and where they would be force-liquidated — a time × price :class:`Heatmap`, a :class:`LiqMap` at any
instant and predicted liquidation events. Pure computation: no file, network or database access.

>>> from liqmap.engine import EngineConfig, Model, run
>>> Model.parse("oi-delta"), EngineConfig().closure.name
(<Model.OI_DELTA: 'oi-delta'>, 'PROPORTIONAL')

The names below load on first use (:mod:`liqmap._lazy`): ``liqmap.engine.enums`` alone imports no numba.
"""

from typing import TYPE_CHECKING

from liqmap._lazy import attach

if TYPE_CHECKING:
    from liqmap.engine.api import run
    from liqmap.engine.config import EngineConfig
    from liqmap.engine.enums import ClosureRule, EntryDistribution, Model
    from liqmap.engine.incremental import BarReport, IncrementalEngine
    from liqmap.engine.results import EVENT_COLUMNS, EngineOutput, EngineResult, Heatmap, LiqMap

__all__ = [
    "EVENT_COLUMNS",
    "BarReport",
    "ClosureRule",
    "EngineConfig",
    "EngineOutput",
    "EngineResult",
    "EntryDistribution",
    "Heatmap",
    "IncrementalEngine",
    "LiqMap",
    "Model",
    "run",
]

__getattr__, __dir__ = attach(
    __name__,
    {
        "run": "liqmap.engine.api",
        "EngineConfig": "liqmap.engine.config",
        "ClosureRule": "liqmap.engine.enums",
        "EntryDistribution": "liqmap.engine.enums",
        "Model": "liqmap.engine.enums",
        "BarReport": "liqmap.engine.incremental",
        "IncrementalEngine": "liqmap.engine.incremental",
        "EVENT_COLUMNS": "liqmap.engine.results",
        "EngineOutput": "liqmap.engine.results",
        "EngineResult": "liqmap.engine.results",
        "Heatmap": "liqmap.engine.results",
        "LiqMap": "liqmap.engine.results",
    },
)
