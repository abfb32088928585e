"""`liqmap demo --quick` end to end: the same steps as `make demo` on a one-week slice, into tmp dirs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from liqmap import CAVEAT
from liqmap.cli import app
from liqmap.data.sample import lighter_bars, sample_bars
from liqmap.data.store import Store
from liqmap.viz import fmt_usd
from liqmap.viz._style import CLOSE_LINE, LONG, PRICE, SHORT

_spec = importlib.util.spec_from_file_location("viz_helpers", Path(__file__).parents[1] / "viz" / "viz_helpers.py")
vh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vh)

PNG_COLOURS = {"heatmap": (CLOSE_LINE,), "liqmap": (PRICE,), "cascade": (PRICE,)}  # drawn in each chart kind
CHARTS = ("heatmap_binance", "liqmap_binance", "liqmap_all", "liqmap_lighter", "cascade_up", "cascade_down")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo without --db: it writes its own store inside its output folder, never $LIQMAP_DB."""
    root = tmp_path_factory.mktemp("demo")
    out, db, user_wide = root / "out", root / "out" / "liqmap.duckdb", root / "user-wide.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIQMAP_DB", str(user_wide))
        result = CliRunner().invoke(app, ["demo", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert db.is_file() and not user_wide.exists()
    return out, db, result.output, json.loads((out / "report.json").read_text())


def test_every_chart_and_report_is_written(demo):
    out, _, _, report = demo
    for stem in CHARTS:
        vh.assert_offline_html(out / f"{stem}.html")
        vh.assert_png(out / f"{stem}.png", min_width=900, colours=PNG_COLOURS[stem.split("_")[0]])
    # the cascades' bars: a rally liquidates shorts (green), a fall longs (red)
    assert vh.colour_mask(vh.png_rgb(out / "cascade_up.png"), LONG).sum() == 0
    assert vh.colour_mask(vh.png_rgb(out / "cascade_down.png"), SHORT).sum() == 0
    assert sorted(report["files"]) == sorted(
        [f"{s}{x}" for s in CHARTS for x in (".html", ".png")] + ["report.json", "report.md"]
    )
    assert report["notes"] == []  # no step skipped: engine, analytics, sim and validation all ran
    assert report["caveat"] == CAVEAT


def test_sample_is_in_the_store_and_the_slice_is_one_week(demo):
    _, db, _, report = demo
    assert report["data"]["store"] == str(db) and db.parent.name == "out"  # the demo's own store
    assert report["data"]["rows_written"] == {"bars": 32_516, "liquidations": 5_816, "depth": 600}
    assert report["data"]["bars"] == {"binance": 169, "bybit": 169, "okx": 169}  # 7 days + 1 hourly bars
    with Store(db, read_only=True) as store:
        assert len(store.query_liquidations("okx", "BTC/USDT:USDT")) == 1_611
        assert len(store.query_bars(["binance"], "BTC/USDT:USDT")) == 2_171


def test_maps_report_real_prices_and_consistent_levels(demo):
    _, _, _, report = demo
    bars = sample_bars()
    btc = bars[bars["symbol"] == "BTC/USDT:USDT"].sort_values("timestamp")
    last = btc.groupby("exchange")["close"].last()
    assert report["maps"]["binance"]["price"] == pytest.approx(73_399.9)
    assert report["maps"]["all"]["price"] == pytest.approx(last.mean())  # mean of the three venues' closes
    lighter = report["maps"]["lighter"]  # the real-OI map: Lighter's last BTC close, labelled as such
    assert lighter["price"] == pytest.approx(lighter_bars().query("symbol == 'BTC/USDC:USDC'")["close"].iloc[-1])
    assert "REAL open interest" in lighter["note"] and lighter["symbol"] == "BTC/USDC:USDC"
    for rep in report["maps"].values():
        clusters = rep["clusters"]
        assert [c["rank"] for c in clusters] == list(range(1, len(clusters) + 1))
        assert all((c["peak_price"] > rep["price"]) == (c["side"] == "short") for c in clusters)
        imb = rep["imbalance"]
        assert imb["ratio"] == pytest.approx(imb["short_above_usd"] / imb["long_below_usd"])


def test_liqmap_html_carries_clusters_and_exchange_layers(demo):
    out, _, _, report = demo
    data, layout = vh.plotly_payload(out / "liqmap_all.html")
    names = [t["name"] for t in data if t["type"] == "bar"]
    assert names == [f"{s} {v}" for s in ("longs", "shorts") for v in ("binance", "bybit", "okx")]
    top = report["maps"]["all"]["clusters"][0]
    label = f"#1 {fmt_usd(top['notional_usd'])} {top['side']}s"
    assert label in [a["text"] for a in layout["annotations"]]
    heat = next(t for t in vh.plotly_payload(out / "heatmap_binance.html")[0] if t["type"] == "heatmap")
    assert vh.decode(heat["z"]).shape[1] == 169  # one column per hourly snapshot of the slice


def test_cascade_and_validation_results(demo):
    out, _, _, report = demo
    up = report["maps"]["all"]["cascades"]["up"]  # the aggregated map report's own cascade
    assert up["shock_pct"] == 1.0 and up["rounds"][0]["price"] == pytest.approx(up["start_price"] * 1.01)
    assert up["total_liquidated_usd"] == pytest.approx(sum(r["liquidated_usd"] for r in up["rounds"]))
    data, _ = vh.plotly_payload(out / "cascade_up.html")
    bars = next(t for t in data if t["type"] == "bar")
    np.testing.assert_allclose(vh.decode(bars["y"]), [r["liquidated_usd"] for r in up["rounds"]])
    real, sim = report["validation_real"], report["validation_sim"]
    assert "real OKX" in real["what"] and "PROXY" in real["what"]
    assert "SIMULATED" in sim["what"]
    for val in (real, sim):
        assert val["events"] > 0 and 0.0 <= val["top_decile_capture"] <= 1.0
        assert {"oi-delta", "volume", "uniform", "proximity"} <= set(val["scores"])
        assert val["scores"]["oi-delta"]["top_decile_capture"] == val["top_decile_capture"]
    # how much: the real OKX amounts with the calibrated profile (refit on the first half), per hour
    amounts = real["amounts"]
    assert amounts["profile"].startswith("default") and amounts["period_ms"] == 3_600_000
    assert 0.5 < amounts["model"]["long"]["ratio"] < 2.0 and amounts["model"]["long"]["realized_usd"] > 1e6


def test_summary_and_markdown_say_what_the_data_is(demo):
    out, _, output, report = demo
    assert f"${report['maps']['all']['price']:,.0f} price" in output  # the terminal map's price line
    assert "wrote 14 files" in output
    assert "the demo's store is" in output
    md = (out / "report.md").read_text()
    assert "## Validation — Real liquidations (OKX)" in md and "SIMULATED market" in md
    assert "![liquidation map](liqmap_all.png)" in md and CAVEAT in md
    assert "calibration profile `default`" in md and md.count("How much, over") == 2
    assert all(m["profile"] == "default" for k, m in report["maps"].items())
    assert "profile default" in (out / "liqmap_all.html").read_text()


def test_a_missing_optional_piece_is_skipped_with_a_note(tmp_path, monkeypatch):
    from rich.console import Console

    from liqmap.cli import demo as demo_cli

    def missing(run):
        raise ImportError("No module named 'liqmap.analytics.validation'")

    def required(run):
        raise ImportError("No module named 'liqmap.engine'")

    monkeypatch.setattr(demo_cli, "STEPS", (("validate", missing, True),))
    run = demo_cli.run_demo(tmp_path, quick=True, console=Console(quiet=True))
    assert run.notes == ["skipped 'validate': No module named 'liqmap.analytics.validation'"]
    assert run.db == tmp_path / "liqmap.duckdb"  # no --db: the store lives in the output folder
    monkeypatch.setattr(demo_cli, "STEPS", (("engine", required, False),))
    with pytest.raises(ImportError):
        demo_cli.run_demo(tmp_path, quick=True, console=Console(quiet=True))
