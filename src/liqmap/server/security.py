"""Defences of a loopback server against other web pages: Host allow-list (DNS rebinding), websocket
Origin check (cross-site websocket hijacking) and security headers on every response."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("liqmap.server")

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
POLICY_VIOLATION = 1008
MAX_HEADER_BYTES = 16 * 1024  # request line + headers; beyond it the request is refused with 431
_SELF = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'"
_FRAMES = "form-action 'self'; frame-ancestors 'none'"
# the dashboard: its own scripts only; Plotly adds <style> elements, so inline styles are allowed
DASHBOARD_CSP = f"{_SELF}; script-src 'self'; style-src 'self' 'unsafe-inline'; {_FRAMES}"
# /docs and /redoc: FastAPI's pages start Swagger UI/ReDoc from an inline script; ReDoc runs a blob: worker
DOCS_CSP = f"{_SELF}; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; worker-src blob:; {_FRAMES}"
DOCS_PATHS = ("/docs", "/redoc")


def host_names(hosts: Iterable[str]) -> tuple[str, ...]:
    """Host names as compared: lower case, IPv6 literals without brackets, duplicates dropped."""
    return tuple(dict.fromkeys(h.strip().strip("[]").lower() for h in hosts if h.strip()))


class HostCheck:
    """Starlette's :class:`TrustedHostMiddleware` over ``allowed_hosts``, its rejection turned into the
    API's JSON error (400 ``{"detail": …}``)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        names = host_names(allowed_hosts)
        self.guard = TrustedHostMiddleware(
            self._admit, allowed_hosts=[f"[{h}]" if ":" in h else h for h in names], www_redirect=False
        )
        self.body = json.dumps({"detail": f"invalid Host header: this server answers to {', '.join(names)}"}).encode()

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["liqmap.host_ok"] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_json_rejection(message: Message) -> None:
            if scope.get("liqmap.host_ok"):
                await send(message)
            elif message["type"].endswith("http.response.start"):
                log.warning("refused Host header %r", Headers(scope=scope).get("host"))
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.body)).encode())]
                await send({**message, "headers": headers})
            elif message["type"].endswith("http.response.body"):
                await send({**message, "body": self.body, "more_body": False})

        await self.guard(scope, receive, send_json_rejection)


class HeaderLimit:
    """Refuse a request whose request line and headers exceed ``max_bytes`` (431, or close 1008 on a
    websocket). uvicorn's h11 limit only bounds a head still incomplete after a read; a larger head that
    arrives in one read would otherwise be served."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_HEADER_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.body = json.dumps({"detail": f"request headers exceed {max_bytes // 1024} KiB"}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(k) + len(v) + 4 for k, v in scope["headers"])
            if size > self.max_bytes:
                log.warning("refused a request with %d bytes of headers", size)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": "headers too large"})
                    return
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.body)).encode())]
                await send({"type": "http.response.start", "status": 431, "headers": headers})
                await send({"type": "http.response.body", "body": self.body})
                return
        await self.app(scope, receive, send)


class WebsocketOriginCheck:
    """Refuse (close code 1008 before accepting) a websocket whose ``Origin`` header names another host.
    Clients that send no Origin (not browsers) pass; a page elsewhere cannot open the websocket."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app, self.allowed = app, set(host_names(allowed_hosts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            origin = Headers(scope=scope).get("origin")
            if origin is not None and (urlsplit(origin).hostname or "") not in self.allowed:
                log.warning("refused websocket from Origin %r", origin)
                await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": "origin not allowed"})
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Add ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``
    and a Content-Security-Policy (:data:`DASHBOARD_CSP`; :data:`DOCS_CSP` on the API docs) to every
    HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else DASHBOARD_CSP
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", csp.encode()),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
