"""Which inputs of a series are the venues' own data, which a proxy and which missing (with the engine's
fallback): facts counted from the bars the engine read, the provenance the store recorded for them
(:meth:`liqmap.data.store.Store.record_provenance`; the bundled sample's open interest is a proxy), the stored
realized liquidations of the window and the tier table each venue's run used."""

from __future__ import annotations

from enum import StrEnum

import pandas as pd
from pydantic import BaseModel, Field

from liqmap.engine.config import EngineConfig
from liqmap.engine.enums import TierSource


class Input(StrEnum):
    """An input whose origin the dashboard shows."""

    OPEN_INTEREST = "open_interest"
    FUNDING = "funding"
    TAKER_VOLUME = "taker_volume"
    MARK_PRICE = "mark_price"
    LIQUIDATIONS = "liquidations"
    TIERS = "tiers"


class InputState(StrEnum):
    """``real``: present and the venues' own (nothing else recorded for it); ``proxy``: present but recorded
    as a proxy or approximation, or a tier table lent by another venue; ``missing``: absent (``detail`` names
    the engine's fallback)."""

    REAL = "real"
    PROXY = "proxy"
    MISSING = "missing"


class InputStatus(BaseModel):
    """The origin of one input of the series on screen."""

    input: Input
    state: InputState
    bars_with: int | None = Field(default=None, description="Bars carrying it (bar columns only).")
    stored: int | None = Field(default=None, description="Realized liquidations stored in the window.")
    detail: str = Field(description="How it is known: recorded provenance, fallback, tier tables per venue.")


# the bar columns behind each bar input, and what the engine does without them
_COLUMNS = {
    Input.OPEN_INTEREST: ("open_interest", "open_interest_usd"),
    Input.FUNDING: ("funding_rate",),
    Input.TAKER_VOLUME: ("taker_buy_volume",),
    Input.MARK_PRICE: ("mark_price",),
}
_ABSENT = {
    Input.OPEN_INTEREST: "absent: the oi-delta model cannot run; volume and uniform run without it",
    Input.FUNDING: "absent; the engine does not read funding",
    Input.TAKER_VOLUME: "absent: the engine splits each bar by its close location (close − low) / (high − low)",
    Input.MARK_PRICE: "absent: liquidations trigger on the last price's range (no mark–last basis)",
}
_OWN = {
    Input.OPEN_INTEREST: "the venues' own series",
    Input.FUNDING: "the venues' own rates; the engine does not read funding",
    Input.TAKER_VOLUME: "the venues' own taker-buy volume",
    Input.MARK_PRICE: "the venues' own mark price at each bar's close",
}
_TIER_SOURCE = {TierSource.GIVEN: "the store's table", TierSource.BUNDLED: "bundled table", TierSource.LENT: "lent"}


def input_status(
    bars: pd.DataFrame, provenance: pd.DataFrame, liquidations: int, config: EngineConfig
) -> list[InputStatus]:
    """The :class:`InputStatus` of each :class:`Input` for an engine run over ``bars``: ``provenance`` is the
    store's record for those series (``exchange, field, provenance, note``), ``liquidations`` the realized
    liquidations stored in the window and ``config`` the run's (its tier tables and lenders)."""
    out = [_bar_input(bars, provenance, i) for i in _COLUMNS]
    out.append(
        InputStatus(
            input=Input.LIQUIDATIONS,
            state=InputState.REAL if liquidations else InputState.MISSING,
            stored=liquidations,
            detail=f"{liquidations:,} realized liquidations stored in the window"
            if liquidations
            else "none stored in the window: nothing to check the map against",
        )
    )
    out.append(_tiers(sorted(bars["exchange"].astype(str).unique()), str(bars["symbol"].iloc[0]), config))
    return out


def _bar_input(bars: pd.DataFrame, provenance: pd.DataFrame, which: Input) -> InputStatus:
    columns = [c for c in _COLUMNS[which] if c in bars.columns]
    has = bars[columns].notna().any(axis=1) if columns else pd.Series(False, index=bars.index)
    venues = sorted(bars.loc[has, "exchange"].astype(str).unique())
    if not venues:
        return InputStatus(input=which, state=InputState.MISSING, bars_with=0, detail=_ABSENT[which])
    recorded = provenance[provenance["field"].isin(columns) & provenance["exchange"].isin(venues)]
    notes: dict[str, list[str]] = {}
    for row in recorded.drop_duplicates(["exchange", "provenance"]).itertuples(index=False):
        notes.setdefault(f"{row.provenance}: {row.note}", []).append(str(row.exchange))
    own = [v for v in venues if v not in set(recorded["exchange"])]
    parts = [f"{', '.join(v)} {note}" for note, v in notes.items()] or [_OWN[which]]
    if notes and own:
        parts.append(f"{', '.join(own)}: {_OWN[which]}")
    state = InputState.PROXY if notes else InputState.REAL
    return InputStatus(input=which, state=state, bars_with=int(has.sum()), detail="; ".join(parts))


def _tiers(venues: list[str], symbol: str, config: EngineConfig) -> InputStatus:
    from liqmap.engine._prep import tier_source  # the engine kernels load numba: only once a run exists

    parts, lent = [], False
    for venue in venues:
        table, source = tier_source(venue, symbol, config)
        lender = f" by {config.tier_exchange.get(venue, venue)}" if source is TierSource.LENT else ""
        since = f", valid from {table.valid_from}" if table.valid_from else ""
        parts.append(f"{venue}: {_TIER_SOURCE[source]}{lender}{since}")
        lent |= source is TierSource.LENT
    return InputStatus(input=Input.TIERS, state=InputState.PROXY if lent else InputState.REAL, detail="; ".join(parts))
