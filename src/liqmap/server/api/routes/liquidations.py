"""``GET /api/liquidations``: the realized liquidations stored for a symbol (the orders the dashboard draws as
dots on the heatmap and ticks on the map), cached per store version like ``/api/symbols``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from liqmap.enums import Exchange
from liqmap.errors import LiqmapError, StoreError
from liqmap.server.api.models import ERROR_RESPONSES
from liqmap.server.api.params import MAX_EXCHANGES, MAX_TIME_MS
from liqmap.server.api.pipeline import cached_body
from liqmap.server.deps import ServerState, StoreBusyError, get_state
from liqmap.symbols import normalize_symbol

if TYPE_CHECKING:
    from liqmap.live.parsers import Liquidation

router = APIRouter(tags=["store"], responses=ERROR_RESPONSES)

MAX_ROWS = 100_000
DEFAULT_ROWS = 20_000

SymbolParam = Annotated[
    str,
    Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9/:_\-]+$", description="Symbol, any common spelling."),
]
ExchangesParam = Annotated[
    list[Exchange] | None, Query(description="Only these exchanges (repeat); default every stored one.")
]


class LiquidationsResponse(BaseModel):
    """Stored realized liquidation orders, oldest first, as parallel arrays. When more than ``limit`` match,
    the ``limit`` largest by notional are kept (``truncated``; ``matched`` says how many there were).
    ``/ws/liquidations`` pushes the orders that just arrived in this shape too."""

    symbol: str
    exchanges: list[str] = Field(description="The exchanges asked for (empty: every stored one).")
    start_ms: int | None
    end_ms: int | None
    matched: int = Field(description="Orders stored in the range.")
    count: int = Field(description="Orders returned.")
    truncated: bool
    times_ms: list[int]
    exchange: list[str]
    side: list[str] = Field(description="long or short: the side of the position that was liquidated.")
    price: list[float]
    notional_usd: list[float]


@router.get("/api/liquidations", response_model=LiquidationsResponse, summary="Stored realized liquidations")
async def get_liquidations(
    state: Annotated[ServerState, Depends(get_state)],
    symbol: SymbolParam = "BTC/USDT:USDT",
    exchange: ExchangesParam = None,
    start_ms: Annotated[int | None, Query(ge=0, le=MAX_TIME_MS, description="First order time, UTC epoch ms.")] = None,
    end_ms: Annotated[int | None, Query(ge=0, le=MAX_TIME_MS, description="Last order time, UTC epoch ms.")] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_ROWS, description="Most orders returned (the largest by notional are kept).")
    ] = DEFAULT_ROWS,
) -> Response:
    """Every stored realized liquidation of ``symbol`` in ``[start_ms, end_ms]``: time, exchange, side, price
    and notional. None stored is an empty list, not an error."""
    exchanges = requested_exchanges(exchange)
    if start_ms is not None and end_ms is not None and start_ms > end_ms:
        raise LiqmapError(f"start_ms ({start_ms}) must not be after end_ms ({end_ms})")
    sym = normalize_symbol(symbol)
    version = state.services.store_version()

    key = None if version is None else ("liquidations", version, sym, exchanges, start_ms, end_ms, limit)
    body = await cached_body(state, key, lambda: build_liquidations(state, sym, exchanges, start_ms, end_ms, limit))
    return Response(content=body, media_type="application/json")


def requested_exchanges(exchange: list[Exchange] | None) -> tuple[str, ...]:
    """The distinct exchanges asked for (empty: any), at most :data:`MAX_EXCHANGES`."""
    exchanges = tuple(dict.fromkeys(e.value for e in exchange or []))
    if len(exchanges) > MAX_EXCHANGES:
        raise LiqmapError(f"at most {MAX_EXCHANGES} exchanges per request, got {len(exchanges)}")
    return exchanges


def orders_response(symbol: str, exchanges: tuple[str, ...], orders: Sequence[Liquidation]) -> LiquidationsResponse:
    """Realized liquidations just streamed, oldest first, in the shape of ``GET /api/liquidations``."""
    orders = sorted(orders, key=lambda o: (o.timestamp, o.exchange))
    times = [o.timestamp for o in orders]
    return LiquidationsResponse(
        symbol=symbol,
        exchanges=list(exchanges),
        start_ms=min(times, default=None),
        end_ms=max(times, default=None),
        matched=len(orders),
        count=len(orders),
        truncated=False,
        times_ms=times,
        exchange=[o.exchange for o in orders],
        side=[o.side for o in orders],
        price=[o.price for o in orders],
        notional_usd=[round(o.notional_usd, 2) for o in orders],
    )


def build_liquidations(
    state: ServerState,
    symbol: str,
    exchanges: tuple[str, ...],
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
) -> LiquidationsResponse:
    """Read the orders from the store (none: empty arrays) and keep the ``limit`` largest, in time order."""
    try:
        with state.services.open_store() as store:
            frame = store.query_liquidations(list(exchanges) or None, symbol, start_ms, end_ms)
    except StoreBusyError:
        raise
    except StoreError:  # nothing stored for the query
        frame = None
    if frame is None:
        frame = pd.DataFrame({c: [] for c in ("timestamp", "exchange", "side", "price", "notional_usd")})
    n = len(frame)
    if n > limit:
        keep = np.sort(np.argsort(-frame["notional_usd"].to_numpy(), kind="stable")[:limit])
        frame = frame.iloc[keep]
    frame = frame.sort_values(["timestamp", "exchange"], kind="stable")

    def col(name: str) -> list[Any]:
        return frame[name].tolist()

    return LiquidationsResponse(
        symbol=symbol,
        exchanges=list(exchanges),
        start_ms=start_ms,
        end_ms=end_ms,
        matched=n,
        count=min(n, limit),
        truncated=n > limit,
        times_ms=[int(t) for t in col("timestamp")],
        exchange=[str(e) for e in col("exchange")],
        side=[str(s) for s in col("side")],
        price=[float(p) for p in col("price")],
        notional_usd=[round(float(v), 2) for v in col("notional_usd")],
    )
