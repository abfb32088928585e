"""The FastAPI application factory.

>>> from liqmap.server import create_app
>>> app = create_app("liqmap.duckdb")      # nothing is opened until the first request
>>> sorted(p for p in app.openapi()["paths"] if p.startswith("/api/"))[:3]
['/api/cascade', '/api/heatmap', '/api/levels']
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from liqmap import __version__
from liqmap.errors import StoreError
from liqmap.server.api.routes import (
    cascade,
    dashboard,
    docs,
    heatmap,
    levels,
    liquidations,
    live,
    maps,
    scan,
    symbols,
    validate,
)
from liqmap.server.cache import LRUCache
from liqmap.server.deps import ServerState, Services, StoreBusyError, StoreWatcher, default_services
from liqmap.server.fastpath import FastPathMiddleware
from liqmap.server.security import (
    LOCAL_HOSTS,
    POLICY_VIOLATION,
    HeaderLimit,
    HostCheck,
    SecurityHeaders,
    WebsocketOriginCheck,
)

if TYPE_CHECKING:
    from liqmap.server.live import LiveFeed

log = logging.getLogger("liqmap.server")

DEFAULT_CACHE_MB = 256.0
# shares of the cache budget: engine results, encoded responses, the fast path's copies of them
ENGINE_SHARE, RESPONSE_SHARE, FASTPATH_SHARE = 0.5, 0.25, 0.25
_ABS_PATH = re.compile(r"(?<![\w.])(?!/api/)(?:[A-Za-z]:)?[\\/](?:[^\s\\/\"'`:;,()]+[\\/])+(?=[^\s\\/\"'`:;,()])")
_PID = re.compile(r"\s*\(PID \d+\)")
MAX_SHOWN_ERRORS = 5


def create_app(
    db_path: Path | str | None,
    *,
    services: Services | None = None,
    poll_interval_s: float = 1.0,
    cache_mb: float = DEFAULT_CACHE_MB,
    allowed_hosts: Iterable[str] = LOCAL_HOSTS,
    live_feed: LiveFeed | None = None,
) -> FastAPI:
    """A liqmap web app reading the store at ``db_path`` (read-only; ``None``: the default store path).

    ``services`` replaces the store/engine/analytics calls (tests); ``poll_interval_s`` is how often the
    last stored bar is re-read (cache keys and ``/ws/map`` pushes follow it); ``cache_mb`` bounds the bytes
    all caches hold together (half engine results, a quarter encoded responses, a quarter the fast path's);
    ``allowed_hosts`` are the names the ``Host`` header (and a websocket's ``Origin``) may carry;
    ``live_feed`` (``serve --live``) is started and stopped with the app, its store shared with the routes, its
    maps and realized liquidations pushed by ``/ws/map`` and ``/ws/liquidations``.
    """
    if poll_interval_s <= 0:
        raise ValueError(f"poll_interval_s must be > 0, got {poll_interval_s}")
    if cache_mb <= 0:
        raise ValueError(f"cache_mb must be > 0, got {cache_mb}")
    services = services or default_services(db_path, live_feed.store_reader if live_feed is not None else None)
    budget = cache_mb * 2**20

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if live_feed is not None:
            live_feed.start()
        try:
            yield
        finally:
            if live_feed is not None:
                await run_in_threadpool(live_feed.stop)

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served offline by routes.docs
        redoc_url=None,
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
        engine_cache=LRUCache(int(budget * ENGINE_SHARE)),
        response_cache=LRUCache(int(budget * RESPONSE_SHARE)),
        raw_cache=LRUCache(int(budget * FASTPATH_SHARE)),
        poll_interval_s=poll_interval_s,
        live=live_feed,
    )
    app.state.liqmap = state
    allowed_hosts = tuple(allowed_hosts)
    app.add_middleware(FastPathMiddleware, cache=state.raw_cache, watcher=state.watcher)
    app.add_middleware(WebsocketOriginCheck, allowed_hosts=allowed_hosts)
    app.add_middleware(HostCheck, allowed_hosts=allowed_hosts)
    app.add_middleware(HeaderLimit)
    app.add_middleware(SecurityHeaders)  # outermost: rejections carry the headers too
    for module in (symbols, heatmap, maps, levels, cascade, validate, scan, liquidations, live, dashboard, docs):
        app.include_router(module.router)
    _add_error_handlers(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error is ``{"detail": message}``: bad parameters and project errors → 422, missing data → 404,
    a store locked by a writer → 503, anything unexpected → 500 (logged with its traceback). On a websocket
    handshake the client gets ``{"error": message}`` and close code 1008 instead."""

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

    async def internal(request: Request, exc: Exception) -> JSONResponse:
        method = request.scope.get("method", "WS")  # a websocket's scope has no method
        log.error("internal error on %s %s", method, request.url.path, exc_info=exc)
        message = f"internal error ({type(exc).__name__}); the server log has the details"
        return JSONResponse({"detail": message}, status_code=500)

    app.add_exception_handler(RequestValidationError, handler(422))
    app.add_exception_handler(WebSocketRequestValidationError, handler(422))
    app.add_exception_handler(StoreError, handler(404))
    app.add_exception_handler(StoreBusyError, handler(503, {"Retry-After": "1"}))
    app.add_exception_handler(ValueError, handler(422))  # LiqmapError and the core's input checks
    # pydantic's ValidationError is a ValueError too, but here it means a response model broke: a bug
    app.add_exception_handler(ValidationError, internal)
    app.add_exception_handler(Exception, internal)


def _message(exc: Exception) -> str:
    """One line saying what is wrong: FastAPI's parameter errors joined as ``name: problem``; directories
    of absolute paths (the store's) and process ids are left out.

    >>> _message(StoreError("no bars for X in /srv/data/liqmap.duckdb; lock held by python (PID 42)"))
    'no bars for X in liqmap.duckdb; lock held by python'
    """
    if isinstance(exc, RequestValidationError | WebSocketRequestValidationError):
        errors = exc.errors()
        shown = dict.fromkeys(  # one line per distinct problem, at most MAX_SHOWN_ERRORS of them
            f"{'.'.join(str(x) for x in e['loc'][1:] if not isinstance(x, int)) or 'request'}: {e['msg']}"
            for e in errors
        )
        lines = list(shown)[:MAX_SHOWN_ERRORS]
        return "; ".join(lines) + (f" ({len(errors)} errors in all)" if len(errors) > len(lines) else "")
    return _PID.sub("", _ABS_PATH.sub("", str(exc)))
