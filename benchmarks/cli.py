"""CLI start-up and end to end: wall time of ``liqmap`` commands as fresh processes, beside the same work
done in a warm interpreter and by a library script (the "peer").

Each command runs ``--n`` times as a subprocess (round-robin, after one warm-up run that fills numba's and
Python's caches); the table shows the min and median wall time, the CPU time (user + sys, less sensitive
to other jobs than wall time), the goal from issue 17 and whether the min meets it. Among the rows:
``python -c pass`` (the interpreter alone) and ``import liqmap.cli, numba, pandas`` (the floor of every engine
command: the CLI, the JIT and the tables it runs on); the "warm work" column is the command's work in an
already warm interpreter (``liqmap.cli.run`` again in the same process: no imports, no numba cache load);
below the table, the engine alone on the same bars, both min of ``--n``. The peer is a Python script
calling the library for what ``map --json`` computes; the CLI should not be slower than it.
The last line is one JSON object.

    .venv/bin/python benchmarks/cli.py [--n 5] [--src DIR]

``--src DIR`` measures another checkout's ``src`` (put first on ``PYTHONPATH``), e.g. the code before a
change: ``git archive HEAD~3 src | tar -x -C /tmp/before`` then ``--src /tmp/before/src``. Bytecode is
cached in a temporary ``PYTHONPYCACHEPREFIX`` (also when ``PYTHONDONTWRITEBYTECODE`` is set, as an
installed package has its ``.pyc`` files) and numba's cache in a temporary ``NUMBA_CACHE_DIR`` (unless set;
the warm-up run fills it, and no other job's recompiling invalidates it), so the runs are warm without
writing into the tree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "liqmap" / "data" / "sample"
BTC = ["--input", str(SAMPLE), "--exchange", "binance", "--symbol", "BTCUSDT"]
LIQ_PRICE = ["liq-price", "--exchange", "binance", "--symbol", "BTCUSDT", "--side", "long", "--entry", "94000"]
LIQ_PRICE += ["--leverage", "10"]
LAUNCH = "from liqmap.cli import main; main()"  # what the `liqmap` console script runs

# (label, argv after `liqmap`, goal in s or None)
COMMANDS: list[tuple[str, list[str], float | None]] = [
    ("liqmap --help", ["--help"], 0.25),
    ("liqmap map --help", ["map", "--help"], None),
    ("liqmap liq-price", LIQ_PRICE, None),
    ("liqmap map (sample BTC, Binance)", ["map", *BTC], 0.6),
    ("liqmap map --json", ["map", *BTC, "--json"], None),
    ("liqmap heatmap", ["heatmap", *BTC], None),
    ("liqmap levels", ["levels", *BTC], None),
    ("liqmap cascade --shock +1%", ["cascade", *BTC, "--shock", "+1%"], None),
    ("liqmap data info (sample store)", ["data", "info", "--db", "{db}"], None),
]

PEER = """
import json, sys
from liqmap.analytics import ReportSettings, build_map_report
from liqmap.data.io import read_bars
from liqmap.engine import run
from liqmap.engine.options import engine_config

bars = read_bars(sys.argv[1])
bars = bars[(bars["exchange"] == "binance") & (bars["symbol"] == "BTC/USDT:USDT")].reset_index(drop=True)
res = run(bars, "oi-delta", engine_config(bars, closure="proportional", max_snapshots=1_000))
lm = res.liqmap()
report = build_map_report(lm, bars, ReportSettings(), profile=res.config.profile, warnings=res.warnings)
print(json.dumps(report.to_dict() | lm.to_dict()))
"""

# In a child interpreter: each command's work again in the same (warm) process, then the engine alone.
WARM = """
import contextlib, io, json, sys, time
from liqmap.cli import run
from liqmap.cli._common import load_bars, run_engine

n, commands, sample = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]

def best(fn):
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)

def command(argv):
    def call():
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert run(argv) == 0, argv
    return call

