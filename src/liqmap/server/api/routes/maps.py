"""``GET /api/map``: the liquidation map at one instant, with cumulative curves and its map report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from liqmap.analytics.report import ReportSettings
from liqmap.server.api.models import ERROR_RESPONSES, MapReportModel, SeriesInfo, series_info
from liqmap.server.api.params import (
    MAX_TIME_MS,
    LeverageRange,
    SeriesQuery,
    leverage_range,
    report_settings,
    series_query,
)
from liqmap.server.api.pipeline import Computed, Window, compute, liqmap_at, report_at, respond
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["maps"], responses=ERROR_RESPONSES)


class ExchangeLayer(BaseModel):
    """One exchange's share of the map, per price bin."""

    long_usd: list[float]
    short_usd: list[float]


class Candle(BaseModel):
    """One bar's open, high, low and close."""

    open: float
    high: float
    low: float
    close: float


class MapResponse(SeriesInfo, MapReportModel):
    """Outstanding long/short liquidation notional per price bin at ``as_of_ms`` (``LiqMap.to_dict()``, the
    JSON that ``liqmap map --json`` prints too), and the map report (``MapReport.to_dict()``: clusters,
    imbalance, asymmetry, by_move, cascades, profile, settings).

    Arrays are aligned with ``price_bins`` (ascending bin centres); USD arrays are rounded to cents, the
    totals are exact. ``long_cumulative_usd[i]`` is what liquidates if price falls to ``price_bins[i]``;
    ``short_cumulative_usd[i]`` if it rises there. ``by_exchange`` is filled when several are aggregated.
    """

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
    leverage_filter: str = Field("", description="The leverage layers kept (min_leverage/max_leverage), e.g. 50x–100x.")
    live: bool = Field(
        False,
        description="Pushed by /ws/map from the live engine of `liqmap serve --live` (its grid, the bars since its "
        "warm start; bins/days do not apply) rather than computed from the store.",
    )
    candle: Candle | None = Field(
        None, description="A live push's closed bar (the heatmap column it adds); null for maps from the store."
    )


AtMs = Annotated[
    int | None,
    Query(ge=0, le=MAX_TIME_MS, description="Map time, UTC epoch ms (default: the window's last bar)."),
]

Layers = Annotated[
    bool, Query(description="Also return the per-leverage layers (available for the map at the last bar).")
]


def build_map(
    state: ServerState,
    c: Computed,
    at_ms: int | None,
    layers: bool,
    settings: ReportSettings,
    lev: LeverageRange | None = None,
) -> MapResponse:
    """The :class:`MapResponse` of a computed query at ``at_ms``: ``LiqMap.to_dict(layers)`` (only the layers
    within ``lev`` if given), its ``MapReport.to_dict()`` and what it was computed from."""
    lm = liqmap_at(state, c, at_ms, lev)
    fields = report_at(state, c, at_ms, settings, lev).to_dict() | series_info(c) | lm.to_dict(layers)
    return MapResponse(**fields, leverage_filter=lev.label if lev else "")


async def map_response(
    state: ServerState,
    request: Request | None,
    q: SeriesQuery,
    at_ms: int | None,
    layers: bool,
    settings: ReportSettings,
    lev: LeverageRange | None = None,
) -> Response:
    """The cached JSON response of ``/api/map`` (shared with the ``/ws/map`` pushes: no ``request``)."""

    def build(window: Window) -> MapResponse:
        return build_map(state, compute(state, q, window), at_ms, layers, settings, lev)

    return await respond(state, request, q, ("map", at_ms, layers, settings, lev), build)


@router.get("/api/map", response_model=MapResponse, summary="Liquidation map at one instant")
async def get_map(
    request: Request,
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    settings: Annotated[ReportSettings, Depends(report_settings)],
    lev: Annotated[LeverageRange | None, Depends(leverage_range)],
    at_ms: AtMs = None,
    layers: Layers = False,
) -> Response:
    """Long liquidations below price and short liquidations above it, per bin and cumulative, with the
    map report (key levels, imbalance, asymmetry, notional per move, ± cascades); min_leverage/max_leverage
    keep only those leverage layers (the last bar's map), and every figure is computed from them."""
    return await map_response(state, request, q, at_ms, layers, settings, lev)
