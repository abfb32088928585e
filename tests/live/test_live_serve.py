"""``liqmap serve --live``: the app runs the live runner in-process against the local fake exchange and pushes
the live engine's maps (``/ws/map``) and the realized liquidations (``/ws/liquidations``)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from fakews import FIRST_MINUTE_MS, MINUTE_MS, Script, minute_bars
from fastapi.testclient import TestClient

from liqmap.data.store import Store
from liqmap.live.runner import LiveSettings
from liqmap.server import create_app
from liqmap.server.live import LiveFeed

BTC = "BTC/USDT:USDT"
HISTORY, STREAMED = 40, 12  # 52 bars: all inside the runner's recent-bars window (60), as in a batch run
WS = "ws://127.0.0.1"


def live_app(tmp_path, ws, rest, exchanges: tuple[str, ...] = ("binance",)) -> tuple[TestClient, LiveFeed]:
    settings = LiveSettings(
        exchanges=exchanges, symbols=(BTC,), db=tmp_path / "live.duckdb", ws_urls=dict.fromkeys(exchanges, ws.url),
        api_urls=dict.fromkeys(exchanges, rest.url), history_minutes=HISTORY, flush_s=0.1, oi_poll_s=0.05,
        stale_s=30.0, n_bins=200,
    )  # fmt: skip
    feed = LiveFeed(settings)
    return TestClient(create_app(settings.db, live_feed=feed, poll_interval_s=0.1), base_url="http://127.0.0.1"), feed


@pytest.mark.timeout(90)
def test_serve_live_pushes_the_live_map_and_realized_liquidations(tmp_path, make_ws, make_rest):
    from liqmap.analytics.report import build_map_report
    from liqmap.engine import run

    bars = minute_bars(HISTORY + STREAMED, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    rest = make_rest(bars)
    # malformed: a frame that is not JSON, a negative size and an unknown symbol among the binance frames
    # the stream waits after the first closed bars until the client has its first map: the pushes that follow
    # are one per bar even on a slow machine
    script = Script(bars[HISTORY:], frame_delay_s=0.2, malformed=True, hold_at=8)
    ws = make_ws(script)
    client, feed = live_app(tmp_path, ws, rest)
    last_ms = int(bars[-1]["t"])
    with client:
        with client.websocket_connect(f"{WS}/ws/map?symbol=BTCUSDT&exchange=binance") as sock:
            maps = [sock.receive_json()]  # sent once the engine is warm and has applied a streamed bar
            script.release.set()
            while maps[-1]["last_bar_ms"] < last_ms:  # the push goes on past the malformed frames
                maps.append(sock.receive_json())
        with client.websocket_connect(f"{WS}/ws/liquidations?symbol=BTCUSDT&exchange=binance") as sock:
            pushed: dict[str, list] = {k: [] for k in ("times_ms", "exchange", "side", "price", "notional_usd")}
            while len(pushed["times_ms"]) < STREAMED // 2:  # one forceOrder after every second bar
                msg = sock.receive_json()
                assert msg["symbol"] == BTC and msg["count"] == len(msg["times_ms"]) and not msg["truncated"]
                for k in pushed:
                    pushed[k] += msg[k]
        # a query the live engine does not serve (another model) is computed from the store the runner writes
        with client.websocket_connect(f"{WS}/ws/map?symbol=BTCUSDT&exchange=binance&model=volume&bins=50") as sock:
            stored_map = sock.receive_json()
        for _ in range(100):  # stored within flush_s of arriving
            stored_liqs = client.get("/api/liquidations", params={"symbol": "BTCUSDT"}).json()
            if stored_liqs["count"] == STREAMED // 2:
                break
            time.sleep(0.05)
        ser = feed.runner.series[("binance", BTC)]
        drops = dict(feed.runner.drops.counts)
    assert not feed.running
    assert drops == {("binance", r): 1 for r in ("unparsable", "negative quantity", "unknown symbol")}

    # realized liquidations: the parsed values of the fake's forceOrder frames (SELL: a long liquidated)
    orders = [b for i, b in enumerate(bars[HISTORY:]) if i % 2 == 0]
    assert pushed["times_ms"] == [int(b["t"]) + 30_000 for b in orders]
    assert pushed["exchange"] == ["binance"] * len(orders) and pushed["side"] == ["long"] * len(orders)
    assert pushed["price"] == [float(f"{b['l']:.8g}") for b in orders]
    assert pushed["notional_usd"] == [round(float(f"{b['l']:.8g}") * 0.014, 2) for b in orders]
    assert {k: stored_liqs[k] for k in pushed} == pushed  # the one shape of GET /api/liquidations

    # the pushed map is the live engine's: equal to a batch run over the same stored bars on its grid
    with Store(tmp_path / "live.duckdb", read_only=True) as s:
        all_bars = s.query_bars("binance", BTC)
    assert all_bars["timestamp"].tolist() == [b["t"] for b in bars]
    batch = run(all_bars, "oi-delta", ser.config)
    lm = batch.liqmap()
    want = lm.to_dict() | build_map_report(lm, all_bars, profile=ser.config.profile).to_dict()
    got = maps[-1]
    assert got["live"] and got["bars"] == len(bars) and got["start_ms"] == bars[0]["t"]
    assert got["as_of_ms"] == got["end_ms"] == last_ms and got["price"] == want["price"]
    for key in ("price_bins", "long_usd", "short_usd", "long_cumulative_usd", "short_cumulative_usd"):
        assert got[key] == want[key], key  # bit for bit, then rounded to cents alike
    assert got["total_long_usd"] == want["total_long_usd"] and got["total_short_usd"] == want["total_short_usd"]
    assert got["clusters"] == want["clusters"] and got["imbalance"] == want["imbalance"]
    assert len(maps) >= 3 and np.diff([m["last_bar_ms"] for m in maps]).min() > 0  # one push per new bar
    final = all_bars.iloc[-1]  # each push carries its closed bar's candle (the dashboard's new heatmap column)
    assert got["candle"] == {k: float(final[k]) for k in ("open", "high", "low", "close")}

    assert not stored_map["live"] and stored_map["model"] == "volume" and len(stored_map["price_bins"]) == 50
    assert stored_map["last_bar_ms"] <= last_ms


@pytest.mark.timeout(90)
def test_a_multi_venue_query_gets_the_venues_live_maps_summed_on_one_grid(tmp_path, make_ws, make_rest):
    from liqmap.engine.results import cents, combine

    bars = minute_bars(HISTORY + STREAMED, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    # REST serves Binance's history only (Bybit and OKX start from their first streamed bar); with marks, trades
    ws = make_ws(Script(bars[HISTORY:], frame_delay_s=0.05, ticks=True, forming_per_bar=3))
    venues = ("binance", "bybit", "okx")
    client, feed = live_app(tmp_path, ws, make_rest(bars), venues)
    query = f"{WS}/ws/map?symbol=BTCUSDT&exchange=binance&exchange=bybit&exchange=okx&layers=true"
    with client, client.websocket_connect(query) as sock:
        got = sock.receive_json()
        while got["bars"] < len(bars) + 2 * STREAMED:  # until every venue has applied its last streamed bar
            got = sock.receive_json()
        engines = {ex: feed.runner.series[(ex, BTC)].engine for ex in venues}
    grids = [e.grid for e in engines.values()]
    assert all(np.array_equal(g, grids[0]) for g in grids)  # the first warm venue's grid, shared
    want = combine([e.liqmap() for e in engines.values()]).to_dict(layers=True)
    assert got["live"] and got["exchanges"] == list(venues) and got["last_bar_ms"] == int(bars[-1]["t"])
    for key in ("price", "price_bins", "long_usd", "short_usd", "long_by_leverage", "short_by_leverage"):
        assert got[key] == want[key], key
    assert got["price"] == pytest.approx(np.mean([e.liqmap().price for e in engines.values()]))
    for ex, e in engines.items():  # each venue's own map inside, as a batch run over several venues gives
        assert got["by_exchange"][ex]["long_usd"] == cents(e.liqmap().long_usd), ex
    inputs = {i["input"]: i for i in got["inputs"]}  # streamed marks on every bar, taker flow on every venue's
    assert inputs["mark_price"]["state"] == "real" and inputs["taker_volume"]["state"] == "real"


def test_serve_live_flags_need_live(tmp_path, capsys):
    from liqmap.cli import run

    assert run(["serve", "--db", str(tmp_path / "x.duckdb"), "--exchange", "binance"]) == 2
    assert "configure the live streams: add --live" in capsys.readouterr().err
    assert run(["serve", "--live", "--exchange", "kraken", "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "no live streams for kraken" in capsys.readouterr().err
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_dashboard_heatmap_grows_and_feed_panel_and_bubbles_show_pushed_liquidations(tmp_path, make_ws, make_rest):
    import socket
    import threading
    from pathlib import Path

    import uvicorn

    from liqmap.viz._style import fmt_price, fmt_usd

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    bars = minute_bars(HISTORY + STREAMED, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    script = Script(bars[HISTORY:], frame_delay_s=0.4, hold_at=10)  # waits after 4 closed bars for the page
    client, feed = live_app(tmp_path, make_ws(script), make_rest(bars))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        ser = feed.runner.series[("binance", BTC)]
        for _ in range(1200):  # warm: the history is stored, the page has a series to load
            if ser.engine is not None:
                break
            time.sleep(0.05)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{port}/?symbol=BTC/USDT:USDT&exchange=binance&days=1&live=1")
            page.wait_for_function("() => window.liqmap.heatmap && !window.liqmap.busy", timeout=60_000)
            loaded = page.evaluate("window.liqmap.heatmap.times_ms.length")
            script.release.set()  # the rest of the stream: pushed into the loaded page
            last = f"window.liqmap.map.last_bar_ms === {int(bars[-1]['t'])}"
            done = f"window.liqmap.feed && window.liqmap.feed.length === 6 && window.liqmap.map && {last}"
            page.wait_for_function(f"() => {done} && !window.liqmap.busy", timeout=60_000)
            rows = page.locator("#feed-table tbody tr").all_inner_texts()
            dots = page.evaluate(
                "document.getElementById('heatmap').data.find(t => t.name === 'realized liquidations')"
            )
            visible = page.is_visible("#feed-panel")
            drawn_ms = page.evaluate("window.liqmap.heatCells().x")  # the snapshots given an image column
            candles = page.evaluate(
                "(() => { const c = document.getElementById('heatmap').data.find(t => t.type === 'candlestick');"
                " return [c.x, c.close]; })()"
            )
            loaded_ms = page.evaluate("window.liqmap.heatmap.start_ms")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(30)
    assert errors == [] and visible
    orders = [b for i, b in enumerate(bars[HISTORY:]) if i % 2 == 0][::-1]  # newest first
    want = []
    for b in orders:
        ts, px = int(b["t"]) + 30_000, float(f"{b['l']:.8g}")
        hms = time.strftime("%H:%M:%S", time.gmtime(ts / 1000))
        want.append(f"{hms}\tbinance\tlong\t{fmt_price(px)}\t{fmt_usd(round(px * 0.014, 2))}")
    assert rows == want
    assert sorted(dots["x"]) == sorted(int(b["t"]) + 30_000 for b in orders)  # no order drawn twice
    # the heatmap loaded from the store mid-stream, then grew by one snapshot per pushed bar, up to the last
    assert drawn_ms == [b["t"] for b in bars if b["t"] >= loaded_ms] and len(drawn_ms) > loaded
    # every column has its candle, the pushed ones too: each closes at its bar's close
    assert candles[0] == drawn_ms and candles[1] == [float(b["c"]) for b in bars if b["t"] >= loaded_ms]


def test_a_replayed_liquidation_is_pushed_once(tmp_path):
    from liqmap.live.parsers import Liquidation

    feed = LiveFeed(LiveSettings(exchanges=("binance",), symbols=(BTC,), db=tmp_path / "x.duckdb"), keep=2)
    a, b, c = (Liquidation("binance", BTC, FIRST_MINUTE_MS + k, "long", 60_000.0, 0.01) for k in range(3))
    for liq in (a, b, a, c, a):  # a again while kept: dropped; after it left the kept window: pushed again
        feed._publish_liquidation(liq)
    assert [(n, x.timestamp - FIRST_MINUTE_MS) for n, x in feed.liquidations] == [(3, 2), (4, 0)]
    assert list(feed.liquidations_after(3, ("binance",), BTC)) == [a] and not list(
        feed.liquidations_after(0, ("okx",), BTC)
    )


def test_the_first_request_reads_through_the_runners_store(tmp_path, make_ws, make_rest):
    """The runner's store is open before the app serves: no request opens the file read-only (DuckDB would then
    refuse the runner's read-write open, or answer the request 503 while the runner opens it)."""
    bars = minute_bars(HISTORY + 2, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    client, feed = live_app(tmp_path, make_ws(Script(bars[HISTORY:], frame_delay_s=0.5)), make_rest(bars))
    with client:
        assert feed.store_reader() is not None
        r = client.get("/api/symbols")  # the new store (or its first backfilled bars), through the runner's handle
        assert r.status_code == 200 and {row["exchange"] for row in r.json()["symbols"]} <= {"binance"}


@pytest.mark.timeout(180)
def test_liqmap_serve_live_end_to_end_with_alerts_and_ctrl_c(tmp_path, make_ws, make_rest):
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys

    import httpx
    from websockets.sync.client import connect

    bars = minute_bars(HISTORY + 10, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    rest, ws = make_rest(bars), make_ws(Script(bars[HISTORY:], frame_delay_s=0.2))
    db = tmp_path / "live.duckdb"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "liqmap", "serve", "--live", "--db", str(db), "--port", str(port), "--exchange",
           "binance", "--history-minutes", str(HISTORY), "--oi-poll-s", "0.5", "--ws-url", f"binance={ws.url}",
           "--api-url", f"binance={rest.url}", "--alert-cascade", "1.0"]  # fmt: skip
    env = os.environ | {"LIQMAP_LOG_DIR": str(tmp_path)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base, origin = f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # the store is created at start: the API answers before any bar
            try:
                assert httpx.get(f"http://{base}/api/symbols", timeout=2).status_code == 200
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
        with connect(f"ws://{base}/ws/map?symbol=BTCUSDT&exchange=binance", origin=origin) as sock:
            maps = [json.loads(sock.recv(timeout=60))]
            while maps[-1]["last_bar_ms"] < bars[-1]["t"]:
                maps.append(json.loads(sock.recv(timeout=60)))
        with connect(f"ws://{base}/ws/liquidations?symbol=BTCUSDT", origin=origin) as sock:
            liqs = json.loads(sock.recv(timeout=10))
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the server stops, the runner flushes its last batch
        out, err = proc.communicate(timeout=60)
    assert all(m["live"] for m in maps) and maps[-1]["bars"] == len(bars), err
    assert liqs["count"] == 5 and set(liqs["side"]) == {"long"}
    assert "ALERT binance BTC/USDT:USDT: cascade amplification ≥ 1" in out  # the --alert-* flags of liqmap live
    assert "binance: " in err and "map p99" in err  # the streams' status line, as liqmap live prints it
    with Store(db, read_only=True) as s:
        assert s.query_bars("binance", BTC)["timestamp"].tolist() == [b["t"] for b in bars]
        assert len(s.query_liquidations("binance", BTC)) == 5
