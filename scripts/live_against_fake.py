"""Run ``liqmap live`` for 20 s against the tests' local fake exchange (tests/live/fakews.py): three venues,
BTCUSDT, one frame every 200 ms (klines, liquidations, mark prices, trades), a realized-liquidation alert;
prints the command's output (docs/live.md).

    .venv/bin/python scripts/live_against_fake.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "live"))

from fakews import FIRST_MINUTE_MS, MINUTE_MS, FakeWs, Script, minute_bars, rest_exchange


def main() -> None:
    bars = minute_bars(90, FIRST_MINUTE_MS - 30 * MINUTE_MS)
    rest = rest_exchange(bars).start()
    ws = FakeWs(Script(bars[30:], frame_delay_s=0.2, liquidation_every=1, ticks=True)).start()
    db = Path(tempfile.mkdtemp()) / "live.duckdb"
    cmd = [sys.executable, "-m", "liqmap", "live", "--exchange", "binance", "--exchange", "bybit", "--exchange",
           "okx", "--symbol", "BTCUSDT", "--db", str(db), "--history-minutes", "30", "--oi-poll-s", "0",
           "--duration-s", "20", "--alert-realized", "1000:2"]  # fmt: skip
    for venue in ("binance", "bybit", "okx"):
        cmd += ["--ws-url", f"{venue}={ws.url}", "--api-url", f"{venue}={rest.url}"]
    shown = "liqmap live --exchange binance --exchange bybit --exchange okx --symbol BTCUSDT --db …"
    print(
        f"$ {shown} --history-minutes 30 --oi-poll-s 0 --duration-s 20 --alert-realized 1000:2  # + --ws-url/--api-url"
    )
    done = subprocess.run(cmd, capture_output=True, text=True)
    print(done.stdout, end="")
    ws.stop()
    rest.stop()


if __name__ == "__main__":
    main()
