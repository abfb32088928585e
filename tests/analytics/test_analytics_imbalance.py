import numpy as np
import pytest

from liqmap.analytics import imbalance, liquidated_by_move
from liqmap.analytics.imbalance import EMPTY, NO_LONGS
from liqmap.errors import LiqmapError


def test_window_pct_totals_and_ratio(simple_map):
    imb = imbalance(simple_map, window_pct=10)
    assert (imb.lo, imb.hi) == pytest.approx((90.0, 110.0))
    assert (imb.short_above_usd, imb.long_below_usd, imb.ratio, imb.note) == (6e6, 2e6, 3.0, "")


def test_window_cuts_inside_a_bin_linearly(simple_map):
    # Shorts at 104 accrue linearly from the 103 centre: half of $6M at 103.5; longs likewise at 95.5.
    imb = imbalance(simple_map, lo=95.5, hi=103.5)
    assert (imb.short_above_usd, imb.long_below_usd, imb.ratio) == (3e6, 1e6, 3.0)


def test_zero_width_window_is_empty_not_nan(simple_map):
    for imb in (imbalance(simple_map, window_pct=0), imbalance(simple_map, lo=100.0, hi=100.0)):
        assert (imb.short_above_usd, imb.long_below_usd, imb.ratio, imb.note) == (0.0, 0.0, None, EMPTY)


def test_no_longs_gives_none_ratio_and_no_shorts_gives_zero(make_map, simple_map):
    imb = imbalance(simple_map, lo=96.0, hi=110.0)
    assert (imb.short_above_usd, imb.long_below_usd, imb.ratio, imb.note) == (6e6, 0.0, None, NO_LONGS)
    only_longs = make_map(100.0, 90.0, 110.0, 1.0, longs={95.0: 2e6})
    assert imbalance(only_longs, window_pct=10).ratio == 0.0


def test_window_entirely_above_price(simple_map):
    imb = imbalance(simple_map, lo=103.0, hi=105.0)
    assert (imb.short_above_usd, imb.long_below_usd) == (6e6, 0.0)
    assert imbalance(simple_map, lo=104.5, hi=108.0).short_above_usd == 0.0


def test_by_leverage_and_by_exchange(make_map):
    bins = np.arange(90.0, 111.0)
    long10 = np.where(bins == 95, 2e6, 0.0)
    long50 = np.where(bins == 99, 1e6, 0.0)
    short10 = np.where(bins == 104, 6e6, 0.0)
    short50 = np.where(bins == 101, 4e6, 0.0)
    lm = make_map(
        100.0,
        90.0,
        110.0,
        1.0,
        longs={95.0: 2e6, 99.0: 1e6},
        shorts={104.0: 6e6, 101.0: 4e6},
        leverages=(10.0, 50.0),
        long_by_leverage=np.stack([long10, long50]),
        short_by_leverage=np.stack([short10, short50]),
        by_exchange={"binance": (long10, short10 + short50), "okx": (long50, np.zeros(21))},
    )
    imb = imbalance(lm, window_pct=3)
    assert (imb.short_above_usd, imb.long_below_usd) == (4e6, 1e6)
    assert imb.by_leverage[10.0].ratio is None and imb.by_leverage[10.0].note == EMPTY
    assert (imb.by_leverage[50.0].short_above_usd, imb.by_leverage[50.0].ratio) == (4e6, 4.0)
    assert imb.by_exchange["binance"].note == NO_LONGS
    assert imb.by_exchange["okx"].ratio == 0.0
    d = imb.to_dict()
    assert d["by_leverage"]["50x"]["ratio"] == 4.0 and d["by_exchange"]["okx"]["long_below_usd"] == 1e6


def test_window_pct_matches_liquidated_by_move(simple_map):
    for y in (0.0, 1.0, 3.7, 4.5, 10.0, 50.0):
        imb = imbalance(simple_map, window_pct=y)
        (mv,) = liquidated_by_move(simple_map, [y])
        assert imb.short_above_usd == pytest.approx(mv.shorts_liquidated_usd)
        assert imb.long_below_usd == pytest.approx(mv.longs_liquidated_usd)


def test_bad_windows_are_rejected(simple_map):
    with pytest.raises(LiqmapError, match="lo ≤ hi"):
        imbalance(simple_map, lo=105.0, hi=95.0)
    with pytest.raises(LiqmapError, match="either"):
        imbalance(simple_map, window_pct=5, lo=95.0)
    with pytest.raises(LiqmapError, match="≥ 0"):
        imbalance(simple_map, window_pct=-1)
    with pytest.raises(LiqmapError, match="give a window"):
        imbalance(simple_map)
