"""Exits before liquidation: the liquidation share scales events and the map without touching the book, the early-exit
hazard removes positions near their liquidation price (conserving notional), the Python twin equals the
compiled kernel, and leverages above a venue's maximum get no weight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_bars import assert_incremental_matches

from liqmap.engine import EngineConfig, nb, run
from liqmap.engine.incremental import _allowed_mixes

GRID = dict(price_range=(60_000.0, 130_000.0), n_bins=700, snapshot_every_ms=60_000)


def test_share_scales_events_and_keeps_the_book(walk):
    full = run(walk, config=EngineConfig(**GRID))
    part = run(walk, config=EngineConfig(**GRID, liquidation_share=(0.25, 0.5)))
    # same book bar for bar; the map shows the share of it that would be force-liquidated
    np.testing.assert_allclose(part.heatmap.long_usd, 0.25 * full.heatmap.long_usd, rtol=1e-12)
    np.testing.assert_allclose(part.heatmap.short_usd, 0.5 * full.heatmap.short_usd, rtol=1e-12)
    for side, share in (("long", 0.25), ("short", 0.5)):
        f = full.events[full.events["side"] == side]["notional_usd"].sum()
        p = part.events[part.events["side"] == side]["notional_usd"].sum()
        assert f > 0 and p == pytest.approx(share * f, rel=1e-12)
        a = part.accounting.set_index("side").loc[side]
        assert a.liquidated_usd + a.exited_usd == pytest.approx(f, rel=1e-12)
        assert a.seeded_usd + a.opened_usd - a.closed_usd - a.liquidated_usd - a.decayed_usd - a.exited_usd == (
            pytest.approx(a.alive_usd, rel=1e-9)
        )


def test_hazard_exits_near_liquidation_and_conserves(walk):
    base = run(walk, config=EngineConfig(**GRID))
    res = run(walk, config=EngineConfig(**GRID, exit_hazard_per_day=24.0, exit_zone_pct=3.0))
    acct = res.accounting.set_index("side")
    for side in ("long", "short"):
        a = acct.loc[side]
        assert a.exited_usd > 0
        assert a.seeded_usd + a.opened_usd - a.closed_usd - a.liquidated_usd - a.decayed_usd - a.exited_usd == (
            pytest.approx(a.alive_usd, rel=1e-9)
        )
    # positions that exit early are not liquidated later: fewer liquidations than without the hazard
    assert res.events["notional_usd"].sum() < base.events["notional_usd"].sum()
    cfg = EngineConfig(**GRID, exit_hazard_per_day=24.0, exit_zone_pct=3.0, keep_leverage_layers=True)
    assert_incremental_matches(walk, run(walk, config=cfg), cfg)


def test_exit_near_hand_computed_and_twin():
    # one long cell (LP 95) and one short cell (LP 105); trigger 100 with a 10 % zone and rate 0.5
    raw = np.zeros((2, 1, 3))
    raw[0, 0, 1], raw[1, 0, 1] = 1_000.0, 2_000.0
    lp = np.array([[[90.0, 95.0, 99.0]], [[101.0, 105.0, 120.0]]])
    for fn in (nb.exit_near_py, nb.exit_near_nb):
        r = raw.copy()
        bounds = np.array([[[1, 1]], [[1, 1]]], dtype=np.int64)
        st = np.zeros(nb.N_ST)
        st[nb.ST_SCALE] = st[nb.ST_SCALE + 1] = 1.0
        st[nb.ST_TOT], st[nb.ST_TOT + 1] = 1_000.0, 2_000.0
        # distance 5 % of a 10 % zone: f = 0.5 × (1 − 0.5) = 0.25
        assert fn(r, bounds, st, lp, 0, 100.0, 0.10, 0.5) == pytest.approx(250.0)
        assert fn(r, bounds, st, lp, 1, 100.0, 0.10, 0.5) == pytest.approx(500.0)
        assert r[0, 0, 1] == pytest.approx(750.0) and r[1, 0, 1] == pytest.approx(1_500.0)
        assert st[nb.ST_TOT] == pytest.approx(750.0) and st[nb.ST_TOT + 1] == pytest.approx(1_500.0)


def test_leverages_above_the_venue_maximum_get_no_weight():
    levw = np.array([[0.2, 0.3, 0.5], [0.5, 0.3, 0.2], [0.0, 0.0, 1.0], [0.1, 0.1, 0.8]])
    out, notes = _allowed_mixes(levw, (5.0, 10.0, 20.0), 10.0)
    np.testing.assert_allclose(out, [[0.4, 0.6, 0], [0.625, 0.375, 0], [0, 1, 0], [0.5, 0.5, 0]])
    assert notes == ("leverages 20x exceed the venue's 10x maximum; their weight goes to the others",)
    same, none = _allowed_mixes(levw, (5.0, 10.0, 20.0), 125.0)
    assert same is levw and none == ()


def test_hyperliquid_bars_run_on_their_own_rules():
    from liqmap.data.sample import hyperliquid_bars

    bars = hyperliquid_bars()
    doge = bars[bars["symbol"] == "DOGE/USDC:USDC"].head(200)
    res = run(doge, config=EngineConfig(bin_usd=0.0005))
    assert any("20x, 25x, 50x, 100x exceed the venue's 10x maximum" in w for w in res.warnings)
    assert set(res.events["leverage"]) <= {5.0, 10.0}  # DOGE is 10x at most on Hyperliquid
    assert isinstance(res.events, pd.DataFrame) and len(res.events) > 0
