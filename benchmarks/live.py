"""Live path: frames parsed + applied per CPU-second, frame → updated map latency, CPU share at real message
rates for 3 venues × 5 symbols, memory over one simulated hour (fast-forwarded).

Frames are the venues' own formats (tests/live/fakews.py) carrying the recorded Binance BTCUSDT minutes of
2024-08-08 (../shared/data/orderbook, repeated; other symbols are the same path scaled to their price), fed to
:class:`liqmap.live.runner.LiveRunner`'s frame handler in-process — what happens after a websocket ``recv``:
parse, closed bar → ``IncrementalEngine.update`` + ``liqmap()`` (+ the alert rules' map report), mark prices
and trades kept per minute, liquidations buffered and written to a DuckDB store every simulated 60 s. Rates
assumed per venue and symbol, upper bounds on the real ones: a kline update every 250 ms (Binance's documented
kline push; Bybit and OKX push no faster); one liquidation per second (Binance's forceOrder cap is one per
symbol per second; real rates are mostly far lower); mark prices every 1 s (Binance ``@markPrice@1s``), 100 ms
(Bybit ``tickers``) and 200 ms (OKX ``mark-price``); on Bybit and OKX (the trade streams) one trade frame per
trade at 48 trades/s — the recorded Binance BTCUSDT rate (8,714 trades in three minutes), for every symbol.

    .venv/bin/python benchmarks/live.py [--minutes 60] [--no-alerts]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))

from fakews import (  # noqa: E402
    FIRST_MINUTE_MS,
    binance_force_order,
    binance_kline,
    binance_mark,
    bybit_kline,
    bybit_liquidation,
    bybit_mark,
    bybit_trade,
    minute_bars,
    okx_candle,
    okx_liquidation,
    okx_mark,
    okx_trades,
)

SYMBOLS = {"BTC": 1.0, "ETH": 1 / 25.0, "SOL": 1 / 420.0, "DOGE": 1 / 480_000.0, "HYPE": 1 / 1_900.0}
VENUES = ("binance", "bybit", "okx")
KLINES_PER_MIN = 240  # one update every 250 ms
LIQS_PER_MIN = 60
MARKS_PER_MIN = {"binance": 60, "bybit": 600, "okx": 300}
TRADES_PER_MIN = {"binance": 0, "bybit": 2_880, "okx": 2_880}  # 48/s: the recorded BTCUSDT trade rate


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def scaled(b: dict[str, float], k: float) -> dict[str, float]:
    return {"t": b["t"], **{x: b[x] * k for x in ("o", "h", "l", "c")}, "v": b["v"] / k, "q": b["q"], "V": b["V"] / k}


def _kline(venue: str, coin: str, b: dict[str, float], closed: bool) -> str:
    if venue == "binance":
        return binance_kline(b, closed, f"{coin}USDT")
    if venue == "bybit":
        return bybit_kline(b, closed, f"{coin}USDT")
    return okx_candle(b, closed, f"{coin}-USDT-SWAP")


def _liquidation(venue: str, coin: str, ts: int, b: dict[str, float], k: float) -> str:
    if venue == "binance":
        return binance_force_order(ts, b["l"], 0.014 / k, "SELL", f"{coin}USDT")
    if venue == "bybit":
        return bybit_liquidation(ts, b["h"], 0.02 / k, "Sell", f"{coin}USDT")
    return okx_liquidation(ts, b["l"], 13.0, "long", f"{coin}-USDT-SWAP")


def _mark(venue: str, coin: str, ts: int, price: float) -> str:
    if venue == "binance":
        return binance_mark(ts, price, f"{coin}USDT")
    if venue == "bybit":
        return bybit_mark(ts, price, f"{coin}USDT")
    return okx_mark(ts, price, f"{coin}-USDT-SWAP")


def _trade(venue: str, coin: str, ts: int, b: dict[str, float], j: int, n: int) -> str:
    """Trade ``j`` of ``n`` in the minute: even ones taker buys, odd ones taker sells, summing to the bar's
    taker-buy and taker-sell volume."""
    buy = j % 2 == 0
    qty = (b["V"] if buy else b["v"] - b["V"]) / (n // 2)
    if venue == "bybit":
        return bybit_trade(ts, b["c"], qty, "Buy" if buy else "Sell", f"{coin}USDT")
    return okx_trades([(ts, b["c"], qty / 0.01, "buy" if buy else "sell")], f"{coin}-USDT-SWAP")


def minute_frames(bar: dict[str, float]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """One minute of frames for every venue × symbol in the order of their timestamps: the forming
    updates, liquidations, mark prices and trades, then the 15 closed bars (which arrive together at the
    minute's end)."""
    timed: list[tuple[float, str, str]] = []
    closed: list[tuple[str, str]] = []
    for coin, k in SYMBOLS.items():
        b = scaled(bar, k)
        t0 = int(b["t"])
        for venue in VENUES:
            for j in range(KLINES_PER_MIN - 1):
                part = dict(b, c=b["o"] + (b["c"] - b["o"]) * (j + 1) / KLINES_PER_MIN)
                part["h"], part["l"] = max(b["h"], part["c"]), min(b["l"], part["c"])
                timed.append((250.0 * (j + 1), venue, _kline(venue, coin, part, False)))
            for j in range(LIQS_PER_MIN):
                timed.append((1000.0 * j + 1, venue, _liquidation(venue, coin, t0 + 1000 * j + 1, b, k)))
            step = 60_000 // MARKS_PER_MIN[venue]
            for j in range(MARKS_PER_MIN[venue]):
                timed.append((step * j + 2.0, venue, _mark(venue, coin, t0 + step * j + 2, b["c"])))
            n = TRADES_PER_MIN[venue]
            for j in range(n):
                ts = t0 + 3 + j * 59_990 // n
                timed.append((float(ts - t0), venue, _trade(venue, coin, ts, b, j, n)))
            closed.append((venue, _kline(venue, coin, b, True)))
    timed.sort(key=lambda x: x[0])
    return [(venue, frame) for _, venue, frame in timed], closed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=int, default=60, help="simulated minutes (default 60)")
    ap.add_argument("--no-alerts", action="store_true", help="engine + map only, no alert rules / map reports")
    args = ap.parse_args()

    from liqmap.data.store import Store
    from liqmap.live.alerts import Alerts, Rule
    from liqmap.live.runner import LiveRunner, LiveSettings

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, 1-min load average {load:.1f} at start (other jobs slow wall times)")
    tmp = Path(tempfile.mkdtemp())
    settings = LiveSettings(
        exchanges=VENUES, symbols=tuple(f"{c}USDT" for c in SYMBOLS), db=tmp / "bench.duckdb", backfill=False,
        history_minutes=60, oi_poll_s=0,
    )  # fmt: skip
    rules = [Rule("cluster", 1.0, "below", min_usd=1e6), Rule("imbalance", 2.0), Rule("cascade", 1.5),
             Rule("realized", 1e6, min_usd=1e6, minutes=5)]  # fmt: skip
    alerts = None if args.no_alerts else Alerts(rules, [])
    runner = LiveRunner(settings, alerts=alerts)
    runner._store = Store(settings.db)
    for state in runner.states.values():
        state.connects = 1  # as after the first connect: the trade streams cover minutes from the next one
    handlers = {sp.exchange: runner._on_frame(sp) for sp in runner.specs}  # OKX: its public connection's
    bars = minute_bars(args.minutes + 1, FIRST_MINUTE_MS)

    async def feed(minute: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> None:
        body, closed = minute
        for venue, frame in body:
            await handlers[venue](frame, time.perf_counter())
        burst = time.perf_counter()  # the closed bars arrive together: each one's latency includes the queue
        for venue, frame in closed:
            await handlers[venue](frame, burst)

    # warm-up minute (numba kernels, first engine of each series), not measured
    asyncio.run(feed(minute_frames(bars[0])))
    if alerts is not None:
        runner.evaluate_alerts()
    runner._write(runner._take_pending())
    runner.latencies_ms.clear()
    rss = [(0, rss_mb())]
    n_frames, cpu, wall = 0, 0.0, 0.0
    for m, bar in enumerate(bars[1:], start=1):
        frames = minute_frames(bar)
        c0, w0 = time.process_time(), time.perf_counter()
        asyncio.run(feed(frames))
        if alerts is not None:
            runner.evaluate_alerts()  # the alert rules' map reports, after the burst (as the runner's loop)
        runner._write(runner._take_pending())  # the store batch of that minute
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        n_frames += len(frames[0]) + len(frames[1])
        if m % 5 == 0:
            rss.append((m, rss_mb()))
    runner._store.close()
    lat = sorted(runner.latencies_ms)
    p50, p99 = lat[len(lat) // 2], lat[int(0.99 * (len(lat) - 1))]
    sim_s = args.minutes * 60.0
    share = cpu / sim_s
    applied = sum(s.applied for s in runner.series.values())
    print(f"replayed: {args.minutes} simulated minutes, 3 venues × 5 symbols, {n_frames:,} frames "
          f"({n_frames / sim_s:.0f}/s simulated), {applied} closed bars applied, {runner.c.liqs_stored:,} "
          f"liquidations stored, {runner.c.marks:,} marks, {runner.c.trades:,} trades, {runner.drops.total} frames "
          f"dropped; alerts {'on' if alerts else 'off'}"
          f"{f' ({len(alerts.fired)} fired)' if alerts else ''}")  # fmt: skip
    print(f"throughput: {n_frames / cpu:,.0f} frames parsed+applied per CPU-second "
          f"({n_frames / wall:,.0f}/s wall, one thread)")  # fmt: skip
    print(f"frame → updated map (closed bars, {len(lat)}): p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {lat[-1]:.2f} ms")
    print(f"CPU for {sim_s:.0f} s of real-rate traffic: {cpu:.2f} s → {100 * share:.2f} % of one core")
    half = [r for m, r in rss if m >= args.minutes / 2]
    growth = half[-1] - half[0] if len(half) > 1 else float("nan")
    print("RSS MB by simulated minute: " + ", ".join(f"{m}: {r:.0f}" for m, r in rss))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"growth over the second half {growth:+.1f} MB")  # fmt: skip
    goals = [
        ("p99 frame → map < 100 ms", p99 < 100),
        ("CPU < 25 % of one core for 3 venues × 5 symbols", share < 0.25),
        ("memory flat (second-half growth < 5 MB)", growth < 5),
    ]
    for name, ok in goals:
        print(f"goal {name}: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
