"""The FastAPI application factory.

>>> from liqmap.server import create_app
>>> app = create_app("liqmap.duckdb")      # nothing is opened until the first request
>>> sorted(p for p in app.openapi()["paths"] if p.startswith("/api/"))[:3]
['/api/cascade', '/api/heatmap', '/api/levels']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.websockets import WebSocketState

from liqmap import __version__
from liqmap.errors import StoreError
from liqmap.server.api.routes import cascade, dashboard, heatmap, levels, live, maps, symbols, validate
from liqmap.server.api.routes.live import POLICY_VIOLATION
from liqmap.server.cache import LRUCache
from liqmap.server.deps import ServerState, Services, StoreBusyError, StoreWatcher, default_services
from liqmap.server.fastpath import FastPathMiddleware


def create_app(
    db_path: Path | str | None,
    *,
    services: Services | None = None,
    poll_interval_s: float = 1.0,
    engine_cache_size: int = 8,
    response_cache_size: int = 256,
) -> FastAPI:
    """A liqmap web app reading the store at ``db_path`` (read-only; ``None``: the default store path).

    ``services`` replaces the store/engine/analytics calls (tests); ``poll_interval_s`` is how often the
    last stored bar is re-read (cache keys and ``/ws/map`` pushes follow it); the two cache sizes bound
    the number of engine runs and encoded responses kept in memory.
    """
    if poll_interval_s <= 0:
        raise ValueError(f"poll_interval_s must be > 0, got {poll_interval_s}")
    services = services or default_services(db_path)
    app = FastAPI(
        title="liqmap",
        version=__version__,
        description=(
            "Estimated liquidation heatmaps and maps for crypto perpetual futures, computed from the local "
            "store (read-only). Times are UTC epoch milliseconds, prices and notionals in USD."
        ),
    )
    state = ServerState(
        services=services,
        watcher=StoreWatcher(services.open_store, services.store_version, poll_interval_s),
        engine_cache=LRUCache(engine_cache_size),
        response_cache=LRUCache(response_cache_size),
        raw_cache=LRUCache(response_cache_size),
        poll_interval_s=poll_interval_s,
    )
    app.state.liqmap = state
    app.add_middleware(FastPathMiddleware, cache=state.raw_cache, watcher=state.watcher)
    for module in (symbols, heatmap, maps, levels, cascade, validate, live, dashboard):
        app.include_router(module.router)
    _add_error_handlers(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error is ``{"detail": message}``: bad parameters and project errors → 422, missing data → 404,
    a store locked by a writer → 503. On a websocket handshake the client gets ``{"error": message}`` and
    close code 1008 instead."""

    def handler(status: int, headers: dict[str, str] | None = None) -> Callable:
        async def handle(conn: Request | WebSocket, exc: Exception) -> JSONResponse | None:
            message = _message(exc)
            if isinstance(conn, WebSocket):
                if conn.application_state == WebSocketState.CONNECTING:
                    await conn.accept()
                await conn.send_json({"error": message})
                await conn.close(code=POLICY_VIOLATION)
                return None
            return JSONResponse({"detail": message}, status_code=status, headers=headers)

        return handle

    async def internal(_: Request, exc: Exception) -> JSONResponse:
        # pydantic's ValidationError is a ValueError too, but here it means a response model broke: a bug
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)

    app.add_exception_handler(RequestValidationError, handler(422))
    app.add_exception_handler(WebSocketRequestValidationError, handler(422))
    app.add_exception_handler(StoreError, handler(404))
    app.add_exception_handler(StoreBusyError, handler(503, {"Retry-After": "1"}))
    app.add_exception_handler(ValueError, handler(422))  # LiqmapError and the core's input checks
    app.add_exception_handler(ValidationError, internal)


def _message(exc: Exception) -> str:
    """One line saying what is wrong: FastAPI's parameter errors joined as ``name: problem``."""
    if isinstance(exc, RequestValidationError | WebSocketRequestValidationError):
        return "; ".join(f"{'.'.join(str(x) for x in e['loc'][1:]) or 'request'}: {e['msg']}" for e in exc.errors())
    return str(exc)
