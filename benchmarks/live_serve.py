"""``liqmap serve --live``: how long after a closed bar a websocket client has the live map.

The app with a :class:`~liqmap.server.live.LiveFeed` (one Binance BTCUSDT series, ``--history-minutes`` bars
warm-started over REST) reads the local fake exchange of ``tests/live/fakews.py`` (real recorded minutes, one
closed bar every few hundred ms); a ``/ws/map`` client of the same process records when each bar's map
arrives. Reported: the runner's frame → updated map, and updated map → map received by the client (the map
report built once per bar, encoded, sent).

    .venv/bin/python benchmarks/live_serve.py [--minutes 60] [--history-minutes 1440]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))

from fakews import FIRST_MINUTE_MS, MINUTE_MS, FakeWs, Script, minute_bars, rest_exchange  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=60, help="Closed bars streamed.")
    ap.add_argument("--history-minutes", type=int, default=1440, help="Bars warm-started over REST.")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

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
    client = TestClient(create_app(db, live_feed=feed), base_url="http://127.0.0.1")
    received_ms: list[float] = []
    print(f"machine: {os.cpu_count()} cores, 1-min load average {os.getloadavg()[0]:.1f} at start")
    with client, client.websocket_connect("ws://127.0.0.1/ws/map?symbol=BTCUSDT&exchange=binance") as sock:
        while True:
            m = sock.receive_json()
            now = time.perf_counter()
            if m["last_bar_ms"] != bars[hist]["t"]:  # the first map waited for the warm start
                received_ms.append((now - feed.applied_s[m["last_bar_ms"]]) * 1e3)
            if m["last_bar_ms"] == bars[-1]["t"]:
                break
        runner_ms = sorted(feed.runner.latencies_ms)
    ws.stop()
    rest.stop()
    received_ms.sort()
    print(
        f"bars: {hist} warm-started + {args.minutes} streamed; {len(m['price_bins'])} bins; {len(received_ms)} pushes"
    )
    print(f"frame → updated map (runner): p50 {statistics.median(runner_ms):.2f} ms, max {runner_ms[-1]:.2f} ms")
    print(
        f"updated map → client has it (report, JSON, send): p50 {statistics.median(received_ms):.1f} ms, "
        f"p90 {received_ms[int(0.9 * (len(received_ms) - 1))]:.1f} ms, max {received_ms[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
