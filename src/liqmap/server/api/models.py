"""Response-model pieces shared by several routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from liqmap import CAVEAT
from liqmap.server.api.pipeline import Computed


class ErrorResponse(BaseModel):
    """Every error: one message saying what is wrong and how to fix it."""

    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "No stored data for the query (or no store at all)."},
    422: {"model": ErrorResponse, "description": "A parameter is out of range or inconsistent."},
    503: {"model": ErrorResponse, "description": "The store is locked by a writer; retry after Retry-After s."},
}


class SeriesInfo(BaseModel):
    """What a map-like response was computed from."""

    symbol: str = Field(description="ccxt unified symbol, e.g. BTC/USDT:USDT.")
    exchanges: list[str]
    model: str
    start_ms: int = Field(description="First bar of the window, UTC epoch ms.")
    end_ms: int = Field(description="Last bar of the window, UTC epoch ms.")
    last_bar_ms: int = Field(description="Last stored bar when this was computed (the cache key).")
    bars: int = Field(description="Bars the engine read.")
    warnings: list[str] = Field(description="Repairs the engine applied to the input (gaps, NaN OI, ...).")
    caveat: str = Field(default=CAVEAT, description="How to read a liquidation map.")


def series_info(c: Computed) -> dict[str, object]:
    """The :class:`SeriesInfo` fields of a computed query."""
    return {
        "symbol": c.query.symbol,
        "exchanges": list(c.query.exchanges),
        "model": c.query.model.value,
        "start_ms": c.window.start_ms,
        "end_ms": c.window.end_ms,
        "last_bar_ms": c.window.last_bar_ms,
        "bars": len(c.bars),
        "warnings": list(c.output.warnings),
    }
