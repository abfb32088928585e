"""Market data: canonical tables, validation, file import/export, the embedded DuckDB store, the bundled
real sample and exchange connectors.

Entry points: :func:`liqmap.data.validate.validate`, :func:`liqmap.data.io.read_bars` (and friends),
:class:`liqmap.data.store.Store`, :mod:`liqmap.data.sample`, :mod:`liqmap.data.connectors`.
"""
