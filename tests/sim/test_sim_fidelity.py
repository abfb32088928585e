"""The engine's oi-delta model recovers the simulated truth better than the volume and uniform baselines."""

from __future__ import annotations

import pytest

from liqmap.sim import SimConfig, simulate
from liqmap.sim.score import score_models


@pytest.mark.parametrize("regime", ["calm", "trend", "crash"])
def test_oi_delta_beats_baselines_on_the_density_scores(regime):
    run = simulate(SimConfig(seed=2, days=4.0, n_traders=1500, regime=regime))
    s = score_models(run.bars, run.truth, run.liquidations)
    oi, vol, uni = s["oi-delta"], s["volume"], s["uniform"]
    assert oi.snapshots == vol.snapshots == uni.snapshots == 96
    for base in (vol, uni):
        assert oi.density_corr > base.density_corr
        assert oi.emd_pct < base.emd_pct
        assert oi.top_decile_capture > base.top_decile_capture
    # liquidation timing: the uniform baseline predicts no events, so it has no hourly correlation
    assert uni.liq_volume_corr is None
    assert oi.liq_volume_corr > 0.3
    assert 0.0 < oi.top_decile_capture <= 1.0 and -1.0 <= oi.density_corr <= 1.0
