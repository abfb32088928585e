"""``GET /api/symbols``: what the store holds, cached per store version (the files' size and mtime)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from liqmap.server.api.models import ERROR_RESPONSES
from liqmap.server.api.pipeline import cached_body
from liqmap.server.deps import ServerState, get_state

router = APIRouter(tags=["store"], responses=ERROR_RESPONSES)


class SymbolRow(BaseModel):
    """One stored (exchange, symbol) bar series."""

    exchange: str
    symbol: str
    first_ms: int
    last_ms: int
    rows: int
    timeframe: str | None = Field(description="Bar size, e.g. 1h (null if the series has one bar).")


class SymbolsResponse(BaseModel):
    """Every stored bar series, sorted by symbol then exchange."""

    symbols: list[SymbolRow]


@router.get("/api/symbols", response_model=SymbolsResponse, summary="Stored symbols and their time ranges")
async def get_symbols(state: Annotated[ServerState, Depends(get_state)]) -> Response:
    """List each stored (exchange, symbol) with its first/last bar time (UTC ms) and row count."""
    version = state.services.store_version()  # two stat calls; None: unknown, read the store every time

    key = None if version is None else ("symbols", version)
    body = await cached_body(state, key, lambda: build_symbols(state))
    return Response(content=body, media_type="application/json")


def build_symbols(state: ServerState) -> SymbolsResponse:
    """Read the stored series from the store."""
    with state.services.open_store() as store:
        frame = store.symbols()
    rows = [
        SymbolRow(
            exchange=str(r["exchange"]),
            symbol=str(r["symbol"]),
            first_ms=int(r["first_ms"]),
            last_ms=int(r["last_ms"]),
            rows=int(r["rows"]),
            timeframe=r["timeframe"],
        )
        for r in frame.sort_values(["symbol", "exchange"]).to_dict("records")
    ]
    return SymbolsResponse(symbols=rows)
