"""``/ws/map`` pushes a new map when a new bar is stored, and errors clearly on bad parameters."""

from __future__ import annotations

HOUR_MS = 3_600_000


def test_ws_pushes_map_on_new_bar(client, harness):
    with client.websocket_connect("/ws/map?symbol=BTCUSDT&days=3&bins=100") as ws:
        first = ws.receive_json()
        assert first["symbol"] == "BTC/USDT:USDT" and len(first["price_bins"]) == 100
        nxt = harness.store.query_bars(["binance"], "BTC/USDT:USDT", None, None).tail(1).copy()
        nxt["timestamp"] += HOUR_MS
        nxt[["open", "high", "low", "close"]] = 99_999.0
        harness.store.append(nxt)
        second = ws.receive_json()
    assert second["as_of_ms"] == first["as_of_ms"] + HOUR_MS
    assert second["price"] == 99_999.0 and second["last_bar_ms"] == second["as_of_ms"]


def test_ws_reports_missing_series_and_closes(client):
    with client.websocket_connect("/ws/map?symbol=DOGEUSDT") as ws:
        msg = ws.receive_json()
        assert "no bars stored for DOGE/USDT:USDT" in msg["error"]
        closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == 1008
