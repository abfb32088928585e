"""The one path from the options every surface shares (profile, bins, tier lending, overrides) to an
:class:`~liqmap.engine.config.EngineConfig`: the CLI, the server and the demo all build their engine
configuration here, so the same options give the same map everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from liqmap.engine.config import EngineConfig
from liqmap.engine.profiles import DEFAULT, load_profile

if TYPE_CHECKING:
    from liqmap.margin import TierTable


def engine_config(
    bars: pd.DataFrame,
    *,
    profile: str = DEFAULT,
    tiers_from: str | None = None,
    tier_tables: Sequence[TierTable] = (),
    **options: Any,
) -> EngineConfig:
    """The calibration ``profile``'s EngineConfig (default: the fitted ``default``; ``prior``: the engine's
    uncalibrated defaults; or a profile file's path) with ``options`` on top, ``None`` options dropped (so
    ``n_bins=None`` means the engine default). ``tier_tables`` are tables the caller read (a store's fetched
    tiers: :meth:`liqmap.data.store.Store.tier_tables`); the engine uses them before the bundled ones.
    ``tiers_from`` lends that exchange's tier table to the venues in ``bars`` that have none for the symbol
    (neither given nor bundled)."""
    from liqmap.margin import available_tiers

    cfg = {k: v for k, v in options.items() if v is not None}
    if tier_tables:
        cfg["tier_tables"] = tuple(tier_tables)
    if tiers_from:
        symbol = str(bars["symbol"].iloc[0])
        have = {ex for ex, sym in available_tiers() if sym == symbol} | {"sim"}
        have |= {str(t.exchange) for t in tier_tables if t.symbol == symbol}
        cfg["tier_exchange"] = {ex: tiers_from for ex in bars["exchange"].unique() if ex not in have}
    return load_profile(profile).config(**cfg)
