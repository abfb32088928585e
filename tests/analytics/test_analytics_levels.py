import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap.analytics import key_levels
from liqmap.engine.results import LiqMap
from liqmap.enums import Side
from liqmap.errors import DataValidationError, LiqmapError


def test_single_cluster_has_band_peak_distance(make_map):
    lm = make_map(93_000.0, 90_000.0, 98_000.0, 100.0, shorts={94_000.0: 1e9})
    (c,) = key_levels(lm)
    assert c.rank == 1 and c.side is Side.SHORT
    assert c.peak_price == 94_000.0
    assert c.notional_usd == 1e9
    # Gaussian σ = 1 bin: neighbours sit at e^-0.5 = 0.61 ≥ half height, ±2 bins at e^-2 = 0.14 do not.
    assert (c.lo, c.hi) == (93_850.0, 94_150.0)
    assert c.distance_usd == 1_000.0
    assert c.distance_pct == pytest.approx(100 * 1_000 / 93_000)


def test_two_clusters_ranked_by_notional(make_map):
    lm = make_map(
        93_000.0,
        89_000.0,
        97_000.0,
        100.0,
        longs={90_900.0: 200e6, 91_000.0: 241e6, 91_100.0: 200e6},
        shorts={94_000.0: 1e9},
    )
    short, long_ = key_levels(lm)
    assert (short.rank, short.side, short.peak_price, short.notional_usd) == (1, Side.SHORT, 94_000.0, 1e9)
    assert (long_.rank, long_.side, long_.peak_price) == (2, Side.LONG, 91_000.0)
    assert long_.notional_usd == pytest.approx(641e6)
    assert long_.distance_usd == -2_000.0
    assert long_.lo <= 90_850.0 and long_.hi >= 91_150.0


def test_merge_rule_joins_close_peaks_and_splits_far_ones(make_map):
    lm = make_map(100.0, 100.5, 130.5, 1.0, shorts={110.5: 5e6, 114.5: 3e6})
    merged = key_levels(lm, merge_bins=4)
    assert len(merged) == 1
    assert merged[0].notional_usd == 8e6 and merged[0].peak_price == 110.5
    assert (merged[0].lo, merged[0].hi) == (109.0, 116.0)
    split = key_levels(lm, merge_bins=3)
    assert [(c.peak_price, c.notional_usd) for c in split] == [(110.5, 5e6), (114.5, 3e6)]
    # The valley at 112.5 separates the bands, so no bin is in both.
    assert split[0].hi <= split[1].lo


def test_empty_side_and_side_filter(make_map):
    lm = make_map(100.0, 90.0, 110.0, 1.0, shorts={104.0: 6e6})
    assert key_levels(lm, side="long") == []
    assert [c.side for c in key_levels(lm)] == [Side.SHORT]
    empty = make_map(100.0, 90.0, 110.0, 1.0)
    assert key_levels(empty) == []


def test_wrong_side_notional_is_ignored(make_map):
    # Longs above price would already be liquidated; shorts below likewise.
    lm = make_map(100.0, 90.0, 110.0, 1.0, longs={105.0: 9e9}, shorts={95.0: 9e9})
    assert key_levels(lm) == []


def test_top_caps_and_ranks(make_map):
    shorts = {101.0 + 10 * k: (k + 1) * 1e6 for k in range(5)}
    lm = make_map(100.0, 90.0, 150.0, 1.0, shorts=shorts)
    top2 = key_levels(lm, top=2)
    assert [(c.rank, c.peak_price, c.notional_usd) for c in top2] == [(1, 141.0, 5e6), (2, 131.0, 4e6)]


def test_peak_at_grid_edge_is_found(make_map):
    lm = make_map(100.0, 90.0, 110.0, 1.0, longs={90.0: 3e6})
    (c,) = key_levels(lm)
    assert (c.side, c.peak_price, c.notional_usd, c.lo) == (Side.LONG, 90.0, 3e6, 89.5)


def test_small_bumps_below_prominence_are_not_clusters(make_map):
    lm = make_map(100.0, 90.0, 130.0, 1.0, shorts={105.0: 100e6, 120.0: 1e6})
    assert [c.peak_price for c in key_levels(lm)] == [105.0]
    assert [c.peak_price for c in key_levels(lm, prominence_frac=0.001)] == [105.0, 120.0]


def test_bad_input_is_rejected(make_map):
    lm = make_map(100.0, 90.0, 110.0, 1.0, shorts={104.0: 6e6})
    with pytest.raises(LiqmapError, match="top"):
        key_levels(lm, top=0)
    bad = LiqMap("X", 0, 100.0, lm.price_bins, lm.long_usd, np.full_like(lm.short_usd, math.nan))
    with pytest.raises(DataValidationError, match="NaN"):
        key_levels(bad)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 3.0), st.integers(0, 6))
def test_bands_are_disjoint_and_never_double_count(seed, smooth_bins, merge_bins):
    rng = np.random.default_rng(seed)
    bins = np.arange(50.0, 150.0)
    dense = rng.random(bins.size) < 0.4
    lm = LiqMap("X", 0, 100.0, bins, rng.exponential(1e6, bins.size) * dense, rng.exponential(1e6, bins.size) * dense)
    clusters = key_levels(lm, top=1_000, smooth_bins=smooth_bins, merge_bins=merge_bins)
    for side, total in ((Side.LONG, lm.long_usd[bins < 100].sum()), (Side.SHORT, lm.short_usd[bins > 100].sum())):
        mine = sorted((c for c in clusters if c.side is side), key=lambda c: c.lo)
        assert sum(c.notional_usd for c in mine) <= total * (1 + 1e-12)
        assert all(a.hi <= b.lo for a, b in pairwise(mine))
        for c in mine:
            assert c.lo < c.peak_price < c.hi
            assert (c.peak_price < 100) if side is Side.LONG else (c.peak_price > 100)
    assert [c.rank for c in clusters] == list(range(1, len(clusters) + 1))
    assert all(a.notional_usd >= b.notional_usd for a, b in pairwise(clusters))
