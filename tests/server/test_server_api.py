"""HTTP API: real values, validation messages and caching, over injected services."""

from __future__ import annotations

import numpy as np
import pytest

DAY_MS = 86_400_000
BTC = "BTC/USDT:USDT"


def test_symbols_lists_each_stored_series(client, harness):
    body = client.get("/api/symbols").json()
    rows = {(r["exchange"], r["symbol"]): r for r in body["symbols"]}
    assert set(rows) == {("binance", BTC), ("bybit", BTC)}
    b = harness.store.bars
    binance = b[b["exchange"] == "binance"]
    assert rows[("binance", BTC)] == {
        "exchange": "binance",
        "symbol": BTC,
        "first_ms": int(binance["timestamp"].min()),
        "last_ms": int(binance["timestamp"].max()),
        "rows": len(binance),
    }


def test_map_equals_engine_liqmap_for_same_query(client, harness):
    r = client.get("/api/map", params={"symbol": "BTCUSDT", "exchange": "binance", "days": 30, "bins": 400})
    assert r.status_code == 200, r.text
    body = r.json()
    bars = harness.store.query_bars(["binance"], BTC, None, None)
    last = int(bars["timestamp"].max())
    window = bars[bars["timestamp"] >= last - 30 * DAY_MS]
    lm = harness.engine(window, "oi-delta", 400, None).liqmap()
    assert body["symbol"] == BTC and body["exchanges"] == ["binance"] and body["model"] == "oi-delta"
    assert body["start_ms"] == last - 30 * DAY_MS and body["end_ms"] == last == body["as_of_ms"]
    assert body["bars"] == len(window) == 721
    assert body["price"] == float(bars["close"].iloc[-1])
    assert len(body["price_bins"]) == 400
    np.testing.assert_allclose(body["long_usd"], lm.long_usd, rtol=1e-12)
    np.testing.assert_allclose(body["short_cumulative_usd"], lm.short_cumulative_usd, rtol=1e-12)
    np.testing.assert_allclose(body["long_cumulative_usd"], lm.long_cumulative_usd, rtol=1e-12)
    assert body["total_long_usd"] == pytest.approx(lm.long_usd.sum(), rel=1e-12)
    assert body["total_short_usd"] == pytest.approx(lm.short_usd.sum(), rel=1e-12)
    assert "not where price must go" in body["caveat"]


def test_map_at_time_and_two_exchanges(client, harness):
    bars = harness.store.bars
    at = int(np.sort(bars["timestamp"].unique())[-100])
    body = client.get(
        "/api/map", params=[("exchange", "binance"), ("exchange", "bybit"), ("at_ms", at + 1), ("days", 10)]
    ).json()
    assert body["exchanges"] == ["binance", "bybit"] and body["as_of_ms"] == at
    assert body["bars"] == 2 * (10 * 24 + 1)


def test_heatmap_thins_snapshots_and_keeps_close(client, harness):
    body = client.get("/api/heatmap", params={"days": 20, "bins": 100, "snapshots": 50}).json()
    assert len(body["times_ms"]) == 50 and len(body["price_bins"]) == 100
    assert np.shape(body["long_usd"]) == (50, 100) == np.shape(body["short_usd"])
    bars = harness.store.query_bars(["binance"], BTC, None, None).set_index("timestamp")
    assert body["close"] == bars.loc[body["times_ms"], "close"].tolist()
    assert body["times_ms"][0] == body["start_ms"] and body["times_ms"][-1] == body["end_ms"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"bins": 5000}, 422, "less than or equal to 4000"),
        ({"bins": 3}, 422, "greater than or equal to 10"),
        ({"days": 400}, 422, "less than or equal to 366"),
        ({"days": 0}, 422, "greater than 0"),
        ({"exchange": "ftx"}, 422, "'binance', 'bybit'"),
        ({"model": "magic"}, 422, "'oi-delta', 'volume' or 'uniform'"),
        ({"symbol": "../etc/passwd"}, 422, "String should match pattern"),
        ({"symbol": "DOGEUSDT"}, 404, "no bars stored for DOGE/USDT:USDT on binance"),
        ({"start_ms": 2, "end_ms": 1}, 422, "start_ms (2) must be before end_ms (1)"),
        ({"start_ms": 0}, 422, "exceeds the 366-day cap"),
        ({"end_ms": 1_000}, 404, "no bars for BTC/USDT:USDT on binance in [0, 1000]"),
        ({"bin_usd": 0.5}, 422, "use a wider bin"),
        ({"at_ms": 5}, 422, "no snapshot at or before 5"),
    ],
)
def test_bad_parameters_get_4xx_with_clear_message(client, params, status, message):
    r = client.get("/api/map", params=params)
    assert r.status_code == status, r.text
    assert message in r.text


