"""``liqmap serve --live``: how long after a closed bar a websocket client has the live map.

The app with a :class:`~liqmap.server.live.LiveFeed` (one Binance BTCUSDT series, ``--history-minutes`` bars
warm-started over REST) reads the local fake exchange of ``tests/live/fakews.py`` (real recorded minutes, one
closed bar every few hundred ms), served by uvicorn with ``liqmap serve``'s configuration on 127.0.0.1;
``--clients`` ``/ws/map`` clients (the ``websockets`` package, one event loop in a separate process, as browsers
would be; each reads only the message's ``last_bar_ms``) record when each bar's map arrives
(``time.perf_counter``: the system's monotonic clock, shared by both processes). Reported: the runner's frame
→ updated map, and updated map → map received, over every client and bar (the map report built once per bar,
encoded once, sent to each client).

    .venv/bin/python benchmarks/live_serve.py [--minutes 60] [--history-minutes 1440] [--clients 1]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))

from fakews import FIRST_MINUTE_MS, MINUTE_MS, FakeWs, Script, minute_bars, rest_exchange  # noqa: E402


def receive(url: str, n: int, last_ms: int, out: mp.SimpleQueue) -> None:
    """In the client process: ``n`` clients until each has the map of ``last_ms``; puts ``(last_bar_ms,
    perf_counter at receipt, bytes)`` of every message."""
    from websockets.asyncio.client import connect

    last_bar = re.compile(rb'"last_bar_ms":(\d+)')
    got: list[tuple[int, float, int]] = []

    async def client() -> None:
        async with connect(url, max_size=2**26, open_timeout=120) as sock:
            while True:
                raw = await sock.recv(decode=False)
                now = time.perf_counter()
                ms = int(last_bar.search(raw).group(1))  # type: ignore[union-attr]
                got.append((ms, now, len(raw)))
                if ms == last_ms:
                    return

    async def clients() -> None:
        await asyncio.gather(*(client() for _ in range(n)))

    asyncio.run(clients())
    out.put(got)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=60, help="Closed bars streamed.")
    ap.add_argument("--history-minutes", type=int, default=1440, help="Bars warm-started over REST.")
    ap.add_argument("--clients", type=int, default=1, help="/ws/map clients (1–190: serve's connection limit).")
    args = ap.parse_args()
    if not 1 <= args.clients <= 190:
        ap.error("--clients: 1–190 (liqmap serve admits 200 connections)")

    import uvicorn

    from liqmap.cli.serve import uvicorn_config
    from liqmap.live.runner import LiveSettings, Series
    from liqmap.server import create_app
    from liqmap.server.live import LiveFeed

    class Timed(LiveFeed):
        """Records when the runner handed each bar's updated map over."""

        applied_s: ClassVar[dict[int, float]] = {}

        def on_map(self, series: Series, liqmap: Any) -> None:
            assert series.last_ts is not None
            self.applied_s[series.last_ts] = time.perf_counter()
            super().on_map(series, liqmap)

    hist = args.history_minutes
    bars = minute_bars(hist + args.minutes, FIRST_MINUTE_MS - hist * MINUTE_MS)
    rest = rest_exchange(bars).start()
    ws = FakeWs(Script(bars[hist:], frame_delay_s=0.25)).start()
    db = Path(tempfile.mkdtemp()) / "serve_live.duckdb"
    settings = LiveSettings(
        exchanges=("binance",), symbols=("BTCUSDT",), db=db, ws_urls={"binance": ws.url},
        api_urls={"binance": rest.url}, history_minutes=hist, oi_poll_s=0.5,
    )  # fmt: skip
    feed = Timed(settings)
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(create_app(db, live_feed=feed), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    print(f"machine: {os.cpu_count()} cores, 1-min load average {os.getloadavg()[0]:.1f} at start")
    thread.start()
    while not server.started:
        time.sleep(0.05)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # one line per websocket otherwise
    url = f"ws://127.0.0.1:{port}/ws/map?symbol=BTCUSDT&exchange=binance"
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    proc = ctx.Process(target=receive, args=(url, args.clients, int(bars[-1]["t"]), queue))
    proc.start()
    got = queue.get()
    proc.join()
    pushed = [(ms, t, n) for ms, t, n in got if ms != bars[hist]["t"]]  # the first map waited for the warm start
    received_ms = [(t - feed.applied_s[ms]) * 1e3 for ms, t, _ in pushed]
    sizes = [n for _, _, n in pushed]
    runner_ms = sorted(feed.runner.latencies_ms)
    server.should_exit = True
    thread.join(30)
    ws.stop()
    rest.stop()
    received_ms.sort()
    print(
        f"bars: {hist} warm-started + {args.minutes} streamed; {args.clients} client(s); {len(received_ms)} pushes "
        f"of {statistics.median(sizes) / 1e3:,.0f} kB"
    )
    print(f"frame → updated map (runner): p50 {statistics.median(runner_ms):.2f} ms, max {runner_ms[-1]:.2f} ms")
    print(
        f"updated map → client has it (report, JSON, send): p50 {statistics.median(received_ms):.1f} ms, "
        f"p90 {received_ms[int(0.9 * (len(received_ms) - 1))]:.1f} ms, "
        f"p99 {received_ms[int(0.99 * (len(received_ms) - 1))]:.1f} ms, max {received_ms[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
