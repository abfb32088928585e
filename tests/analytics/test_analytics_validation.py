from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from liqmap import CAVEAT
from liqmap.analytics.validation import (
    bar_length_ms,
    calibration_configs,
    hourly_corr,
    score_events,
    validate,
    validate_outputs,
    validation_report,
)
from liqmap.engine.results import Heatmap
from liqmap.errors import DataValidationError, LiqmapError

H = 3_600_000
BINS = np.arange(100.0, 110.0)  # ten $1 bins


def _heatmap(long_rows, short_rows=None, times=(0, H)):
    long_usd = np.asarray(long_rows, dtype=float)
    short_usd = np.zeros_like(long_usd) if short_rows is None else np.asarray(short_rows, dtype=float)
    return Heatmap("X", np.asarray(times, dtype=np.int64), BINS, long_usd, short_usd, np.full(len(times), 105.0))


def _liqs(rows):
    return pd.DataFrame(rows, columns=["timestamp", "side", "price", "notional_usd"])


PEAKED = [0, 0, 0, 0, 0, 0, 0, 0, 5, 10]


def test_percentile_and_top_decile_by_hand():
    hm = _heatmap([PEAKED, np.ones(10)])
    liq = _liqs(
        [
            (H - 1, "long", 109.0, 1.0),  # no bar closed yet → dropped
            (H, "long", 109.0, 1.0),  # snapshot 0 (bar 0 closed at H): densest bin
            (H + 5, "long", 108.2, 1.0),  # second densest: 9th of 10 → outside the top decile
            (H + 6, "long", 100.0, 1.0),  # one of eight tied zeros
            (H + 7, "long", 250.0, 1.0),  # off the grid
            (2 * H, "long", 104.0, 1.0),  # snapshot 1: flat density
            (2 * H, "short", 109.0, 1.0),  # short density is all zero
        ]
    )
    s = score_events(hm, liq, bar_ms=H)
    assert len(s) == 6
    assert s["snapshot_ms"].tolist() == [0, 0, 0, 0, H, H]
    np.testing.assert_allclose(s["percentile"], [95.0, 85.0, 40.0, np.nan, 50.0, 50.0])
    np.testing.assert_allclose(s["top_decile"], [1.0, 0.0, 0.0, 0.0, 0.1, 0.1])
    # log gain: share 10/15 of 10 bins → log(10·(0.99·2/3 + 0.001)); flat rows → log(1) = 0; empty → log 0.01.
    np.testing.assert_allclose(
        s["log_gain"],
        [np.log(10 * (0.99 * 2 / 3 + 0.001)), np.log(10 * (0.99 / 3 + 0.001)), np.log(0.01), np.log(0.01), 0, 0],
    )
    assert s["in_window"].tolist() == [True, True, True, False, True, True]


def test_window_around_close_limits_the_ranked_bins():
    row = [9, 9, 9, 0, 1, 2, 3, 4, 9, 9]  # close 105: ±2 % keeps bins 103…107 = 0, 1, 2, 3, 4
    hm = _heatmap([row, row])
    liq = _liqs([(H, "long", 107.0, 1.0), (H, "long", 100.0, 1.0)])
    s = score_events(hm, liq, bar_ms=H, window_pct=2.0)
    np.testing.assert_allclose(s["percentile"], [90.0, np.nan])
    np.testing.assert_allclose(s["top_decile"], [0.5, 0.0])  # the top decile of 5 bins is half a bin
    whole = score_events(hm, liq, bar_ms=H, window_pct=None)
    np.testing.assert_allclose(whole["percentile"], [45.0, 75.0])
    np.testing.assert_allclose(whole["top_decile"], [0.0, 0.2])  # five tied 9s share the top decile
    with pytest.raises(LiqmapError, match="window_pct"):
        score_events(hm, liq, bar_ms=H, window_pct=0.0)


def _out(hm, events=None):
    ev = pd.DataFrame({"timestamp": [], "notional_usd": []}) if events is None else events
    return SimpleNamespace(heatmap=hm, events=ev)