def test_heatmap_cell_cap(client):
    r = client.get("/api/heatmap", params={"bins": 4000, "snapshots": 1000, "days": 60})
    assert r.status_code == 422 and "exceeds 2,000,000 cells" in r.json()["detail"]


def test_results_cached_per_query_and_last_bar(client, harness):
    params = {"days": 5, "bins": 200}
    first = client.get("/api/map", params=params).json()
    client.get("/api/map", params=params)
    client.get("/api/levels", params=params)  # same engine run, different view
    assert harness.calls == ["oi-delta"]
    client.get("/api/map", params={**params, "model": "volume"})
    assert harness.calls == ["oi-delta", "volume"]
    cache = client.app.state.liqmap.response_cache
    assert cache.hits >= 1 and len(cache) == 3
    # a new bar changes the key: the next request recomputes and moves the map forward
    nxt = harness.store.query_bars(["binance"], BTC, None, None).tail(1).copy()
    nxt["timestamp"] += 3_600_000
    nxt[["open", "high", "low", "close"]] = 100_000.0
    harness.store.append(nxt)
    import time

    time.sleep(0.06)  # > poll_interval_s of the test app
    second = client.get("/api/map", params=params).json()
    assert second["as_of_ms"] == first["as_of_ms"] + 3_600_000 and second["price"] == 100_000.0
    assert harness.calls == ["oi-delta", "volume", "oi-delta"]


def test_levels_match_analytics(client, harness):
    from liqmap.analytics.levels import key_levels

    body = client.get("/api/levels", params={"days": 30, "bins": 500, "top": 3, "window_pct": 15}).json()
    bars = harness.store.query_bars(["binance"], BTC, body["start_ms"], None)
    lm = harness.engine(bars, "oi-delta", 500, None).liqmap()
    assert [c["peak_price"] for c in body["clusters"]] == [c.peak_price for c in key_levels(lm, top=3)]
    assert body["imbalance"]["window_pct"] == 15
    assert body["imbalance"]["short_above_usd"] > 0 and body["imbalance"]["long_below_usd"] > 0


def test_cascade_passes_shock_and_rejects_zero(client):
    body = client.get("/api/cascade", params={"shock_pct": -2}).json()
    assert body["shock_pct"] == -2 and body["final_price"] == pytest.approx(body["start_price"] * 0.96)
    assert [r["liquidated_usd"] for r in body["rounds"]] == [1.0, 2.0]
    r = client.get("/api/cascade", params={"shock_pct": 0})
    assert r.status_code == 422 and "non-zero" in r.json()["detail"]
    assert client.get("/api/cascade", params={"shock_pct": 80}).status_code == 422


def test_validate_needs_stored_liquidations(client, harness):
    r = client.get("/api/validate")
    assert r.status_code == 404 and "no realized liquidations stored" in r.json()["detail"]


def test_openapi_documents_every_route(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/symbols", "/api/heatmap", "/api/map", "/api/levels", "/api/cascade", "/api/validate"):
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["$ref"].startswith("#/components/schemas/")
    bins = next(p for p in spec["paths"]["/api/map"]["get"]["parameters"] if p["name"] == "bins")
    assert bins["schema"]["maximum"] == 4000


def test_plotly_served_from_installed_package(client):
    from pathlib import Path

    import plotly

    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.content == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert client.get("/static/..%2Fdeps.py").status_code == 404
