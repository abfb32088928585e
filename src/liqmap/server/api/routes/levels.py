"""``GET /api/levels``: key levels (clusters), imbalance and asymmetry read off the map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from liqmap.analytics.asymmetry import LiquidatedByMove, MoveToLiquidate
from liqmap.server.api.models import ERROR_RESPONSES, SeriesInfo, series_info
from liqmap.server.api.params import SeriesQuery, series_query
from liqmap.server.api.pipeline import Computed, compute, liqmap_at, respond
from liqmap.server.api.routes.maps import AtMs
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["analytics"], responses=ERROR_RESPONSES)


class ClusterOut(BaseModel):
    """One liquidation cluster: band ``[lo, hi]``, peak, notional and distance from price."""

    rank: int
    side: str
    lo: float
    hi: float
    peak_price: float
    notional_usd: float
    distance_usd: float
    distance_pct: float


class SideSplitOut(BaseModel):
    """Short notional above vs long notional below price; ``ratio`` is null when there are no longs."""

    short_above_usd: float
    long_below_usd: float
    ratio: float | None
    note: str = ""


class ImbalanceOut(SideSplitOut):
    """Imbalance within ``[lo, hi]`` (± ``window_pct`` around price), also per leverage and exchange."""

    price: float
    lo: float
    hi: float
    window_pct: float | None
    by_leverage: dict[str, SideSplitOut]
    by_exchange: dict[str, SideSplitOut]


# the analytics records serve as response models (pydantic reads their dataclass fields) under the API names
class AsymmetryOut(MoveToLiquidate):
    """Moves up/down needed to liquidate ``target_usd`` of shorts/longs; null (and ``reachable_*``
    false) when the map does not hold that much on that side."""


class MoveOut(LiquidatedByMove):
    """Notional liquidated by a rise of ``move_pct`` (shorts) and by a fall of ``move_pct`` (longs)."""


class LevelsResponse(SeriesInfo):
    """Clusters ranked by notional, the imbalance in the window, moves per target notional (asymmetry)
    and notional liquidated per move."""

    as_of_ms: int
    price: float
    clusters: list[ClusterOut]
    imbalance: ImbalanceOut
    asymmetry: list[AsymmetryOut]
    by_move: list[MoveOut]


def build_levels(state: ServerState, c: Computed, at_ms: int | None, window_pct: float, top: int) -> LevelsResponse:
    """The :class:`LevelsResponse` of a computed query."""
    lm = liqmap_at(state, c, at_ms)
    report = state.services.map_report(lm, window_pct, top)
    return LevelsResponse(
        **series_info(c),
        as_of_ms=lm.as_of_ms,
        price=lm.price,
        clusters=report["clusters"],
        imbalance=report["imbalance"],
        asymmetry=report["asymmetry"],
        by_move=report["by_move"],
    )


@router.get("/api/levels", response_model=LevelsResponse, summary="Key levels, imbalance and asymmetry")
async def get_levels(
    request: Request,
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    at_ms: AtMs = None,
    window_pct: Annotated[float, Query(gt=0, le=50, description="Imbalance window: ± this % around price.")] = 10.0,
    top: Annotated[int, Query(ge=1, le=50, description="Number of clusters returned.")] = 10,
) -> Response:
    """Liquidation clusters, short-above/long-below imbalance within ±window_pct, and asymmetry."""
    return await respond(
        state,
        request,
        q,
        ("levels", at_ms, window_pct, top),
        lambda window: build_levels(state, compute(state, q, window), at_ms, window_pct, top),
    )
