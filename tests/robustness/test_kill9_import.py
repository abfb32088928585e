"""kill -9 trial: a real ``liqmap import`` of 120,000 bars SIGKILLed at staggered moments of its write.

The store already holds data: an OKX hourly series, liquidations and tiers (keys the import never touches)
and 2,000 Binance minute bars, half before the imported range and half overlapping its first 1,000 keys
with other values. Each trial copies that store, starts ``liqmap import bars big.csv`` in a subprocess and
kills it (nine trials) either 0.8 s after start, while it reads, or 0 … 150 ms after the store file first
changes (DuckDB's optimistic writes, then the WAL at COMMIT, then the checkpoint). After every kill the store
must open, every row outside the import's keys must export byte-identically, no key may be duplicated, and
the Binance series must be exactly the store before the import or exactly the store after a completed one
(never a mix); re-running the import must then give exactly the expected rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from liqmap.cli import run
from liqmap.data.schemas import TableKind, primary_key
from liqmap.data.store import Store

T0_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
N_IMPORT = 120_000  # 16 MB of CSV: ~2.5 s of start-up and reading, then ~60–120 ms of writing on 2 cores
N_BEFORE = 1_000  # Binance minute bars before the imported range (disjoint keys)
N_OVERLAP = 1_000  # Binance minute bars on the import's first keys, with other values
N_OKX = 2_000
LIQMAP = Path(sys.executable).with_name("liqmap")
# None: kill 0.8 s after start (before the store is opened); a number: ms after the store file first changes
MOMENTS: list[float | None] = [None, 0, 4, 10, 20, 35, 55, 80, 150]


def _minute_bars(start: int, n: int, shift: float = 0.0) -> pd.DataFrame:
    i = np.arange(n)
    close = 90_000.0 + 500.0 * np.sin((start + i) / 300.0) + shift
    oi = 50_000.0 + (start + i) % 11
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "timestamp": T0_MS + (start + i).astype("int64") * MINUTE_MS,
            "open": close - 5.0,
            "high": close + 40.0,
            "low": close - 40.0,
            "close": close,
            "volume": 100.0 + (start + i) % 7,
            "open_interest": oi,
            "open_interest_usd": oi * close,
        }
    )


def _okx_bars() -> pd.DataFrame:
    bars = _minute_bars(0, N_OKX, shift=-1_000.0).assign(exchange="okx")
    return bars.assign(timestamp=T0_MS - N_OKX * HOUR_MS + np.arange(N_OKX, dtype="int64") * HOUR_MS)


def _liquidations() -> pd.DataFrame:
    n = 50
    return pd.DataFrame(
        {
            "exchange": "okx",
            "symbol": "BTCUSDT",
            "timestamp": T0_MS + np.arange(n, dtype="int64") * 7_000,
            "side": ["long", "short"] * (n // 2),
            "price": 90_000.0 + np.arange(n),
            "quantity": 0.5,
            "notional_usd": 0.5 * (90_000.0 + np.arange(n)),
        }
    )


def _tiers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "tier": [1, 2],
            "notional_floor": [0.0, 300_000.0],
            "notional_cap": [300_000.0, 800_000.0],
            "max_leverage": [125.0, 100.0],
            "maintenance_margin_rate": [0.004, 0.005],
            "maintenance_amount": [0.0, 300.0],
            "valid_from": "2026-01",
            "source": "test",
        }
    )


@dataclass(frozen=True)
class World:
    base: Path  # the store before the import
    csv: Path  # the import
    untouched: dict[str, str]  # export digests of everything outside the import's keys
    binance_before: str
    binance_after: str  # the Binance series after a completed import
    rows_before: int
    rows_after: int


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _exports(db: Path, out: Path) -> dict[str, str]:
    """Parquet export digests: OKX bars, liquidations, tiers, Binance bars before the import, all Binance bars."""
    out.mkdir(parents=True, exist_ok=True)
    got: dict[str, str] = {}
    with Store(db, read_only=True) as store:
        for name, kind, exchange in (
            ("okx bars", "bars", "okx"),
            ("liquidations", "liquidations", None),
            ("tiers", "tiers", None),
            ("binance bars", "bars", "binance"),
        ):
            path = out / f"{name.replace(' ', '_')}.parquet"
            store.export(kind, path, exchange=exchange)
            got[name] = _digest(path)
    with duckdb.connect(str(db), read_only=True) as con:
        early = con.execute(
            "SELECT * FROM bars WHERE exchange = 'binance' AND timestamp < ? ORDER BY timestamp", [T0_MS]
        ).fetch_df()
    got["binance bars before the import's range"] = hashlib.sha256(early.to_csv(index=False).encode()).hexdigest()
    return got


def _bar_rows(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM bars").fetchone()[0]


def _duplicate_keys(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        found = {}
        for kind in TableKind:
            key = ", ".join(primary_key(kind))
            n = con.execute(f"SELECT count(*) FROM (SELECT {key} FROM {kind} GROUP BY ALL HAVING count(*) > 1)")
            found[str(kind)] = n.fetchone()[0]
        return {k: v for k, v in found.items() if v}


def _cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = run(argv)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("kill9")
    base = root / "base.duckdb"
    with Store(base) as store:
        store.upsert("bars", _okx_bars())
        store.upsert("bars", pd.concat([_minute_bars(-N_BEFORE, N_BEFORE), _minute_bars(0, N_OVERLAP, shift=7.0)]))
        store.upsert("liquidations", _liquidations())
        store.upsert("tiers", _tiers())
    csv = root / "big.csv"
    _minute_bars(0, N_IMPORT).to_csv(csv, index=False)
    before = _exports(base, root / "export-before")
    done = root / "done.duckdb"
    shutil.copy(base, done)
    code, err = _cli(["import", "bars", str(csv), "--db", str(done)])
    assert code == 0, err
    after = _exports(done, root / "export-after")
    untouched = {k: v for k, v in before.items() if k != "binance bars"}
    assert untouched == {k: v for k, v in after.items() if k != "binance bars"}
    assert before["binance bars"] != after["binance bars"]
    return World(
        base,
        csv,
        untouched,
        before["binance bars"],
        after["binance bars"],
        rows_before=N_OKX + N_BEFORE + N_OVERLAP,
        rows_after=N_OKX + N_BEFORE + N_IMPORT,
    )


def _file_state(db: Path) -> tuple[int, int, bool]:
    st = db.stat()
    return st.st_size, st.st_mtime_ns, db.with_name(db.name + ".wal").exists()


def _kill_import(db: Path, csv: Path, moment: float | None) -> tuple[int | None, bool]:
    """Start the import and SIGKILL it at ``moment``; (return code, whether the store had changed by then)."""
    initial = _file_state(db)
    child = subprocess.Popen(
        [str(LIQMAP), "import", "bars", str(csv), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "LIQMAP_LOG_DIR": str(db.parent / "log")},
    )
    started = time.monotonic()
    changed_at = None
    while child.poll() is None and time.monotonic() - started < 60:
        now = time.monotonic()
        if moment is None:
            if now - started >= 0.8:
                break
        elif changed_at is None and _file_state(db) != initial:
            changed_at = now
        if changed_at is not None and now - changed_at >= moment / 1e3:
            break
        time.sleep(0.0005)
    touched = _file_state(db) != initial
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGKILL)
    code = child.wait(timeout=30)
    return code, touched


def test_kill9_mid_import_leaves_before_or_after_never_between(world: World, tmp_path):
    outcomes: list[str] = []
    problems: list[str] = []
    for n, moment in enumerate(MOMENTS):
        db = tmp_path / f"trial{n}.duckdb"
        for _ in range(3):  # a stalled (loaded) machine can let the import finish before the kill: try again
            shutil.copy(world.base, db)
            code, touched = _kill_import(db, world.csv, moment)
            if code == -signal.SIGKILL:
                break
        label = "0.8 s after start" if moment is None else f"+{moment:g} ms after the first write"
        with Store(db):  # opens writable: DuckDB replays a complete WAL, drops an incomplete one
            pass
        rows = _bar_rows(db)
        got = _exports(db, tmp_path / f"export{n}")
        landed = {world.rows_before: "not landed", world.rows_after: "landed"}.get(rows, f"{rows} rows (a mix!)")
        outcomes.append(f"{label}: {'killed' if code == -signal.SIGKILL else f'exit {code}'}, {landed}")
        for name, digest in world.untouched.items():
            if got[name] != digest:
                problems.append(f"{label}: {name} changed")
        expected = world.binance_after if rows == world.rows_after else world.binance_before
        if rows not in (world.rows_before, world.rows_after) or got["binance bars"] != expected:
            problems.append(f"{label}: the Binance series is neither the store before nor after the import")
        if dupes := _duplicate_keys(db):
            problems.append(f"{label}: duplicate keys {dupes}")
        code2, err = _cli(["import", "bars", str(world.csv), "--db", str(db)])
        if code2 != 0 or _bar_rows(db) != world.rows_after:
            problems.append(f"{label}: re-import exit {code2} {err.strip()!r}, {_bar_rows(db)} rows")
        elif _exports(db, tmp_path / f"reexport{n}") != {**world.untouched, "binance bars": world.binance_after}:
            problems.append(f"{label}: the re-imported store differs from a clean import")
        assert not (tmp_path / "log").exists()  # a kill is not a bug report
        db.unlink()
        if moment is not None and not touched:
            problems.append(f"{label}: the store file had not changed when the kill was sent")
    print("\n".join(outcomes))
    assert not problems, "\n".join(problems) + "\n" + "\n".join(outcomes)
    killed = sum(o.split(": ")[1].startswith("killed") for o in outcomes)
    assert killed >= len(MOMENTS) - 2, outcomes  # the kills land while the import runs, not after it ended
    assert any(o.endswith("not landed") for o in outcomes[1:]), outcomes  # some kills interrupt the write itself
