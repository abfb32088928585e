"""The scan page (``/scan``): a table of ``GET /api/scan`` whose rows link to each series' map."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import httpx
import pytest


def test_scan_page_and_script_are_served(client):
    page = client.get("/scan")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/scan.js"></script>' in page.text and 'id="scan-table"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    js = client.get("/static/scan.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "/api/scan?" in js.text


@pytest.mark.browser
def test_scan_page_renders_the_api_rows_and_links_to_maps(browser, live_server):
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{live_server.url}/scan")
        page.wait_for_function("() => window.liqmapScan.renders >= 1", timeout=120_000)
        api = httpx.get(f"{live_server.url}/api/scan", timeout=120).json()
        rows = page.locator("#scan-table tbody tr")
        assert rows.count() == len(api["rows"]) == 15
        first = api["rows"][0]
        assert (first["exchange"], first["symbol"]) == ("binance", "BTC/USDT:USDT")
        link = rows.nth(0).locator("a")
        assert link.inner_text() == "BTC/USDT:USDT"
        assert link.get_attribute("href") == "/?symbol=BTC%2FUSDT%3AUSDT&exchange=binance&model=oi-delta"
        assert rows.nth(0).locator("td").nth(12).inner_text() == first["tiers"] == "bundled"
        page.click("th[data-sort=imbalance_ratio]")  # sort by the imbalance, highest first after a second click
        page.wait_for_function("() => window.liqmapScan.renders >= 2", timeout=120_000)
        page.click("th[data-sort=imbalance_ratio]")
        page.wait_for_function("() => window.liqmapScan.renders >= 3 && window.liqmapScan.desc", timeout=120_000)
        ratios = page.evaluate("window.liqmapScan.scan.rows.map((r) => r.imbalance_ratio)")
        assert ratios == sorted(ratios, reverse=True)
        assert rows.nth(0).locator("td").nth(5).inner_text() == f"{ratios[0]:.2f}"
        top = page.evaluate("window.liqmapScan.scan.rows[0]")
        href = link.get_attribute("href")
        assert href == f"/?{urlencode({'symbol': top['symbol'], 'exchange': top['exchange'], 'model': 'oi-delta'})}"
        link.click()  # the row opens that series' map on the dashboard
        page.wait_for_url("**/?symbol=*")
        assert f"symbol={quote(top['symbol'], safe='')}" in page.url
    finally:
        page.close()
    assert errors == []
