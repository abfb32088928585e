"""The price grid: round bin widths (1, 2, 2.5, 5 × 10^k) with edges on multiples of the width."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_bars import flat_bars
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap.engine import EngineConfig, run
from liqmap.engine._prep import make_grid
from liqmap.errors import LiqmapError


def edges(grid: np.ndarray) -> tuple[float, float, float]:
    """``(first edge, last edge, width)`` of a grid of bin centres."""
    width = float(grid[1] - grid[0])
    return float(grid[0]) - width / 2, float(grid[-1]) + width / 2, width


@pytest.mark.parametrize(
    ("lo", "hi", "n_bins", "expected"),
    [
        # (hi − lo)/n = 85.45 → $100; 14,550.5 spare split evenly: 41,902.7 − 7,275.25 = 34,627.45 → 34,600.
        (41_902.7, 127_352.2, 1_000, (34_600.0, 134_600.0, 100.0, 1_000)),
        (60_000.0, 130_000.0, 700, (60_000.0, 130_000.0, 100.0, 700)),  # already round: unchanged
        # $10 of spare, start 60,085 → 60,000: 700 bins would end at 130,000 < 130,080, so one more.
        (60_090.0, 130_080.0, 700, (60_000.0, 130_100.0, 100.0, 701)),
        (0.2, 0.5, 20, (0.14, 0.54, 0.02, 20)),  # 0.015 → 0.02; start 0.2 − 0.05 = 0.15 → 0.14
        (2.0, 30.0, 10, (0.0, 50.0, 5.0, 10)),  # 2.8 → 5; the centred start −9 is clamped to 0
    ],
)
def test_round_grid_by_hand(lo, hi, n_bins, expected):
    grid = make_grid(lo, hi, EngineConfig(n_bins=n_bins))
    first, last, width = edges(grid)
    assert (first, last, width) == pytest.approx(expected[:3], rel=1e-12)
    assert len(grid) == expected[3]


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-4, 1e6), st.floats(1e-3, 50.0), st.integers(10, 5_000))
def test_round_grid_properties(lo, span_frac, n_bins):
    hi = lo * (1 + span_frac)
    grid = make_grid(lo, hi, EngineConfig(n_bins=n_bins))
    first, last, width = edges(grid)
    decade = 10.0 ** math.floor(math.log10(width) + 1e-9)
    mantissa = min((1.0, 2.0, 2.5, 5.0), key=lambda m: abs(width / decade - m))
    assert width == pytest.approx(mantissa * decade, rel=1e-9)
    width = mantissa * decade  # the exact width: grid[1] − grid[0] loses digits on a far-off grid
    assert (hi - lo) / n_bins <= width * (1 + 1e-9) and width < 2 * (hi - lo) / n_bins
    assert len(grid) in (n_bins, n_bins + 1)
    assert -1e-9 * width <= first <= lo * (1 + 1e-12) and last >= hi * (1 - 1e-12)
    k = (grid - width / 2) / width  # every edge is an integer multiple of the width
    np.testing.assert_allclose(k, np.round(k), rtol=1e-12, atol=1e-9)


def test_bin_usd_grid_is_unchanged():
    grid = make_grid(60_030.0, 60_990.0, EngineConfig(bin_usd=25.0))
    assert edges(grid) == (60_025.0, 61_000.0, 25.0)


def test_run_refuses_a_bin_usd_grid_over_max_bins():
    bars = flat_bars([100.0, 100.0], [1.0, 1.0])  # padded by 30 %: 70–130, 60 bins of $1
    assert len(run(bars, config=EngineConfig(bin_usd=1.0), max_bins=60).grid) == 60
    with pytest.raises(
        LiqmapError,
        match=r"bin_usd=0.5 gives 120 bins over the padded price range 70.00–130.00 \(cap 60\); use bin_usd ≥ 1.00",
    ):
        run(bars, config=EngineConfig(bin_usd=0.5), max_bins=60)
