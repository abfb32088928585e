"""A loopback server that other web pages and hostile clients cannot misuse: Host allow-list, websocket
Origin check, security headers, offline docs, errors that reveal nothing about the machine."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from liqmap.errors import StoreError
from liqmap.server import create_app
from liqmap.server.deps import default_services

MAP = "/api/map?symbol=BTCUSDT&days=3&bins=100"


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "localhost.", "10.0.0.1"])
def test_foreign_host_header_is_refused_with_the_names_allowed(client, host):
    r = client.get(MAP, headers={"host": host})
    assert r.status_code == 400
    assert r.json() == {"detail": "invalid Host header: this server answers to 127.0.0.1, localhost, ::1"}
    assert r.headers["x-frame-options"] == "DENY"  # rejections carry the security headers too


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000"])
def test_local_host_headers_are_served(client, host):
    assert client.get("/api/symbols", headers={"host": host}).status_code == 200


def test_an_extra_allowed_host_is_served(sample_db):
    app = create_app(sample_db, allowed_hosts=("127.0.0.1", "liqmap.lan"))
    with TestClient(app, base_url="http://liqmap.lan") as c:
        assert c.get("/api/symbols").status_code == 200
        assert c.get("/api/symbols", headers={"host": "localhost"}).status_code == 400


def test_every_response_carries_the_security_headers(client):
    for path, csp_script in [("/", "script-src 'self';"), ("/docs", "script-src 'self' 'unsafe-inline'")]:
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert csp_script in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_docs_assets_come_from_the_package_not_a_cdn(client):
    page = client.get("/docs").text
    assert "/docs/static/swagger-ui-bundle.js" in page and "cdn" not in page
    js = client.get("/docs/static/swagger-ui-bundle.js")
    assert (
        js.status_code == 200 and len(js.content) > 500_000 and js.headers["content-type"].startswith("text/javascript")
    )
    assert "/docs/static/redoc.standalone.js" in client.get("/redoc").text
    assert client.get("/docs/static/..%2F..%2Fpyproject.toml").status_code == 404
    assert client.get("/docs/static/app.js").json() == {"detail": "no docs asset 'app.js'"}


def test_websocket_from_another_origin_is_closed_before_accepting(client):
    origin = {"origin": "https://evil.example"}
    with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect("ws://127.0.0.1/ws/map", headers=origin):
        pass
    assert exc.value.code == 1008


def test_websocket_from_the_page_itself_is_accepted_and_a_binary_frame_closes_it(client):
    with client.websocket_connect(
        f"ws://127.0.0.1{MAP.replace('/api/map', '/ws/map')}", headers={"origin": "http://127.0.0.1:8000"}
    ) as ws:
        assert len(ws.receive_json()["price_bins"]) == 100
        ws.send_text("ignored")
        ws.send_bytes(b"\x00\x01")
        closed = ws.receive()
    assert closed == {"type": "websocket.close", "code": 1003, "reason": "binary frames are not accepted"}


def test_errors_name_no_directory_and_no_process(app_factory, sample_db):
    def busy_store():
        raise StoreError(f"no bars for X in {sample_db}; lock held by python (PID 4242)")

    client, _ = app_factory(sample_db, open_store=busy_store)
    detail = client.get(MAP).json()["detail"]
    assert detail == f"no bars for X in {sample_db.name}; lock held by python"


def test_an_unexpected_exception_is_a_logged_500_without_the_traceback(sample_db, caplog):
    def broken(*_args, **_kwargs):
        raise TypeError("secret internals at /srv/liqmap/engine.py")

    services = replace(default_services(sample_db), run_engine=broken)
    with TestClient(
        create_app(sample_db, services=services), base_url="http://127.0.0.1", raise_server_exceptions=False
    ) as c:
        r = c.get(MAP)
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error (TypeError); the server log has the details"}
    assert "secret internals" in caplog.text  # the traceback is in the server's log, not the response


def test_a_head_over_16_kib_is_refused_with_431(client):
    r = client.get("/api/symbols", headers={"x-big": "a" * 17_000})
    assert r.status_code == 431 and r.json() == {"detail": "request headers exceed 16 KiB"}
    assert client.get("/api/symbols", headers={"x-ok": "a" * 8_000}).status_code == 200
