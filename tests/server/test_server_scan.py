"""``GET /api/scan``: the screener's JSON (the CLI's shape), bounded parameters, cached per store version."""

from __future__ import annotations

import pytest

from liqmap.scan import scan_store
from liqmap.server.api.routes.scan import MAX_SCAN_SERIES, ScanResponse

KEYS = {"rows", "skipped", "settings", "sort", "descending", "now_ms", "seconds", "runner", "caveat"}


def test_scan_rows_equal_the_library_scan(client, sample_db):
    r = client.get("/api/scan", params={"symbol": ["BTCUSDT", "SOLUSDT"], "sort": "imbalance_ratio", "desc": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == KEYS and body["runner"] == "serial" and body["sort"] == "imbalance_ratio"
    ScanResponse.model_validate(body)  # exactly Scan.to_dict()'s shape
    lib = scan_store(sample_db, symbols=["BTCUSDT", "SOLUSDT"], sort="imbalance_ratio", descending=True, dask=False)
    strip = ("age_hours",)  # the age depends on the moment each scan ran
    got = [{k: v for k, v in row.items() if k not in strip} for row in body["rows"]]
    want = [{k: v for k, v in row.to_dict().items() if k not in strip} for row in lib.rows]
    assert got == want and len(got) == 6
    ratios = [row["imbalance_ratio"] for row in body["rows"]]
    assert ratios == sorted(ratios, reverse=True)
    btc = next(row for row in body["rows"] if row["exchange"] == "binance" and row["symbol"] == "BTC/USDT:USDT")
    assert btc["price"] == 73_399.9 and btc["tiers"] == "bundled" and btc["bars"] == 2_161
    assert body["settings"] == {
        "min_cluster_usd": 1e6,
        "window_pct": 5.0,
        "notional_usd": 1e6,
        "shock_pct": 1.0,
        "days": 90.0,
    }


def test_scan_is_cached_per_store_version(app_factory, writable_db, add_bar):
    client, _ = app_factory(writable_db)
    params = {"symbol": "BTCUSDT", "exchange": "binance"}
    first = client.get("/api/scan", params=params).json()
    again = client.get("/api/scan", params=params).json()
    assert again == first  # served from the cache: same now_ms and seconds
    new_ms = add_bar(writable_db, "binance", close=99_999.0)
    after = client.get("/api/scan", params=params).json()
    assert after["rows"][0]["last_bar_ms"] == new_ms and after["rows"][0]["price"] == 99_999.0


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"sort": "nope"}, 422, "sort: Input should be 'exchange', 'symbol'"),
        ({"window_pct": 80}, 422, "less than or equal to 50"),
        ({"min_cluster_usd": 0}, 422, "greater than 0"),
        ({"days": 400}, 422, "less than or equal to 366"),
        ({"bins": 5}, 422, "greater than or equal to 10"),
        ({"exchange": "ftx"}, 422, "'binance', 'bybit'"),
        ({"symbol": "../x"}, 422, "String should match pattern"),
        ({"symbol": [f"S{i}USDT" for i in range(51)]}, 422, "at most 50 symbols per scan"),
        (
            {"symbol": "FOOUSDT"},
            404,
            "the store holds no bars for FOO/USDT:USDT on any exchange; stored: BTC/USDT:USDT, DOGE/USDT:USDT",
        ),
    ],
)
def test_scan_parameters_are_bounded(client, params, status, message):
    r = client.get("/api/scan", params=params)
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]


def test_scan_refuses_more_series_than_its_cap(app_factory, sample_db, monkeypatch):
    import liqmap.server.api.routes.scan as route

    monkeypatch.setattr(route, "MAX_SCAN_SERIES", 2)
    client, _ = app_factory(sample_db)
    r = client.get("/api/scan", params={"symbol": "BTCUSDT"})
    assert r.status_code == 422 and "3 series exceed the 2-series cap" in r.json()["detail"]
    assert MAX_SCAN_SERIES == 200


def test_openapi_documents_the_scan_route(client):
    spec = client.get("/openapi.json").json()
    get = spec["paths"]["/api/scan"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"min_cluster_usd", "window_pct", "notional_usd", "sort", "desc"}
    assert set(get["responses"]) >= {"200", "404", "422"}
