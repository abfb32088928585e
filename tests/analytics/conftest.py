"""Hand-built maps for the analytics tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from liqmap.engine.results import LiqMap


def build_map(
    price: float,
    lo: float,
    hi: float,
    step: float,
    longs: dict[float, float] | None = None,
    shorts: dict[float, float] | None = None,
    **kwargs: object,
) -> LiqMap:
    """A map on the grid ``lo, lo+step, …, hi`` with notional placed at the given bin centres."""
    bins = np.round(np.arange(lo, hi + step / 2, step), 9)
    long_usd, short_usd = np.zeros_like(bins), np.zeros_like(bins)
    for arr, spec in ((long_usd, longs or {}), (short_usd, shorts or {})):
        for px, usd in spec.items():
            i = int(np.argmin(np.abs(bins - px)))
            assert abs(bins[i] - px) < 1e-9, f"{px} is not a bin centre"
            arr[i] += usd
    return LiqMap("BTC/USDT:USDT", 0, price, bins, long_usd, short_usd, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def crash_sim() -> Any:
    """A 2-day simulated crash with known truth (liqmap.sim), shared by the validation and CLI tests."""
    from liqmap.sim import SimConfig, simulate

    return simulate(SimConfig(seed=1, days=2, n_traders=600, regime="crash"))


@pytest.fixture(scope="session")
def sim_dir(crash_sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated crash written as canonical bars/liquidations/depth Parquet files."""
    from liqmap.data.io import write_table
    from liqmap.data.schemas import LIQUIDATIONS

    d = tmp_path_factory.mktemp("sim")
    write_table(crash_sim.bars, d / "bars.parquet")
    write_table(crash_sim.liquidations[LIQUIDATIONS.names], d / "liquidations.parquet")
    write_table(crash_sim.depth, d / "depth.parquet")
    return d


@pytest.fixture
def make_map() -> Callable[..., LiqMap]:
    """Factory for hand-built maps (see :func:`build_map`)."""
    return build_map


@pytest.fixture
def simple_map() -> LiqMap:
    """Price 100 on a $1 grid 90…110: $2M of longs at 95, $6M of shorts at 104."""
    return build_map(100.0, 90.0, 110.0, 1.0, longs={95.0: 2e6}, shorts={104.0: 6e6})
