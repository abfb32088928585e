"""``GET /api/cascade``: simulate a price shock and the liquidation cascade it sets off."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from liqmap.errors import LiqmapError
from liqmap.server.api.models import ERROR_RESPONSES, SeriesInfo, series_info
from liqmap.server.api.params import SeriesQuery, series_query
from liqmap.server.api.pipeline import Computed, compute, liqmap_at, respond
from liqmap.server.api.routes.maps import AtMs
from liqmap.server.deps import ServerState, get_state

MIN_SHOCK_PCT = 0.01

router = APIRouter(tags=["analytics"], responses=ERROR_RESPONSES)


class CascadeRound(BaseModel):
    """Price reached in a round and the notional newly liquidated there (round 0: the shock)."""

    index: int
    price: float
    liquidated_usd: float
    long_liquidated_usd: float
    short_liquidated_usd: float
    side: str


class ImpactOut(BaseModel):
    """Square-root-law impact calibrated on the window's bars: ΔP/P = sigma_daily·sqrt(|Q|/volume_daily_usd)."""

    sigma_daily: float
    volume_daily_usd: float


class CascadeResponse(SeriesInfo):
    """The cascade path after a ``shock_pct`` move, to its fixed point (see docs/analytics.md)."""

    as_of_ms: int
    start_price: float
    shock_pct: float
    shock_price: float
    resilience: float
    rounds: list[CascadeRound]
    final_price: float
    final_move_pct: float
    total_liquidated_usd: float
    amplification: float = Field(description="(final − start) / (shock − start); 1 when nothing liquidates.")
    runaway: bool
    hit_edge: bool = Field(description="Price left the map's grid: what lies beyond is unknown.")
    converged: bool
    critical_shock_up_pct: float | None = Field(description="Smallest rise (%) that runs away; null: none ≤ 10 %.")
    critical_shock_down_pct: float | None = Field(description="Smallest drop (%, magnitude) that runs away.")
    impact: ImpactOut


def build_cascade(
    state: ServerState, c: Computed, at_ms: int | None, shock_pct: float, resilience: float
) -> CascadeResponse:
    """The :class:`CascadeResponse` of a computed query."""
    lm = liqmap_at(state, c, at_ms)
    report = state.services.cascade(lm, c.bars, shock_pct, resilience)
    report.pop("caveat", None)  # SeriesInfo carries it
    return CascadeResponse(**series_info(c), as_of_ms=lm.as_of_ms, **report)


@router.get("/api/cascade", response_model=CascadeResponse, summary="Liquidation cascade after a shock")
async def get_cascade(
    request: Request,
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    shock_pct: Annotated[
        float, Query(ge=-50, le=50, description="Initial price shock in % (negative: down; size ≥ 0.01), e.g. -2.")
    ],
    resilience: Annotated[
        float, Query(ge=0, le=1, description="Fraction of the liquidations' price impact that decays per round.")
    ] = 0.0,
    at_ms: AtMs = None,
) -> Response:
    """Rounds of forced liquidations moving price through a square-root market-impact model."""
    if abs(shock_pct) < MIN_SHOCK_PCT:
        raise LiqmapError(f"shock_pct must be at least {MIN_SHOCK_PCT} % in size, e.g. -2 (a 2 % drop) or 1.5")
    return await respond(
        state,
        request,
        q,
        ("cascade", at_ms, shock_pct, resilience),
        lambda window: build_cascade(state, compute(state, q, window), at_ms, shock_pct, resilience),
    )
