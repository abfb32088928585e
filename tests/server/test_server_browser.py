"""The dashboard in a real browser (Debian chromium through Playwright): it loads, re-renders with the
API's data when symbol and range change, runs a cascade, follows new bars live, and is screenshotted."""

from __future__ import annotations

import base64
import csv
import io
import json
import re

import httpx
import numpy as np
import pytest
from PIL import Image

from liqmap.engine.profiles import load_profile
from liqmap.engine.results import LiqMap
from liqmap.viz._layers import Stack, layers
from liqmap.viz._style import CATEGORICAL, HEAT_STOPS, fmt_usd

pytestmark = pytest.mark.browser

DAY_MS = 86_400_000


def plot_data(page, div: str, trace: int, key: str):
    return page.evaluate(f"document.getElementById('{div}').data[{trace}].{key}")


def drawn_candles(page) -> dict:
    """The heatmap's candlestick trace: its type, x and open/high/low/close arrays as drawn."""
    pick = "(({type, x, open, high, low, close}) => ({type, x, open, high, low, close}))"
    return page.evaluate(f"{pick}(document.getElementById('heatmap').data[1])")


def heat_image(page) -> Image.Image:
    """The heatmap's image (a pixel per cell: snapshot column × price-bin row, the lowest bin in row 0)."""
    source = page.evaluate("document.getElementById('heatmap').data[0].source")
    assert source.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("RGBA")


def heat_rgba(f: float) -> tuple[int, int, int, int]:
    """liqmap.viz's HEAT_STOPS at ``f`` (0 … 1), interpolated in RGB as Plotly's colour scales, opaque."""
    stops = [(pos, [int(c[k : k + 2], 16) for k in (1, 3, 5)]) for pos, c in HEAT_STOPS]
    k = next(i for i in range(1, len(stops)) if stops[i][0] >= f or i == len(stops) - 1)
    (f0, a), (f1, b) = stops[k - 1], stops[k]
    u = min(1.0, max(0.0, (f - f0) / (f1 - f0)))
    return (*(round(x + u * (y - x)) for x, y in zip(a, b, strict=True)), 255)


def wait_for(page, condition: str) -> None:
    """Wait until ``condition`` holds and the page has nothing in flight (``window.liqmap.busy`` is 0)."""
    idle = "window.liqmap && !window.liqmap.busy"
    page.wait_for_function(f"() => ({condition}) && {idle}", timeout=60_000)  # a function: no eval (CSP)


@pytest.fixture
def page(browser):
    pg = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # CSP refusals, among others
    pg.on("requestfailed", lambda r: errors.append(f"{r.url} {r.failure}"))
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield pg
    pg.close()
    assert errors == []


