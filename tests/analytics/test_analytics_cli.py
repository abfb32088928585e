import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from liqmap import CAVEAT
from liqmap.cli import app
from liqmap.cli.analytics import parse_pct
from liqmap.errors import LiqmapError

runner = CliRunner()


def _json(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_levels_json_and_table(sim_dir):
    # the simulator's traders are closer to the prior's assumptions than to the profile fitted on Hyperliquid
    out = _json(["levels", "--input", str(sim_dir), "--top", "3", "--profile", "prior", "--json"])
    assert out["profile"] == "prior"
    assert out["caveat"] == CAVEAT and len(out["clusters"]) == 3
    assert [c["rank"] for c in out["clusters"]] == [1, 2, 3]
    notionals = [c["notional_usd"] for c in out["clusters"]]
    assert notionals == sorted(notionals, reverse=True)
    for c in out["clusters"]:
        assert (c["side"] == "long") == (c["peak_price"] < out["price"])
    assert set(out["imbalance"]) >= {"window_pct", "short_above_usd", "long_below_usd", "ratio"}
    assert set(out["asymmetry"][0]) >= {"target_usd", "move_up_usd", "move_down_usd", "move_up_pct", "move_down_pct"}
    table = runner.invoke(app, ["levels", "--input", str(sim_dir), "--top", "3", "--profile", "prior"])
    assert table.exit_code == 0 and "key levels" in table.stdout and "not where price must" in table.stdout
    # The last bar's map carries leverage and exchange layers: their splits add up to the totals.
    imb = out["imbalance"]
    assert imb["by_leverage"] and set(imb["by_exchange"]) == {"sim"} and "by layer" in table.stdout
    layers = imb["by_leverage"].values()
    assert sum(v["short_above_usd"] for v in layers) == pytest.approx(imb["short_above_usd"], rel=1e-9)
    assert sum(v["long_below_usd"] for v in layers) == pytest.approx(imb["long_below_usd"], rel=1e-9)


def test_cascade_json_is_the_map_report_and_conserves(sim_dir):
    out = _json(["cascade", "--input", str(sim_dir), "--shock", "+1%", "--json"])
    assert out["caveat"] == CAVEAT and out["settings"]["shock_pct"] == 1.0
    assert out == _json(["levels", "--input", str(sim_dir), "--json"])  # one report: ±1 % is the default
    cas = out["cascades"]
    run = cas["up"]
    for key in ("final_price", "total_liquidated_usd", "amplification", "hit_edge", "converged"):
        assert key in run
    assert "critical_shock_up_pct" in cas and "critical_shock_down_pct" in cas and cas["impact"]["model"] == "sqrt"
    assert run["rounds"][0]["price"] == pytest.approx(run["start_price"] * 1.01)
    assert sum(r["liquidated_usd"] for r in run["rounds"]) == pytest.approx(run["total_liquidated_usd"])
    assert run["amplification"] >= 1.0 and cas["down"]["shock_pct"] == -1.0
    book = _json(["cascade", "--input", str(sim_dir), "--shock", "-2%", "--impact", "book", "--json"])["cascades"]
    down = book["down"]
    assert book["impact"]["model"] == "book" and down["rounds"][0]["price"] < down["start_price"]
    assert 0 <= book["impact"]["depth_age_hours"] <= 1  # the sim writes a snapshot every hour
    assert down["final_price"] <= down["rounds"][0]["price"]
    table = runner.invoke(app, ["cascade", "--input", str(sim_dir), "--shock", "-2%"])
    assert table.exit_code == 0 and "Cascade -2%" in table.stdout and "smallest runaway shock" in table.stdout


def test_validate_json(sim_dir):
    out = _json(["validate", "--input", str(sim_dir), "--model", "oi-delta", "--profile", "prior", "--json"])
    for key in ("top_decile_capture", "lift_vs_volume", "lift_vs_uniform", "liq_volume_corr", "events"):
        assert key in out
    assert out["events"] > 100 and out["lift_vs_volume"] > 1 and out["lift_vs_uniform"] > 1
    assert out["caveat"] == CAVEAT


def test_parse_pct():
    assert (parse_pct("+1%"), parse_pct("-2.5%"), parse_pct("3")) == (1.0, -2.5, 3.0)
    with pytest.raises(LiqmapError, match="--shock"):
        parse_pct("abc", "--shock")
    for bad in ("1e-300%", "0", "100%", "-250", "nan", "inf%"):
        with pytest.raises(LiqmapError, match="out of range"):
            parse_pct(bad, "--shock")


def test_bad_shock_exits_2(sim_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "liqmap", "cascade", "--input", str(sim_dir), "--shock", "lots"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "--shock: cannot read 'lots'" in proc.stderr
    zero = runner.invoke(app, ["cascade", "--input", str(sim_dir), "--shock", "0%"])
    assert isinstance(zero.exception, LiqmapError) and "at least 0.001%" in str(zero.exception)


def test_bars_file_input_needs_explicit_liquidations(sim_dir):
    res = runner.invoke(app, ["validate", "--input", str(sim_dir / "bars.parquet")])
    assert isinstance(res.exception, LiqmapError) and "--liquidations FILE" in str(res.exception)
    ok = _json(
        [
            "validate",
            "--input",
            str(sim_dir / "bars.parquet"),
            "--liquidations",
            str(sim_dir),
            "--train-frac",
            "0",
            "--json",
        ]
    )
    assert ok["split_ms"] is None and ok["calibration"] == {} and ok["events"] > 100


def test_tiers_from_lends_tiers_to_venues_without_a_table():
    """Real OKX ETH liquidations: OKX has no bundled ETH tier table, ``--tiers-from binance`` lends one;
    the figures are those of docs/analytics.md (benchmarks/analytics.py)."""
    from liqmap.data.sample import SAMPLE_DIR

    args = ["validate", "--input", str(SAMPLE_DIR), "--exchange", "okx", "--symbol", "ETHUSDT", "--json"]
    missing = runner.invoke(app, args)
    assert isinstance(missing.exception, LiqmapError) and "--tiers-from binance" in str(missing.exception)
    out = _json([*args, "--tiers-from", "binance"])
    assert out["events"] == 1194
    # default profile, refit on the first half, $5 bins (the round grid), OKX volume in base units
    assert out["top_decile_capture"] == pytest.approx(0.988, abs=5e-4) and out["calibration"]["chosen"] == "tilt+3"
    assert out["lift_vs_uniform"] == pytest.approx(4.945, abs=5e-3)
    assert out["amounts"]["profile"] == "default, refit tilt+3"
    levels = _json(["levels", "--input", str(SAMPLE_DIR), "--symbol", "ETHUSDT", "--tiers-from", "binance", "--json"])
    assert levels["price"] == pytest.approx(2154.39, abs=0.01) and levels["clusters"]


def test_cascade_book_on_sample_uses_last_two_sided_snapshot_and_flags_its_age():
    from liqmap.data.sample import SAMPLE_DIR

    args = ["cascade", "--input", str(SAMPLE_DIR), "--exchange", "binance", "--symbol", "BTCUSDT"]
    impact = _json([*args, "--shock", "-1%", "--impact", "book", "--json"])["cascades"]["impact"]
    assert impact["depth_as_of_ms"] == 1598918404005  # 2020-09-01; the 2022 snapshot is bid-only
    assert impact["depth_age_hours"] > 24 * 365
    text = runner.invoke(app, [*args, "--shock", "-1%", "--impact", "book"])
    assert text.exit_code == 0 and "days before the map" in text.stdout
