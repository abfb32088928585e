import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap import CAVEAT
from liqmap.analytics import ReportSettings, build_map_report, liquidated_by_move, moves_to_liquidate
from liqmap.analytics._curves import distance_for, notional_within, side_knots
from liqmap.analytics.report import default_targets_usd
from liqmap.engine.results import LiqMap
from liqmap.errors import LiqmapError


def test_trader_reading_770_rally_vs_2000_drop(make_map):
    lm = make_map(93_000.0, 88_000.0, 98_000.0, 10.0, longs={91_000.0: 1.1e9}, shorts={93_770.0: 1.1e9})
    (m,) = moves_to_liquidate(lm, [1.1e9])
    assert (m.move_up_usd, m.move_down_usd) == (770.0, 2_000.0)
    assert m.move_up_pct == pytest.approx(100 * 770 / 93_000)
    assert m.move_down_pct == pytest.approx(100 * 2_000 / 93_000)
    assert m.reachable_up and m.reachable_down


def test_interpolates_inside_a_bin_and_flags_unreachable(simple_map):
    half, full, too_much, zero = moves_to_liquidate(simple_map, [3e6, 2e6, 7e6, 0.0])
    assert (half.move_up_usd, half.move_up_pct, half.reachable_up) == (3.5, 3.5, True)
    assert (half.move_down_usd, half.move_down_pct, half.reachable_down) == (None, None, False)
    assert (full.move_down_usd, full.move_up_usd) == (5.0, 3 + 1 / 3)
    assert too_much.to_dict() == {
        "target_usd": 7e6,
        "move_up_usd": None,
        "move_up_pct": None,
        "reachable_up": False,
        "move_down_usd": None,
        "move_down_pct": None,
        "reachable_down": False,
    }
    assert (zero.move_up_usd, zero.move_down_usd) == (0.0, 0.0)


def test_empty_side_is_never_reachable(make_map):
    lm = make_map(100.0, 90.0, 110.0, 1.0, shorts={104.0: 6e6})
    (m,) = moves_to_liquidate(lm, [1.0])
    assert m.reachable_down is False and m.move_down_usd is None and m.move_up_usd == pytest.approx(3.0 + 1 / 6e6)


def test_liquidated_by_move_each_way(simple_map):
    zero, mid, big, beyond = liquidated_by_move(simple_map, [0.0, 4.5, 5.0, 150.0])
    assert (zero.shorts_liquidated_usd, zero.longs_liquidated_usd) == (0.0, 0.0)
    assert (mid.up_price, mid.down_price, mid.shorts_liquidated_usd, mid.longs_liquidated_usd) == (
        104.5,
        95.5,
        6e6,
        1e6,
    )
    assert (big.shorts_liquidated_usd, big.longs_liquidated_usd) == (6e6, 2e6)
    assert (beyond.down_price, beyond.longs_liquidated_usd) == (0.0, 2e6)


def test_bad_targets_and_moves(simple_map):
    with pytest.raises(LiqmapError, match="target"):
        moves_to_liquidate(simple_map, [float("nan")])
    with pytest.raises(LiqmapError, match="move"):
        liquidated_by_move(simple_map, [-1.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e9), min_size=2, max_size=40),
    st.floats(0.0, 1.0),
)
def test_move_and_notional_are_inverse(weights, frac):
    bins = 100.0 + np.arange(1, len(weights) + 1, dtype=float)
    knots = side_knots(100.0, bins, np.array(weights), up=True)
    target = frac * knots[1][-1]
    d = distance_for(knots, target)
    assert d is not None
    assert notional_within(knots, d) == pytest.approx(target, rel=1e-9, abs=1e-6)
    # and it is the smallest such move (up to float resolution: a tiny bin next to a huge one adds less than
    # one ulp of the total, e.g. weights [1048576, 6.1e-5])
    if target > 0:
        before = notional_within(knots, d - 1e-6)
        assert before < target or before == pytest.approx(target, rel=4 * np.finfo(float).eps, abs=0)


HOURLY = pd.DataFrame(  # 48 hourly bars up to the maps' time 0, alternating ±1 %, $1M traded per bar
    {"timestamp": np.arange(-47, 1) * 3_600_000, "close": np.where(np.arange(48) % 2, 101.0, 100.0), "volume": 1e4}
)


