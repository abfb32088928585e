"""``liqmap serve``: serves the store on 127.0.0.1 by default; refuses to start without a store."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LIQMAP = str(Path(sys.executable).with_name("liqmap"))


def test_serve_binds_loopback_and_answers(sample_db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([LIQMAP, "serve", "--db", str(sample_db), "--port", str(port)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/symbols", timeout=30)
                break
            except httpx.TransportError:  # not listening yet (or too slow to answer on a loaded machine)
                assert proc.poll() is None and time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert r.status_code == 200 and len(r.json()["symbols"]) == 15  # 5 coins × 3 venues
        assert httpx.get(f"http://127.0.0.1:{port}/").text.startswith("<!doctype html>")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert f"Uvicorn running on http://127.0.0.1:{port}" in err.decode()


def test_serve_without_store_refuses_to_start(tmp_path):
    from typer.testing import CliRunner

    from liqmap.cli import app
    from liqmap.errors import StoreError

    result = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "none.duckdb")])
    assert isinstance(result.exception, StoreError)  # main() turns it into "error: …" and exit code 2
    assert str(result.exception).startswith(f"no liqmap store at {tmp_path / 'none.duckdb'}")
    assert not (tmp_path / "none.duckdb").exists()
