"""Load test of ``liqmap serve``: 50 concurrent clients on loopback hammer ``/api/map`` for 30 s.

Starts ``liqmap serve`` in a subprocess on 127.0.0.1 (a free port) over a store holding the bundled sample
(or ``--db``), warms the cache with one request, then holds ``--clients`` concurrent aiohttp clients for
``--seconds`` and prints requests/s and p50/p99 latency. The query is a 30-day, 1,000-bin BTC map, served
from the per-(query, last bar) cache after the first request. Last line: one JSON object.

    .venv/bin/python benchmarks/server.py                 # 50 clients × 30 s
    .venv/bin/python benchmarks/server.py --seconds 5     # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np

from liqmap.data.sample import load_sample_into
from liqmap.data.store import Store

QUERY = {"symbol": "BTC/USDT:USDT", "exchange": "binance", "model": "oi-delta", "days": "30", "bins": "1000"}
P99_TARGET_MS = 100.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int) -> subprocess.Popen:
    liqmap = Path(sys.executable).with_name("liqmap")
    cmd = [str(liqmap), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"liqmap serve exited: {proc.stderr.read() if proc.stderr else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("liqmap serve did not start within 120 s")


async def client(session: aiohttp.ClientSession, url: str, stop_at: float, lat_ms: list[float], errors: list[int]):
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        async with session.get(url, params=QUERY) as r:
            await r.read()
            if r.status != 200:
                errors.append(r.status)
                continue
        lat_ms.append((time.perf_counter() - t0) * 1e3)


async def load(url: str, clients: int, seconds: float) -> tuple[list[float], list[int], float, float, int]:
    lat_ms: list[float] = []
    errors: list[int] = []
    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=conn) as session:
        t0 = time.perf_counter()
        async with session.get(url, params=QUERY) as r:  # first request: loads bars, runs the engine, caches
            body = await r.read()
            if r.status != 200:
                raise RuntimeError(f"first request failed: {r.status} {body[:300]!r}")
        cold_ms = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        stop_at = t0 + seconds
        await asyncio.gather(*(client(session, url, stop_at, lat_ms, errors) for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return lat_ms, errors, elapsed, cold_ms, len(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="store to serve (default: a temp store with the bundled sample)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    if not (1 <= args.clients <= 500 and 0 < args.seconds <= 120):
        ap.error("keep it bounded: 1–500 clients, at most 120 s")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "sample.duckdb"
            with Store(db) as store:
                load_sample_into(store)
        port = free_port()
        proc = start_server(db, port)
        try:
            url = f"http://127.0.0.1:{port}/api/map"
            lat_ms, errors, elapsed, cold_ms, size = asyncio.run(load(url, args.clients, args.seconds))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lat = np.asarray(lat_ms)
    result = {
        "endpoint": "/api/map",
        "query": "BTC/USDT:USDT binance oi-delta, 30 days, 1000 bins",
        "clients": args.clients,
        "seconds": round(elapsed, 2),
        "requests": int(lat.size),
        "errors": len(errors),
        "requests_per_s": round(lat.size / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p99_ms": round(float(np.percentile(lat, 99)), 2),
        "max_ms": round(float(lat.max()), 2),
        "first_request_ms": round(cold_ms, 1),
        "body_bytes": size,
        "p99_target_ms": P99_TARGET_MS,
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(f"/api/map, {args.clients} concurrent clients for {elapsed:.1f} s on loopback")
    print(f"  requests/s {result['requests_per_s']:,.1f}   ({result['requests']:,} ok, {len(errors)} errors)")
    print(f"  latency p50 {result['p50_ms']:.2f} ms   p99 {result['p99_ms']:.2f} ms   max {result['max_ms']:.2f} ms")
    print(f"  first (uncached) request {cold_ms:.0f} ms; body {size:,} bytes")
    print(f"  p99 target < {P99_TARGET_MS:.0f} ms: {'met' if result['p99_ms'] < P99_TARGET_MS else 'MISSED'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
