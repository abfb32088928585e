"""An unknown series is a 404 whose message names what the store holds (the dashboard lists only stored symbols)."""

from __future__ import annotations

import pytest

from liqmap.data.store import Store


def test_unknown_symbol_404_names_the_stored_symbols(client):
    r = client.get("/api/map", params={"symbol": "FOOUSDT"})
    assert r.status_code == 404
    detail = r.json()["detail"]
    assert detail.startswith("no bars stored for FOO/USDT:USDT on binance; stored: ")
    for sym in ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "DOGE/USDT:USDT", "HYPE/USDT:USDT"):
        assert f"{sym} (binance, bybit, okx)" in detail
    assert detail.endswith("GET /api/symbols lists them all")  # the route is named, not scrubbed as a path


@pytest.mark.parametrize("route", ["/api/map", "/api/levels", "/api/heatmap"])
def test_a_stored_symbol_on_another_venue_names_its_venues(client, route):
    r = client.get(route, params={"symbol": "SOLUSDT", "exchange": "hyperliquid"})
    assert r.status_code == 404
    assert r.json()["detail"] == (
        "no bars stored for SOL/USDT:USDT on hyperliquid; it is stored on binance, bybit, okx; "
        "GET /api/symbols lists what is stored"
    )


def test_the_hint_lists_at_most_eight_symbols(app_factory, writable_db):
    with Store(writable_db) as store:
        btc = store.query_bars("binance", "BTCUSDT").tail(2)
        for i in range(6):
            store.upsert("bars", btc.assign(symbol=f"X{i}/USDT:USDT"))
    client, _ = app_factory(writable_db)
    detail = client.get("/api/map", params={"symbol": "FOOUSDT"}).json()["detail"]
    assert detail.count("(binance") == 8 and "… (11 symbols)" in detail
    assert "X2/USDT:USDT (binance)" in detail and "X5/USDT:USDT" not in detail  # sorted, first eight


def test_a_symbol_with_only_a_stored_tier_table_is_mapped(app_factory, writable_db):
    """The server's engine runs read the store's tiers before the bundled ones (docs/margin.md)."""
    import pandas as pd

    from liqmap.margin import make_table

    with Store(writable_db) as store:
        btc = store.query_bars("binance", "BTCUSDT")
        store.upsert("bars", btc.assign(symbol="FOO/USDT:USDT"))
    client, _ = app_factory(writable_db)
    r = client.get("/api/map", params={"symbol": "FOOUSDT"})
    assert r.status_code == 422
    assert "`liqmap fetch --what tiers --exchange binance --symbol FOO/USDT:USDT`" in r.json()["detail"]
    table = make_table("binance", "FOO/USDT:USDT", [(0.0, 1e12, 125.0, 0.004, 0.0)], source="test")
    with Store(writable_db) as store:
        store.upsert("tiers", pd.DataFrame(table.to_records()))
        store.upsert("bars", btc.tail(1).assign(symbol="FOO/USDT:USDT", timestamp=btc["timestamp"].max() + 3_600_000))
    r = client.get("/api/map", params={"symbol": "FOOUSDT"})  # a new bar: a new cache key
    assert r.status_code == 200, r.text
    assert r.json()["symbol"] == "FOO/USDT:USDT" and r.json()["total_long_usd"] > 0
