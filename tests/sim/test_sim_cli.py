"""`liqmap sim` writes canonical, byte-reproducible files; `liqmap score` reads them back."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from liqmap.cli import app
from liqmap.cli.sim import FILES, TRUTH
from liqmap.data.io import read_bars, read_depth, read_liquidations
from liqmap.data.schemas import BARS, DEPTH, LIQUIDATIONS
from liqmap.errors import LiqmapError
from liqmap.sim import SimConfig, simulate
from liqmap.sim.score import score_models

ARGS = ("--days", "1", "--traders", "500", "--regime", "crash", "--warmup-days", "0.25")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def _hashes(directory) -> dict[str, str]:
    return {f: hashlib.sha256((directory / f).read_bytes()).hexdigest() for f in FILES}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("sim")
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        r = invoke("sim", "--seed", seed, *ARGS, "--out", str(base / name), "--json")
        assert r.exit_code == 0, r.output
    return base


def test_files_have_the_canonical_schemas_and_reread(runs):
    d = runs / "a"
    for name, schema in (("bars", BARS), ("liquidations", LIQUIDATIONS), ("depth", DEPTH), ("truth", TRUTH)):
        assert pq.read_schema(d / f"{name}.parquet").remove_metadata().equals(schema.remove_metadata()), name
    bars, liqs, depth = read_bars(d), read_liquidations(d), read_depth(d)
    lib = simulate(SimConfig(seed=3, days=1, n_traders=500, regime="crash", warmup_days=0.25))
    assert len(bars) == 1440 and bars["close"].tolist() == lib.bars["close"].tolist()
    assert len(liqs) == len(lib.liquidations) > 0
    assert set(depth["side"]) == {"bid", "ask"} and len(depth) == 24 * 2 * 50
    meta = json.loads((d / "sim.json").read_text())
    assert meta["config"]["seed"] == 3 and meta["liquidations"] == len(liqs)


def test_same_seed_gives_identical_files_and_other_seed_differs(runs):
    a, b, c = _hashes(runs / "a"), _hashes(runs / "b"), _hashes(runs / "c")
    assert a == b
    assert all(a[f] != c[f] for f in FILES)


def test_score_json_matches_library(runs):
    d = runs / "a"
    r = invoke("score", "--sim", str(d), "--model", "oi-delta", "--json", "--baselines")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert {"density_corr", "emd_pct", "top_decile_capture", "liq_volume_corr"} <= set(out)
    assert set(out["baselines"]) == {"volume", "uniform"}
    from liqmap.cli.sim import read_truth

    lib = score_models(read_bars(d), read_truth(d), read_liquidations(d), ["oi-delta"])["oi-delta"]
    assert out["density_corr"] == pytest.approx(lib.density_corr, rel=1e-12)
    assert out["top_decile_capture"] == pytest.approx(lib.top_decile_capture, rel=1e-12)
    table = invoke("score", "--sim", str(d), "--model", "volume")
    assert table.exit_code == 0 and "volume" in table.output


def test_existing_run_is_not_overwritten_without_flag(runs):
    d = runs / "a"
    before = _hashes(d)
    r = invoke("sim", "--seed", "9", *ARGS, "--out", str(d))
    assert isinstance(r.exception, LiqmapError) and "--overwrite" in str(r.exception)
    assert _hashes(d) == before


def test_bad_input_exits_2_with_one_line(tmp_path):
    cmd = [sys.executable, "-c", "from liqmap.cli import main; main()", "score", "--sim", str(tmp_path)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "truth.parquet not found" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    r = invoke("sim", "--days", "0", "--out", str(tmp_path / "x"))
    assert isinstance(r.exception, LiqmapError) and "days must lie in" in str(r.exception)
