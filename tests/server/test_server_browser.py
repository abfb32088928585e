"""The dashboard in a real browser (Debian chromium through Playwright): it loads, re-renders with the
API's data when symbol and range change, runs a cascade, follows new bars live, and is screenshotted."""

from __future__ import annotations

import httpx
import pytest

from liqmap.engine.profiles import load_profile

pytestmark = pytest.mark.browser

DAY_MS = 86_400_000


def plot_data(page, div: str, trace: int, key: str):
    return page.evaluate(f"document.getElementById('{div}').data[{trace}].{key}")


def wait_for(page, condition: str) -> None:
    page.wait_for_function(f"() => {condition}", timeout=60_000)  # a function: no eval, which the CSP forbids


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
    hm = api.get("/api/heatmap", params={"days": 30, "bins": 1000, "snapshots": 400}).json()
    assert plot_data(page, "heatmap", 1, "y") == hm["close"] and plot_data(page, "heatmap", 0, "x") == hm["times_ms"]
    assert page.evaluate("document.getElementById('heatmap').data[0].z.length") == 1000
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
    assert plot_data(page, "heatmap", 0, "x") == eth7["times_ms"]
    assert plot_data(page, "heatmap", 1, "y") == eth7["close"]

    # the cascade panel: a +3 % shock
    page.fill("#shock", "3")
    page.click("#cascade-form button")
    wait_for(page, "window.liqmap.cascade.cascades.up.shock_pct === 3")
    c = api.get("/api/cascade", params={"symbol": "ETHUSDT", "days": 7, "bins": 1000, "shock_pct": 3}).json()
    assert plot_data(page, "cascade", 1, "y") == [r["price"] for r in c["cascades"]["up"]["rounds"]]
    assert "amplification" in page.inner_text("#cascade-summary")

    # per-leverage layers: one stacked pair per leverage of the profile (plus the two cumulative curves)
    page.check("#layers")
    levs = load_profile().config().leverages
    wait_for(page, f"document.getElementById('map').data.length === {2 * len(levs) + 2}")
    lay = api.get("/api/map", params={"symbol": "ETHUSDT", "days": 7, "bins": 1000, "layers": "true"}).json()
    assert [plot_data(page, "map", 2 * k, "name") for k in range(len(levs))] == [f"{x:g}x" for x in levs]
    assert plot_data(page, "map", 2 * len(levs) - 2, "y") == lay["long_by_leverage"][len(levs) - 1]
    assert page.evaluate("document.getElementById('map').layout.barmode") == "stack"

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
    assert plot_data(page, "heatmap", 1, "y")[-1] == 77_777.0
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
