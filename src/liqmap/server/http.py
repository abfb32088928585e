"""uvicorn's h11 protocol with a deadline for each request head, so slow clients cannot hold every slot.

uvicorn times out idle keep-alive connections but not a request head that trickles in: ~200 connections
sending a partial head and waiting would make it answer everyone else 503 (``limit_concurrency``) for as
long as they stay open. :class:`HeadTimeoutH11Protocol` closes a connection whose request line and headers
are not complete within :data:`HEAD_TIMEOUT_S` of connecting or of its previous response.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT_S = 5.0


class HeadTimeoutH11Protocol(H11Protocol):
    """:class:`H11Protocol` that drops a connection still waiting for a complete request head after
    :data:`HEAD_TIMEOUT_S`; pass it as ``uvicorn.Config(http=HeadTimeoutH11Protocol)``."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # the head arrived: the request runs without a deadline
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()  # the next head (keep-alive) gets the same deadline

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