out = {"work": {label: best(command(argv)) for label, argv in commands}}
bars = load_bars(__import__("pathlib").Path(sample), None, ["binance"], "BTCUSDT", None, None)
out["engine_map"] = best(lambda: run_engine(bars, "oi-delta", closure="proportional", max_snapshots=1_000))
out["engine_heatmap"] = best(lambda: run_engine(bars, "oi-delta", closure="proportional"))
out["bars"] = len(bars)
print(json.dumps(out))
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one subprocess run; it must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def build_store(path: Path, env: dict[str, str]) -> None:
    code = "import sys; from liqmap.data.sample import load_sample_into; from liqmap.data.store import Store\n"
    code += "with Store(sys.argv[1]) as s: load_sample_into(s)"
    subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5, help="timed runs per command (min and median reported)")
    ap.add_argument("--src", type=Path, default=None, help="measure this src directory instead of the installed one")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="liqmap-bench-cli-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env.setdefault("NUMBA_CACHE_DIR", str(tmp / "numba"))  # other jobs recompiling into the tree's cache miss
    env.setdefault("COLUMNS", "100")
    if args.src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(args.src.resolve()), *filter(None, [env.get("PYTHONPATH")])])
    src = subprocess.run(
        [sys.executable, "-c", "import liqmap; print(liqmap.__file__)"], env=env, capture_output=True, text=True
    ).stdout.strip()
    db = tmp / "sample.duckdb"
    build_store(db, env)

    runs: list[tuple[str, list[str], float | None]] = [("python -c pass", [sys.executable, "-c", "pass"], None)]
    runs.append(("python -c 'import liqmap.cli'", [sys.executable, "-c", "import liqmap.cli"], None))
    floor = "import liqmap.cli, numba, pandas"  # what every engine command loads before any work
    runs.append((f"python -c '{floor}'", [sys.executable, "-c", floor], None))
    for label, argv, goal in COMMANDS:
        runs.append((label, [sys.executable, "-c", LAUNCH, *(a.format(db=db) for a in argv)], goal))
    peer = tmp / "peer.py"
    peer.write_text(PEER)
    runs.append(("peer: library script, map --json's work", [sys.executable, str(peer), str(SAMPLE)], None))

    for _, cmd, _ in runs:  # warm-up: numba cache, bytecode, page cache
        timed(cmd, env)
    walls: dict[str, list[float]] = {label: [] for label, _, _ in runs}
    cpus: dict[str, list[float]] = {label: [] for label, _, _ in runs}
    for _ in range(args.n):  # round-robin, so a burst of other load hits every command alike
        for label, cmd, _ in runs:
            wall, cpu = timed(cmd, env)
            walls[label].append(wall)
            cpus[label].append(cpu)

    warm_cmds = [(label, [a.format(db=db) for a in argv]) for label, argv, _ in COMMANDS if "--help" not in argv]
    warm = json.loads(
        subprocess.run(
            [sys.executable, "-c", WARM, str(args.n), json.dumps(warm_cmds), str(SAMPLE)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    print(f"liqmap from {src}; {args.n} runs each after a warm-up; load average {os.getloadavg()[0]:.1f}")
    head = f"{'command':<46} {'min s':>7} {'median s':>9} {'cpu s':>7} {'warm work s':>12} {'goal':>7}  met"
    print(head)
    print("-" * len(head))
    rows = []
    for label, _, goal in runs:
        lo, med, cpu = min(walls[label]), statistics.median(walls[label]), min(cpus[label])
        work = warm["work"].get(label)
        met = "" if goal is None else ("yes" if lo < goal else "NO")
        work_s = "" if work is None else f"{work:.3f}"
        goal_s = "" if goal is None else f"< {goal:g}"
        print(f"{label:<46} {lo:7.3f} {med:9.3f} {cpu:7.3f} {work_s:>12} {goal_s:>7}  {met}")
        rows.append({"command": label, "min_s": lo, "median_s": med, "cpu_s": cpu, "warm_work_s": work, "goal_s": goal})
    cli, lib = min(walls["liqmap map --json"]), min(walls["peer: library script, map --json's work"])
    print(
        f"engine alone on the same {warm['bars']:,} bars (warm, min of {args.n}): map {warm['engine_map']:.3f} s, "
        f"heatmap {warm['engine_heatmap']:.3f} s"
    )
    print(f"map --json vs the peer script: {cli:.3f} s vs {lib:.3f} s ({cli / lib:.2f}×)")
    print(
        json.dumps(
            {
                "src": src,
                "n": args.n,
                "load_average": os.getloadavg()[0],
                "rows": rows,
                "engine_map_s": warm["engine_map"],
                "engine_heatmap_s": warm["engine_heatmap"],
                "map_json_vs_peer": cli / lib,
            }
        )
    )


if __name__ == "__main__":
    main()