def test_dashboard_renders_api_data_and_follows_selectors(page, live_server, tmp_path):
    api = httpx.Client(base_url=live_server.url, timeout=60)
    page.goto(live_server.url)
    wait_for(page, "window.liqmap.renders.cascade >= 1")
    assert page.title().startswith("liqmap")
    assert page.evaluate("typeof Plotly.version") == "string"  # served from /static, no CDN

    m = api.get("/api/map", params={"symbol": "BTC/USDT:USDT", "exchange": "binance", "days": 30, "bins": 1000}).json()
    assert plot_data(page, "map", 0, "y") == m["long_usd"] and plot_data(page, "map", 1, "y") == m["short_usd"]
    assert plot_data(page, "map", 0, "x") == m["price_bins"]
    assert page.evaluate("document.getElementById('map').layout.shapes[0].x0") == m["price"]
    every = api.get("/api/heatmap", params={"days": 30, "bins": 1000, "snapshots": 400}).json()
    hm = api.get("/api/heatmap", params={"days": 30, "bins": 1000, "snapshots": 400, "window_pct": 15}).json()
    cells = page.evaluate("window.liqmap.heatCells()")
    assert cells["x"] == hm["times_ms"]  # every snapshot has its image column(s), in order
    # candles over the heatmap, as the API computed them for the drawn snapshots (no close line)
    assert drawn_candles(page) == {"type": "candlestick", "x": hm["times_ms"], **hm["candles"]}
    assert None not in hm["candles"]["open"] and hm["candles"]["close"][-1] == hm["close"][-1]
    assert page.evaluate("document.getElementById('heatmap').data.filter(t => t.mode === 'lines').length") == 0
    # only the bins within the price axis (the close range ± 15 %) are fetched and drawn, with their values
    lo, hi = min(hm["close"]) * 0.85, max(hm["close"]) * 1.15
    inside = [p for p in every["price_bins"] if lo <= p <= hi]
    assert cells["y"] == hm["price_bins"] == inside and len(cells["z"]) == len(inside) < len(every["price_bins"]) / 2
    i0 = every["price_bins"].index(inside[0])
    assert all(row == full[i0 : i0 + len(inside)] for row, full in zip(hm["long_usd"], every["long_usd"], strict=True))
    b, t = len(inside) // 2, len(hm["times_ms"]) - 1
    total = hm["long_usd"][t][b] + hm["short_usd"][t][b]
    assert cells["z"][b][t] == pytest.approx(total) or (cells["z"][b][t] is None and total == 0)
    # each pixel is its cell in the HEAT colour of its value (clipped at zmax), an empty cell transparent
    image = heat_image(page)
    assert image.size == (len(cells["columns"]), len(inside))
    col = cells["columns"].index(t)
    totals = [lng + sht for lng, sht in zip(hm["long_usd"][t], hm["short_usd"][t], strict=True)]
    hot, empty = int(np.argmax(totals)), totals.index(0)
    for r in (hot, hot - 3, hot + 5):
        assert image.getpixel((col, r)) == heat_rgba(min(1, totals[r] / cells["zmax"])) and totals[r] > 0
    assert image.getpixel((col, empty))[3] == 0
    rows = page.locator("#levels-table tbody tr")  # the levels, gauge and cascade come from the map report
    assert rows.count() == len(m["clusters"]) > 0
    assert rows.nth(0).locator("td").nth(4).inner_text().startswith("$")
    imb = m["imbalance"]
    assert imb["window_pct"] == 5.0 and f"±{imb['window_pct']:g} %" in page.inner_text("#gauge-sub")
    share = 100 * imb["short_above_usd"] / (imb["short_above_usd"] + imb["long_below_usd"])
    assert plot_data(page, "gauge", 0, "value") == pytest.approx(share)
    # the initial cascade is the report's own (shared default shock and resilience)
    assert page.input_value("#shock") == "1" and page.evaluate("window.liqmap.cascade.cascades") == m["cascades"]
    assert plot_data(page, "cascade", 1, "y") == [r["price"] for r in m["cascades"]["up"]["rounds"]]

    # another symbol: every chart re-renders with ETH's data
    page.select_option("#symbol", "ETH/USDT:USDT")
    eth_sym = "'ETH/USDT:USDT'"
    wait_for(page, f"window.liqmap.map.symbol === {eth_sym} && window.liqmap.cascade.symbol === {eth_sym}")
    eth = api.get("/api/map", params={"symbol": "ETHUSDT", "days": 30, "bins": 1000}).json()
    assert plot_data(page, "map", 1, "y") == eth["short_usd"] and eth["price"] < 5_000
    assert "ETH/USDT:USDT" in page.inner_text("#heatmap-sub")

    # another range: 7 days
    page.select_option("#days", "7")
    wait_for(page, "window.liqmap.heatmap.bars < 200 && window.liqmap.cascade.bars < 200")
    eth7 = api.get("/api/heatmap", params={"symbol": "ETHUSDT", "days": 7, "bins": 1000, "snapshots": 400}).json()
    assert eth7["bars"] == 169 and eth7["end_ms"] - eth7["start_ms"] == 7 * DAY_MS
    assert page.evaluate("window.liqmap.heatCells().x") == eth7["times_ms"]
    assert drawn_candles(page) == {"type": "candlestick", "x": eth7["times_ms"], **eth7["candles"]}

    # the cascade panel: a +3 % shock
    page.fill("#shock", "3")
    page.click("#cascade-form button")
    wait_for(page, "window.liqmap.cascade.cascades.up.shock_pct === 3")
    c = api.get("/api/cascade", params={"symbol": "ETHUSDT", "days": 7, "bins": 1000, "shock_pct": 3}).json()
    assert plot_data(page, "cascade", 1, "y") == [r["price"] for r in c["cascades"]["up"]["rounds"]]
    assert "amplification" in page.inner_text("#cascade-summary")

    # per-leverage layers: the long layers, then the short ones, of every leverage of the profile (and the curves)
    page.check("#layers")
    levs = load_profile().config().leverages
    wait_for(page, f"document.getElementById('map').data.length === {2 * len(levs) + 2}")
    lay = api.get("/api/map", params={"symbol": "ETHUSDT", "days": 7, "bins": 1000, "layers": "true"}).json()
    assert [plot_data(page, "map", k, "name") for k in range(len(levs))] == [f"{x:g}x" for x in levs]
    assert plot_data(page, "map", len(levs) - 1, "y") == lay["long_by_leverage"][len(levs) - 1]
    assert plot_data(page, "map", 2 * len(levs) - 1, "y") == lay["short_by_leverage"][len(levs) - 1]
    stacks = "document.getElementById('map').data.map(t => [t.stackgroup || null, (t.line || {}).shape || null])"
    assert page.evaluate(stacks) == [["layers", "hvh"]] * (2 * len(levs)) + [[None, None]] * 2  # stacked columns

    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000


