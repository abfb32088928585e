"""``WS /ws/map``: push the liquidation map whenever a new bar is stored.

Takes the query parameters of ``GET /api/map``. The server sends the current map on connect, then
re-reads the last stored bar timestamp every ``poll_interval_s`` and sends the recomputed map (the same
JSON as ``/api/map``) each time it changes. A bad parameter or missing data is answered with
``{"error": message}`` and close code 1008 (by the app's exception handlers). The client sends nothing:
its text frames are ignored; a binary frame closes the socket with code 1003 (unsupported data).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from liqmap.analytics.report import ReportSettings
from liqmap.server.api.params import LeverageRange, SeriesQuery, leverage_range, report_settings, series_query
from liqmap.server.api.pipeline import current_window
from liqmap.server.api.routes.maps import AtMs, Layers, map_response
from liqmap.server.deps import ServerState, get_ws_state

router = APIRouter(tags=["live"])
log = logging.getLogger("liqmap.server")

UNSUPPORTED_DATA = 1003


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
    """Send the map now and again after every change of the last stored bar."""
    await websocket.accept()
    sent_for = -1  # the last bar the client has the map for; -1: nothing sent yet
    try:
        while True:  # a LiqmapError/StoreError propagates: the app's handler sends {"error"} and closes
            window = await current_window(state, q)
            if window.last_bar_ms != sent_for:
                response = await map_response(state, None, q, at_ms, layers, settings, lev)
                await websocket.send_text(bytes(response.body).decode())
                sent_for = window.last_bar_ms
            with contextlib.suppress(TimeoutError):  # wait for the next poll; notices a client that left
                message = await asyncio.wait_for(websocket.receive(), timeout=state.poll_interval_s)
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    log.info("closing /ws/map: the client sent a binary frame")
                    await websocket.close(code=UNSUPPORTED_DATA, reason="binary frames are not accepted")
                    return
    except WebSocketDisconnect:
        return
