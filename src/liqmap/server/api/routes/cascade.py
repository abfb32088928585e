"""``GET /api/cascade``: the map report with its cascades run at ±|shock_pct| and the given resilience."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from liqmap.analytics.report import ReportSettings
from liqmap.errors import LiqmapError
from liqmap.server.api.models import ERROR_RESPONSES
from liqmap.server.api.params import (
    REPORT,
    LeverageRange,
    SeriesQuery,
    leverage_range,
    report_settings,
    series_query,
)
from liqmap.server.api.pipeline import compute, respond
from liqmap.server.api.routes.levels import ReportResponse, build_report
from liqmap.server.api.routes.maps import AtMs
from liqmap.server.deps import ServerState, get_state

MIN_SHOCK_PCT = 0.01

router = APIRouter(tags=["analytics"], responses=ERROR_RESPONSES)


@router.get("/api/cascade", response_model=ReportResponse, summary="Liquidation cascade after a shock")
async def get_cascade(
    request: Request,
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    settings: Annotated[ReportSettings, Depends(report_settings)],
    lev: Annotated[LeverageRange | None, Depends(leverage_range)],
    shock_pct: Annotated[
        float,
        Query(
            allow_inf_nan=False,
            ge=-50,
            le=50,
            description="Initial price shock in % (negative: down; size ≥ 0.01), e.g. -2.",
        ),
    ],
    resilience: Annotated[
        float,
        Query(
            allow_inf_nan=False,
            ge=0,
            le=1,
            description="Fraction of the liquidations' price impact that decays per round.",
        ),
    ] = REPORT.resilience,
    at_ms: AtMs = None,
) -> Response:
    """Rounds of forced liquidations moving price through a square-root market-impact model: the map report
    whose ``cascades.up``/``cascades.down`` are the runs after +|shock_pct| and −|shock_pct| (the one in the
    shock's direction is ``cascades.up`` for a rise, ``cascades.down`` for a drop)."""
    if abs(shock_pct) < MIN_SHOCK_PCT:
        raise LiqmapError(f"shock_pct must be at least {MIN_SHOCK_PCT} % in size, e.g. -2 (a 2 % drop) or 1.5")
    settings = replace(settings, shock_pct=abs(shock_pct), resilience=resilience)
    return await respond(
        state,
        request,
        q,
        ("cascade", at_ms, settings, lev),
        lambda window: build_report(state, compute(state, q, window), at_ms, settings, lev),
    )