def test_live_toggle_redraws_on_new_bar(page, serve, writable_db, add_bar):
    server = serve(writable_db, poll_interval_s=0.2)
    page.goto(server.url)
    wait_for(page, "window.liqmap.renders.cascade >= 1")
    page.check("#live")
    wait_for(page, "window.liqmap.ws && window.liqmap.ws.readyState === 1")
    before = page.evaluate("window.liqmap.map.last_bar_ms")
    new_ms = add_bar(writable_db, close=77_777.0)
    wait_for(page, f"window.liqmap.map.last_bar_ms === {new_ms} && window.liqmap.cascade.last_bar_ms === {new_ms}")
    assert new_ms == before + 3_600_000
    assert page.evaluate("document.getElementById('map').layout.shapes[0].x0") == 77_777.0
    assert drawn_candles(page)["close"][-1] == 77_777.0  # the new bar's candle
    assert "2026-03-05 11:00" in page.inner_text("#status")


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_api_docs_render_offline_under_the_csp(browser, live_server, path, rendered):
    pg = browser.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        pg.goto(live_server.url + path)
        pg.wait_for_selector(f"{rendered}:has-text('liqmap')", timeout=60_000)
    finally:
        pg.close()
    # the one outside request: ReDoc's "powered by" logo, which the CSP refuses (no CDN is reached)
    assert [p for p in problems if "cdn.redoc.ly/redoc/logo-mini.svg" not in p] == []


# ---------------------------------------------------------------- issue 15: the trading screen

USD_CASES = [0, 0.4, -1.8e-6, 2.5, 930, 999.4, 999.6, 12_500, 641.2e6, 1.234e9, 5.5e9, -3.4e6, 2.1e12, 99.96e6, 9.996e3]
USD_TICK = re.compile(r"^-?\$\d+(\.\d+)?[KMBT]?$")


def open_dashboard(page, live_server, query: str = "") -> None:
    page.goto(live_server.url + "/" + query)
    wait_for(page, "window.liqmap.cascade !== null && window.liqmap.renders.cascade >= 1")


def axis(page, div: str, name: str) -> dict:
    return page.evaluate(
        f"(() => {{ const a = document.getElementById('{div}').layout.{name}; "
        "return {vals: a.tickvals, text: a.ticktext}; })()"
    )


def map_lm(m: dict) -> LiqMap:
    """The LiqMap of an /api/map response (to ask liqmap.viz what colours it gives its layers)."""
    lev = bool(m["leverages"])
    return LiqMap(
        symbol=m["symbol"],
        as_of_ms=m["as_of_ms"],
        price=m["price"],
        price_bins=np.array(m["price_bins"]),
        long_usd=np.array(m["long_usd"]),
        short_usd=np.array(m["short_usd"]),
        leverages=tuple(m["leverages"]),
        long_by_leverage=np.array(m["long_by_leverage"]) if lev else None,
        short_by_leverage=np.array(m["short_by_leverage"]) if lev else None,
        by_exchange={k: (np.array(v["long_usd"]), np.array(v["short_usd"])) for k, v in m["by_exchange"].items()},
    )


