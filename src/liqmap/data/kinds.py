"""The canonical table kinds (:class:`TableKind`), apart from their Arrow schemas in
:mod:`liqmap.data.schemas` (which re-exports it) so that naming a table imports no pyarrow."""

from __future__ import annotations

from enum import StrEnum


class TableKind(StrEnum):
    """The canonical tables a store holds (values are the table names)."""

    BARS = "bars"
    LIQUIDATIONS = "liquidations"
    DEPTH = "depth"
    TIERS = "tiers"
    LIQUIDATION_TOTALS = "liquidation_totals"
