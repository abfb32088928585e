"""Hostile-input trial: ≥ 200 generated bad inputs through the CLI, each ending in exit 2 and one line.

Every input goes through :func:`liqmap.cli.run` in-process (``liqmap import``, ``liqmap data export`` or an
engine command; bad bars files also through ``liqmap map --input``), with the store checked byte for byte
before and after and a fresh ``--db`` path checked to stay absent. A few cases run in a real process to see
the exit code and stderr a user sees; a forced bug must exit 70 and write its traceback to the log dir.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from liqmap.cli import EXIT_BAD_INPUT, EXIT_BUG, run

T0_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
HOUR_MS = 3_600_000
SECRET = "SECRET-3f9c1e-should-never-be-printed"
SYMBOL = ["--symbol", "BTCUSDT"]


@dataclass(frozen=True)
class Case:
    """One bad input: a name, the CLI arguments (``{db}`` is filled in) and whether it imports into a store."""

    name: str
    argv: tuple[str, ...]
    writes: bool = False  # an import: also run it against a fresh --db that must stay absent


def _bars(n: int = 48) -> pd.DataFrame:
    close = 90_000.0 + 50.0 * np.sin(np.arange(n) / 3.0)
    oi = 50_000.0 + 100.0 * np.arange(n)
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "timestamp": T0_MS + np.arange(n, dtype="int64") * HOUR_MS,
            "open": close - 5.0,
            "high": close + 40.0,
            "low": close - 40.0,
            "close": close,
            "volume": 100.0 + np.arange(n),
            "open_interest": oi,
            "open_interest_usd": oi * close,
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
            "valid_from": "2026-09",
            "source": "Binance leverageBracket",
        }
    )


def _liquidations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exchange": "okx",
            "symbol": "BTCUSDT",
            "timestamp": [T0_MS + 1_000, T0_MS + 2_000],
            "side": ["long", "short"],
            "price": [90_000.0, 90_100.0],
            "quantity": [0.5, 0.25],
            "notional_usd": [45_000.0, 22_525.0],
        }
    )


def _depth() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "timestamp": T0_MS,
            "side": ["bid", "bid", "ask"],
            "price": [90_000.0, 89_999.0, 90_001.0],
            "size": [1.0, 2.0, 1.5],
        }
    )


def _with(df: pd.DataFrame, row: int, col: str, value: object) -> pd.DataFrame:
    out = df.copy()
    out[col] = out[col].astype(object)
    out.loc[row, col] = value
    return out


class Inputs:
    """Writes bad files into ``root`` and collects the :class:`Case` list."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[Case] = []
        self._n = 0

    def path(self, suffix: str) -> Path:
        self._n += 1
        return self.root / f"in{self._n:03d}{suffix}"

    def add(self, name: str, *argv: str, writes: bool = False) -> None:
        self.cases.append(Case(name, tuple(argv), writes))

    def table(self, name: str, kind: str, df: pd.DataFrame, fmt: str = ".csv", engine: bool = False) -> None:
        """A bad table as a file: imported as ``kind`` (and read by ``liqmap map`` when ``engine``)."""
        p = self.path(fmt)
        if fmt == ".parquet":  # a column mixing numbers and text is written as text
            mixed = [c for c in df.columns if df[c].dtype == object and df[c].map(type).nunique() > 1]
            pq.write_table(pa.Table.from_pandas(df.astype(dict.fromkeys(mixed, str)), preserve_index=False), p)
        elif fmt == ".json":
            p.write_text(df.to_json(orient="records"))
        else:
            df.to_csv(p, index=False)
        self.raw_file(name, kind, p, engine)

    def raw(self, name: str, kind: str, suffix: str, content: bytes, engine: bool = False) -> None:
        p = self.path(suffix)
        p.write_bytes(content)
        self.raw_file(name, kind, p, engine)

    def raw_file(self, name: str, kind: str, p: Path, engine: bool = False) -> None:
        self.add(f"import {name}", "import", kind, str(p), "--db", "{db}", writes=True)
        if engine:
            self.add(f"map {name}", "map", "--input", str(p), *SYMBOL, "--model", "volume")