def test_map_report_is_json_ready(simple_map):
    settings = ReportSettings(window_pct=10, targets_usd=[1e6, 7e6], top=5)
    report = build_map_report(simple_map, HOURLY, settings, profile="prior", warnings=["filled 1 gap"])
    r = report.to_dict()
    assert json.loads(json.dumps(r, allow_nan=False)) == r
    assert r["caveat"] == CAVEAT and r["profile"] == "prior" and r["warnings"] == ["filled 1 gap"]
    assert r["settings"] == {
        "window_pct": 10,
        "top": 5,
        "targets_usd": [1e6, 7e6],
        "moves_pct": [1.0, 2.0, 3.0, 5.0, 10.0],
        "shock_pct": 1.0,
        "resilience": 0.0,
        "runaway_amplification": 2.0,
        "max_shock_pct": 10.0,
        "impact": "sqrt",
        "impact_lookback_days": 30.0,
    }
    assert [(c["side"], c["peak_price"], c["notional_usd"]) for c in r["clusters"]] == [
        ("short", 104.0, 6e6),
        ("long", 95.0, 2e6),
    ]
    assert {k: r["imbalance"][k] for k in ("window_pct", "short_above_usd", "long_below_usd", "ratio")} == {
        "window_pct": 10,
        "short_above_usd": 6e6,
        "long_below_usd": 2e6,
        "ratio": 3.0,
    }
    assert [(m["move_pct"], m["shorts_liquidated_usd"], m["longs_liquidated_usd"]) for m in r["by_move"]] == [
        (1.0, 0.0, 0.0),
        (2.0, 0.0, 0.0),
        (3.0, 0.0, 0.0),
        (5.0, 6e6, 2e6),
        (10.0, 6e6, 2e6),
    ]
    small, big = r["asymmetry"]
    assert (small["move_up_usd"], small["move_down_usd"], small["move_down_pct"]) == (3 + 1 / 6, 4.5, 4.5)
    assert (big["move_up_usd"], big["reachable_up"], big["move_down_pct"], big["reachable_down"]) == (
        None,
        False,
        None,
        False,
    )
    # ±1 % reaches no bin centre (longs at 95, shorts at 104): nothing liquidates, amplification exactly 1
    cas = r["cascades"]
    assert [(c["shock_pct"], len(c["rounds"]), c["total_liquidated_usd"]) for c in (cas["up"], cas["down"])] == [
        (1.0, 1, 0.0),
        (-1.0, 1, 0.0),
    ]
    assert cas["up"]["amplification"] == 1.0 and "caveat" not in cas["up"]
    # σ_D = std of ±1 % log returns × sqrt(24), V_D = $1M × 24 bars
    sigma = float(np.std(np.diff(np.log(HOURLY["close"].to_numpy())), ddof=1) * np.sqrt(24))
    assert cas["impact"]["model"] == "sqrt" and cas["impact"]["sigma_daily"] == pytest.approx(sigma, rel=1e-12)
    assert cas["impact"]["volume_daily_usd"] == pytest.approx(24 * 1e4 * 100.5, rel=1e-12)
    assert report.cascades.run(-2.0) is report.cascades.down


def test_map_report_settings_are_checked_and_impact_sees_no_future_bars(simple_map):
    for bad in ({"shock_pct": 0.0}, {"shock_pct": 100.0}, {"window_pct": -1.0}):
        with pytest.raises(LiqmapError, match=r"shock_pct|window_pct"):
            ReportSettings(**bad)
    with pytest.raises(LiqmapError, match="needs depth snapshots"):
        build_map_report(simple_map, HOURLY, ReportSettings(impact="book"), profile="prior")
    # a map a day back calibrates on the bars up to it only: a later crash changes nothing
    day_ago = -24 * 3_600_000
    crash = HOURLY.assign(close=np.where(HOURLY["timestamp"] > day_ago, 50.0, HOURLY["close"]))
    at = LiqMap(**{**vars(simple_map), "as_of_ms": day_ago})
    one, other = (build_map_report(at, b, profile="prior").cascades.impact for b in (crash, HOURLY))
    assert one == other


def test_default_targets(make_map, simple_map):
    assert default_targets_usd(simple_map) == [1e4, 1e5, 1e6]
    big = make_map(100.0, 90.0, 110.0, 1.0, longs={95.0: 9e8}, shorts={104.0: 14e9})
    assert default_targets_usd(big) == [1e8, 1e9, 1e10]
    assert default_targets_usd(make_map(100.0, 90.0, 110.0, 1.0)) == []