def test_fixes_units_curves_palette_status_exchanges_warnings(page, live_server):
    api = httpx.Client(base_url=live_server.url, timeout=60)
    open_dashboard(page, live_server)
    # one money formatter, liqmap.viz.fmt_usd's rules
    assert page.evaluate(f"{USD_CASES}.map(window.liqmap.fmt.usd)") == [fmt_usd(v) for v in USD_CASES]
    # every money axis: round ticks in trader units (never $5.5G, $930n, -$1.8µ), as rendered
    for div, name in [("map", "yaxis"), ("map", "yaxis2"), ("asymmetry", "yaxis"), ("cascade", "yaxis2")]:
        a = axis(page, div, name)
        assert a["text"] == [fmt_usd(v) for v in a["vals"]] and len(a["vals"]) >= 3, (div, name)
    shown = page.eval_on_selector_all(
        "#map .ytick text, #map .y2tick text, #asymmetry .ytick text", "ts => ts.map(t => t.textContent)"
    )
    assert shown and all(USD_TICK.match(t) for t in shown), shown
    bar = page.evaluate(
        "document.getElementById('heatmap').data.find(t => t.marker && t.marker.showscale).marker.colorbar.ticktext"
    )
    assert bar and all(USD_TICK.match(t) for t in bar)
    # the cumulative curves come after the layers, on the overlaying axis, over see-through layers: a column per
    # bin (a step area whose steps fall halfway between bin centres) in the layer's colour at 70 % opacity
    pick = "t => [t.yaxis || 'y', t.fill || null, (t.line || {}).shape, t.fillcolor]"
    data = page.evaluate(f"document.getElementById('map').data.map({pick})")
    assert [d[:2] for d in data[-2:]] == [["y2", None], ["y2", None]]
    assert [d[:3] for d in data[:-2]] == [["y", "tozeroy", "hvh"]] * 2
    assert [d[3] for d in data[:-2]] == ["rgba(246, 70, 93, 0.7)", "rgba(14, 203, 129, 0.7)"]  # C.long, C.short

    # leverage layers: the categorical palette of liqmap.viz, the same colour on both sides
    page.check("#layers")
    wait_for(page, "window.liqmap.map.leverages.length > 0 && document.getElementById('map').data.length > 4")
    m = page.evaluate("window.liqmap.map")
    expected = {layer.name: layer.color for layer in layers(map_lm(m), Stack.LEVERAGE)}
    bars = page.evaluate("document.getElementById('map').data.filter(t => t.stackgroup).map(t => t.line.color)")
    n = len(m["leverages"])
    assert bars == [expected[f"longs {lev:g}x"] for lev in m["leverages"]] + [
        expected[f"shorts {lev:g}x"] for lev in m["leverages"]
    ]
    assert bars[n - 1] == CATEGORICAL[0] and len(set(bars[:n])) == n  # 100x sky blue, all distinct
    page.uncheck("#layers")
    wait_for(page, "window.liqmap.map.leverages.length === 0")

    # an end date: the status shows the window queried, not the store's last bar
    page.fill("#end", "2026-02-01")
    page.dispatch_event("#end", "change")
    wait_for(
        page,
        "window.liqmap.map.end_ms < 1770000000000 && document.getElementById('status').textContent.includes('map at')",
    )
    status = page.inner_text("#status")
    assert "→ 2026-02-01 23:59 UTC" in status and "map at 2026-02-01 23:00" in status
    assert "store's last bar 2026-03-05 10:00 UTC" in status and "profile default" in status
    page.fill("#end", "")
    page.dispatch_event("#end", "change")
    wait_for(page, "window.liqmap.map.end_ms === window.liqmap.map.last_bar_ms")

    # unticking the only exchange is refused, visibly
    page.click("#exchanges input[value=binance]")
    assert page.is_checked("#exchanges input[value=binance]")
    assert "keep at least one exchange ticked" in page.inner_text("#status")
    assert "error" in page.get_attribute("#status", "class")

    # data warnings are shown as text
    page.select_option("#days", "90")
    wait_for(page, "window.liqmap.map.warnings.length > 0 && !document.getElementById('warnings-panel').hidden")
    want = api.get("/api/map", params={"days": 90, "bins": 1000}).json()["warnings"]
    assert page.eval_on_selector_all("#warnings li", "ls => ls.map(l => l.textContent)") == want
    assert "bar(s) without open interest" in want[0] and f"{len(want)} data warning(s)" in page.inner_text("#status")


