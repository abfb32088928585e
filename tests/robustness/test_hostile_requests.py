"""Hostile-request trial: a real uvicorn (``liqmap serve``'s configuration) on loopback, sent raw bytes.

Oversize and malformed headers, foreign Hosts, very long and badly encoded query strings, path traversal,
absurd parameter values, wrong methods, hostile websockets and many slow (partial-header) clients. Every
answer must be the API's JSON ``{"detail": …}`` or one of uvicorn's own clean 4xx/503 — never a 5xx from
the app, a traceback or a path of this machine — and the store must be byte-identical at the end, no file
written beside it, no error logged, and ``/api/symbols`` still 200.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

import liqmap

MAP = b"/api/map?symbol=BTCUSDT&days=3&bins=100"
UVICORN_BODIES = {b"Invalid HTTP request received.", b"Service Unavailable", b""}
SLOW_CLIENTS = 150  # below the 200-connection limit of uvicorn_config


@dataclass
class Answer:
    status: int | None  # None: the server closed or reset the connection without a status line
    headers: dict[str, str]
    body: bytes
    note: str = ""


def _exchange(port: int, data: bytes, timeout: float = 20.0, chunks: int = 1, pause: float = 0.0) -> Answer:
    """Send ``data`` (in ``chunks`` pieces ``pause`` s apart) and read until the server closes."""
    out, note = b"", ""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            step = max(1, -(-len(data) // chunks))
            for i in range(0, len(data), step):
                s.sendall(data[i : i + step])
                if pause:
                    time.sleep(pause)
        except OSError as exc:  # the server answered and closed before reading everything
            note = f"send: {type(exc).__name__}"
        try:
            while chunk := s.recv(65536):
                out += chunk
        except OSError as exc:
            note += f" recv: {type(exc).__name__}"
    head, _, body = out.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        return Answer(None, {}, out, note)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    elif "content-length" in headers:  # the first answer only (a pipelined second one may follow)
        body = body[: int(headers["content-length"])]
    return Answer(int(lines[0].split()[1]), headers, body, note)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size, _, rest = data.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out, data = out + rest[:n], rest[n + 2 :]
    return out


def _request(target: bytes, method: bytes = b"GET", host: bytes | None = b"127.0.0.1", extra: bytes = b"") -> bytes:
    host_line = b"" if host is None else b"Host: " + host + b"\r\n"
    return method + b" " + target + b" HTTP/1.1\r\n" + host_line + b"Connection: close\r\n" + extra + b"\r\n"


def _machine_paths(db: Path) -> list[str]:
    paths = {str(db.parent), str(Path(liqmap.__file__).resolve().parent.parent), sys.prefix, str(Path.home())}
    return [p for p in paths if len(p) > 1] + ["site-packages", "Traceback", 'File "']


def _problems(answer: Answer, db: Path, ok: tuple[int, ...] = ()) -> list[str]:
    """What is wrong with an answer to a hostile request (``ok``: success statuses also acceptable)."""
    found = []
    if answer.status is None:
        if answer.body:
            found.append(f"not HTTP: {answer.body[:120]!r}")
        return found  # a connection closed without an answer is uvicorn refusing, not a crash
    if answer.status >= 500 and answer.status != 503:
        found.append(f"status {answer.status}")
    elif answer.status < 400 and answer.status not in ok:
        found.append(f"status {answer.status} where a refusal was expected")
    elif 300 <= answer.status < 400 and not answer.headers.get("location", "").startswith("http://127.0.0.1/"):
        found.append(f"redirect off this server: {answer.headers.get('location')!r}")
    if answer.status >= 400:
        if answer.headers.get("content-type", "").startswith("application/json"):
            try:
                payload = json.loads(answer.body)
            except ValueError:
                payload = None
            if not (isinstance(payload, dict) and list(payload) == ["detail"] and isinstance(payload["detail"], str)):
                found.append(f"JSON error is not {{'detail': str}}: {answer.body[:200]!r}")
        elif answer.body.strip() not in UVICORN_BODIES:
            found.append(f"unexpected error body: {answer.body[:200]!r}")
    text = answer.body.decode("utf-8", "replace")
    found += [f"body reveals {p!r}" for p in _machine_paths(db) if p in text]
    if b"[build-system]" in answer.body or b"root:x:0:0" in answer.body:
        found.append("a file outside the allow-list was served")
    return found


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def store_state(sample_db: Path) -> tuple[str, list[str]]:
    return _digest(sample_db), sorted(p.name for p in sample_db.parent.iterdir())


def _big_header(n: int) -> bytes:
    return b"X-Big: " + b"a" * n + b"\r\n"


# (id, raw request, success statuses acceptable for it)
HEADER_CASES: list[tuple[str, bytes, tuple[int, ...]]] = [
    ("header 300 KiB", _request(b"/api/symbols", extra=_big_header(300 * 1024)), ()),
    ("header 1 MiB", _request(b"/api/symbols", extra=_big_header(1024 * 1024)), ()),
    ("80,000 headers", _request(b"/api/symbols", extra=b"".join(b"X-%d: v\r\n" % i for i in range(80_000))), ()),
    ("NUL in a header value", _request(b"/api/symbols", extra=b"X-A: a\x00b\r\n"), ()),
    ("header without colon", _request(b"/api/symbols", extra=b"NoColonHere\r\n"), ()),
    ("raw 0xff in the target", _request(b"/api/map?symbol=\xff\xfe"), ()),
    ("space in the target", _request(b"/api/map?symbol=BTC USDT"), ()),
    ("no Host header", _request(b"/api/symbols", host=None), ()),
    ("foreign Host", _request(b"/api/symbols", host=b"evil.example"), ()),
    ("Host suffix attack", _request(b"/api/symbols", host=b"127.0.0.1.evil.example:8000"), ()),
    ("two Host headers", _request(b"/api/symbols", extra=b"Host: evil.example\r\n"), ()),
    ("HTTP/1.0 without Host", b"GET /api/symbols HTTP/1.0\r\n\r\n", ()),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ()),
    ("TLS ClientHello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 200, ()),
    ("absolute-form target", _request(b"http://evil.example/api/symbols"), ()),
    ("asterisk target", _request(b"*"), ()),
    ("bad Content-Length", _request(b"/api/symbols", extra=b"Content-Length: -5\r\n"), ()),
    ("chunked GET with junk", _request(b"/api/symbols", extra=b"Transfer-Encoding: chunked\r\n") + b"zz\r\n", ()),
    # h11 follows Transfer-Encoding and ignores Content-Length (RFC 9112): the GET is answered normally
    (
        "CL and TE together",
        _request(b"/api/symbols", extra=b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"),
        (200,),
    ),
]

QUERY_CASES: list[tuple[str, bytes, tuple[int, ...]]] = [
    ("15,000-char unknown parameter", MAP + b"&x=" + b"a" * 15_000, (200,)),
    ("15,000-char symbol", b"/api/map?symbol=" + b"B" * 15_000, ()),
    ("14,000-char query of one key", b"/api/map?" + b"x" * 14_000, (200,)),
    ("invalid UTF-8 percent-encoded", b"/api/map?symbol=%ff%fe&days=3", ()),
    ("overlong UTF-8", b"/api/map?symbol=%c0%af%c0%af", ()),
    ("broken percent-encoding", b"/api/map?symbol=%zz%&days=%G1", ()),
    ("NUL in a parameter", b"/api/map?symbol=%00", ()),
    ("lone surrogate", b"/api/map?symbol=%ed%a0%80", ()),
    ("1,000 repeated exchange=binance", b"/api/map?days=3&bins=100&" + b"&".join([b"exchange=binance"] * 1000), (200,)),
    ("1,000 distinct bad exchanges", b"/api/map?" + b"&".join(b"exchange=ex%d" % i for i in range(1000)), ()),
    (
        "6 exchanges",
        b"/api/map?" + b"&".join(b"exchange=" + e for e in (b"binance", b"bybit", b"okx", b"htx", b"mexc", b"gate")),
        (),
    ),
    ("symbol injection", b"/api/map?symbol=BTC%27%3B%20DROP%20TABLE%20bars%3B--", ()),
    ("symbol with a path", b"/api/map?symbol=..%2F..%2Fetc%2Fpasswd", ()),
    ("model path", b"/api/map?model=../../etc", ()),
]
for route in (
    b"/api/map",
    b"/api/heatmap",
    b"/api/levels",
    b"/api/cascade?shock_pct=1&",
    b"/api/validate",
    b"/api/scan",
):
    sep = b"" if route.endswith(b"&") else b"?"
    for param in (b"bins=1000000000", b"bins=-1", b"bins=10.5", b"bins=1e3", b"days=-1", b"days=0", b"days=nan",
                  b"days=inf", b"days=1e308", b"days=-inf", b"model=x"):  # fmt: skip
        QUERY_CASES.append((f"{route.decode()} {param.decode()}", route + sep + param, ()))
QUERY_CASES += [
    ("days=1e-300", b"/api/map?days=1e-300&bins=10", ()),
    ("end_ms 400 digits", b"/api/map?end_ms=1" + b"0" * 400, ()),
    ("end_ms=-1", b"/api/map?end_ms=-1", ()),
    ("end_ms=nan", b"/api/map?end_ms=nan", ()),
    ("start after end", b"/api/map?start_ms=1772704800000&end_ms=1772000000000", ()),
    ("span 1970", b"/api/map?start_ms=0&end_ms=1", ()),
    ("at_ms=-1", b"/api/map?at_ms=-1", ()),
    ("at_ms 23 digits", b"/api/levels?at_ms=99999999999999999999999", ()),
    ("window_pct=nan", b"/api/map?window_pct=nan", ()),
    ("window_pct=1e308", b"/api/levels?window_pct=1e308", ()),
    ("top=10**9", b"/api/map?top=1000000000", ()),
    ("bin_usd=1e-300", b"/api/map?bin_usd=1e-300", ()),
    ("bin_usd too fine", b"/api/map?bin_usd=0.01&days=3", ()),
    ("bin_usd=nan", b"/api/map?bin_usd=nan", ()),
    ("snapshots=10**9", b"/api/heatmap?snapshots=1000000000", ()),
    ("heatmap cells > 1e6", b"/api/heatmap?bins=4000&snapshots=1000", ()),
    ("shock_pct=inf", b"/api/cascade?shock_pct=inf", ()),
    ("shock_pct=-inf", b"/api/cascade?shock_pct=-inf", ()),
    ("shock_pct=nan", b"/api/cascade?shock_pct=nan", ()),
    ("shock_pct=1e-300", b"/api/cascade?shock_pct=1e-300", ()),
    ("shock_pct=0", b"/api/cascade?shock_pct=0", ()),
    ("shock_pct missing", b"/api/cascade", ()),
    ("resilience=nan", b"/api/cascade?shock_pct=1&resilience=nan", ()),
    ("resilience=-1e308", b"/api/cascade?shock_pct=1&resilience=-1e308", ()),
    ("layers=maybe", b"/api/map?layers=maybe", ()),
    ("unknown series", b"/api/map?symbol=NOPEUSDT&exchange=lighter", ()),
    ("scan sort injection", b"/api/scan?sort=symbol%3B%20DROP", ()),
    ("scan 1,000 symbols", b"/api/scan?" + b"&".join(b"symbol=S%d" % i for i in range(1000)), ()),
]

PATH_CASES: list[tuple[str, bytes, tuple[int, ...]]] = [
    # Starlette's trailing-slash redirect (307) is allowed, to this server only
    (name, target, (307,))
    for name, target in (
        ("dot-dot", b"/static/../../pyproject.toml"),
        ("encoded slash", b"/static/..%2f..%2fpyproject.toml"),
        ("encoded dots", b"/static/%2e%2e/%2e%2e/pyproject.toml"),
        ("encoded dots and slash", b"/static/%2e%2e%2f%2e%2e%2fpyproject.toml"),
        ("double-encoded", b"/static/%252e%252e%252fpyproject.toml"),
        ("backslashes", b"/static/..%5c..%5cpyproject.toml"),
        ("dots in name", b"/static/....//....//pyproject.toml"),
        ("docs assets", b"/docs/static/..%2f..%2fpyproject.toml"),
        ("docs assets bare", b"/docs/static/..%2f"),
        ("docs assets to /etc", b"/docs/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd"),
        ("docs assets encoded dots", b"/docs/static/%2e%2e%2f%2e%2e%2fserver%2fapp.py"),
        ("root dot-dot", b"/%2e%2e/%2e%2e/pyproject.toml"),
        ("double slash", b"//etc/passwd"),
        ("NUL in name", b"/static/%00"),
        ("under plotly.min.js", b"/static/plotly.min.js/..%2f..%2f..%2fpyproject.toml"),
        ("redoc dot-dot", b"/redoc/../pyproject.toml"),
        ("static index", b"/static/"),
        ("static dir name", b"/static/."),
        ("api dot-dot", b"/api/symbols/../../x"),
        ("slash redirect to another host", b"//evil.example/api/symbols/"),
        ("slash redirect with encoded host", b"/%2f%2fevil.example/"),
        ("overlong slash", b"/static/..%c0%af..%c0%afpyproject.toml"),
    )
]

METHOD_CASES: list[tuple[str, bytes, tuple[int, ...]]] = [
    (f"{m.decode()} {t.decode()[:20]}", _request(t, method=m, extra=b"Content-Length: 0\r\n"), ())
    for m in (b"POST", b"PUT", b"DELETE", b"PATCH", b"TRACE", b"BREW")
    for t in (b"/api/map", b"/", b"/api/symbols")
] + [("CONNECT", b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", ())]

ALL_CASES = HEADER_CASES + [(n, _request(t), ok) for n, t, ok in QUERY_CASES + PATH_CASES] + METHOD_CASES


@pytest.mark.parametrize(("name", "data", "ok"), ALL_CASES, ids=[n for n, _, _ in ALL_CASES])
def test_hostile_request_gets_a_clean_answer(served, sample_db, name, data, ok):
    answer = _exchange(served.port, data)
    assert not _problems(answer, sample_db, ok), (name, answer.status, answer.body[:300], answer.note)


def test_oversize_headers_trickled_in_are_refused(served, sample_db):
    answer = _exchange(served.port, _request(b"/api/symbols", extra=_big_header(20 * 1024)), chunks=20, pause=0.01)
    assert answer.status in (400, 431, None) and not _problems(answer, sample_db)


@pytest.mark.parametrize("kib", [17, 20, 100])
def test_oversize_headers_in_one_write_are_refused(served, kib):
    # h11's limit bounds only a head still incomplete after a read; HeaderLimit refuses the rest
    answer = _exchange(served.port, _request(b"/api/symbols", extra=_big_header(kib * 1024)))
    assert answer.status in (400, 431)


def _ws_url(served, query: str = "symbol=BTCUSDT&days=3&bins=100") -> str:
    return f"ws://127.0.0.1:{served.port}/ws/map?{query}"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1.evil.example", "null", "file://"])
def test_websocket_from_a_foreign_origin_is_refused(served, origin):
    with pytest.raises(InvalidStatus) as exc, connect(_ws_url(served), origin=origin, open_timeout=20):
        pass
    assert exc.value.response.status_code == 403


def test_websocket_with_a_foreign_host_is_refused(served):
    with (
        pytest.raises(InvalidStatus) as exc,
        connect(_ws_url(served), additional_headers={"Host": "evil.example"}, open_timeout=20),
    ):
        pass
    assert exc.value.response.status_code in (400, 403)


@pytest.mark.parametrize(
    ("send", "code"),
    [(b"\x00\x01\xff", 1003), ("x" * 100_000, 1009)],
    ids=["binary frame", "100 kB text"],
)
def test_websocket_hostile_frames_close_it_cleanly(served, send, code):
    with connect(_ws_url(served), open_timeout=20, max_size=None) as ws:
        assert json.loads(ws.recv(timeout=60))["price_bins"]
        ws.send(send)
        with pytest.raises(ConnectionClosed) as exc:
            ws.recv(timeout=20)
    assert exc.value.rcvd is not None and exc.value.rcvd.code == code


@pytest.mark.parametrize("query", ["bins=1000000000", "days=nan", "symbol=%ff", "exchange=ftx", "symbol=NOPEUSDT"])
def test_websocket_bad_parameters_get_an_error_and_1008(served, query):
    with connect(_ws_url(served, query), open_timeout=20) as ws:
        message = json.loads(ws.recv(timeout=20))
        with pytest.raises(ConnectionClosed) as exc:
            ws.recv(timeout=20)
    assert list(message) == ["error"] and "Traceback" not in message["error"]
    assert exc.value.rcvd is not None and exc.value.rcvd.code == 1008


def _slow_clients(port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /api/symbols HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        socks.append(s)
    return socks


def test_many_slow_clients_do_not_stop_a_normal_request(served):
    socks = _slow_clients(served.port, SLOW_CLIENTS)
    try:
        for s in socks[::10]:
            s.sendall(b"a")  # still trickling
        t0 = time.monotonic()
        answer = _exchange(served.port, _request(b"/api/symbols"), timeout=5)
        assert answer.status == 200 and time.monotonic() - t0 < 4.5  # not held until the slow heads time out (5 s)
        assert json.loads(answer.body)["symbols"]
    finally:
        for s in socks:
            s.close()


def test_slow_clients_beyond_the_connection_limit_are_dropped(served):
    socks = _slow_clients(served.port, 210)
    try:
        time.sleep(5)  # the 5 s head timeout: the idle partial heads are being dropped
        deadline, status = time.monotonic() + 20, None
        while status != 200 and time.monotonic() < deadline:  # 503 while 200+ of them are still open
            status = _exchange(served.port, _request(b"/api/symbols"), timeout=5).status
            time.sleep(0.2)
        assert status == 200
    finally:
        for s in socks:
            s.close()
    time.sleep(0.3)


def test_zz_after_everything_the_store_is_unchanged_and_the_server_answers(served, sample_db, store_state):
    assert (_digest(sample_db), sorted(p.name for p in sample_db.parent.iterdir())) == store_state
    answer = _exchange(served.port, _request(b"/api/symbols"))
    assert answer.status == 200 and len(json.loads(answer.body)["symbols"]) >= 15
    assert _exchange(served.port, _request(MAP)).status == 200
    errors = [r for r in served.log.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
