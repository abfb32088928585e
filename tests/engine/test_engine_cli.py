"""`liqmap heatmap` and `liqmap map` over a canonical bars file, checked against the library's numbers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from engine_bars import random_bars
from typer.testing import CliRunner

from liqmap.cli import app
from liqmap.cli.engine import parse_duration_ms
from liqmap.engine import run
from liqmap.engine.profiles import load_profile
from liqmap.errors import LiqmapError

PROFILE = load_profile()  # the surfaces' default calibration profile


@pytest.fixture(scope="module")
def bars_file(tmp_path_factory):
    bars = pd.concat([random_bars(n=600), random_bars(n=600, seed=9, exchange="bybit")], ignore_index=True)
    path = tmp_path_factory.mktemp("engine") / "bars.parquet"
    bars.to_parquet(path, index=False)
    return path, bars


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def test_map_json_matches_library(bars_file):
    path, bars = bars_file
    at = int(bars["timestamp"].iloc[400])
    r = invoke("map", "--input", str(path), "--symbol", "BTCUSDT", "--exchange", "binance", "--at", str(at), "--json")
    assert r.exit_code == 0, r.output
    p = json.loads(r.output)
    lib = run(bars[(bars["exchange"] == "binance") & (bars["timestamp"] <= at)], config=PROFILE.config()).liqmap()
    assert p["as_of_ms"] == at and p["price"] == pytest.approx(lib.price) and p["model"] == "oi-delta"
    assert p["total_long_usd"] == pytest.approx(float(lib.long_usd.sum()), rel=1e-12)
    assert p["price_bins"] == lib.price_bins.tolist() and p["long_usd"] == lib.long_usd.round(2).tolist()
    assert len(p["long_cumulative_usd"]) == len(p["short_cumulative_usd"]) == len(p["price_bins"])
    assert "caveat" in p and p["by_exchange"] == {} and p["leverages"] == []  # one exchange; no --layers


def test_map_two_exchanges_bin_usd_and_parquet(bars_file, tmp_path):
    path, _ = bars_file
    out = tmp_path / "map.parquet"
    r = invoke("map", "--input", str(path), "--symbol", "BTCUSDT", "--bin-usd", "100", "--out", str(out), "--json")
    assert r.exit_code == 0, r.output
    p = json.loads(r.output)
    assert p["bin_usd"] == pytest.approx(100.0) and set(p["by_exchange"]) == {"binance", "bybit"}
    frame = pd.read_parquet(out)
    assert {"price", "long_usd", "short_usd", "binance_long_usd", "bybit_short_usd", "long_100x"} <= set(frame.columns)
    assert frame["long_usd"].sum() == pytest.approx(p["total_long_usd"], rel=1e-12)
    np.testing.assert_allclose(frame["long_usd"], frame["binance_long_usd"] + frame["bybit_long_usd"], rtol=1e-12)


def test_heatmap_writes_parquet_and_events(bars_file, tmp_path):
    path, bars = bars_file
    hm_out, ev_out = tmp_path / "hm.parquet", tmp_path / "ev.parquet"
    r = invoke(
        "heatmap", "--input", str(path), "--symbol", "BTCUSDT", "--exchange", "binance", "--bins", "200",
        "--every", "1h", "--out", str(hm_out), "--events-out", str(ev_out), "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["snapshots"] == 10 and s["snapshot_every_ms"] == 3_600_000 and s["bins"] == 200
    hm = pd.read_parquet(hm_out)
    assert len(hm) == 10 * 200 and list(hm.columns[:5]) == ["timestamp", "price", "long_usd", "short_usd", "close"]
    lib = run(bars[bars["exchange"] == "binance"], config=PROFILE.config(n_bins=200, snapshot_every_ms=3_600_000))
    np.testing.assert_allclose(hm["long_usd"].to_numpy(), lib.heatmap.long_usd.ravel(), rtol=1e-12)
    ev = pd.read_parquet(ev_out)
    assert list(ev.columns) == ["timestamp", "exchange", "side", "price", "leverage", "notional_usd"]
    assert ev["notional_usd"].sum() == pytest.approx(s["events_notional_usd"], rel=1e-12)


def test_table_output_and_volume_model(bars_file):
    path, _ = bars_file
    r = invoke("map", "--input", str(path), "--symbol", "BTCUSDT", "--model", "volume", "--half-life", "6h")
    assert r.exit_code == 0, r.output
    assert "liquidation map" in r.output and "window ±5%" in r.output and "largest clusters" in r.output


def test_bad_options():
    assert parse_duration_ms("15m", "--every") == 900_000 and parse_duration_ms("2d", "x") == 172_800_000
    with pytest.raises(LiqmapError, match="cannot read duration"):
        parse_duration_ms("soon", "--every")


def test_cli_exit_code_2_on_bad_input(bars_file):
    path, _ = bars_file
    cmd = [sys.executable, "-c", "from liqmap.cli import main; main()", "map", "--input", str(path)]
    proc = subprocess.run([*cmd, "--bins", "100", "--bin-usd", "5"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "either n_bins or bin_usd" in proc.stderr


def test_map_json_carries_the_analytics_report(bars_file):
    from liqmap.analytics import ReportSettings, build_map_report
    from liqmap.engine.options import engine_config

    path, bars = bars_file
    r = invoke(
        "map",
        "--input",
        str(path),
        "--symbol",
        "BTCUSDT",
        "--exchange",
        "binance",
        "--window-pct",
        "3",
        "--top",
        "4",
        "--json",
    )
    assert r.exit_code == 0, r.output
    p = json.loads(r.output)
    binance = bars[bars["exchange"] == "binance"].reset_index(drop=True)
    res = run(binance, config=engine_config(binance))  # the CLI's configuration path
    settings = ReportSettings(window_pct=3, top=4)
    rep = build_map_report(res.liqmap(), binance, settings, profile=res.config.profile, warnings=res.warnings)
    expected = json.loads(json.dumps(rep.to_dict()))
    assert {k: p[k] for k in expected} == expected  # the whole map report, exactly
    assert len(p["clusters"]) <= 4 and p["imbalance"]["window_pct"] == 3 and p["settings"]["top"] == 4
    imb = p["imbalance"]
    assert imb["ratio"] == pytest.approx(imb["short_above_usd"] / imb["long_below_usd"])
    assert {"target_usd", "move_up_usd", "move_down_usd", "move_up_pct", "move_down_pct"} <= set(p["asymmetry"][0])
    assert p["cascades"]["up"]["shock_pct"] == 1.0 and p["profile"] == res.config.profile


def test_map_and_heatmap_write_charts(bars_file, tmp_path):
    path, _ = bars_file
    html, png = tmp_path / "map.html", tmp_path / "heat.png"
    r = invoke("map", "--input", str(path), "--symbol", "BTCUSDT", "--out", str(html))
    assert r.exit_code == 0, r.output
    text = html.read_text()
    assert "plotly" in text and 'src="https://cdn.plot.ly' not in text and "cumulative" in text
    assert "key levels" in r.output and "move needed to liquidate" in r.output and "price" in r.output
    r = invoke("heatmap", "--input", str(path), "--symbol", "BTCUSDT", "--exchange", "binance", "--out", str(png))
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_heatmap_with_trades_file(bars_file, tmp_path):
    path, bars = bars_file
    binance = bars[bars["exchange"] == "binance"].reset_index(drop=True)
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(binance), 900)
    trades = pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "timestamp": binance["timestamp"].to_numpy()[pick] + rng.integers(0, 60_000, 900),
            "price": rng.uniform(binance["low"].to_numpy()[pick], binance["high"].to_numpy()[pick]),
            "amount": rng.gamma(2.0, 0.5, 900),
        }
    ).sort_values("timestamp", kind="stable", ignore_index=True)
    csv = tmp_path / "trades.csv"
    trades.assign(symbol="ETHUSDT").pipe(lambda t: pd.concat([trades, t.iloc[:5]])).to_csv(csv, index=False)
    args = ("heatmap", "--input", str(path), "--symbol", "BTCUSDT", "--exchange", "binance", "--json")
    r = invoke(*args, "--trades", str(csv))
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    lib = run(binance, config=PROFILE.config(), trades=trades)  # the ETH rows are dropped by the CLI
    plain = run(binance, config=PROFILE.config())
    assert summary["last_long_usd"] == pytest.approx(float(lib.heatmap.long_usd[-1].sum()), rel=1e-12)
    assert summary["events"] == len(lib.events) and summary["warnings"] == list(lib.warnings)
    assert summary["events_notional_usd"] == pytest.approx(float(lib.events["notional_usd"].sum()), rel=1e-12)
    assert not np.array_equal(lib.heatmap.long_usd, plain.heatmap.long_usd)
    bad = invoke(*args, "--trades", str(tmp_path / "trades.txt"))
    assert isinstance(bad.exception, LiqmapError) and "neither .parquet nor .csv" in str(bad.exception)


def test_every_output_names_its_profile(bars_file, tmp_path):
    path, bars = bars_file
    for profile in ("default", "prior"):
        r = invoke("map", "--input", str(path), "--exchange", "binance", "--profile", profile, "--json")
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        assert out["profile"] == profile and out["settings"]["window_pct"] == 5.0
    html = tmp_path / "map.html"
    assert invoke("map", "--input", str(path), "--exchange", "binance", "--out", str(html)).exit_code == 0
    assert "profile default" in html.read_text()
    res = run(bars[bars["exchange"] == "binance"], config=PROFILE.config())
    assert res.heatmap.profile == res.liqmap().profile == res.heatmap.at(res.heatmap.times_ms[-1]).profile == "default"
    bad = invoke("map", "--input", str(path), "--profile", "nope")
    assert isinstance(bad.exception, LiqmapError) and "unknown profile 'nope'" in str(bad.exception)