def test_every_control_is_in_the_url_and_exports_what_is_shown(page, live_server, tmp_path):
    api = httpx.Client(base_url=live_server.url, timeout=60)
    q = "?symbol=BTC/USDT:USDT&exchange=okx&model=volume&days=7&bins=500&threshold=5&layers=1&shock=-2&resilience=0.1"
    open_dashboard(page, live_server, q)
    wait_for(page, "window.liqmap.cascade.cascades.down.shock_pct === -2")
    m = page.evaluate("window.liqmap.map")
    assert (m["symbol"], m["exchanges"], m["model"], m["bars"]) == ("BTC/USDT:USDT", ["okx"], "volume", 169)
    assert len(m["price_bins"]) == 500 and m["leverages"] and page.is_checked("#layers")
    assert page.input_value("#threshold") == "5" and page.inner_text("#threshold-out") == "5 %"
    assert page.input_value("#shock") == "-2" and page.input_value("#resilience") == "0.1"
    # a change lands in the URL; reloading the URL restores it
    page.select_option("#model", "oi-delta")
    wait_for(
        page,
        "window.liqmap.cascade.model === 'oi-delta' && $('status').textContent.includes('map at')",
    )
    assert "model=oi-delta" in page.url
    url = page.url
    for part in (
        "symbol=BTC%2FUSDT%3AUSDT",
        "exchange=okx",
        "days=7",
        "bins=500",
        "threshold=5",
        "layers=1",
        "shock=-2",
    ):
        assert part in url
    page.goto(url)
    wait_for(
        page, "window.liqmap.map !== null && window.liqmap.map.model === 'oi-delta' && window.liqmap.cascade !== null"
    )
    assert page.evaluate("window.liqmap.map.exchanges") == ["okx"] and page.input_value("#symbol") == "BTC/USDT:USDT"

    # CSV: the map's bins in view, with the layers drawn
    with page.expect_download() as dl:
        page.click("#export-csv")
    rows = list(csv.reader(dl.value.path().read_text().splitlines()))
    m = page.evaluate("window.liqmap.map")
    want = api.get(
        "/api/map", params={"symbol": "BTCUSDT", "exchange": "okx", "days": 7, "bins": 500, "layers": "true"}
    ).json()
    assert rows[0][:5] == ["price", "long_usd", "short_usd", "long_cumulative_usd", "short_cumulative_usd"]
    assert "longs_100x_usd" in rows[0] and "shorts_2x_usd" in rows[0]
    inview = [i for i, p in enumerate(want["price_bins"]) if abs(p - want["price"]) <= 0.15 * want["price"]]
    assert [float(r[0]) for r in rows[1:]] == [want["price_bins"][i] for i in inview]
    assert [float(r[1]) for r in rows[1:]] == [want["long_usd"][i] for i in inview]
    # JSON: the responses on screen
    with page.expect_download() as dl:
        page.click("#export-json")
    body = json.loads(dl.value.path().read_text())
    assert body["map"] == m and body["heatmap"]["times_ms"] == page.evaluate("window.liqmap.heatmap.times_ms")
    assert (
        body["cascade"]["cascades"] == page.evaluate("window.liqmap.cascade.cascades")
        and "model=oi-delta" in body["url"]
    )
    # PNG: Plotly's toImage of the chart
    with page.expect_download() as dl:
        page.click("#export-png-map")
    png = dl.value.path().read_bytes()
    assert dl.value.suggested_filename.endswith("_map.png") and png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_threshold_hides_weak_levels_and_hover_reads_the_bin(page, live_server):
    open_dashboard(page, live_server)
    nonnull = "window.liqmap.heatCells().z.flat().filter(v => v !== null)"
    before, painted = page.evaluate(f"{nonnull}.length"), heat_image(page).getchannel("A").histogram()[255]
    page.fill("#threshold", "20")
    wait_for(page, "document.getElementById('threshold-out').textContent === '20 %'")
    zmax = page.evaluate("window.liqmap.heatCells().zmax")
    cells = page.evaluate(nonnull)
    assert 0 < len(cells) < before and min(cells) >= 0.2 * zmax
    assert 0 < heat_image(page).getchannel("A").histogram()[255] < painted  # the weak cells' pixels left out
    m = page.evaluate("window.liqmap.map")
    biggest = max(max(m["long_usd"]), max(m["short_usd"]))
    longs, shorts = plot_data(page, "map", 0, "y"), plot_data(page, "map", 1, "y")
    for i, (lng, sht) in enumerate(zip(m["long_usd"], m["short_usd"], strict=True)):
        assert longs[i] == (lng if lng >= 0.2 * biggest else 0) and shorts[i] == (sht if sht >= 0.2 * biggest else 0)
    assert "bins < " in page.inner_text("#map-sub") and "cells < " in page.inner_text("#heatmap-sub")
    assert "threshold=20" in page.url

    # hover a map bin (the mouse over the largest long bin): long / short / total, bin width, distance to
    # price, cumulative to price
    target = int(np.argmax(m["long_usd"]))
    hover(page, "map", m["price_bins"][target], None)
    i = page.evaluate("window.liqmap.hovered.map")
    assert abs(i - target) <= 1
    text = page.inner_text("#map-readout")
    p = m["price_bins"][i]
    assert (
        f"(bin {fmt_usd(m['bin_usd'])})" in text and f"{100 * (p - m['price']) / m['price']:+.2f} % from price" in text
    )
    assert f"longs {fmt_usd(m['long_usd'][i])}" in text and f"shorts {fmt_usd(m['short_usd'][i])}" in text
    assert f"total {fmt_usd(m['long_usd'][i] + m['short_usd'][i])}" in text
    assert f"cum. longs to price {fmt_usd(m['long_cumulative_usd'][i])}" in text
    # hover a heatmap cell (the hottest of a late snapshot): its values, distance and cumulative to that close
    hm = page.evaluate("window.liqmap.heatmap")
    t0 = len(hm["times_ms"]) - 20
    b0 = int(np.argmax(np.add(hm["long_usd"][t0], hm["short_usd"][t0])))
    hover(page, "heatmap", hm["times_ms"][t0], hm["price_bins"][b0])
    cell = page.evaluate("window.liqmap.hovered.heatmap")
    t, b = cell["t"], cell["b"]
    assert abs(t - t0) <= 2 and abs(b - b0) <= 3
    text = page.inner_text("#heatmap-readout")
    close, p = hm["close"][t], hm["price_bins"][b]
    bins = range(len(hm["price_bins"]))
    if p < close:
        cum, side = sum(hm["long_usd"][t][j] for j in bins if p <= hm["price_bins"][j] < close), "longs"
    else:
        cum, side = sum(hm["short_usd"][t][j] for j in bins if close < hm["price_bins"][j] <= p), "shorts"
    assert f"longs {fmt_usd(hm['long_usd'][t][b])}" in text and f"shorts {fmt_usd(hm['short_usd'][t][b])}" in text
    assert f"cum. {side} to price {fmt_usd(cum)}" in text and f"{100 * (p - close) / close:+.2f} % from" in text
    assert f"(bin {fmt_usd(hm['bin_usd'])})" in text


