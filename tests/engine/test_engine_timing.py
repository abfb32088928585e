"""Hand-computed checks of the oi-delta timing rules: turnover (volume not explained by ΔOI changes hands),
survivor-only seeding, and the mark-price path as trigger. Same conventions as test_engine_scenarios.py
(Binance tier 1, MMR 0.4 %, 10x/50x, 1-USD bins over [50, 150))."""

from __future__ import annotations

import numpy as np
import pytest
from engine_bars import flat_bars
from test_engine_scenarios import CFG, bin_of, lp, tri_cdf

from liqmap.engine import EngineConfig, run
from liqmap.errors import LiqmapError


def _cfg(**kw) -> EngineConfig:
    return EngineConfig(**{**CFG.__dict__, **kw})


def test_turnover_replaces_old_positions_without_changing_oi():
    # OI flat at 100; bar 1 trades 4 contracts at 101.5 (taker-buy 3): (4 − |0|) × 101.5 × 0.25 = 101.5 USD
    # per side closes proportionally and re-opens at 101.5 with the taker mix (longs ¼ at 10x, ¾ at 50x)
    bars = flat_bars([100.5, 101.5], [100.0, 100.0], taker_buy_volume=[2.0, 3.0])
    res = run(bars, config=_cfg(turnover_fraction=0.25))
    seed, moved = 100 * 100.5, 0.25 * 4 * 101.5
    f = 1 - moved / seed
    long_row = res.heatmap.long_usd[1]
    assert long_row.sum() == pytest.approx(seed, rel=1e-12)  # OI unchanged
    assert long_row[bin_of(lp(1, 100.5, 10))] == pytest.approx(seed / 2 * f, rel=1e-12)
    assert long_row[bin_of(lp(1, 101.5, 10))] == pytest.approx(moved / 4, rel=1e-12)
    assert long_row[bin_of(lp(1, 101.5, 50))] == pytest.approx(moved * 3 / 4, rel=1e-12)
    assert res.heatmap.short_usd[1][bin_of(lp(-1, 101.5, 50))] == pytest.approx(moved / 4, rel=1e-12)
    acct = res.accounting.set_index("side")
    assert acct.loc["long", "opened_usd"] == pytest.approx(moved, rel=1e-12)
    assert acct.loc["short", "closed_usd"] == pytest.approx(moved, rel=1e-12)
    # ΔOI larger than the volume: nothing changes hands; 0 disables the rule
    off = run(bars, config=_cfg(turnover_fraction=0.0))
    assert off.heatmap.long_usd[1].sum() == pytest.approx(seed, rel=1e-12)
    assert off.accounting["opened_usd"].sum() == 0.0
    with pytest.raises(LiqmapError, match="turnover_fraction"):
        _cfg(turnover_fraction=1.5)


def test_seed_holds_only_positions_that_survived_the_first_bar():
    # seed bar: close 100.5, low 99 → a 50x long entered at e dies if LP(e) = e·0.98/0.996 ≥ 99, i.e. entries
    # from bin 51 (centre 101.5) up. Seed spread 5 %: triangular on [95.475, 105.525], mode 100.5.
    bars = flat_bars([100.5, 100.5], [100.0, 100.0], taker_buy_volume=[2.0, 2.0])
    bars.loc[0, "low"] = 99.0
    cfg = dict(seed_spread_pct=5.0, turnover_fraction=0.0, keep_leverage_layers=True)
    on, off = run(bars, config=_cfg(**cfg)), run(bars, config=_cfg(**cfg, seed_survivors=False))
    seed = 100 * 100.5
    a, m, b = 100.5 * 0.95, 100.5, 100.5 * 1.05
    alive = tri_cdf(101.0, a, m, b)  # surviving share of the 50x entry density (bins 45 … 50)
    assert lp(1, 100.5, 50) < 99.0 <= lp(1, 101.5, 50)
    row = on.heatmap.long_usd[0]
    assert row.sum() == pytest.approx(seed, rel=1e-12)  # seeded total and leverage mix kept
    w50 = (tri_cdf(101.0, a, m, b) - tri_cdf(100.0, a, m, b)) / alive
    assert row[bin_of(lp(1, 100.5, 50))] == pytest.approx(seed / 2 * w50, rel=1e-12)
    layer50 = on.heatmap.long_by_leverage[0, 1]  # no seeded 50x long sits at a liquidation price ≥ 99
    assert layer50[bin_of(lp(1, 101.5, 50)) :].sum() == 0.0 and layer50.sum() == pytest.approx(seed / 2, rel=1e-12)
    # 10x longs (LP ≈ 0.9036 · entry < 95.4) all survive: untruncated
    w10 = tri_cdf(101.0, a, m, b) - tri_cdf(100.0, a, m, b)
    assert row[bin_of(lp(1, 100.5, 10))] == pytest.approx(seed / 2 * w10, rel=1e-12)
    # bar 1 (flat at 100.5, previous close 100.5) liquidates nothing with survivors, but the naive seed's
    # 50x longs entered at ≥ 102.5 (LP ≥ 100.86) and 50x shorts entered at ≤ 98.5 (LP ≤ 100.07) die at
    # once: the spurious start-up burst
    assert on.events.empty
    burst = off.events.groupby(["side", "leverage"])["notional_usd"].sum()
    assert lp(1, 101.5, 50) < 100.5 <= lp(1, 102.5, 50) and lp(-1, 98.5, 50) <= 100.5 < lp(-1, 99.5, 50)
    assert burst.index.tolist() == [("long", 50.0), ("short", 50.0)]
    assert burst["long", 50.0] == pytest.approx(seed / 2 * (1 - tri_cdf(102.0, a, m, b)), rel=1e-12)
    assert burst["short", 50.0] == pytest.approx(seed / 2 * tri_cdf(99.0, a, m, b), rel=1e-12)


def test_mark_path_triggers_on_the_mark_not_on_a_last_price_wick():
    # seed at 100.5 (50x long LP 98.886); bar 1 wicks to 98.5 on last price while the mark only moves
    # 100.5 → 100.4; bar 2's mark reaches 98.8 ≤ 98.886
    bars = flat_bars([100.5, 100.4, 99.0], [100.0, 100.0, 100.0], mark_price=[100.5, 100.4, 98.8])
    bars.loc[1, "low"] = 98.5
    cfg = dict(turnover_fraction=0.0)
    path, basis = run(bars, config=_cfg(**cfg)), run(bars, config=_cfg(**cfg, mark_path=False))
    long50 = 100 * 100.5 / 2
    assert lp(1, 100.5, 50) == pytest.approx(98.886, abs=1e-3)
    ev = path.events
    assert ev["timestamp"].tolist() == [120_000] and ev["leverage"].tolist() == [50.0]
    assert ev["notional_usd"].iloc[0] == pytest.approx(long50, rel=1e-12)
    # basis shift (mark − close = 0): the last-price wick 98.5 liquidates in bar 1; so does a bar without mark
    no_mark = run(bars.drop(columns="mark_price"), config=_cfg(**cfg))
    for res in (basis, no_mark):
        first = res.events[res.events["timestamp"] == 60_000]
        assert first["leverage"].tolist() == [50.0]
        np.testing.assert_allclose(first["notional_usd"], [long50], rtol=1e-12)
