"""Dask scale-out: parallel results equal serial ones; the CLI reports real map figures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap.cli import app
from liqmap.data.sample import load_sample_into
from liqmap.data.store import Store
from liqmap.errors import LiqmapError
from liqmap.scale import SeriesJob, run_batch, run_series


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "sample.duckdb"
    with Store(path) as store:
        load_sample_into(store)
    return str(path)


def test_dask_batch_equals_serial(sample_db):
    jobs = [
        SeriesJob("BTC/USDT:USDT", ("binance",)),
        SeriesJob("ETH/USDT:USDT", ("binance",)),
        SeriesJob("BTC/USDT:USDT", ("binance", "bybit")),
    ]
    parallel = run_batch(jobs, sample_db, n_workers=2)
    assert [r.job for r in parallel] == jobs
    for job, got in zip(jobs, parallel, strict=True):
        want = run_series(job, sample_db, "oi-delta", None, False)
        assert got.bars == want.bars and got.events == want.events
        np.testing.assert_array_equal(got.liqmap.long_usd, want.liqmap.long_usd)
        np.testing.assert_array_equal(got.liqmap.short_usd, want.liqmap.short_usd)
    assert parallel[0].bars == 2171 and parallel[2].bars == 2 * 2171
    # aggregation sums venues on one grid: the two-venue map holds more notional than Binance alone
    assert parallel[2].liqmap.long_usd.sum() > parallel[0].liqmap.long_usd.sum()


def test_batch_errors_name_the_problem(sample_db, tmp_path):
    with pytest.raises(LiqmapError, match="no series to run"):
        run_batch([], sample_db)
    with pytest.raises(LiqmapError, match="does not exist"):
        run_batch([SeriesJob("BTC/USDT:USDT")], tmp_path / "missing.duckdb")
    runner = CliRunner()
    res = runner.invoke(app, ["batch", "--db", sample_db, "--symbol", "ETHUSDT"])
    assert res.exit_code != 0 and "pass --tiers-from binance" in str(res.exception)


def test_batch_cli_json(sample_db, tmp_path):
    out = tmp_path / "maps"
    res = CliRunner().invoke(
        app,
        [
            "batch",
            "--db",
            sample_db,
            "--symbol",
            "BTCUSDT",
            "--exchange",
            "binance",
            "--exchange",
            "okx",
            "--workers",
            "2",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [s["series"] for s in data["series"]] == ["binance BTC/USDT:USDT", "okx BTC/USDT:USDT"]
    for s in data["series"]:
        assert s["bars"] in (2171, 2160) and s["long_below_usd"] > 0 and s["short_above_usd"] > 0
        assert s["ratio_short_long"] == pytest.approx(s["short_above_usd"] / s["long_below_usd"])
    assert sorted(p.name for p in out.iterdir()) == ["binance_BTCUSDT_map.parquet", "okx_BTCUSDT_map.parquet"]
