"""Mixed-route load test of ``liqmap serve``: 1,000+ distinct requests, then 50 clients on six routes, RSS tracked.

Starts ``liqmap serve --cache-mb 256`` in a subprocess on 127.0.0.1 (a free port) over a store holding the
bundled sample (or ``--db``) and:

1. warms it up with one request per route (loads the bars, numba's kernels, the first engine run) and takes
   that RSS as the baseline;
2. sends ``--distinct`` (≥ 1,000) distinct requests, 8 at a time, over ``/api/map``, ``/api/heatmap``,
   ``/api/levels``, ``/api/cascade``, ``/api/symbols`` and ``/`` — 40 engine keys (5 symbols × 4 spans ×
   2 bin counts), each asked at several instants, shocks, windows and heatmap resolutions —
   so every cache fills and evicts; RSS is read again (``/proc/<pid>/status`` VmRSS, peak VmHWM);
3. holds ``--clients`` concurrent clients for ``--duration`` s on a fixed mix of 60 of those URLs (10 per
   route; each asked once untimed first), then reads the RSS a last time.

It prints requests/s, p50/p99/max per route and overall, errors (status ≥ 500, bodies containing
"Traceback", tracebacks in the server's log), RSS against baseline + ``--cache-mb``, and one "goal" line
for each of issue 16's goals this benchmark measures. The bad-input goals (0 tracebacks over ≥ 200 bad
inputs, 0 store changes) are asserted by ``tests/robustness`` (``test_cli_hostile_inputs.py``,
``test_hostile_requests.py``, ``test_kill9_import.py``). Last line: one JSON object.

The client is aiohttp (the ``bench`` extra; ccxt installs it too), not httpx: on httpx the client itself
took so much CPU of the shared machine that the p99 goal measured the client (docs/server.md).

    .venv/bin/python benchmarks/server.py                          # 1,000 distinct, then 50 clients × 30 s
    .venv/bin/python benchmarks/server.py --duration 5 --clients 20  # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import numpy as np
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from _serve import start_serve

from liqmap.data.sample import load_sample_into
from liqmap.data.store import Store

ROUTES = ("/api/map", "/api/heatmap", "/api/levels", "/api/cascade", "/api/symbols", "/")
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "DOGE/USDT:USDT", "HYPE/USDT:USDT")
EXCHANGES = ("binance", "bybit", "okx")
SPANS_DAYS = (3, 7, 14, 30)
BIN_COUNTS = (300, 1000)
HOUR_MS = 3_600_000
P99_TARGET_MS = 100.0
DISTINCT_WORKERS = 8


def rss_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MiB, from /proc/<pid>/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def url(route: str, **params: object) -> str:
    return route + ("?" + urlencode(params) if params else "")


def distinct_urls(last_ms: dict[tuple[str, str], int], n: int) -> list[str]:
    """≥ ``n`` distinct request URLs over every route (40 engine keys, 16 report/heatmap variants each), shuffled.

    BTC rotates over the three venues; the other symbols use Binance, the one venue whose margin tiers the
    sample bundles for every symbol (Bybit/OKX tiers are bundled for BTC only: their maps are a 422).
    """
    out: list[str] = []
    keys = [(s, d, b) for s in SYMBOLS for d in SPANS_DAYS for b in BIN_COUNTS]
    for i, (symbol, days, bins) in enumerate(keys):
        exchange = EXCHANGES[i % len(EXCHANGES)] if symbol.startswith("BTC/") else "binance"
        q = {"symbol": symbol, "exchange": exchange, "days": days, "bins": bins}
        last = last_ms[(exchange, symbol)]
        shock = 0.5 + (i % 5) * 0.5
        out += [url("/api/map", **q)] + [url("/api/map", **q, at_ms=last - h * HOUR_MS) for h in (1, 2, 3, 4)]
        out += [url("/api/map", **q, window_pct=3)]
        out += [url("/api/levels", **q, top=5, window_pct=3), url("/api/levels", **q, top=10, window_pct=7)]
        out += [url("/api/cascade", **q, shock_pct=x) for x in (shock, -shock, 2 * shock, -2 * shock)]
        out += [url("/api/heatmap", **q, snapshots=s) for s in (30, 60, 120, 240)]
    k = 0
    while k == 0 or len(out) < n:  # the cheap routes take a cache-busting parameter (a new fast-path key each)
        out += [url("/api/symbols", n=k), url("/", v=k)]
        k += 1
    random.Random(16).shuffle(out)
    assert len(set(out)) == len(out)
    return out


def route_of(u: str) -> str:
    return u.split("?", 1)[0]


@dataclass
class Tally:
    """Latencies per route, and the errors seen."""

    lat_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: int = 0  # status ≥ 500
    other_status: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    tracebacks: int = 0  # bodies containing "Traceback"
    client_errors: list[str] = field(default_factory=list)  # connection failures, timeouts
    client_cpu_s: float = 0.0  # CPU time of this (client) process over the timed requests

    def requests(self) -> int:
        return sum(len(v) for v in self.lat_ms.values())


async def fetch(session: aiohttp.ClientSession, base: str, u: str, tally: Tally) -> None:
    t0 = time.perf_counter()
    try:
        async with session.get(URL(base + u, encoded=True)) as r:
            body = await r.read()
            status = r.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        tally.client_errors.append(f"{route_of(u)}: {type(exc).__name__}")
        return
    tally.lat_ms[route_of(u)].append((time.perf_counter() - t0) * 1e3)
    if status >= 500:
        tally.server_errors += 1
    elif status != 200:
        tally.other_status[status] += 1
    if b"Traceback" in body:
        tally.tracebacks += 1


async def run_distinct(base: str, urls: list[str]) -> tuple[Tally, float]:
    tally = Tally()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for u in urls:
        queue.put_nowait(u)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            await fetch(session, base, queue.get_nowait(), tally)

    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=DISTINCT_WORKERS), timeout=timeout) as s:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(s) for _ in range(DISTINCT_WORKERS)))
        return tally, time.perf_counter() - t0


async def run_sustained(base: str, mix: list[str], clients: int, seconds: float) -> tuple[Tally, float]:
    tally, warm = Tally(), Tally()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients), timeout=timeout) as session:
        for u in mix:  # untimed: evicted entries of the distinct phase are recomputed here
            await fetch(session, base, u, warm)
        stop_at = time.perf_counter() + seconds

        async def client(k: int) -> None:
            i = k
            while time.perf_counter() < stop_at:
                await fetch(session, base, mix[i % len(mix)], tally)
                i += 7

        t0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(client(k) for k in range(clients)))
        elapsed = time.perf_counter() - t0
        tally.client_cpu_s = time.process_time() - cpu0
    tally.server_errors += warm.server_errors
    tally.tracebacks += warm.tracebacks
    tally.client_errors += warm.client_errors
    return tally, elapsed


def sustained_mix(urls: list[str]) -> list[str]:
    """10 URLs per route from the distinct set (heatmaps of 300 bins × 60 snapshots)."""
    per_route: dict[str, list[str]] = defaultdict(list)
    for u in sorted(urls):
        r = route_of(u)
        small = r != "/api/heatmap" or ("bins=300&snapshots=60" in u)
        if small and len(per_route[r]) < 10:
            per_route[r].append(u)
    return [u for r in ROUTES for u in per_route[r]]


def stats(lat: list[float]) -> dict[str, float]:
    a = np.asarray(lat)
    if not a.size:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {
        "n": int(a.size),
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
        "max_ms": round(float(a.max()), 2),
    }


def print_table(tally: Tally) -> dict[str, dict[str, float]]:
    table = {r: stats(tally.lat_ms.get(r, [])) for r in ROUTES}
    table["overall"] = stats([x for v in tally.lat_ms.values() for x in v])
    print(f"  {'route':<14}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for r, s in table.items():
        print(f"  {r:<14}{s['n']:>10,}{s['p50_ms']:>10.2f}{s['p99_ms']:>10.2f}{s['max_ms']:>10.2f}")
    return table


def errors_line(tally: Tally) -> str:
    other = ", ".join(f"{k}: {v}" for k, v in sorted(tally.other_status.items())) or "none"
    return (
        f"  errors: status ≥ 500 {tally.server_errors}, bodies with 'Traceback' {tally.tracebacks}, "
        f"connection failures {len(tally.client_errors)}; other non-200 statuses: {other}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="store to serve (default: a temp store with the bundled sample)")
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients of the sustained phase")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of the sustained phase")
    ap.add_argument("--distinct", type=int, default=1000, help="distinct requests before it (≥ 1,000 for the goal)")
    ap.add_argument("--cache-mb", type=float, default=256.0, help="passed to liqmap serve --cache-mb")
    args = ap.parse_args()
    if not (1 <= args.clients <= 190 and 0 < args.duration <= 120 and 1 <= args.distinct <= 5000):
        ap.error("keep it bounded: 1–190 clients (uvicorn_config admits 200 connections), ≤ 120 s, ≤ 5,000 distinct")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "sample.duckdb"
            with Store(db) as store:
                load_sample_into(store)
        with Store(db, read_only=True) as store:
            series = store.symbols()
        last_ms = {(r.exchange, r.symbol): int(r.last_ms) for r in series.itertuples()}
        log = Path(tmp) / "server.log"
        proc, port = start_serve(["--db", db, "--cache-mb", f"{args.cache_mb:g}"], log)
        base = f"http://127.0.0.1:{port}"
        try:
            rss_start, _ = rss_mib(proc.pid)
            urls = distinct_urls(last_ms, args.distinct)
            mix = sustained_mix(urls)
            t0 = time.perf_counter()
            # one URL per route, marked so that none of them is one of the distinct requests that follow
            firsts = [next(u for u in mix if route_of(u) == r) for r in ROUTES]
            warm, _ = asyncio.run(run_distinct(base, [u + ("&" if "?" in u else "?") + "warmup=1" for u in firsts]))
            warm_s = time.perf_counter() - t0
            rss_base, _ = rss_mib(proc.pid)
            distinct, distinct_s = asyncio.run(run_distinct(base, urls))
            rss_distinct, hwm_distinct = rss_mib(proc.pid)
            load, load_s = asyncio.run(run_sustained(base, mix, args.clients, args.duration))
            rss_end, hwm_end = rss_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        server_log = log.read_text(errors="replace")
    log_tracebacks = server_log.count("Traceback")
    loadavg = os.getloadavg()

    print(f"liqmap serve --cache-mb {args.cache_mb:g} over {'the bundled sample' if args.db is None else args.db}")
    print(f"warm-up: one request per route in {warm_s:.1f} s (first engine run, numba kernels loaded)")
    print(
        f"\n{distinct.requests():,} distinct requests, {DISTINCT_WORKERS} at a time, in {distinct_s:.1f} s "
        f"({distinct.requests() / distinct_s:,.1f} requests/s; 40 engine keys, report/heatmap variants of each)"
    )
    distinct_table = print_table(distinct)
    print(errors_line(distinct))
    n_load = load.requests()
    print(
        f"\nsustained mixed load: {args.clients} clients × {load_s:.1f} s on {len(mix)} URLs "
        f"(10 per route, cached), {n_load / load_s:,.1f} requests/s; the client spent "
        f"{load.client_cpu_s / max(n_load, 1) * 1e3:.2f} ms CPU per request (it shares the machine's cores)"
    )
    load_table = print_table(load)
    api_only = stats([x for r, v in load.lat_ms.items() if r != "/" for x in v])
    print(f"  (the five /api routes together: p50 {api_only['p50_ms']:.2f} ms, p99 {api_only['p99_ms']:.2f} ms)")
    print(errors_line(load))
    budget = args.cache_mb
    print("\nserver RSS (MiB; /proc/<pid>/status VmRSS):")
    print(f"  at start {rss_start:,.1f}   baseline after warm-up {rss_base:,.1f}   cache budget {budget:g}")
    print(
        f"  after {distinct.requests():,} distinct requests {rss_distinct:,.1f} (+{rss_distinct - rss_base:,.1f} over "
        f"baseline; peak so far {hwm_distinct:,.1f})   at the end {rss_end:,.1f} (+{rss_end - rss_base:,.1f}; "
        f"peak {hwm_end:,.1f})"
    )
    print(f"  server log: {log_tracebacks} tracebacks")

    all_errors = distinct.server_errors + load.server_errors + warm.server_errors
    all_tracebacks = distinct.tracebacks + load.tracebacks + warm.tracebacks + log_tracebacks
    p99 = load_table["overall"]["p99_ms"]
    goals = {
        "0 tracebacks and 0 server errors over every request": all_tracebacks == 0 and all_errors == 0,
        f"RSS after ≥ 1,000 distinct requests ≤ baseline + cache budget ({rss_base + budget:,.1f} MiB)": (
            distinct.requests() >= 1000 and rss_distinct <= rss_base + budget
        ),
        f"mixed-route p99 < {P99_TARGET_MS:.0f} ms with 50 clients": args.clients >= 50 and p99 < P99_TARGET_MS,
    }
    print()
    for goal, met in goals.items():
        print(f"goal: {goal}: {'met' if met else 'NOT MET'}")
    print("goal: 0 tracebacks over ≥ 200 bad inputs, 0 store changes: asserted by tests/robustness, not measured here")
    print(f"load average {loadavg[0]:.2f} {loadavg[1]:.2f} {loadavg[2]:.2f} on {os.cpu_count()} CPUs at the end")
    result = {
        "cache_mb": budget,
        "distinct": {"requests": distinct.requests(), "seconds": round(distinct_s, 2), "routes": distinct_table},
        "sustained": {
            "clients": args.clients,
            "seconds": round(load_s, 2),
            "requests": n_load,
            "requests_per_s": round(n_load / load_s, 1),
            "client_cpu_ms_per_request": round(load.client_cpu_s / max(n_load, 1) * 1e3, 3),
            "routes": load_table,
            "api_routes": api_only,
        },
        "errors": {"status_5xx": all_errors, "tracebacks": all_tracebacks, "connection": len(load.client_errors)},
        "rss_mib": {
            "start": round(rss_start, 1),
            "baseline": round(rss_base, 1),
            "after_distinct": round(rss_distinct, 1),
            "end": round(rss_end, 1),
            "peak": round(hwm_end, 1),
        },
        "goals_met": {k: bool(v) for k, v in goals.items()},
        "cpus": os.cpu_count(),
        "load_avg": [round(x, 2) for x in loadavg],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
