"""``GET /api/heatmap``: outstanding liquidation notional per (snapshot time, price bin)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from liqmap.data.transform import candles
from liqmap.engine.results import cents
from liqmap.errors import LiqmapError
from liqmap.server.api.models import ERROR_RESPONSES, SeriesInfo, series_info
from liqmap.server.api.params import SeriesQuery, series_query
from liqmap.server.api.pipeline import Computed, compute, respond
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["maps"], responses=ERROR_RESPONSES)

MAX_SNAPSHOTS = 1_000
MAX_CELLS = 1_000_000


class Candles(BaseModel):
    """One candle per returned snapshot ``t``, from the bars opening in ``[times_ms[t], times_ms[t + 1])``
    (the last: from ``times_ms[-1]`` on), venues averaged (:func:`liqmap.data.transform.candles`, as the
    static chart's); ``null`` where no bar falls in the column."""

    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]


class HeatmapResponse(SeriesInfo):
    """``long_usd[t][i]``/``short_usd[t][i]``: notional outstanding at ``times_ms[t]`` that liquidates in
    price bin ``price_bins[i]`` (rounded to cents); ``close[t]`` is the price then and ``candles`` the price
    action of each snapshot's column. Snapshots are an evenly spaced subset of the engine's when it has more
    than ``snapshots`` (values are states, not sums, so nothing is lost between the kept ones)."""

    bin_usd: float
    times_ms: list[int]
    close: list[float]
    price_bins: list[float]
    long_usd: list[list[float]]
    short_usd: list[list[float]]
    candles: Candles


def build_heatmap(c: Computed, snapshots: int, window_pct: float | None = None) -> HeatmapResponse:
    """The :class:`HeatmapResponse` of a computed query, thinned to at most ``snapshots`` columns and, with
    ``window_pct``, to the bins within that % of the close range (:meth:`.Heatmap.bins_within`)."""
    hm = c.output.heatmap
    keep = slice(None) if window_pct is None else hm.bins_within(window_pct)
    n_t, n_bins = len(hm.times_ms), len(hm.price_bins[keep])
    if min(n_t, snapshots) * n_bins > MAX_CELLS:
        raise LiqmapError(
            f"{min(n_t, snapshots)} snapshots × {n_bins} bins exceeds {MAX_CELLS:,} cells; lower snapshots or bins"
        )
    idx = np.unique(np.linspace(0, n_t - 1, min(n_t, snapshots)).round().astype(np.int64))
    ohlc = candles(c.bars, hm.times_ms[idx])
    return HeatmapResponse(
        **series_info(c),
        bin_usd=hm.bin_usd,
        times_ms=hm.times_ms[idx].tolist(),
        close=hm.close[idx].tolist(),
        price_bins=hm.price_bins[keep].tolist(),
        long_usd=cents(hm.long_usd[idx, keep]),
        short_usd=cents(hm.short_usd[idx, keep]),
        candles=Candles(**{k: [None if np.isnan(v) else v for v in ohlc[k].tolist()] for k in ohlc.columns}),
    )


@router.get("/api/heatmap", response_model=HeatmapResponse, summary="Liquidation heatmap (time × price)")
async def get_heatmap(
    request: Request,
    state: Annotated[ServerState, Depends(get_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    snapshots: Annotated[
        int, Query(ge=2, le=MAX_SNAPSHOTS, description="Maximum number of time snapshots returned.")
    ] = 300,
    window_pct: Annotated[
        float | None,
        Query(
            gt=0,
            le=100,
            description="Only the price bins from this % below the lowest close to this % above the highest "
            "(all bins if omitted).",
        ),
    ] = None,
) -> Response:
    """Outstanding long and short liquidation notional per snapshot and price bin, with the close."""
    if q.bin_usd is None and snapshots * q.bins > MAX_CELLS:
        raise LiqmapError(f"{snapshots} snapshots × {q.bins} bins exceeds {MAX_CELLS:,} cells; lower one of them")
    return await respond(
        state,
        request,
        q,
        ("heatmap", snapshots, window_pct),
        lambda window: build_heatmap(compute(state, q, window), snapshots, window_pct),
    )
