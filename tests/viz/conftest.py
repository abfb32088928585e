"""Hand-built result objects for the chart tests: a tiny deterministic "engine" over a random walk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from viz_helpers import LEVERAGES

from liqmap.engine.results import Heatmap, LiqMap


def build_heatmap(n_times: int = 48, n_bins: int = 120, seed: int = 11) -> Heatmap:
    """Positions open at each close with four leverages and die when price crosses their level."""
    rng = np.random.default_rng(seed)
    close = 94_000 * np.exp(np.cumsum(rng.normal(0, 0.004, n_times)))
    bins = np.linspace(84_000, 104_000, n_bins)
    step = bins[1] - bins[0]
    long_l = np.zeros((len(LEVERAGES), n_bins))
    short_l = np.zeros((len(LEVERAGES), n_bins))
    long_hist = np.zeros((n_times, len(LEVERAGES), n_bins))
    short_hist = np.zeros_like(long_hist)
    for t, px in enumerate(close):
        for i, lev in enumerate(LEVERAGES):
            for level, layer in ((px * (1 - 1 / lev + 0.004), long_l), (px * (1 + 1 / lev - 0.004), short_l)):
                j = round((level - bins[0]) / step)
                if 0 <= j < n_bins:
                    layer[i, j] += 2e6 * (1 + rng.random()) * (5 if lev == 25 else 1)
        long_l[:, bins >= px] = 0.0
        short_l[:, bins <= px] = 0.0
        long_hist[t], short_hist[t] = long_l, short_l
    return Heatmap(
        symbol="BTC/USDT:USDT",
        times_ms=1_767_225_600_000 + 3_600_000 * np.arange(n_times, dtype=np.int64),
        price_bins=bins,
        long_usd=long_hist.sum(axis=1),
        short_usd=short_hist.sum(axis=1),
        close=close,
        leverages=LEVERAGES,
        long_by_leverage=long_hist,
        short_by_leverage=short_hist,
        model="fixture",
    )


@pytest.fixture(scope="session")
def heatmap() -> Heatmap:
    return build_heatmap()


@pytest.fixture(scope="session")
def liqmap_snapshot(heatmap: Heatmap) -> LiqMap:
    return heatmap.at()


@pytest.fixture
def simple_map() -> LiqMap:
    """Ten $100 bins around $1,000: $5M of shorts at $1,030, $3M of longs at $960, price $1,000."""
    bins = np.arange(955.0, 1055.0, 10.0)
    long_usd = np.zeros(10)
    short_usd = np.zeros(10)
    long_usd[np.searchsorted(bins, 965.0)] = 3e6
    long_usd[np.searchsorted(bins, 985.0)] = 1e6
    short_usd[np.searchsorted(bins, 1035.0)] = 5e6
    return LiqMap("BTC/USDT:USDT", 1_767_225_600_000, 1000.0, bins, long_usd, short_usd, model="fixture")


@dataclass
class Round:
    price: float
    liquidated_usd: float


@dataclass
class Cascade:
    start_price: float
    rounds: list[Round]
    final_price: float
    total_liquidated_usd: float
    amplification: float


@pytest.fixture
def cascade() -> Cascade:
    rounds = [Round(95_000.0, 120e6), Round(95_600.0, 310e6), Round(96_050.0, 90e6), Round(96_100.0, 4e6)]
    return Cascade(94_000.0, rounds, 96_100.0, 524e6, 2.23)