def hover(page, div: str, x: float, y: float | None) -> None:
    """Move the mouse over data coordinates (x, y) of a chart (y None: the middle) and wait for its readout."""
    js = (
        f"(() => {{ const gd = document.getElementById('{div}'); const r = gd.querySelector('.nsewdrag')"
        f".getBoundingClientRect(); const L = gd._fullLayout; return [r.left + L.xaxis.l2p({x}), "
        f"{'r.top + r.height / 2' if y is None else f'r.top + L.yaxis.l2p({y})'}]; }})()"
    )
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(f"#{div}").scroll_into_view_if_needed()
    px, py = page.evaluate(js)
    page.mouse.move(px - 3, py)
    page.mouse.move(px, py, steps=3)
    wait_for(page, f"document.getElementById('{div}-readout').textContent.includes('cum.')")


def test_realized_liquidations_on_heatmap_and_map(page, live_server):
    api = httpx.Client(base_url=live_server.url, timeout=60)
    open_dashboard(page, live_server, "?symbol=BTC/USDT:USDT&exchange=okx&days=30")
    wait_for(page, "window.liqmap.liquidations && window.liqmap.liquidations.count > 0")
    hm = page.evaluate("window.liqmap.heatmap")
    liq = api.get(
        "/api/liquidations",
        params={"symbol": "BTCUSDT", "exchange": "okx", "start_ms": hm["start_ms"], "end_ms": hm["end_ms"]},
    ).json()
    assert liq["count"] > 1000
    dots = page.evaluate("document.getElementById('heatmap').data.find(t => t.name === 'realized liquidations')")
    assert dots["x"] == liq["times_ms"] and dots["y"] == liq["price"]
    order = np.argsort(liq["notional_usd"], kind="stable")
    sizes = np.array(dots["marker"]["size"])[order]
    assert np.all(np.diff(sizes) >= 0) and sizes[-1] > 3 * sizes[0]  # larger orders, larger dots
    assert set(dots["marker"]["color"]) == {"#f6465d", "#0ecb81"}
    ticks = page.evaluate("document.getElementById('map').data.find(t => t.name === 'realized liq.')")
    assert ticks["x"] == liq["price"] and ticks["marker"]["symbol"] == "line-ns-open"
    assert f"{liq['count']:,} realized liquidations" in page.inner_text("#heatmap-sub")
    page.uncheck("#liqs")
    wait_for(page, "window.liqmap.liquidations === null")
    assert (
        page.evaluate("document.getElementById('heatmap').data.some(t => t.name === 'realized liquidations')") is False
    )
    assert page.evaluate("document.getElementById('map').data.some(t => t.name === 'realized liq.')") is False


