"""liqmap: open, exact and measured liquidation heatmaps and maps for crypto perpetual futures.

The core (:mod:`liqmap.margin`, :mod:`liqmap.engine`, :mod:`liqmap.analytics`, :mod:`liqmap.sim`) is pure
computation over NumPy/pandas; :mod:`liqmap.data`, :mod:`liqmap.cli`, :mod:`liqmap.viz` and
:mod:`liqmap.server` are thin layers around it. Data flows one way: source → canonical tables → engine →
results → renderers/API.
"""

__version__ = "0.1.0"

CAVEAT = (
    "A liquidation map shows where leverage is estimated to sit, not where price must go; "
    "levels are model estimates from public data, not observed positions."
)
