"""The runner against the local fake websocket + REST exchange: warm start, closed bars, faults, store."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from fakews import FIRST_MINUTE_MS, MINUTE_MS, Script, minute_bars

from liqmap.data.store import Store
from liqmap.live.runner import LiveRunner, LiveSettings

BTC = "BTC/USDT:USDT"
HISTORY, STREAMED = 40, 30


def run_until(runner: LiveRunner, done, timeout: float = 60.0) -> None:
    async def main() -> None:
        task = asyncio.create_task(runner.run())
        for _ in range(int(timeout / 0.05)):
            await asyncio.sleep(0.05)
            if done(runner) or task.done():
                break
        runner.stop()
        await task

    asyncio.run(main())


def settings(tmp_path, ws, rest=None, **kw) -> LiveSettings:
    base = {"binance": ws.url, "bybit": ws.url, "okx": ws.url}
    api = {"binance": rest.url, "bybit": rest.url, "okx": rest.url} if rest else {}
    return LiveSettings(
        exchanges=kw.pop("exchanges", ("binance",)), symbols=(BTC,), db=tmp_path / "live.duckdb", ws_urls=base,
        api_urls=api, history_minutes=HISTORY, flush_s=0.1, oi_poll_s=kw.pop("oi_poll_s", 0.0),
        stale_s=kw.pop("stale_s", 5.0), backoff_base_s=0.05, n_bins=200, **kw,
    )  # fmt: skip


def stored(db) -> tuple[np.ndarray, int]:
    with Store(db, read_only=True) as s:
        ts = s.query_bars("binance", BTC)["timestamp"].to_numpy()
        try:
            n_liq = len(s.query_liquidations("binance", BTC))
        except Exception:
            n_liq = 0
    return ts, n_liq


def test_streamed_map_is_bit_identical_to_a_batch_run(tmp_path, make_ws, make_rest):
    from liqmap.engine import run

    bars = minute_bars(HISTORY + STREAMED, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    rest = make_rest(bars)
    ws = make_ws(Script(bars[HISTORY:], forming_per_bar=2))
    runner = LiveRunner(settings(tmp_path, ws, rest, oi_poll_s=0.05))
    ser = runner.series[("binance", BTC)]
    run_until(runner, lambda r: ser.applied >= STREAMED)
    assert ser.backfilled == HISTORY and ser.applied == STREAMED
    assert rest.oi_polls >= 1 and ser.history[-1]["open_interest"] > 70_000  # the polled OI rode on a bar
    ts, n_liq = stored(tmp_path / "live.duckdb")
    assert np.array_equal(ts, [b["t"] for b in bars]) and n_liq == STREAMED // 2
    with Store(tmp_path / "live.duckdb", read_only=True) as s:
        all_bars = s.query_bars("binance", BTC)
    batch = run(all_bars, "oi-delta", ser.config).engines["binance"]
    for live_layer, batch_layer in zip(ser.engine.project(), batch.project(), strict=True):
        assert np.array_equal(live_layer, batch_layer)  # bit for bit
    assert np.array_equal(ser.engine.acct, batch.acct)
    assert runner.c.forming == 2 * STREAMED and runner.drops.total == 0


def test_faults_drop_silence_malformed_duplicate_out_of_order(tmp_path, make_ws, make_rest):
    bars = minute_bars(HISTORY + STREAMED, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    rest = make_rest(bars)
    script = Script(bars[HISTORY:], malformed=True, duplicate=True, reorder=True, drop_after=20,
                    silence_after=30, silence_s=4.0)  # fmt: skip
    ws = make_ws(script)
    # stale after 2 s: the 4 s silence is, a stall of a loaded machine is not (it would add a reconnect)
    runner = LiveRunner(settings(tmp_path, ws, rest, stale_s=2.0))
    ser = runner.series[("binance", BTC)]
    run_until(runner, lambda r: ser.last_ts == bars[-1]["t"])
    state = runner.states["binance"]
    assert state.connects >= 3  # dropped once, stale once: reconnected with backoff
    # the replay after each reconnect re-sends stored bars: dropped as duplicates; the swapped pair's
    # late bar too; the gap it leaves (and any other) is filled from REST
    assert runner.c.duplicates > 0
    reasons = ("unparsable", "negative quantity", "unknown symbol")
    assert runner.drops.counts == {("binance", r): state.connects for r in reasons}
    ts, _ = stored(tmp_path / "live.duckdb")
    assert np.array_equal(ts, [b["t"] for b in bars])  # no gap, no duplicate


def test_three_venues_each_get_a_warm_engine(tmp_path, make_ws, make_rest):
    bars = minute_bars(12)
    rest = make_rest([])
    ws = make_ws(Script(bars))
    runner = LiveRunner(settings(tmp_path, ws, rest, exchanges=("binance", "bybit", "okx")))
    run_until(runner, lambda r: all(s.applied >= 12 for s in r.series.values()))
    for (ex, _), ser in runner.series.items():
        assert ser.applied == 12, ex
        assert ser.engine.liqmap().price == pytest.approx(bars[-1]["c"])
    assert runner.c.liqs_seen == 3 * 6 and runner.drops.total == 0
    with Store(tmp_path / "live.duckdb", read_only=True) as s:
        liqs = s.query_liquidations(None, BTC)
    assert sorted(liqs["side"].unique()) == ["long", "short"]
    okx = liqs[liqs["exchange"] == "okx"]
    assert np.allclose(okx["quantity"], 0.13)  # 13 contracts × 0.01 BTC


def test_streamed_mark_prices_and_trades_ride_on_the_closed_bars(tmp_path, make_ws, make_rest):
    from fakews import MARK_BASIS

    bars = minute_bars(12)
    rest = make_rest([])
    # three forming updates per bar keep OKX's candle connection behind its public one (trades, marks)
    ws = make_ws(Script(bars, ticks=True, forming_per_bar=3, frame_delay_s=0.02))
    runner = LiveRunner(settings(tmp_path, ws, rest, exchanges=("binance", "bybit", "okx")))
    run_until(runner, lambda r: all(s.applied >= 12 for s in r.series.values()))
    assert runner.c.marks == 3 * 12 and runner.c.trades == 2 * 2 * 12 and runner.drops.total == 0
    with Store(tmp_path / "live.duckdb", read_only=True) as s:
        stored = {ex: s.query_bars(ex, BTC) for ex in ("binance", "bybit", "okx")}
    close = np.array([b["c"] for b in bars])
    taker_buy = np.array([b["V"] for b in bars])  # the recorded minutes' taker-buy BTC
    for ex, df in stored.items():
        assert len(df) == 12, ex
        assert np.allclose(df["mark_price"], close * (1 + MARK_BASIS), rtol=1e-7), ex
    assert np.allclose(stored["binance"]["taker_buy_volume"], taker_buy, rtol=1e-7)  # the kline's own `V`
    for ex in ("bybit", "okx"):  # from the trades: volume × taker-buy share; the first minute was partial
        tbv = stored[ex]["taker_buy_volume"].to_numpy()
        assert np.isnan(tbv[0]) and np.allclose(tbv[1:], taker_buy[1:], rtol=1e-6), ex


def test_alerts_on_the_live_maps_and_realized_stream(tmp_path, make_ws, make_rest):
    from liqmap.live.alerts import Alerts, Rule

    bars = minute_bars(HISTORY + 8, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    rest = make_rest(bars)
    ws = make_ws(Script(bars[HISTORY:], liquidation_every=1))
    # cascade amplification is ≥ 1 on any map: fires on the first streamed map, then never re-arms;
    # each forceOrder is 0.014 BTC at the bar's low (≈ $860): ≥ $1,500 within 2 minutes needs two orders
    alerts = Alerts([Rule("cascade", 1.0), Rule("realized", 1_500.0, min_usd=1_500.0, minutes=2)])
    runner = LiveRunner(settings(tmp_path, ws, rest), alerts=alerts)
    run_until(runner, lambda r: r.series[("binance", BTC)].applied >= 8 and r.c.liqs_seen >= 8)
    kinds = [a.kind for a in alerts.fired]
    assert kinds.count("cascade") == 1
    casc = next(a for a in alerts.fired if a.kind == "cascade")
    assert casc.value >= 1.0 and {"up_amplification", "down_amplification"} <= set(casc.numbers)
    (real,) = [a for a in alerts.fired if a.kind == "realized"]  # stays above while orders keep coming
    assert real.numbers["orders"] == 2
    assert real.value == pytest.approx(0.014 * (bars[HISTORY]["l"] + bars[HISTORY + 1]["l"]))


def test_refused_handshakes_429_and_503_back_off_then_connect(tmp_path, make_ws, make_rest):
    from liqmap.live.streams import Backoff

    b = Backoff(1.0, cap=60.0)
    assert [b.next() for _ in range(3)] + [b.next(rate_limited=True)] == [1.0, 2.0, 4.0, 32.0]
    b.reset()
    assert b.next() == 1.0
    bars = minute_bars(HISTORY + 5, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    rest = make_rest(bars)
    ws = make_ws(Script(bars[HISTORY:], refuse=[429, 503, 503]))
    runner = LiveRunner(settings(tmp_path, ws, rest))
    seen: list[str] = []

    async def watch() -> None:
        while runner.series[("binance", BTC)].applied < 5:
            seen.append(runner.states["binance"].state)
            await asyncio.sleep(0.01)
        runner.stop()

    async def main() -> None:
        task = asyncio.create_task(runner.run())
        await asyncio.wait_for(watch(), 60)
        await task

    asyncio.run(main())
    assert any("HTTP 429" in s for s in seen) and any("HTTP 503" in s for s in seen)
    assert runner.states["binance"].connects == 1 and ws.script.refuse == []


def test_a_store_holding_hourly_bars_of_the_series_stops_with_the_reason(tmp_path, make_ws, make_rest):
    import pandas as pd

    from liqmap.errors import StoreError

    hour = 3_600_000
    t0 = (FIRST_MINUTE_MS // hour - 3) * hour
    with Store(tmp_path / "live.duckdb") as s:
        s.upsert("bars", pd.DataFrame({"exchange": "binance", "symbol": BTC, "timestamp": [t0, t0 + hour],
                                       "open": 61_000.0, "high": 61_100.0, "low": 60_900.0, "close": 61_050.0,
                                       "volume": 5.0}))  # fmt: skip
    bars = minute_bars(HISTORY + 3, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    rest = make_rest(bars)
    ws = make_ws(Script(bars[HISTORY:]))
    runner = LiveRunner(settings(tmp_path, ws, rest))
    with pytest.raises(StoreError, match="resolution"):
        run_until(runner, lambda r: False, timeout=30)