def test_leverage_filter_drives_map_levels_imbalance_and_cascade(page, live_server):
    api = httpx.Client(base_url=live_server.url, timeout=60)
    open_dashboard(page, live_server)
    page.fill("#lev-min", "50")
    page.fill("#lev-max", "100")
    page.dispatch_event("#lev-max", "change")
    wait_for(
        page, "window.liqmap.map.leverage_filter === '50x–100x' && window.liqmap.cascade.leverage_filter === '50x–100x'"
    )
    full = api.get("/api/map", params={"days": 30, "bins": 1000, "layers": "true"}).json()
    keep = [k for k, lev in enumerate(full["leverages"]) if 50 <= lev <= 100]
    m = page.evaluate("window.liqmap.map")
    assert m["total_long_usd"] == pytest.approx(sum(sum(full["long_by_leverage"][k]) for k in keep), abs=1)
    assert m["total_short_usd"] == pytest.approx(sum(sum(full["short_by_leverage"][k]) for k in keep), abs=1)
    want = api.get("/api/map", params={"days": 30, "bins": 1000, "min_leverage": 50, "max_leverage": 100}).json()
    assert plot_data(page, "map", 0, "y") == want["long_usd"]
    rows = page.locator("#levels-table tbody tr")
    assert rows.count() == len(want["clusters"])
    assert rows.nth(0).locator("td").nth(4).inner_text() == fmt_usd(want["clusters"][0]["notional_usd"])
    imb = want["imbalance"]
    assert plot_data(page, "gauge", 0, "value") == pytest.approx(
        100 * imb["short_above_usd"] / (imb["short_above_usd"] + imb["long_below_usd"])
    )
    assert set(imb["by_leverage"]) == {"50x", "100x"}
    assert "leverage 50x–100x" in page.inner_text("#map-sub") and "leverage 50x–100x" in page.inner_text("#levels-sub")
    assert page.evaluate("window.liqmap.cascade.cascades") == want["cascades"]
    assert "lev_min=50" in page.url and "lev_max=100" in page.url


