"""The venues' public websocket endpoints and one reconnecting reader per connection.

Raw streams over the ``websockets`` package rather than ccxt.pro (which ccxt 4.5.90 ships, with
``watch_ohlcv`` and ``watch_liquidations`` for all three venues): ccxt.pro hands back unified structures —
its OHLCV cache has no "this candle is closed" flag, so a closed bar could only be inferred from the next
one, and liquidation sides are passed through raw and differ per venue — and it loads markets over REST on
each connect. Reading the raw frames lets :mod:`liqmap.live.parsers` normalise at the edge with the venues'
own closed flags, and lets tests point a connection at a local server with one URL.

* binance: ``wss://fstream.binance.com/stream?streams=btcusdt@kline_1m/btcusdt@forceOrder/btcusdt@markPrice@1s``
  (subscribed by the URL; the server's protocol pings are answered by ``websockets``); no trade stream — the
  kline carries the minute's taker-buy volume;
* bybit: ``wss://stream.bybit.com/v5/public/linear``, then ``{"op": "subscribe", "args": ["kline.1.BTCUSDT",
  "allLiquidation.BTCUSDT", "tickers.BTCUSDT", "publicTrade.BTCUSDT"]}``; ``{"op": "ping"}`` every 20 s;
* okx: ``wss://ws.okx.com:8443/ws/v5/business`` for ``candle1m`` (OKX serves candles on the business URL) and
  ``…/ws/v5/public`` for ``{"channel": "liquidation-orders", "instType": "SWAP"}``, ``mark-price`` and
  ``trades``; text ``ping`` every 25 s.

Trades are streamed where the venue's kline has no taker-buy volume (Bybit, OKX): the runner sums them per
minute into the bar's taker-buy share.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from liqmap.live.parsers import venue_id

log = logging.getLogger("liqmap.live")

DEFAULT_WS = {
    "binance": "wss://fstream.binance.com",
    "bybit": "wss://stream.bybit.com",
    "okx": "wss://ws.okx.com:8443",
}


@dataclass(frozen=True)
class StreamSpec:
    """One websocket connection: where, what to send after connecting, and the app-level ping."""

    name: str
    exchange: str
    url: str
    subscribe: tuple[str, ...] = ()
    ping: str | None = None
    ping_every_s: float = 20.0


def stream_specs(exchange: str, symbols: Sequence[str], base: str | None = None) -> list[StreamSpec]:
    """The connections ``exchange`` needs for 1-minute bars, liquidations, mark prices and (Bybit, OKX) trades
    of ``symbols``; ``base`` replaces the venue's scheme + host (a local fake exchange in tests)."""
    root = (base or DEFAULT_WS[exchange]).rstrip("/")
    ids = [venue_id(exchange, s) for s in symbols]
    if exchange == "binance":
        names = [f"{i.lower()}@{kind}" for i in ids for kind in ("kline_1m", "forceOrder", "markPrice@1s")]
        return [StreamSpec("binance", exchange, f"{root}/stream?streams={'/'.join(names)}")]
    if exchange == "bybit":
        args = [t for i in ids for t in (f"kline.1.{i}", f"allLiquidation.{i}", f"tickers.{i}", f"publicTrade.{i}")]
        sub = json.dumps({"op": "subscribe", "args": args})
        return [StreamSpec("bybit", exchange, f"{root}/v5/public/linear", (sub,), json.dumps({"op": "ping"}), 20.0)]
    if exchange == "okx":
        candles = json.dumps({"op": "subscribe", "args": [{"channel": "candle1m", "instId": i} for i in ids]})
        public = [{"channel": "liquidation-orders", "instType": "SWAP"}]
        public += [{"channel": ch, "instId": i} for i in ids for ch in ("mark-price", "trades")]
        sub = json.dumps({"op": "subscribe", "args": public})
        return [
            StreamSpec("okx candles", exchange, f"{root}/ws/v5/business", (candles,), "ping", 25.0),
            StreamSpec("okx public", exchange, f"{root}/ws/v5/public", (sub,), "ping", 25.0),
        ]
    raise ValueError(f"no live streams for {exchange!r}: use binance, bybit or okx")


@dataclass
class StreamState:
    """What the status line shows for one connection."""

    state: str = "starting"
    messages: int = 0
    connects: int = 0
    last_message_s: float = 0.0
    last_error: str = ""
    recent: list[float] = field(default_factory=list)


class Backoff:
    """Exponential backoff: ``base × 2^n`` seconds capped at ``cap``; a 429 skips two steps."""

    def __init__(self, base: float = 1.0, cap: float = 60.0) -> None:
        self.base, self.cap, self.n = base, cap, 0

    def next(self, rate_limited: bool = False) -> float:
        if rate_limited:
            self.n += 2
        delay = min(self.cap, self.base * 2**self.n)
        self.n += 1
        return delay

    def reset(self) -> None:
        self.n = 0


def _reason(exc: BaseException) -> tuple[str, bool]:
    """A short reason for the status line and whether it was a rate limit (HTTP 429 on the handshake)."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is not None:
        return f"HTTP {status}", status == 429
    if isinstance(exc, TimeoutError):
        return "stale", False
    return type(exc).__name__, False


async def read_stream(
    spec: StreamSpec,
    on_frame: Callable[[str | bytes, float], Awaitable[None] | None],
    state: StreamState,
    stop: asyncio.Event,
    *,
    stale_s: float = 30.0,
    backoff: Backoff | None = None,
) -> None:
    """Read ``spec`` until ``stop`` is set: connect, subscribe, hand every frame (with its receive time,
    ``time.perf_counter()``) to ``on_frame``; on a disconnect, a stale stream (nothing for ``stale_s``), a
    handshake refused (429/5xx) or any connection error, wait the backoff and reconnect."""
    from websockets.asyncio.client import connect

    backoff = backoff or Backoff()
    while not stop.is_set():
        state.state = "connecting"
        try:
            async with connect(spec.url, open_timeout=10, close_timeout=2, max_size=2**22) as ws:
                state.connects += 1
                for msg in spec.subscribe:
                    await ws.send(msg)
                state.state = "live"
                pinger = asyncio.create_task(_ping(ws, spec)) if spec.ping else None
                try:
                    while not stop.is_set():
                        recv = asyncio.ensure_future(ws.recv())
                        stopper = asyncio.ensure_future(stop.wait())
                        done, _ = await asyncio.wait({recv, stopper}, timeout=stale_s, return_when="FIRST_COMPLETED")
                        stopper.cancel()
                        if recv not in done:
                            recv.cancel()
                            if stop.is_set():
                                break
                            raise TimeoutError(f"no message for {stale_s:g} s")
                        frame = recv.result()
                        now = time.perf_counter()
                        state.messages += 1
                        state.last_message_s = time.monotonic()
                        backoff.reset()
                        res = on_frame(frame, now)
                        if res is not None:
                            await res
                finally:
                    if pinger is not None:
                        pinger.cancel()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every connection failure reconnects; parsing never raises here
            reason, limited = _reason(exc)
            state.last_error = reason
            if stop.is_set():
                break
            delay = backoff.next(rate_limited=limited)
            state.state = f"reconnect in {delay:g}s ({reason})"
            log.info("%s: %s; reconnecting in %g s", spec.name, reason, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
    state.state = "stopped"


async def _ping(ws: object, spec: StreamSpec) -> None:
    while True:
        await asyncio.sleep(spec.ping_every_s)
        await ws.send(spec.ping)  # type: ignore[attr-defined]