def test_validate_outputs_lifts_and_caveat():
    liq = _liqs([(H, "long", 109.0, 3.0), (H + 1, "long", 108.0, 1.0)])
    outputs = {
        "oi-delta": _out(_heatmap([PEAKED, PEAKED])),
        "volume": _out(_heatmap([np.ones(10), np.ones(10)])),
        "uniform": _out(_heatmap([np.zeros(10), np.zeros(10)])),
    }
    v = validate_outputs(outputs, "oi-delta", liq, bar_ms=H)
    assert v.events == 2
    assert v.top_decile_capture == 0.75  # $3 of $4 in the densest bin
    assert v.lift_vs_volume == pytest.approx(7.5)  # flat density captures exactly 10 %
    assert v.lift_vs_uniform == pytest.approx(7.5)
    assert v.scores["volume"].median_percentile == 50.0
    # Proximity baseline (close 105): longs only below 105, so both events sit on zero density.
    assert v.scores["proximity"].top_decile_capture == 0.0 and v.lift_vs_proximity is None
    near = validate_outputs(outputs, "oi-delta", _liqs([(H, "long", 104.0, 1.0), (H, "long", 109.0, 1.0)]), H)
    assert near.scores["proximity"].top_decile_capture == 0.5  # 104 is the bin nearest below the close
    assert near.lift_vs_proximity == pytest.approx(1.0)
    d = v.to_dict()
    assert d["caveat"] == CAVEAT and d["events"] == 2
    only = validate_outputs({"oi-delta": outputs["oi-delta"]}, "oi-delta", liq, bar_ms=H)
    assert only.lift_vs_volume is None and only.lift_vs_uniform is None
    with pytest.raises(LiqmapError, match="no engine output"):
        validate_outputs(outputs, "nope", liq, bar_ms=H)
    with pytest.raises(DataValidationError, match="first closed bar"):
        validate_outputs(outputs, "oi-delta", _liqs([(5, "long", 109.0, 1.0)]), bar_ms=H)


def test_hourly_correlation():
    pred = pd.DataFrame({"timestamp": [0, H, H + 5, 2 * H], "notional_usd": [1.0, 1.0, 1.0, 3.0]})
    real = pd.DataFrame({"timestamp": [10, H, 2 * H], "notional_usd": [2.0, 4.0, 6.0]})
    assert hourly_corr(pred, real, 0, 3 * H) == pytest.approx(1.0)
    assert hourly_corr(pred, real, 0, 2 * H) is None  # two hours only
    flat = pd.DataFrame({"timestamp": [0, H, 2 * H], "notional_usd": [1.0, 1.0, 1.0]})
    assert hourly_corr(flat, real, 0, 3 * H) is None


def test_bad_liquidations_and_bars():
    hm = _heatmap([PEAKED, PEAKED])
    with pytest.raises(DataValidationError, match="notional_usd"):
        score_events(hm, pd.DataFrame({"timestamp": [1], "side": ["long"], "price": [1.0]}), H)
    with pytest.raises(DataValidationError, match="long\\|short"):
        score_events(hm, _liqs([(H, "buy", 109.0, 1.0)]), H)
    with pytest.raises(DataValidationError, match="positive finite"):
        score_events(hm, _liqs([(H, "long", 109.0, -1.0)]), H)
    with pytest.raises(DataValidationError, match="no realized"):
        score_events(hm, _liqs([]), H)
    bars = pd.DataFrame({"exchange": ["a", "a", "a", "b", "b"], "timestamp": [0, 60_000, 120_000, 0, 3_600_000]})
    assert bar_length_ms(bars) == 60_000
    with pytest.raises(DataValidationError, match="two bars"):
        bar_length_ms(bars.iloc[:1])


