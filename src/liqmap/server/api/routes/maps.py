"""``GET /api/map``: the liquidation map at one instant, with cumulative curves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from liqmap.server.api.models import ERROR_RESPONSES, SeriesInfo, series_info
from liqmap.server.api.params import MAX_TIME_MS, SeriesQuery, series_query
from liqmap.server.api.pipeline import Computed, cached_json, compute, liqmap_at, resolve_window
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["maps"], responses=ERROR_RESPONSES)


class ExchangeLayer(BaseModel):
    """One exchange's share of the map, per price bin."""

    long_usd: list[float]
    short_usd: list[float]


class MapResponse(SeriesInfo):
    """Outstanding long/short liquidation notional per price bin at ``as_of_ms``.

    Arrays are aligned with ``price_bins`` (ascending bin centres). ``long_cumulative_usd[i]`` is what
    liquidates if price falls to ``price_bins[i]``; ``short_cumulative_usd[i]`` if it rises there.
    """

    as_of_ms: int
    price: float = Field(description="Reference (close) price at as_of_ms.")
    bin_usd: float
    price_bins: list[float]
    long_usd: list[float]
    short_usd: list[float]
    long_cumulative_usd: list[float]
    short_cumulative_usd: list[float]
    total_long_usd: float
    total_short_usd: float
    by_exchange: dict[str, ExchangeLayer] = Field(default_factory=dict)
    leverages: list[float] = Field(default_factory=list, description="Leverage of each layer (layers=true).")
    long_by_leverage: list[list[float]] = Field(default_factory=list, description="[leverage][bin], USD.")
    short_by_leverage: list[list[float]] = Field(default_factory=list, description="[leverage][bin], USD.")


AtMs = Annotated[
    int | None,
    Query(ge=0, le=MAX_TIME_MS, description="Map time, UTC epoch ms (default: the window's last bar)."),
]

Layers = Annotated[
    bool, Query(description="Also return the per-leverage layers (available for the map at the last bar).")
]


def build_map(state: ServerState, c: Computed, at_ms: int | None, layers: bool) -> MapResponse:
    """The :class:`MapResponse` of a computed query at ``at_ms`` (with per-leverage layers if ``layers``)."""
    lm = liqmap_at(state, c, at_ms)
    has_layers = layers and lm.long_by_leverage is not None and lm.short_by_leverage is not None
    return MapResponse(
        **series_info(c),
        as_of_ms=lm.as_of_ms,
        price=lm.price,
        bin_usd=lm.bin_usd,
        price_bins=lm.price_bins.tolist(),
        long_usd=lm.long_usd.tolist(),
        short_usd=lm.short_usd.tolist(),
        long_cumulative_usd=lm.long_cumulative_usd.tolist(),
        short_cumulative_usd=lm.short_cumulative_usd.tolist(),
        total_long_usd=float(lm.long_usd.sum()),
        total_short_usd=float(lm.short_usd.sum()),
        by_exchange={
            name: ExchangeLayer(long_usd=lng.tolist(), short_usd=sht.tolist())
            for name, (lng, sht) in lm.by_exchange.items()
        },
        leverages=list(lm.leverages) if has_layers else [],
        long_by_leverage=lm.long_by_leverage.tolist() if has_layers else [],
        short_by_leverage=lm.short_by_leverage.tolist() if has_layers else [],
    )


def map_json(state: ServerState, q: SeriesQuery, at_ms: int | None, layers: bool) -> Response:
    """The cached JSON response of ``/api/map`` (shared with the ``/ws/map`` pushes)."""
    window = resolve_window(state, q)
    return cached_json(
        state, ("map", q, window, at_ms, layers), lambda: build_map(state, compute(state, q, window), at_ms, layers)
    )


@router.get("/api/map", response_model=MapResponse, summary="Liquidation map at one instant")
def get_map(
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    at_ms: AtMs = None,
    layers: Layers = False,
) -> Response:
    """Long liquidations below price and short liquidations above it, per bin and cumulative."""
    return map_json(state, q, at_ms, layers)
