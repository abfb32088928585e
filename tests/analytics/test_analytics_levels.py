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
    # σ = 0.4 % × 93,000 = $372; a $100 bin spreads the spike to σ² + 100²/12, so the band is the Gaussian's
    # FWHM 2·√(2 ln 2)·√(372² + 100²/12) ≈ $879 centred on the spike.
    assert (c.lo + c.hi) / 2 == pytest.approx(94_000.0)
    assert c.hi - c.lo == pytest.approx(
        2 * math.sqrt(2 * math.log(2)) * math.hypot(372.0, 100 / math.sqrt(12)), rel=0.01
    )
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
    # Without smoothing each spike is a one-bin peak whose half-height crossings are its bin edges.
    lm = make_map(100.0, 100.5, 130.5, 1.0, shorts={110.5: 5e6, 114.5: 3e6})
    merged = key_levels(lm, smooth_pct=0, merge_pct=4.0)  # 4 % of 100 = $4, the peaks' gap
    assert len(merged) == 1
    assert merged[0].notional_usd == 8e6 and merged[0].peak_price == 110.5
    assert (merged[0].lo, merged[0].hi) == (110.0, 115.0)
    split = key_levels(lm, smooth_pct=0, merge_pct=3.9)
    assert [(c.peak_price, c.notional_usd, c.lo, c.hi) for c in split] == [
        (110.5, 5e6, 110.0, 111.0),
        (114.5, 3e6, 114.0, 115.0),
    ]


def _two_boxes(make_map, step: float):
    """Price 93,000; shorts: $1B spread evenly over 94,000–94,400, $0.6B over 95,200–95,600, on a ``step`` grid."""
    shorts = {}
    for a, b, total in ((94_000, 94_400, 1e9), (95_200, 95_600, 0.6e9)):
        centres = np.arange(a + step / 2, b, step)
        shorts |= dict.fromkeys(centres.tolist(), total / len(centres))
    return make_map(93_000.0, 90_000.0 + step / 2, 98_000.0 - step / 2, step, shorts=shorts)


@pytest.mark.parametrize("step", [25.0, 100.0])
def test_smoothing_and_merge_are_in_usd_not_bins(make_map, step):
    # Continuous reference: σ = 0.4 % × 93,000 = $372 on the boxes, f(x) = Σ density·[Φ((b−x)/σ) − Φ((a−x)/σ)].
    # Its peaks sit at 94,206.6 and 95,379.9, the valley at 94,913.5 (0.46 of the left peak) and the half-height
    # crossings outside them at 93,742.2 and 95,854.5. Merge gap: the peaks are 1,173 apart = 1.26 % of price.
    lm = _two_boxes(make_map, step)
    left, right = key_levels(lm, merge_pct=1.0)
    assert (left.notional_usd, right.notional_usd) == (1e9, 0.6e9)
    assert left.peak_price == pytest.approx(94_206.6, abs=1)
    assert right.peak_price == pytest.approx(95_379.9, abs=3)
    assert left.lo == pytest.approx(93_742.2, abs=3)
    assert right.hi == pytest.approx(95_854.5, abs=2)
    assert left.hi < right.lo == pytest.approx(94_913.5, abs=step / 2)  # the valley, at a bin centre
    (merged,) = key_levels(lm, merge_pct=1.3)
    assert merged.notional_usd == 1.6e9
    assert (merged.lo, merged.hi, merged.peak_price) == (left.lo, right.hi, left.peak_price)


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
    assert (c.side, c.notional_usd, c.lo) == (Side.LONG, 3e6, 89.5)
    # Zero outside the grid pulls the vertex of the smoothed peak a little inside the edge bin.
    assert c.peak_price == pytest.approx(90.0, abs=0.05)


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
@given(st.integers(0, 10_000), st.floats(0.0, 3.0), st.floats(0.0, 6.0), st.floats(0.1, 1.0))
def test_bands_are_disjoint_and_never_double_count(seed, smooth_pct, merge_pct, rel_height):
    rng = np.random.default_rng(seed)
    bins = np.arange(50.0, 150.0)
    dense = rng.random(bins.size) < 0.4
    lm = LiqMap("X", 0, 100.0, bins, rng.exponential(1e6, bins.size) * dense, rng.exponential(1e6, bins.size) * dense)
    clusters = key_levels(lm, top=1_000, smooth_pct=smooth_pct, merge_pct=merge_pct, rel_height=rel_height)
    for side, total in ((Side.LONG, lm.long_usd[bins < 100].sum()), (Side.SHORT, lm.short_usd[bins > 100].sum())):
        mine = sorted((c for c in clusters if c.side is side), key=lambda c: c.lo)
        assert sum(c.notional_usd for c in mine) <= total * (1 + 1e-12)
        assert all(a.hi <= b.lo for a, b in pairwise(mine))
        for c in mine:
            assert c.lo < c.peak_price < c.hi
            assert (c.peak_price < 100) if side is Side.LONG else (c.peak_price > 100)
    assert [c.rank for c in clusters] == list(range(1, len(clusters) + 1))
    assert all(a.notional_usd >= b.notional_usd for a, b in pairwise(clusters))


@pytest.fixture(scope="module")
def binance_btc_maps():
    """The bundled Binance BTC sample's oi-delta map at bin_usd 25, 50, 100 and 200."""
    from liqmap.data.sample import sample_bars
    from liqmap.engine import EngineConfig, run

    bars = sample_bars()
    bars = bars[(bars["exchange"] == "binance") & (bars["symbol"] == "BTC/USDT:USDT")].reset_index(drop=True)
    return {w: run(bars, model="oi-delta", config=EngineConfig(bin_usd=w)).liqmap() for w in (25.0, 50.0, 100.0, 200.0)}


def test_top_cluster_does_not_depend_on_bin_width(binance_btc_maps):
    tops = [key_levels(lm, top=1)[0] for lm in binance_btc_maps.values()]
    assert len({c.side for c in tops}) == 1
    notional, peak = [c.notional_usd for c in tops], [c.peak_price for c in tops]
    assert max(notional) / min(notional) < 1.10
    # The peak moves far less than 10 %: within a quarter of the widest bin.
    assert max(peak) - min(peak) < 50.0
