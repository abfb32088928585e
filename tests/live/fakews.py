"""A local fake of the Binance USDⓈ-M, Bybit v5 and OKX v5 public websockets (and 1-minute REST klines).

Bars: ``fixtures/binance_btcusdt_trades_2024-08-08.csv.gz`` holds the 8,714 real BTCUSDT trades of three full
minutes (2024-08-08 23:55:00 → 23:57:59 UTC) cut from ``../shared/data/orderbook/binance_usdm_btcusdt_ws_2024-08-08.gz``
(nkaz001/hftbacktest, MIT; ``btcusdt@trade`` frames, fields ``T,p,q,m``). :func:`minute_bars` aggregates them
to 1-minute klines; a longer series repeats the three recorded minutes with timestamps shifted by whole
minutes (minute k carries recorded minute k mod 3) — real trades, synthetic continuation. Every venue's
frames carry the same bars in its own format (docstrings of ``liqmap.live.parsers``); liquidation frames
are the venues' documented example payloads with symbol, time and price moved onto this series. With
``ticks`` each bar also gets a mark-price frame (close × (1 + ``MARK_BASIS``), stamped 59 s into the minute)
and, on Bybit and OKX, two trade frames: the recorded minute's taker buys and taker sells, each summed at its
VWAP (so the minute's taker-buy share is the recorded one).

Faults: ``drop_after`` closes the first connection after that many frames, ``silence_s`` stops the second one for that
long after ``silence_after`` frames, ``malformed`` inserts bad frames (not JSON, NaN price, negative size,
unknown symbol), ``duplicate``/``reorder`` re-send or swap closed bars, ``refuse`` answers the first handshakes
with HTTP statuses (429, 503). ``hold_at`` pauses the stream at a frame until the test sets ``release`` (so a
slow machine cannot let the stream run out before the test looks). Not part of the project's runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import math
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

FIXTURE = Path(__file__).parent / "fixtures" / "binance_btcusdt_trades_2024-08-08.csv.gz"
FIRST_MINUTE_MS = 28_719_355 * 60_000  # 2024-08-08 23:55 UTC
MINUTE_MS = 60_000
MARK_BASIS = 2e-4  # the fake's mark sits this far above the last price
sys.path.insert(0, str(Path(__file__).parents[1] / "data"))  # tests/data/fakeexchange.py


def recorded_minutes() -> list[dict[str, float]]:
    """The three recorded minutes as kline dicts (o, h, l, c, v base, q quote, V taker-buy base)."""
    with gzip.open(FIXTURE, "rt") as f:
        df = pd.read_csv(f)
    out = []
    for minute, g in df.groupby(df["timestamp"] // MINUTE_MS):
        p, q = g["price"].to_numpy(), g["qty"].to_numpy()
        out.append(
            {"t": int(minute) * MINUTE_MS, "o": p[0], "h": p.max(), "l": p.min(), "c": p[-1], "v": q.sum(),
             "q": float((p * q).sum()), "V": float(q[g["is_buyer_maker"].to_numpy() == 0].sum())}
        )  # fmt: skip
    return out


def minute_bars(n: int, start_ms: int = FIRST_MINUTE_MS) -> list[dict[str, float]]:
    """``n`` consecutive 1-minute klines from ``start_ms`` (the recorded minutes, repeated)."""
    rec = recorded_minutes()
    first = (start_ms - FIRST_MINUTE_MS) // MINUTE_MS
    return [rec[(first + k) % 3] | {"t": start_ms + k * MINUTE_MS} for k in range(n)]


def _f(x: float) -> str:
    return f"{x:.8g}" if math.isfinite(x) else "NaN"


def binance_kline(b: dict[str, float], closed: bool, symbol: str = "BTCUSDT") -> str:
    k = {"t": b["t"], "T": b["t"] + MINUTE_MS - 1, "s": symbol, "i": "1m", "f": 1, "L": 2, "o": _f(b["o"]),
         "c": _f(b["c"]), "h": _f(b["h"]), "l": _f(b["l"]), "v": _f(b["v"]), "n": 10, "x": closed,
         "q": _f(b["q"]), "V": _f(b["V"]), "Q": "0", "B": "0"}  # fmt: skip
    data = {"e": "kline", "E": b["t"], "s": symbol, "k": k}
    return json.dumps({"stream": f"{symbol.lower()}@kline_1m", "data": data})


def binance_force_order(ts: int, price: float, qty: float, side: str = "SELL", symbol: str = "BTCUSDT") -> str:
    o = {"s": symbol, "S": side, "o": "LIMIT", "f": "IOC", "q": _f(qty), "p": _f(price), "ap": _f(price),
         "X": "FILLED", "l": _f(qty), "z": _f(qty), "T": ts}  # fmt: skip
    return json.dumps({"stream": f"{symbol.lower()}@forceOrder", "data": {"e": "forceOrder", "E": ts, "o": o}})


def bybit_kline(b: dict[str, float], closed: bool, symbol: str = "BTCUSDT") -> str:
    d = {"start": b["t"], "end": b["t"] + MINUTE_MS - 1, "interval": "1", "open": _f(b["o"]), "close": _f(b["c"]),
         "high": _f(b["h"]), "low": _f(b["l"]), "volume": _f(b["v"]), "turnover": _f(b["q"]), "confirm": closed,
         "timestamp": b["t"]}  # fmt: skip
    return json.dumps({"topic": f"kline.1.{symbol}", "type": "snapshot", "ts": b["t"], "data": [d]})


def bybit_liquidation(ts: int, price: float, qty: float, side: str = "Buy", symbol: str = "BTCUSDT") -> str:
    d = {"T": ts, "s": symbol, "S": side, "v": _f(qty), "p": _f(price)}
    return json.dumps({"topic": f"allLiquidation.{symbol}", "type": "snapshot", "ts": ts, "data": [d]})


def binance_mark(ts: int, price: float, symbol: str = "BTCUSDT") -> str:
    data = {"e": "markPriceUpdate", "E": ts, "s": symbol, "p": _f(price), "i": _f(price), "P": _f(price),
            "r": "0.0001", "T": ts + 3_600_000}  # fmt: skip
    return json.dumps({"stream": f"{symbol.lower()}@markPrice@1s", "data": data})


def bybit_mark(ts: int, price: float, symbol: str = "BTCUSDT") -> str:
    data = {"symbol": symbol, "markPrice": _f(price), "indexPrice": _f(price), "fundingRate": "0.0001"}
    return json.dumps({"topic": f"tickers.{symbol}", "type": "delta", "cs": 1, "ts": ts, "data": data})


def bybit_trade(ts: int, price: float, qty: float, taker: str, symbol: str = "BTCUSDT") -> str:
    d = {"T": ts, "s": symbol, "S": taker, "v": _f(qty), "p": _f(price), "L": "PlusTick", "i": "1", "BT": False}
    return json.dumps({"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": ts, "data": [d]})


def okx_mark(ts: int, price: float, inst: str = "BTC-USDT-SWAP") -> str:
    d = {"instType": "SWAP", "instId": inst, "markPx": _f(price), "ts": str(ts)}
    return json.dumps({"arg": {"channel": "mark-price", "instId": inst}, "data": [d]})


def okx_trades(trades: list[tuple[int, float, float, str]], inst: str = "BTC-USDT-SWAP") -> str:
    """One ``trades`` frame of ``(ts, price, contracts, taker side)``."""
    data = [{"instId": inst, "tradeId": str(k), "px": _f(px), "sz": _f(sz), "side": side, "ts": str(ts), "count": "1"}
            for k, (ts, px, sz, side) in enumerate(trades)]  # fmt: skip
    return json.dumps({"arg": {"channel": "trades", "instId": inst}, "data": data})


def tick_frames(venue: str, b: dict[str, float]) -> list[str]:
    """A bar's mark-price frame and (Bybit, OKX) its taker-buy and taker-sell trade frames."""
    t, mark = int(b["t"]), b["c"] * (1 + MARK_BASIS)
    if venue == "binance":
        return [binance_mark(t + 59_000, mark)]
    vwap = b["q"] / b["v"]
    buy, sell = b["V"], b["v"] - b["V"]
    if venue == "bybit":
        return [bybit_trade(t + 10_000, vwap, buy, "Buy"), bybit_trade(t + 20_000, vwap, sell, "Sell"),
                bybit_mark(t + 59_000, mark)]  # fmt: skip
    return [okx_trades([(t + 10_000, vwap, buy / 0.01, "buy"), (t + 20_000, vwap, sell / 0.01, "sell")]),
            okx_mark(t + 59_000, mark)]  # fmt: skip


