"""Restart safety: ``liqmap live`` SIGKILLed mid-stream and restarted leaves no duplicate and no gap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
from fakews import FIRST_MINUTE_MS, MINUTE_MS, Script, minute_bars

from liqmap.data.store import Store

BTC = "BTC/USDT:USDT"
HISTORY = 30


def start(db, ws, rest, tmp_path) -> subprocess.Popen:
    """`liqmap live` against the fakes, for at most 120 s (the test kills or stops it before)."""
    cmd = [sys.executable, "-m", "liqmap", "live", "--exchange", "binance", "--symbol", "BTCUSDT", "--db", str(db),
           "--ws-url", f"binance={ws.url}", "--api-url", f"binance={rest.url}", "--history-minutes", str(HISTORY),
           "--oi-poll-s", "0", "--quiet", "--duration-s", "120"]  # fmt: skip
    env = os.environ | {"LIQMAP_LOG_DIR": str(tmp_path)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_sent(ws, key: str, n: int, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    t0 = time.monotonic()
    while ws.script.sent.get(key, 0) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, f"only {ws.script.sent} frames sent"
        time.sleep(0.05)


def test_sigkill_mid_stream_then_restart_no_duplicate_no_gap(tmp_path, make_ws, make_rest):
    bars = minute_bars(HISTORY + 60, FIRST_MINUTE_MS - HISTORY * MINUTE_MS)
    rest = make_rest(bars)
    db = tmp_path / "live.duckdb"
    # run 1: the stream from the first live minute, one frame every 200 ms; killed after ~15 closed bars
    ws1 = make_ws(Script(bars[HISTORY:], frame_delay_s=0.2, liquidation_every=0))
    proc = start(db, ws1, rest, tmp_path)
    t0 = time.monotonic()
    while not rest.calls("/fapi/v1/klines"):  # the warm start's REST backfill: frames are applied from here
        assert proc.poll() is None and time.monotonic() - t0 < 60, proc.communicate()
        time.sleep(0.05)
    wait_sent(ws1, "binance", ws1.script.sent.get("binance", 0) + 2 * 25, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    with Store(db, read_only=True) as s:
        first = s.query_bars("binance", BTC)["timestamp"].to_numpy()
    assert HISTORY < len(first) < HISTORY + 35  # killed mid-stream, some streamed bars stored
    # run 2: "later" — the stream resumes at live minute 35 (minutes since the kill are REST-backfilled),
    # and re-sends two bars the first run stored (a replay after reconnect)
    resume = HISTORY + 35
    ws2 = make_ws(Script([bars[len(first) - 2], bars[len(first) - 1], *bars[resume:]], liquidation_every=0))
    proc = start(db, ws2, rest, tmp_path)
    wait_sent(ws2, "binance", len(ws2.script.frames("binance")), proc)  # after start-up and the warm start
    time.sleep(3)  # the last frames applied (milliseconds each), then Ctrl-C: the runner flushes and exits 0
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    with Store(db, read_only=True) as s:
        ts = s.query_bars("binance", BTC)["timestamp"].to_numpy()
    want = np.array([b["t"] for b in bars])
    assert len(ts) == len(set(ts)), "duplicates"
    assert np.array_equal(ts, want), (len(ts), len(want), sorted(set(want) - set(ts))[:5], out, err[-2000:])
    assert "dup 2" in out  # the two re-sent bars were dropped
