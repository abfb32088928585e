"""``GET /api/levels``: key levels (clusters), imbalance and asymmetry read off the map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from liqmap.server.api.models import SeriesInfo, series_info
from liqmap.server.api.params import SeriesQuery, series_query
from liqmap.server.api.pipeline import Computed, cached_json, compute, resolve_window
from liqmap.server.api.routes.maps import AtMs
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["analytics"])


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


class AsymmetryOut(BaseModel):
    """Moves up/down needed to liquidate ``target_usd`` of shorts/longs; null when not reachable."""

    target_usd: float
    move_up_usd: float | None
    move_down_usd: float | None
    move_up_pct: float | None
    move_down_pct: float | None


class LevelsResponse(SeriesInfo):
    """Clusters ranked by notional, the imbalance in the window and the asymmetry table."""

    as_of_ms: int
    price: float
    clusters: list[ClusterOut]
    imbalance: ImbalanceOut
    asymmetry: list[AsymmetryOut]


def build_levels(state: ServerState, c: Computed, at_ms: int | None, window_pct: float, top: int) -> LevelsResponse:
    """The :class:`LevelsResponse` of a computed query."""
    lm = c.output.liqmap(at_ms)
    report = state.services.map_report(lm, window_pct, top)
    return LevelsResponse(
        **series_info(c),
        as_of_ms=lm.as_of_ms,
        price=lm.price,
        clusters=report["clusters"],
        imbalance=report["imbalance"],
        asymmetry=report["asymmetry"],
    )


@router.get("/api/levels", response_model=LevelsResponse, summary="Key levels, imbalance and asymmetry")
def get_levels(
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    at_ms: AtMs = None,
    window_pct: Annotated[float, Query(gt=0, le=50, description="Imbalance window: ± this % around price.")] = 10.0,
    top: Annotated[int, Query(ge=1, le=50, description="Number of clusters returned.")] = 10,
) -> Response:
    """Liquidation clusters, short-above/long-below imbalance within ±window_pct, and asymmetry."""
    window = resolve_window(state, q)
    return cached_json(
        state,
        ("levels", q, window, at_ms, window_pct, top),
        lambda: build_levels(state, compute(state, q, window), at_ms, window_pct, top),
    )