def build_cases(root: Path, good_csv: Path) -> list[Case]:
    """The hostile-input matrix (≥ 200 cases), generated from valid tables by one defect each."""
    ins = Inputs(root)
    bars = _bars()
    # --- single bad values in every bar column, as CSV and (a subset) as Parquet/JSON
    prices = ["", "abc", "inf", "-inf", "-1", "0", "1e-198", "1e302", "nan", "1e9999"]
    columns: dict[str, list[object]] = {
        "open": prices,
        "high": prices,
        "low": prices,
        "close": prices,
        "volume": ["", "abc", "inf", "-1", "1e302", "nan", "[1, 2]"],
        "open_interest": ["abc", "-5", "1e300", "inf"],
        "timestamp": ["", "abc", "-5", "0", "4070908800000", "1e30", "2099-01-01", "1.5", "1767225600000.25"],
        "exchange": ["", "kraken", "=cmd|' /C calc'!A0", "x" * 100_000, SECRET],
        "symbol": ["", "BTC/EUR", "B" * 200, "=1+1", "@SUM(A1)", "💥USDT", "S" * 20_000_000],
    }
    for col, values in columns.items():
        for i, value in enumerate(values):
            ins.table(f"bars {col}={str(value)[:20]!r}", "bars", _with(bars, 3, col, value), engine=i < 3)
    for fmt in (".parquet", ".json"):
        for col, value in (("close", np.nan), ("high", 1e302), ("low", 1e-198), ("timestamp", 4_070_908_800_000)):
            ins.table(f"bars {col} {fmt}", "bars", _with(bars, 5, col, value), fmt, engine=True)
        ins.table(f"bars text price {fmt}", "bars", _with(bars, 5, "open", "abc"), fmt)
    # --- structure: order, duplicates, resolution, OHLC, missing columns, unknown symbols
    ins.table("unsorted", "bars", bars.iloc[[0, 2, 1, *range(3, len(bars))]], engine=True)
    ins.table("duplicate timestamp", "bars", pd.concat([bars, bars.iloc[[7]]]).sort_values("timestamp"), engine=True)
    ins.table(
        "mixed resolution",
        "bars",
        bars.assign(timestamp=bars["timestamp"].where(bars.index != 10, T0_MS + 9 * HOUR_MS + 1_800_000)),
    )
    ins.table("high below low", "bars", bars.assign(high=bars["low"] - 1), engine=True)
    ins.table("low above close", "bars", _with(bars, 2, "low", float(bars["close"][2]) + 1))
    ins.table("taker above volume", "bars", bars.assign(taker_buy_volume=bars["volume"] * 2))
    ins.table("unknown symbol", "bars", bars.assign(symbol="NOTACOIN/EUR"), engine=True)
    ins.table("unknown exchange", "bars", bars.assign(exchange="ftx"), engine=True)
    ins.table("future bars", "bars", bars.assign(timestamp=bars["timestamp"] + 73 * 365 * 86_400_000))
    ins.table("ancient bars", "bars", bars.assign(timestamp=bars["timestamp"] - 20 * 365 * 86_400_000))
    for col in ("timestamp", "open", "high", "low", "close", "volume"):
        ins.table(f"missing column {col}", "bars", bars.drop(columns=col), engine=col == "close")
    ins.table("wrong kind: liquidations as bars", "bars", _liquidations())
    ins.table("bars as tiers", "tiers", bars)
    # --- malformed text files
    text = good_csv.read_bytes()
    for name, content in {
        "empty file": b"",
        "header only": text.splitlines()[0] + b"\n",
        "binary garbage": bytes(range(256)) * 40,
        "non-utf8": text.replace(b"binance", b"bin\xff\xfeance"),
        "semicolons": text.replace(b",", b";"),
        "unbalanced quote": text + b'"binance,BTCUSDT,1\n',
        "ragged rows": text + b"binance,BTCUSDT\n",
        "nul bytes": text.replace(b"binance", b"bin\x00ance"),
        "passwd-like": f"root:x:0:0:{SECRET}:/root:/bin/bash\ndaemon:x:1:1::/:/bin/sh\n".encode(),
        "one-line secret": SECRET.encode(),
        "huge header": b"a" * 5_000_000 + b"\n1\n",
        "headerless 5 columns": b"1767225600000,1,2,0.5,1.5\n",
    }.items():
        ins.raw(name, "bars", ".csv", content, engine=name in ("binary garbage", "passwd-like"))
    secret_link = ins.path(".csv")
    secret_file = root / "system-file"
    secret_file.write_text(f"{SECRET}:x:0:0\nsecond:line:{SECRET}\n")
    secret_link.symlink_to(secret_file)
    ins.raw_file("symlink to a system-like file", "bars", secret_link, engine=True)
    # --- compressed: corrupt, truncated, several members, empty archive
    good_gz = gzip.compress(text)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("a.csv", text)
        z.writestr("b.csv", text)
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").close()
    bad_zip = io.BytesIO()
    with zipfile.ZipFile(bad_zip, "w") as z:
        z.writestr("a.csv", _with(bars, 1, "close", "nan").to_csv(index=False))
    for name, suffix, content in (
        ("corrupt gz", ".csv.gz", b"garbage, not gzip"),
        ("truncated gz", ".csv.gz", good_gz[: len(good_gz) // 2]),
        ("gz of garbage", ".csv.gz", gzip.compress(bytes(range(256)) * 10)),
        ("gz bad crc", ".csv.gz", good_gz[:-8] + b"\x00" * 8),
        ("corrupt zip", ".csv.zip", b"PK\x03\x04 not really a zip"),
        ("zip of two files", ".csv.zip", zbuf.getvalue()),
        ("empty zip", ".csv.zip", empty_zip.getvalue()),
        ("zip with NaN close", ".csv.zip", bad_zip.getvalue()),
        ("truncated zip", ".csv.zip", zbuf.getvalue()[:40]),
        ("corrupt bz2", ".csv.bz2", b"BZh9 garbage"),
        ("truncated bz2", ".csv.bz2", bz2.compress(text)[:30]),
        ("corrupt xz", ".csv.xz", b"\xfd7zXZ\x00 garbage"),
        ("truncated xz", ".csv.xz", lzma.compress(text)[:30]),
    ):
        ins.raw(name, "bars", suffix, content, engine=name in ("corrupt gz", "corrupt zip"))
    # --- Parquet: garbage, truncated, wrong types
    good_pq = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(bars, preserve_index=False), good_pq)
    for name, content in (
        ("parquet garbage", b"PAR1 garbage PAR1"),
        ("truncated parquet", good_pq.getvalue()[: len(good_pq.getvalue()) // 2]),
        ("parquet footer only", good_pq.getvalue()[-64:]),
        ("csv named parquet", text),
    ):
        ins.raw(name, "bars", ".parquet", content, engine=True)
    ins.table("parquet no rows", "bars", bars.iloc[:0], ".parquet")
    ins.table("parquet list column", "bars", bars.assign(close=[[1.0, 2.0]] * len(bars)), ".parquet")
    ins.table("parquet bool prices", "bars", bars.assign(open=True), ".parquet")
    # --- JSON
    for name, content in {
        "json nested 200k deep": b"[" * 200_000 + b"]" * 200_000,
        "json objects 100k deep": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "invalid json": b'[{"exchange": "binance",',
        "json scalar": b"42",
        "json string": json.dumps(SECRET).encode(),
        "json list of ints": b"[1, 2, 3]",
        "json dict of scalars": b'{"exchange": "binance", "close": 1}',
        "json nested records": json.dumps([{"exchange": {"x": 1}, "close": [1]}]).encode(),
        "json NaN literal": b'[{"exchange":"binance","symbol":"BTCUSDT","timestamp":1767225600000,'
        b'"open":NaN,"high":1,"low":1,"close":1,"volume":1}]',
        "json non-utf8": b'[{"exchange": "\xff\xfe"}]',
        "json empty list": b"[]",
    }.items():
        ins.raw(name, "bars", ".json", content)
    ohlcv = [[T0_MS + i * HOUR_MS, 1.0, 2.0, 0.5, 1.5, 3.0] for i in range(5)]
    for name, rows in (
        ("ccxt short rows", [r[:4] for r in ohlcv]),
        ("ccxt text price", [[*r[:1], "abc", *r[2:]] for r in ohlcv]),
        ("ccxt future", [[4_070_908_800_000 + i, 1.0, 2.0, 0.5, 1.5, 3.0] for i in range(3)]),
        ("ccxt huge price", [[r[0], 1e302, 1e302, 1e302, 1e302, 1.0] for r in ohlcv]),
    ):
        p = ins.path(".json")
        p.write_text(json.dumps(rows))
        ins.add(
            f"import {name}", "import", "bars", str(p), "--exchange", "binance", *SYMBOL, "--db", "{db}", writes=True
        )
    p = ins.path(".json")
    p.write_text(json.dumps(ohlcv))
    ins.add("import ccxt without exchange", "import", "bars", str(p), "--db", "{db}", writes=True)
    # --- liquidations, depth, tiers
    liqs = _liquidations()
    for col, value in (
        ("side", "buy"),
        ("side", "sell"),
        ("side", "x"),
        ("price", 0),
        ("price", 1e302),
        ("quantity", -1),
        ("notional_usd", 1e302),
        ("timestamp", "soon"),
        ("symbol", "=1+2"),
    ):
        ins.table(f"liquidations {col}={value!r}", "liquidations", _with(liqs, 0, col, value))
    depth = _depth()
    ins.table("depth crossed", "depth", _with(depth, 2, "price", 89_000.0))
    ins.table("depth side mid", "depth", _with(depth, 0, "side", "mid"))
    ins.table("depth negative size", "depth", _with(depth, 1, "size", -1.0))
    ins.table("depth price 1e-198", "depth", _with(depth, 1, "price", 1e-198))
    tiers = _tiers()
    for col, value in (
        ("max_leverage", 1e9),
        ("max_leverage", 0.5),
        ("max_leverage", 1001.0),
        ("notional_cap", -1.0),
        ("notional_cap", 1e300),
        ("maintenance_margin_rate", 1.5),
        ("maintenance_amount", -3.0),
        ("tier", 1.5),
        ("source", "=cmd|' /C calc'!A0"),
        ("source", "+1+1"),
        ("source", "-2+3"),
        ("source", "@SUM(A1:A9)"),
        ("source", "\t=1"),
        ("valid_from", ' =HYPERLINK("http://x")'),
        ("source", "s" * 5000),
    ):
        ins.table(f"tiers {col}={str(value)[:16]!r}", "tiers", _with(tiers, 1, col, value))
        ins.table(f"tiers {col}={str(value)[:16]!r} json", "tiers", _with(tiers, 0, col, value), ".json")
    ins.table("tiers duplicate tier", "tiers", pd.concat([tiers, tiers.iloc[[1]]]))
    # --- paths and options
    for name, argv in {
        "missing file": ("import", "bars", str(root / "nope.csv")),
        "directory without tables": ("import", "bars", str(root / "emptydir")),
        "unknown suffix": ("import", "bars", str(good_csv.with_suffix(".xlsx"))),
        "unknown format option": ("import", "bars", str(good_csv), "--format", "xlsx"),
        "store path is a directory": ("import", "bars", str(good_csv), "--db", str(root / "emptydir")),
        "store under a file": ("import", "bars", str(good_csv), "--db", str(good_csv / "x.duckdb")),
        "store is not duckdb": ("import", "bars", str(good_csv), "--db", str(good_csv)),
    }.items():
        ins.add(name, *argv, *(() if "--db" in argv else ("--db", "{db}")), writes="--db" not in argv)
    (root / "emptydir").mkdir()
    good_csv.with_suffix(".xlsx").write_bytes(good_csv.read_bytes())
    for name, out in {
        "export unwritable path": "/proc/liqmap-nope/out.csv",
        "export into a directory": str(root / "emptydir"),
        "export under a file": str(good_csv / "out.parquet"),
        "export unknown suffix": str(root / "out.xlsx"),
        "export parquet unwritable": "/proc/liqmap-nope/out.parquet",
    }.items():
        ins.add(name, "data", "export", "bars", out, "--db", "{db}")
    ins.add(
        "export unknown exchange", "data", "export", "bars", str(root / "o.csv"), "--exchange", "ftx", "--db", "{db}"
    )
    # --- engine commands on the good store with bad options
    for shock in ("1e-300%", "0", "nan", "inf%", "-inf", "abc", "100%", "-250%", "1e308"):
        ins.add(f"cascade --shock {shock}", "cascade", *SYMBOL, "--shock", shock, "--model", "volume", "--db", "{db}")
    for opt, value in (("--at", "yesterday-ish"), ("--start", "2026-13-45"), ("--end", "soon"), ("--symbol", "=1+1")):
        ins.add(f"map {opt} {value}", "map", *SYMBOL, opt, value, "--model", "volume", "--db", "{db}")
    ins.add("map unknown symbol in store", "map", "--symbol", "ETHUSDT", "--model", "volume", "--db", "{db}")
    ins.add("data info on a missing store", "data", "info", "--db", str(root / "absent.duckdb"))
    return ins.cases


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[tuple[Path, Path, list[Case]]]:
    """A store holding valid bars and tiers, a good CSV and the case list."""
    root = tmp_path_factory.mktemp("hostile")
    good = root / "good.csv"
    _bars().to_csv(good, index=False)
    db = root / "store.duckdb"
    tiers = root / "tiers.csv"
    _tiers().to_csv(tiers, index=False)
    for argv in (["import", "bars", str(good)], ["import", "tiers", str(tiers)]):
        code, _, err = _run([*argv, "--db", str(db)])
        assert code == 0, err
    yield db, good, build_cases(root, good)


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return code, out.getvalue(), err.getvalue()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _problems(case: Case, argv: list[str], code: int, err: str) -> list[str]:
    lines = err.strip().splitlines()
    found = []
    if code != EXIT_BAD_INPUT:
        found.append(f"exit {code}")
    if len(lines) != 1 or not lines[0].startswith("error: ") or len(lines[0]) > 600:
        found.append(f"stderr is not one short 'error:' line: {err[:300]!r}")
    if "Traceback" in err or SECRET in err:
        found.append(f"stderr leaks a traceback or file content: {err[:300]!r}")
    return [f"{case.name} ({' '.join(a[:40] for a in argv)}): {p}" for p in found]


def test_hostile_inputs_exit_2_with_one_line_and_leave_the_store_unchanged(world, tmp_path, monkeypatch):
    db, _, cases = world
    monkeypatch.setenv("LIQMAP_LOG_DIR", str(tmp_path / "log"))
    before = _digest(db)
    problems: list[str] = []
    runs = 0
    for i, case in enumerate(cases):
        targets = [db, tmp_path / f"new{i}.duckdb"] if case.writes else [db]
        for target in targets:
            argv = [a.replace("{db}", str(target)) for a in case.argv]
            code, _, err = _run(argv)
            runs += 1
            problems += _problems(case, argv, code, err)
            if target != db and any(target.parent.glob(f"{target.name}*")):
                problems.append(f"{case.name}: a failed import left a new store file {target.name}")
        if _digest(db) != before:
            problems.append(f"{case.name}: the store changed")
            before = _digest(db)
    assert not problems, "\n".join(problems[:20]) + f"\n({len(problems)} problems)"
    assert len(cases) >= 200 and runs >= 300
    assert not (tmp_path / "log").exists()  # no input was treated as a bug
    assert not db.with_name(db.name + ".wal").exists()


def test_a_valid_one_bar_series_works_everywhere(world, tmp_path):
    _, good, _ = world
    one = tmp_path / "one.csv"
    _bars(1).assign(exchange="okx").to_csv(one, index=False)
    store = tmp_path / "s.duckdb"
    for argv in (["import", "bars", str(good)], ["import", "bars", str(one)], ["data", "info"], ["data", "gaps"]):
        code, _, err = _run([*argv, "--db", str(store)])
        assert (code, err) == (0, "")
    code, out, _ = _run(["data", "info", "--json", "--db", str(store)])
    assert [s["timeframe"] for s in json.loads(out)["series"] if s["kind"] == "bars"] == ["1h", None]


def test_a_bug_exits_70_and_writes_the_traceback_to_the_log_dir(world, tmp_path, monkeypatch):
    db, _, _ = world
    monkeypatch.setenv("LIQMAP_LOG_DIR", str(tmp_path / "log"))

    def broken(self: object) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr("liqmap.data.store.Store.info", broken)
    code, _, err = _run(["data", "info", "--db", str(db)])
    logs = list((tmp_path / "log").glob("crash-*.log"))
    assert code == EXIT_BUG and len(err.strip().splitlines()) == 1 and len(logs) == 1
    assert f"traceback written to {logs[0]}" in err and "Traceback" not in err
    assert "ZeroDivisionError: simulated bug" in logs[0].read_text()


def _process(argv: list[str], env: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = f"{prelude}\nfrom liqmap.cli import main\nmain()"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120, env=env, check=False
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda root, db: [
            "import",
            "bars",
            str(_write(root / "x.csv.gz", b"not gzip")),
            "--db",
            str(root / "n.duckdb"),
        ],
        lambda root, db: [
            "import",
            "bars",
            str(_write(root / "d.json", b"[" * 200_000 + b"]" * 200_000)),
            "--db",
            str(db),
        ],
        lambda root, db: ["data", "export", "bars", "/proc/liqmap-nope/o.csv", "--db", str(db)],
        lambda root, db: ["cascade", *SYMBOL, "--shock", "1e-300%", "--model", "volume", "--db", str(db)],
    ],
    ids=["corrupt-gz", "deep-json", "unwritable-export", "tiny-shock"],
)
def test_real_process_exit_codes(world, tmp_path, make: Callable[[Path, Path], list[str]]):
    db, _, _ = world
    env = {**os.environ, "LIQMAP_LOG_DIR": str(tmp_path / "log")}
    before = _digest(db)
    proc = _process(make(tmp_path, db), env)
    assert proc.returncode == EXIT_BAD_INPUT and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert _digest(db) == before and not (tmp_path / "n.duckdb").exists() and not (tmp_path / "log").exists()


def test_real_process_bug_report(world, tmp_path):
    db, _, _ = world
    env = {**os.environ, "LIQMAP_LOG_DIR": str(tmp_path / "log")}
    prelude = "import liqmap.data.store as s\ns.Store.info = lambda self: 1 / 0"
    proc = _process(["data", "info", "--db", str(db)], env, prelude)
    assert proc.returncode == EXIT_BUG and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "internal error (a bug): traceback written to" in proc.stderr
    assert "ZeroDivisionError" in next((tmp_path / "log").glob("crash-*.log")).read_text()


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
