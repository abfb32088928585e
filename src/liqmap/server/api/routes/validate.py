"""``GET /api/validate``: score the model against realized liquidations stored for the window."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from liqmap.analytics.validation import ModelScore
from liqmap.engine.enums import Model
from liqmap.server.api.models import ERROR_RESPONSES, SeriesInfo, series_info
from liqmap.server.api.params import SeriesQuery, series_query
from liqmap.server.api.pipeline import Window, compute, respond
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["analytics"], responses=ERROR_RESPONSES)


# the analytics record serves as the response model (pydantic reads its dataclass fields) under the API name
class ModelScoreOut(ModelScore):
    """Scores of one model (or baseline) on the realized events."""


class ValidateResponse(SeriesInfo):
    """How well ``model``'s density located the liquidations stored for the window, against the
    ``volume``, ``uniform`` and price-proximity baselines (definitions in docs/analytics.md)."""

    events: int = Field(description="Realized liquidations scored.")
    top_decile_capture: float | None = Field(description="Share of realized notional in the densest 10 % bins.")
    lift_vs_volume: float | None
    lift_vs_uniform: float | None
    lift_vs_proximity: float | None
    liq_volume_corr: float | None = Field(description="Hourly predicted vs realized liquidation notional.")
    median_percentile: float | None
    span_ms: list[int]
    window_pct: float | None
    scores: dict[str, ModelScoreOut]
    amounts: dict[str, Any] | None = Field(
        description="How much: predicted vs realized notional per side and period beside the drawdown×OI / "
        "run-up×OI anchors, with the profile used (null when no period is fully covered by the bars)."
    )


def build_validation(state: ServerState, q: SeriesQuery, window: Window) -> ValidateResponse:
    """Run the model and both baselines (cached) and score them on the stored liquidations."""
    with state.services.open_store() as store:
        liqs = store.query_liquidations(list(q.exchanges), q.symbol, window.start_ms, window.end_ms)
    runs = {m: compute(state, replace(q, model=m), window) for m in (q.model, Model.VOLUME, Model.UNIFORM)}
    outputs = {m.value: r.output for m, r in runs.items()}
    scores = state.services.validate(outputs, q.model.value, runs[q.model].bars, liqs)
    fields = {k: v for k, v in scores.items() if k in ValidateResponse.model_fields and k not in ("model", "caveat")}
    return ValidateResponse(**series_info(runs[q.model]), **fields)


@router.get("/api/validate", response_model=ValidateResponse, summary="Score a model on realized liquidations")
async def get_validate(
    request: Request,
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
) -> Response:
    """Top-decile capture, lift over the volume and uniform baselines, liquidation-volume correlation."""
    return await respond(state, request, q, ("validate",), lambda window: build_validation(state, q, window))
