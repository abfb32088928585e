"""Shared simulator runs (module-scoped: each regime is simulated once per test session)."""

from __future__ import annotations

import pytest

from liqmap.sim import SimConfig, SimResult, simulate


@pytest.fixture(scope="session", params=["calm", "trend", "crash"])
def regime_run(request) -> SimResult:
    """One day, 600 traders, per regime."""
    return simulate(SimConfig(seed=11, days=1.0, n_traders=600, regime=request.param, warmup_days=0.25))


@pytest.fixture(scope="session")
def crash_run() -> SimResult:
    """A crash day with plenty of liquidations."""
    return simulate(SimConfig(seed=5, days=1.0, n_traders=800, regime="crash", warmup_days=0.25))
