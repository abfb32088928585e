"""``WS /ws/map``: push the liquidation map on each new bar; ``WS /ws/liquidations``: push realized liquidations.

``/ws/map`` takes the query parameters of ``GET /api/map`` and sends the current map on connect, then:

* for series that ``liqmap serve --live`` streams (exchanges it streams, its model, no
  ``start_ms``/``end_ms``/``at_ms``): the live engines' map after each closed bar — no recompute, ``live``
  true; the engines' own grid (one per symbol) and the bars since their warm start (``bins``, ``days``,
  ``bin_usd`` do not apply); several exchanges: their maps summed, sent once every venue has closed the same
  bar (a venue lagging by ``LAG_MS`` or more no longer holds the others back);
* otherwise: it re-reads the last stored bar timestamp every ``poll_interval_s`` and sends the recomputed map
  each time it changes.

Either way the message is the JSON of ``/api/map``. ``/ws/liquidations`` (``serve --live`` only) takes
``symbol`` and ``exchange`` (repeat; default any) and sends the latest kept realized liquidations on
connect, then each batch as it streams in, in the JSON of ``GET /api/liquidations``. A bad parameter or
missing data is answered with ``{"error": message}`` and close code 1008 (by the app's exception
handlers). The client sends nothing: its text frames are ignored; a binary frame closes the socket with
code 1003 (unsupported data).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from liqmap.analytics.report import ReportSettings
from liqmap.errors import LiqmapError
from liqmap.server.api.params import LeverageRange, SeriesQuery, leverage_range, report_settings, series_query
from liqmap.server.api.pipeline import cached_body, current_window, filter_leverage
from liqmap.server.api.routes.liquidations import ExchangesParam, SymbolParam, orders_response, requested_exchanges
from liqmap.server.api.routes.maps import AtMs, Candle, Layers, MapResponse, map_response
from liqmap.server.deps import ServerState, get_ws_state
from liqmap.symbols import normalize_symbol
from liqmap.timeframes import MS_PER_MINUTE

if TYPE_CHECKING:
    from liqmap.server.live import LiveFeed, LiveSnapshot

router = APIRouter(tags=["live"])
log = logging.getLogger("liqmap.server")

UNSUPPORTED_DATA = 1003
INTERNAL_ERROR = 1011
LAG_MS = 2 * MS_PER_MINUTE  # a venue this far behind the others is pushed without (a stalled stream)


@router.websocket("/ws/map")
async def ws_map(
    websocket: WebSocket,
    state: Annotated[ServerState, Depends(get_ws_state)],
    q: Annotated[SeriesQuery, Depends(series_query)],
    settings: Annotated[ReportSettings, Depends(report_settings)],
    lev: Annotated[LeverageRange | None, Depends(leverage_range)],
    at_ms: AtMs = None,
    layers: Layers = False,
) -> None:
    """Send the map now and again after every new bar (the live engine's, or recomputed from the store)."""
    await websocket.accept()
    feed = state.live
    keys = None
    if feed is not None and feed.running and at_ms is None and q.start_ms is None and q.end_ms is None:
        keys = feed.serves(q.exchanges, q.symbol, q.model.value)
    try:  # a LiqmapError/StoreError propagates: the app's handler sends {"error"} and closes
        if feed is not None and keys is not None and not await _push_live_maps(websocket, state, feed, keys, layers,
                                                                              settings, lev):  # fmt: skip
            return
        await _push_stored_maps(websocket, state, q, at_ms, layers, settings, lev)
    except WebSocketDisconnect:
        return


async def _push_live_maps(
    websocket: WebSocket,
    state: ServerState,
    feed: LiveFeed,
    keys: tuple[tuple[str, str], ...],
    layers: bool,
    settings: ReportSettings,
    lev: LeverageRange | None,
) -> bool:
    """Send the live engines' map of ``keys`` each time all of them have closed a new bar (or the laggards
    are ``LAG_MS`` behind); False when the client left, True when the runner stopped (the caller goes on from
    the store)."""
    sent_for: tuple[int, ...] = ()
    receive: asyncio.Future[Any] = asyncio.ensure_future(websocket.receive())
    try:
        while True:
            snaps = tuple(s for s in (feed.snapshots.get(k) for k in keys) if s is not None)
            bars_of = tuple(s.last_ms for s in snaps)
            waiting = bool(bars_of) and 0 < max(bars_of) - min(bars_of) < LAG_MS  # a venue has not closed it yet
            if len(snaps) == len(keys) and bars_of != sent_for and not waiting:
                cache_key = ("live-map", keys, bars_of, layers, settings, lev)
                body = await cached_body(
                    state, cache_key, functools.partial(build_live_map, snaps, layers, settings, lev, feed)
                )
                await websocket.send_text(body.decode())
                sent_for = bars_of
            if not feed.running:
                return True
            following = await _next_event(websocket, receive, feed.changed())
            if following is None:
                return False
            receive = following
    finally:
        receive.cancel()


def build_live_map(
    snaps: tuple[LiveSnapshot, ...],
    layers: bool,
    settings: ReportSettings,
    lev: LeverageRange | None = None,
    feed: LiveFeed | None = None,
) -> MapResponse:
    """The :class:`MapResponse` of live snapshots of one symbol: their map (venues summed, ``combine``; the
    layers within ``lev`` if given) and the map report, its impact calibrated on the runner's recent bars —
    what ``build_map`` gives for a stored run; ``feed``'s realized liquidations of the series count towards
    the inputs' status (built once per bar: cached)."""
    import numpy as np
    import pandas as pd

    from liqmap.analytics.report import build_map_report
    from liqmap.data.transform import candles
    from liqmap.engine.results import combine
    from liqmap.server.api.inputs import input_status

    first = snaps[0]
    exchanges = tuple(s.exchange for s in snaps)
    bars = pd.DataFrame([bar for s in snaps for bar in s.bars])
    combined = combine([s.liqmap for s in snaps])
    lm = combined if lev is None else filter_leverage(combined, lev)
    report = build_map_report(lm, bars, settings, profile=first.profile)
    streamed = pd.DataFrame({"exchange": [], "field": [], "provenance": [], "note": []})  # the venues' own
    liquidations = 0 if feed is None else sum(1 for _ in feed.liquidations_after(0, exchanges, first.symbol))
    last_ms = max(s.last_ms for s in snaps)
    info = {
        "symbol": first.symbol,
        "exchanges": list(exchanges),
        "model": first.model,
        "start_ms": min(s.first_ms for s in snaps),
        "end_ms": last_ms,
        "last_bar_ms": last_ms,
        "bars": sum(s.n_bars for s in snaps),
        "warnings": [],
        "inputs": input_status(bars, streamed, liquidations, first.config),
    }
    fields = report.to_dict() | info | lm.to_dict(layers)
    ohlc = candles(bars, np.array([last_ms])).iloc[0]  # the venues' last bar, averaged
    candle = Candle(open=ohlc["open"], high=ohlc["high"], low=ohlc["low"], close=ohlc["close"])
    return MapResponse(**fields, leverage_filter=lev.label if lev else "", live=True, candle=candle)


async def _push_stored_maps(
    websocket: WebSocket,
    state: ServerState,
    q: SeriesQuery,
    at_ms: int | None,
    layers: bool,
    settings: ReportSettings,
    lev: LeverageRange | None,
) -> None:
    """Poll the last stored bar every ``poll_interval_s``; send the recomputed map when it changed."""
    sent_for = -1  # the last bar the client has the map for; -1: nothing sent yet
    while True:
        window = await current_window(state, q)
        if window.last_bar_ms != sent_for:
            response = await map_response(state, None, q, at_ms, layers, settings, lev)
            await websocket.send_text(bytes(response.body).decode())
            sent_for = window.last_bar_ms
        with contextlib.suppress(TimeoutError):  # wait for the next poll; notices a client that left
            message = await asyncio.wait_for(websocket.receive(), timeout=state.poll_interval_s)
            if await _client_left(websocket, message):
                return


@router.websocket("/ws/liquidations")
async def ws_liquidations(
    websocket: WebSocket,
    state: Annotated[ServerState, Depends(get_ws_state)],
    symbol: SymbolParam = "BTC/USDT:USDT",
    exchange: ExchangesParam = None,
) -> None:
    """Send the latest realized liquidations now, then each batch as it streams in (``serve --live``)."""
    exchanges = requested_exchanges(exchange)
    sym = normalize_symbol(symbol)
    feed = state.live
    if feed is None:
        raise LiqmapError(
            "realized liquidations are pushed only by `liqmap serve --live`; "
            "GET /api/liquidations reads the stored ones"
        )
    await websocket.accept()
    seq, first = 0, True
    receive: asyncio.Future[Any] = asyncio.ensure_future(websocket.receive())
    try:
        while True:
            orders = list(feed.liquidations_after(seq, exchanges, sym))
            seq = feed.last_seq
            if orders or first:
                await websocket.send_text(orders_response(sym, exchanges, orders).model_dump_json())
                first = False
            if not feed.running:
                await websocket.send_json({"error": "the live runner stopped; the server log says why"})
                await websocket.close(code=INTERNAL_ERROR)
                return
            following = await _next_event(websocket, receive, feed.changed())
            if following is None:
                return
            receive = following
    except WebSocketDisconnect:
        return
    finally:
        receive.cancel()


async def _next_event(
    websocket: WebSocket, receive: asyncio.Future[Any], changed: Awaitable[bool]
) -> asyncio.Future[Any] | None:
    """Wait until ``changed`` completes or the client sends; the receive to wait on next, None when the
    client left."""
    waiter = asyncio.ensure_future(changed)
    done, _ = await asyncio.wait({receive, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if receive not in done:
        return receive
    if await _client_left(websocket, receive.result()):
        return None
    return asyncio.ensure_future(websocket.receive())


async def _client_left(websocket: WebSocket, message: Any) -> bool:
    """True when ``message`` ends the socket: a disconnect, or a binary frame (closed with code 1003)."""
    if message["type"] == "websocket.disconnect":
        return True
    if message.get("bytes") is not None:
        log.info("closing %s: the client sent a binary frame", websocket.url.path)
        await websocket.close(code=UNSUPPORTED_DATA, reason="binary frames are not accepted")
        return True
    return False
