"""``GET /api/cascade``: simulate a price shock and the liquidation cascade it sets off."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from liqmap.errors import LiqmapError
from liqmap.server.api.models import SeriesInfo, series_info
from liqmap.server.api.params import SeriesQuery, series_query
from liqmap.server.api.pipeline import Computed, cached_json, compute, resolve_window
from liqmap.server.api.routes.maps import AtMs
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["analytics"])


class CascadeRound(BaseModel):
    """Price after a round and the notional liquidated in it."""

    price: float
    liquidated_usd: float


class CascadeResponse(SeriesInfo):
    """The cascade path from ``start_price`` after a ``shock_pct`` move, to its fixed point."""

    as_of_ms: int
    shock_pct: float
    start_price: float
    rounds: list[CascadeRound]
    final_price: float
    total_liquidated_usd: float
    amplification: float
    critical_shock_up_pct: float | None
    critical_shock_down_pct: float | None


def build_cascade(state: ServerState, c: Computed, at_ms: int | None, shock_pct: float) -> CascadeResponse:
    """The :class:`CascadeResponse` of a computed query."""
    lm = c.output.liqmap(at_ms)
    report = state.services.cascade(lm, c.bars, shock_pct)
    return CascadeResponse(**series_info(c), as_of_ms=lm.as_of_ms, shock_pct=shock_pct, start_price=lm.price, **report)


@router.get("/api/cascade", response_model=CascadeResponse, summary="Liquidation cascade after a shock")
def get_cascade(
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    shock_pct: Annotated[
        float, Query(ge=-50, le=50, description="Initial price shock in % (negative: down), e.g. -2.")
    ],
    at_ms: AtMs = None,
) -> Response:
    """Rounds of forced liquidations moving price through a square-root market-impact model."""
    if shock_pct == 0:
        raise LiqmapError("shock_pct must be non-zero, e.g. -2 (a 2 % drop) or 1.5")
    window = resolve_window(state, q)
    return cached_json(
        state,
        ("cascade", q, window, at_ms, shock_pct),
        lambda: build_cascade(state, compute(state, q, window), at_ms, shock_pct),
    )