def test_simulator_truth_is_found_better_than_baselines(crash_sim):
    v = validate(crash_sim.bars, crash_sim.liquidations, "oi-delta")
    assert v.events > 100
    assert v.split_ms is not None and v.span_ms[0] == v.split_ms
    # Measured: capture 0.78 vs volume 0.10 and uniform 0.18 (docs/analytics.md); margins leave room.
    assert v.top_decile_capture > 0.6
    assert v.lift_vs_volume > 3 and v.lift_vs_uniform > 2
    # The stricter proximity baseline is reported, not beaten by much (measured 1.05 here, < 1 elsewhere).
    assert 0.5 < v.lift_vs_proximity < 2
    assert v.top_decile_capture > v.calibration["test_capture_default_mix"]  # calibration helps
    assert v.median_percentile > v.scores["volume"].median_percentile
    assert v.scores["volume"].top_decile_capture < v.top_decile_capture
    cal = v.calibration
    assert cal["objective"] == "capture" and cal["chosen"] in cal["train_scores"]
    assert cal["train_scores"][cal["chosen"]] == max(cal["train_scores"].values())
    assert sum(cal["aggressive_weights"]) == pytest.approx(1.0)


def test_validation_report_for_server(crash_sim):
    from liqmap.engine import run

    outputs = {m: run(crash_sim.bars, model=m) for m in ("oi-delta", "volume", "uniform")}
    r = validation_report(outputs, "oi-delta", crash_sim.bars, crash_sim.liquidations)
    assert r["events"] > 100 and r["split_ms"] is None and r["calibration"] == {}
    # Uncalibrated, the default mix is only level with the baselines (docs/analytics.md), so check the
    # arithmetic here and leave "better than the baselines" to the calibrated test above.
    cap = {k: v["top_decile_capture"] for k, v in r["scores"].items()}
    assert r["lift_vs_volume"] == pytest.approx(cap["oi-delta"] / cap["volume"])
    assert r["lift_vs_uniform"] == pytest.approx(cap["oi-delta"] / cap["uniform"])
    assert r["scores"]["oi-delta"]["events"] == r["scores"]["proximity"]["events"] == r["events"]
    assert -1 <= r["liq_volume_corr"] <= 1


def test_validate_rejects_bad_split_and_objective(crash_sim):
    with pytest.raises(LiqmapError, match="train_frac"):
        validate(crash_sim.bars, crash_sim.liquidations, train_frac=1.0)
    with pytest.raises(LiqmapError, match="objective"):
        validate(crash_sim.bars, crash_sim.liquidations, objective="sharpe")


def test_calibration_grid_tilts_and_turnover():
    from liqmap.engine import EngineConfig

    grid = calibration_configs(EngineConfig(), tilts=(1.0,), turnovers=(0.0, 0.25))
    assert list(grid) == ["default", "default, turnover 0", "tilt+1", "tilt+1, turnover 0"]
    assert [c.turnover_fraction for c in grid.values()] == [0.25, 0.0, 0.25, 0.0]
    levs = np.asarray(EngineConfig().leverages)
    w = np.asarray(EngineConfig().aggressive_weights) * levs
    assert grid["tilt+1, turnover 0"].aggressive_weights == pytest.approx(tuple(w / w.sum()))


def test_real_okx_btc_calibration_picks_high_leverage():
    """The figures of docs/analytics.md (benchmarks/analytics.py) on the bundled real OKX BTC events, from the
    prior: with OKX volume in base units (not contracts) the prior's turnover no longer churns the book, so the
    fit keeps it and picks the steepest tilt."""
    from liqmap.data.sample import sample_bars, sample_liquidations

    bars, liqs = sample_bars(), sample_liquidations()
    okx = bars[(bars["exchange"] == "okx") & (bars["symbol"] == "BTC/USDT:USDT")].reset_index(drop=True)
    events = liqs[(liqs["exchange"] == "okx") & (liqs["symbol"] == "BTC/USDT:USDT")].reset_index(drop=True)
    v = validate(okx, events, "oi-delta")
    assert v.calibration["chosen"] == "tilt+4" and v.calibration["turnover_fraction"] == 0.25
    assert v.events == 1131
    assert v.top_decile_capture == pytest.approx(0.986, abs=5e-4)
    assert v.scores["oi-delta"].log_score > v.scores["proximity"].log_score > v.scores["uniform"].log_score