def test_time_scrubber_brush_and_intraday_end(page, live_server):
    api = httpx.Client(base_url=live_server.url, timeout=60)
    open_dashboard(page, live_server)
    hm = page.evaluate("window.liqmap.heatmap")
    page.fill("#at", "200")
    t = hm["times_ms"][200]
    wait_for(page, f"window.liqmap.map.as_of_ms === {t} && window.liqmap.cascade.as_of_ms === {t}")
    want = api.get("/api/map", params={"days": 30, "bins": 1000, "at_ms": t}).json()
    assert (
        plot_data(page, "map", 0, "y") == want["long_usd"] and page.evaluate("window.liqmap.map.price") == want["price"]
    )
    assert page.evaluate("document.getElementById('heatmap').layout.shapes[0].x0") == t
    assert f"at={t}" in page.url and "(latest)" not in page.inner_text("#at-label")
    page.click("#at-latest")
    wait_for(page, f"window.liqmap.map.as_of_ms === {hm['end_ms']}")

    # brushing a range on the heatmap sets the window's end and length
    box = page.locator("#heatmap .nsewdrag").first.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, y, steps=8)
    page.mouse.up()
    wait_for(page, "document.getElementById('end').value !== '' && window.liqmap.heatmap.bars < 400")
    got = page.evaluate("window.liqmap.heatmap")
    span = hm["end_ms"] - hm["start_ms"]
    assert got["end_ms"] - got["start_ms"] == pytest.approx(0.2 * span, rel=0.15)
    assert got["end_ms"] == pytest.approx(hm["start_ms"] + 0.7 * span, abs=0.03 * span)
    assert page.input_value("#end-time") != "" and "days" in page.inner_text("#days option.custom")

    # intraday end time
    page.fill("#end", "2026-02-01")
    page.fill("#end-time", "12:00")
    page.dispatch_event("#end-time", "change")
    end = 1_769_947_200_000  # 2026-02-01 12:00 UTC
    wait_for(page, f"window.liqmap.map.end_ms === {end}")
    assert page.evaluate("window.liqmap.map.as_of_ms") == end and "time=12%3A00" in page.url


def test_several_exchanges_get_their_own_colours(page, live_server):
    open_dashboard(page, live_server)
    page.check("#exchanges input[value=bybit]")
    wait_for(
        page, "window.liqmap.map.exchanges.length === 2 && Object.keys(window.liqmap.map.by_exchange).length === 2"
    )
    m = page.evaluate("window.liqmap.map")
    expected = {layer.name: layer.color for layer in layers(map_lm(m), Stack.EXCHANGE)}
    bars = page.evaluate(
        "document.getElementById('map').data.filter(t => t.stackgroup).map(t => [t.name, t.line.color])"
    )
    assert bars == [
        ["binance", expected["longs binance"]],
        ["bybit", expected["longs bybit"]],
        ["shorts binance", expected["shorts binance"]],
        ["shorts bybit", expected["shorts bybit"]],
    ]
    assert expected["longs binance"] == CATEGORICAL[0] and expected["longs bybit"] == CATEGORICAL[1]
    assert plot_data(page, "map", 1, "y") == m["by_exchange"]["bybit"]["long_usd"]


def test_input_badges_say_what_is_real_proxy_or_missing(page, live_server):
    api = httpx.Client(base_url=live_server.url, timeout=60)
    open_dashboard(page, live_server)
    read = "bs => bs.map(b => [b.textContent, b.className, b.title])"
    wait_for(page, "document.querySelectorAll('#inputs .badge').length === 6")
    badges = page.eval_on_selector_all("#inputs .badge", read)
    m = api.get("/api/map", params={"days": 30, "bins": 1000}).json()
    # the bundled sample, Binance BTC, 30 days: OI a proxy (recorded by the sample loader), no taker volume,
    # no mark price, no realized liquidations stored for binance, binance's bundled tiers
    assert [b[0] for b in badges] == [
        "OI proxy 721/721 bars",
        "funding real 721/721 bars",
        "taker volume missing",
        "mark missing",
        "realized liquidations missing",
        "tiers real",
    ]
    assert [b[1] for b in badges] == [
        "badge proxy", "badge real", "badge missing", "badge missing", "badge missing", "badge real"
    ]  # fmt: skip
    assert [b[2] for b in badges] == [i["detail"] for i in m["inputs"]]  # how each is known, on hover
    assert "Hyperliquid's hourly OI path" in badges[0][2] and "profile default" in page.inner_text("#status")
    # OKX ticked too: its stored realized liquidations of the window are counted
    page.check("#exchanges input[value=okx]")
    wait_for(
        page,
        "window.liqmap.map.exchanges.length === 2 && document.querySelector('#inputs .badge:nth-child(5)')"
        ".textContent.includes(' real ')",
    )
    both = api.get("/api/map", params=[("exchange", "binance"), ("exchange", "okx"), ("days", 30), ("bins", 1000)])
    liq = {i["input"]: i for i in both.json()["inputs"]}["liquidations"]
    assert page.inner_text("#inputs .badge:nth-child(5)") == f"realized liquidations real {liq['stored']:,}"
    assert liq["stored"] > 0
