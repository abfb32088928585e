"""``/ws/map`` pushes a new map when a new bar is upserted into the store, and errors clearly."""

from __future__ import annotations

import pytest

HOUR_MS = 3_600_000
WS = "ws://127.0.0.1"  # TestClient's default host (testserver) is not one the app answers to


def test_ws_pushes_map_when_a_bar_is_stored(app_factory, writable_db, add_bar):
    client, counted = app_factory(writable_db)
    with client.websocket_connect(f"{WS}/ws/map?symbol=BTCUSDT&days=3&bins=100") as ws:
        first = ws.receive_json()
        assert first["symbol"] == "BTC/USDT:USDT" and len(first["price_bins"]) == 100
        new_ms = add_bar(writable_db, close=99_999.0)
        second = ws.receive_json()
        other = add_bar(writable_db, exchange="bybit")  # another series: no push for this query
        newer = add_bar(writable_db, close=88_888.0)
        third = ws.receive_json()
    assert other == new_ms
    assert second["as_of_ms"] == new_ms == first["as_of_ms"] + HOUR_MS
    assert second["price"] == 99_999.0 and second["last_bar_ms"] == new_ms
    assert third["as_of_ms"] == newer and third["price"] == 88_888.0
    assert [n for _, n in counted.runs] == [73, 73, 73]  # 3 days + 1 bar, window slides with the last bar


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("symbol=XRPUSDT", "no bars stored for XRP/USDT:USDT on binance"),
        ("start_ms=5&end_ms=1", "start_ms (5) must be before end_ms (1)"),
        ("bins=99999", "bins: Input should be less than or equal to 4000"),
        ("exchange=ftx", "exchange: Input should be 'binance', 'bybit'"),
    ],
)
def test_ws_reports_bad_query_and_closes(client, query, message):
    with client.websocket_connect(f"{WS}/ws/map?{query}") as ws:
        assert message in ws.receive_json()["error"]
        closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == 1008


def test_ws_liquidations_needs_serve_live(client):
    with client.websocket_connect(f"{WS}/ws/liquidations?symbol=BTCUSDT") as ws:
        assert "pushed only by `liqmap serve --live`" in ws.receive_json()["error"]
        closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == 1008
