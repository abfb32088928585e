"""``GET /api/map``: the liquidation map at one instant, with cumulative curves and its map report."""

from __future__ import annotations

from typing import Annotated

import numpy as np
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


class MapResponse(SeriesInfo, MapReportModel):
    """Outstanding long/short liquidation notional per price bin at ``as_of_ms``, and the map report
    (``MapReport.to_dict()``: clusters, imbalance, asymmetry, by_move, cascades, profile, settings).

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
    """The :class:`MapResponse` of a computed query at ``at_ms`` (with per-leverage layers if ``layers``; only
    the layers within ``lev`` if given)."""
    lm = liqmap_at(state, c, at_ms, lev)
    has_layers = layers and lm.long_by_leverage is not None and lm.short_by_leverage is not None
    return MapResponse(
        **{**report_at(state, c, at_ms, settings, lev).to_dict(), **series_info(c)},
        leverage_filter=lev.label if lev else "",
        bin_usd=lm.bin_usd,
        price_bins=lm.price_bins.tolist(),
        long_usd=cents(lm.long_usd),
        short_usd=cents(lm.short_usd),
        long_cumulative_usd=cents(lm.long_cumulative_usd),
        short_cumulative_usd=cents(lm.short_cumulative_usd),
        total_long_usd=float(lm.long_usd.sum()),
        total_short_usd=float(lm.short_usd.sum()),
        by_exchange={
            name: ExchangeLayer(long_usd=cents(lng), short_usd=cents(sht))
            for name, (lng, sht) in lm.by_exchange.items()
            if len(lm.by_exchange) > 1
        },
        leverages=list(lm.leverages) if has_layers else [],
        long_by_leverage=cents(lm.long_by_leverage) if has_layers else [],
        short_by_leverage=cents(lm.short_by_leverage) if has_layers else [],
    )


def cents(usd: np.ndarray) -> list:
    """USD amounts rounded to cents as (nested) lists: a third of the JSON size of full float precision."""
    return usd.round(2).tolist()


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
