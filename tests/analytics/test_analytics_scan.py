"""Scan rows are read off the map report, nothing recomputed (liqmap.analytics.scan)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from conftest import build_map

from liqmap.analytics.report import build_map_report
from liqmap.analytics.scan import SCAN_TOP, SORT_COLUMNS, ScanSettings, scan_row, sort_rows
from liqmap.errors import LiqmapError

BARS = pd.DataFrame({"timestamp": [-7_200_000, -3_600_000, 0], "close": [99.0, 101.0, 100.0], "volume": [1e7] * 3})


def _report(lm, s: ScanSettings):
    return build_map_report(lm, BARS, s.report_settings(), profile="prior")


def test_nearest_cluster_above_the_threshold_each_side():
    # longs: $0.5M at 97 (too small), $3M at 94, $9M at 90; shorts: $2M at 102, $8M at 108
    lm = build_map(100.0, 80.0, 120.0, 1.0, longs={97: 5e5, 94: 3e6, 90: 9e6}, shorts={102: 2e6, 108: 8e6})
    s = ScanSettings(min_cluster_usd=1e6, window_pct=5.0, notional_usd=1e6)
    report = _report(lm, s)
    r = scan_row(report, s, exchange="binance", last_bar_ms=0, now_ms=36 * 3_600_000, bars=3, tiers="bundled")
    near = pytest.approx
    assert (r.below_peak, r.below_usd, r.below_pct) == (near(94.0, abs=1e-3), near(3e6), near(-6.0, abs=1e-3))
    assert (r.above_peak, r.above_usd, r.above_pct) == (near(102.0, abs=1e-3), near(2e6), near(2.0, abs=1e-3))
    # a higher threshold skips to the bigger, farther clusters
    big = replace(s, min_cluster_usd=5e6)
    r5 = scan_row(_report(lm, big), big, exchange="binance", last_bar_ms=0, now_ms=0, bars=3)
    assert (round(r5.below_peak, 3), round(r5.above_peak, 3)) == (90.0, 108.0)
    # ±5 %: shorts 2M (102) vs longs 0.5M (97) → 4.0; the report's own imbalance
    assert (r.short_above_usd, r.long_below_usd, r.imbalance_ratio) == (2e6, 5e5, 4.0)
    assert r.imbalance_ratio == report.imbalance.ratio
    # $1M of shorts: from the 101 centre to 102 → half-way, +1.5 %; longs: 0.5M by 97, the next 0.5M of the
    # 3M between the 95 and 94 centres → 5 + 0.5/3 → −5.1667 %
    assert r.move_up_pct == pytest.approx(1.5) and r.move_down_pct == pytest.approx(-(5 + 0.5 / 3))
    assert r.move_down_pct == pytest.approx(-report.asymmetry[0].move_down_pct)
    assert r.move_up_pct == report.asymmetry[0].move_up_pct
    assert r.cascade_up_amplification == report.cascades.up.amplification
    assert r.cascade_down_amplification == report.cascades.down.amplification
    assert r.age_hours == 36.0 and r.tiers == "bundled" and r.exchange == "binance"
    assert set(r.to_dict()) == set(SORT_COLUMNS) and report.settings.top == SCAN_TOP


def test_missing_sides_are_none_and_sort_puts_them_last():
    lm = build_map(100.0, 80.0, 120.0, 1.0, shorts={103: 4e6})
    s = ScanSettings(min_cluster_usd=1e6, notional_usd=1e7)  # more than the shorts hold: unreachable
    r = scan_row(_report(lm, s), s, exchange="okx", last_bar_ms=0, now_ms=0, bars=3)
    assert r.below_peak is None and r.below_usd is None and r.imbalance_ratio is None
    assert r.move_up_pct is None and r.move_down_pct is None and round(r.above_peak, 3) == 103.0
    other = replace(r, exchange="bybit", above_pct=1.0, imbalance_ratio=2.0)
    assert [x.exchange for x in sort_rows([r, other], "above_pct")] == ["bybit", "okx"]
    assert [x.exchange for x in sort_rows([r, other], "imbalance_ratio", descending=True)] == ["bybit", "okx"]
    assert [x.exchange for x in sort_rows([r, other], "exchange")] == ["bybit", "okx"]
    with pytest.raises(LiqmapError, match="unknown sort column 'nope'; use one of exchange, symbol"):
        sort_rows([r], "nope")


def test_settings_are_checked_and_must_match_the_report():
    with pytest.raises(LiqmapError, match="window_pct must lie in"):
        ScanSettings(window_pct=0)
    with pytest.raises(LiqmapError, match="min_cluster_usd must be a positive finite number"):
        ScanSettings(min_cluster_usd=float("nan"))
    lm = build_map(100.0, 80.0, 120.0, 1.0, shorts={103: 4e6})
    with pytest.raises(LiqmapError, match=r"built with ScanSettings\.report_settings"):
        scan_row(
            build_map_report(lm, BARS, profile="prior"), ScanSettings(), exchange="x", last_bar_ms=0, now_ms=0, bars=0
        )