def okx_candle(b: dict[str, float], closed: bool, inst: str = "BTC-USDT-SWAP") -> str:
    row = [str(b["t"]), _f(b["o"]), _f(b["h"]), _f(b["l"]), _f(b["c"]), _f(b["v"] / 0.01), _f(b["v"]), _f(b["q"]),
           "1" if closed else "0"]  # fmt: skip
    return json.dumps({"arg": {"channel": "candle1m", "instId": inst}, "data": [row]})


def okx_liquidation(ts: int, price: float, contracts: float, pos: str = "short", inst: str = "BTC-USDT-SWAP") -> str:
    det = {"bkLoss": "0", "bkPx": _f(price), "ccy": "", "posSide": pos, "side": "buy" if pos == "short" else "sell",
           "sz": _f(contracts), "ts": str(ts)}  # fmt: skip
    d = {"details": [det], "instFamily": "BTC-USDT", "instId": inst, "instType": "SWAP", "uly": "BTC-USDT"}
    return json.dumps({"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [d]})


MALFORMED = {
    "binance": ["{not json", binance_force_order(FIRST_MINUTE_MS, 61000.0, -0.5),
                binance_force_order(FIRST_MINUTE_MS, 61000.0, 0.5, symbol="DOGEUSDT")],
    "bybit": ["<html>502</html>", bybit_liquidation(FIRST_MINUTE_MS, float("nan"), 1.0),
              bybit_liquidation(FIRST_MINUTE_MS, 61000.0, 1.0, symbol="XRPUSDT")],
    "okx": ["{\"arg\": 3", okx_liquidation(FIRST_MINUTE_MS, 61000.0, -2.0)],
}  # fmt: skip


@dataclass
class Script:
    """What each venue's stream sends: bars (forming updates then the closed one) and liquidations."""

    bars: list[dict[str, float]]
    forming_per_bar: int = 1
    liquidation_every: int = 2  # one liquidation frame after every N-th closed bar
    frame_delay_s: float = 0.0
    drop_after: int | None = None
    silence_after: int | None = None
    silence_s: float = 0.0
    malformed: bool = False
    ticks: bool = False  # mark-price and (Bybit, OKX) trade frames before each closed bar
    duplicate: bool = False
    reorder: bool = False
    linger_s: float = 60.0  # keep the connection open (silent) after the script
    hold_at: int | None = None  # frame index the stream waits at until ``release`` is set (a test's own pace)
    release: threading.Event = field(default_factory=threading.Event)
    refuse: list[int] = field(default_factory=list)  # HTTP statuses answered to the first handshakes (429, 503)
    connections: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)

    def frames(self, venue: str, channel: str = "") -> list[str]:
        kl = {"binance": binance_kline, "bybit": bybit_kline, "okx": okx_candle}[venue]
        out: list[str] = []
        closed = []
        for i, b in enumerate(self.bars):
            if self.ticks and channel != "candles":
                out.extend(tick_frames(venue, b))
            if channel != "public":
                for j in range(self.forming_per_bar):
                    part = dict(b, c=b["o"] + (b["c"] - b["o"]) * (j + 1) / (self.forming_per_bar + 1))
                    part["h"], part["l"] = max(part["h"], part["c"]), min(part["l"], part["c"])
                    out.append(kl(part, False))
                out.append(kl(b, True))
                closed.append(len(out) - 1)
            if channel != "candles" and self.liquidation_every and i % self.liquidation_every == 0:
                ts = int(b["t"]) + 30_000
                if venue == "binance":
                    out.append(binance_force_order(ts, b["l"], 0.014))
                elif venue == "bybit":
                    out.append(bybit_liquidation(ts, b["l"], 0.02))
                else:
                    out.append(okx_liquidation(ts, b["h"], 13.0))
        if self.duplicate and len(closed) > 2:
            out.insert(closed[2] + 1, out[closed[1]])
        if self.reorder and len(closed) > 5:
            a, b2 = closed[4], closed[5]
            out[a], out[b2] = out[b2], out[a]
        if self.malformed and channel != "candles":
            for k, bad in enumerate(MALFORMED[venue]):
                out.insert(min(len(out), 3 + 2 * k), bad)
        return out


class FakeWs:
    """The three venues' websocket paths on one random 127.0.0.1 port, in a thread with its own loop."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0
        self.subscriptions: list[Any] = []

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> FakeWs:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._stop = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", 0, process_request=self._refuse) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def _refuse(self, connection: Any, request: Any) -> Any:
        if self.script.refuse:
            from http import HTTPStatus

            return connection.respond(HTTPStatus(self.script.refuse.pop(0)), "refused by the fake\n")
        return None

    async def _handler(self, ws: Any) -> None:
        path = ws.request.path
        if path.startswith("/stream"):
            venue, channel = "binance", ""
        elif path.startswith("/v5/public/linear"):
            venue, channel = "bybit", ""
        elif path.startswith("/ws/v5/business"):
            venue, channel = "okx", "candles"
        elif path.startswith("/ws/v5/public"):
            venue, channel = "okx", "public"
        else:
            await ws.close(1008, "no such path")
            return
        key = f"{venue}{channel}"
        sc = self.script
        n_conn = sc.connections[key] = sc.connections.get(key, 0) + 1
        if venue != "binance":
            self.subscriptions.append(json.loads(await ws.recv()))
        if key == "okxcandles":  # OKX's candles wait for its public connection (marks, trades): no connect race
            for _ in range(250):  # at most 5 s
                if "okxpublic" in sc.connections:
                    break
                await asyncio.sleep(0.02)
        try:
            for i, frame in enumerate(sc.frames(venue, channel)):
                if n_conn == 1 and sc.drop_after is not None and i == sc.drop_after:
                    await ws.close()
                    return
                if n_conn == 2 and sc.silence_after is not None and i == sc.silence_after:
                    await asyncio.sleep(sc.silence_s)
                if i == sc.hold_at:
                    for _ in range(3000):  # at most 60 s
                        if sc.release.is_set():
                            break
                        await asyncio.sleep(0.02)
                await ws.send(frame)
                sc.sent[key] = sc.sent.get(key, 0) + 1
                if sc.frame_delay_s:
                    await asyncio.sleep(sc.frame_delay_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), sc.linger_s)
        except Exception:  # the client went away
            return


def rest_exchange(bars: list[dict[str, float]]) -> Any:
    """tests/data's fake REST exchange, its Binance klines answering ``interval=1m`` from ``bars`` and
    ``/fapi/v1/openInterest`` with a synthetic reading (70,000 BTC + 1 per poll)."""
    from fakeexchange import FakeExchange

    class Rest(FakeExchange):
        def __init__(self) -> None:
            super().__init__()
            self.minute_bars = bars
            self.oi_polls = 0
            self.routes["/fapi/v1/openInterest"] = self._binance_open_interest

        def _binance_klines(self, q: dict[str, str]) -> tuple[int, Any]:
            if q["interval"] != "1m":
                return 200, []
            lo, hi = int(q["startTime"]), int(q["endTime"])
            rows = [b for b in self.minute_bars if lo <= b["t"] <= hi][: min(int(q.get("limit", 500)), 1500)]
            return 200, [
                [int(b["t"]), _f(b["o"]), _f(b["h"]), _f(b["l"]), _f(b["c"]), _f(b["v"]), int(b["t"]) + MINUTE_MS - 1,
                 _f(b["q"]), 10, _f(b["V"]), "0", "0"]
                for b in rows
            ]  # fmt: skip

        def _binance_open_interest(self, q: dict[str, str]) -> tuple[int, Any]:
            self.oi_polls += 1
            return 200, {"openInterest": f"{70_000 + self.oi_polls}", "symbol": q["symbol"], "time": FIRST_MINUTE_MS}

    return Rest()
