"""GET /api/liquidations: the stored realized liquidation orders (what the dashboard draws on its charts)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from liqmap.data.store import Store

BTC = "BTC/USDT:USDT"


def test_liquidations_equal_the_stored_orders(client, sample_db):
    with Store(sample_db, read_only=True) as store:
        frame = store.query_liquidations(["okx"], BTC).sort_values(["timestamp", "exchange"], kind="stable")
    body = client.get("/api/liquidations", params={"symbol": "BTCUSDT", "exchange": "okx"}).json()
    assert body["matched"] == body["count"] == len(frame) == 1611 and not body["truncated"]
    assert body["times_ms"] == frame["timestamp"].tolist()
    assert body["price"] == frame["price"].tolist() and body["side"] == frame["side"].tolist()
    assert body["notional_usd"] == [round(v, 2) for v in frame["notional_usd"]]
    assert set(body["exchange"]) == {"okx"} and body["times_ms"] == sorted(body["times_ms"])
    # a time range
    mid = body["times_ms"][800]
    params = {"symbol": BTC, "start_ms": mid, "end_ms": body["times_ms"][-1]}
    part = client.get("/api/liquidations", params=params).json()
    assert part["times_ms"][0] >= mid and part["count"] == sum(t >= mid for t in body["times_ms"])


def test_limit_keeps_the_largest_orders_in_time_order(client):
    every = client.get("/api/liquidations", params={"symbol": BTC}).json()
    top = client.get("/api/liquidations", params={"symbol": BTC, "limit": 25}).json()
    assert top["truncated"] and top["matched"] == every["count"] and top["count"] == 25
    assert sorted(top["notional_usd"]) == sorted(every["notional_usd"], reverse=True)[:25][::-1]
    assert top["times_ms"] == sorted(top["times_ms"])


def test_nothing_stored_is_an_empty_list(client):
    body = client.get("/api/liquidations", params={"symbol": BTC, "exchange": "binance"}).json()
    assert body["count"] == body["matched"] == 0 and body["times_ms"] == [] and body["exchanges"] == ["binance"]


def test_responses_are_cached_per_store_version(app_factory, sample_db):
    opens = []
    client, counted = app_factory(sample_db)
    base = counted.services.open_store

    def counting():
        opens.append(1)
        return base()

    state = client.app.state.liqmap
    state.services = replace(state.services, open_store=counting)
    first = client.get("/api/liquidations", params={"symbol": BTC}).content
    assert client.get("/api/liquidations", params={"symbol": BTC}).content == first and len(opens) == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"limit": 100_001}, "limit: Input should be less than or equal to 100000"),
        ({"start_ms": 10, "end_ms": 5}, "start_ms (10) must not be after end_ms (5)"),
        ({"symbol": "../etc"}, "symbol: String should match pattern"),
        ({"exchange": "nowhere"}, "exchange"),
    ],
)
def test_bad_parameters_are_422(client, params, message):
    r = client.get("/api/liquidations", params=params)
    assert r.status_code == 422 and message in r.json()["detail"]
