"""``GET /api/levels``: the map report — key levels, imbalance, asymmetry, notional per move, ± cascades."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from liqmap.analytics.report import ReportSettings
from liqmap.server.api.models import ERROR_RESPONSES, MapReportModel, SeriesInfo, series_info
from liqmap.server.api.params import LeverageRange, SeriesQuery, leverage_range, report_settings, series_query
from liqmap.server.api.pipeline import Computed, compute, report_at, respond
from liqmap.server.api.routes.maps import AtMs
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["analytics"], responses=ERROR_RESPONSES)


class ReportResponse(SeriesInfo, MapReportModel):
    """The map report (``MapReport.to_dict()``) of the query's map: clusters ranked by notional, the
    imbalance in the window, moves per target notional (asymmetry), notional liquidated per move and the
    cascades after a ± shock."""

    leverage_filter: str = Field("", description="The leverage layers kept (min_leverage/max_leverage), e.g. 50x–100x.")


def build_report(
    state: ServerState, c: Computed, at_ms: int | None, settings: ReportSettings, lev: LeverageRange | None = None
) -> ReportResponse:
    """The :class:`ReportResponse` (of ``/api/levels`` and ``/api/cascade``) of a computed query."""
    return ReportResponse(
        **{**report_at(state, c, at_ms, settings, lev).to_dict(), **series_info(c)},
        leverage_filter=lev.label if lev else "",
    )


@router.get("/api/levels", response_model=ReportResponse, summary="Key levels, imbalance and asymmetry")
async def get_levels(
    request: Request,
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    settings: Annotated[ReportSettings, Depends(report_settings)],
    lev: Annotated[LeverageRange | None, Depends(leverage_range)],
    at_ms: AtMs = None,
) -> Response:
    """Liquidation clusters, short-above/long-below imbalance within ±window_pct, asymmetry and cascades
    (of the leverage layers within min_leverage/max_leverage, when given)."""
    return await respond(
        state,
        request,
        q,
        ("levels", at_ms, settings, lev),
        lambda window: build_report(state, compute(state, q, window), at_ms, settings, lev),
    )
