"""Conservation, non-negativity, liquidated mass never reappearing, batch == incremental bit for bit, and
Python twins == compiled kernels, on a random 1-minute walk with crashes, taker flow and a mark basis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_bars import assert_incremental_matches, random_bars

from liqmap.engine import ClosureRule, EngineConfig, IncrementalEngine, nb, run
from liqmap.engine._prep import empty_profile, split_bars
from liqmap.engine.enums import Model

GRID = EngineConfig(price_range=(60_000.0, 130_000.0), n_bins=700, snapshot_every_ms=60_000)


def _cfg(**kw) -> EngineConfig:
    return EngineConfig(**{**GRID.__dict__, **kw})


@pytest.mark.parametrize("closure", list(ClosureRule))
def test_conservation_every_bar(walk, closure):
    res = run(walk, config=_cfg(closure=closure))
    hm = res.heatmap
    alive_l, alive_s = hm.long_usd.sum(axis=1), hm.short_usd.sum(axis=1)
    # modelled OI = seed OI × first close + Σ ΔOI × typical price (no decay, OI known in every bar)
    typical = ((walk["high"] + walk["low"] + walk["close"]) / 3).to_numpy()
    oi = walk["open_interest"].to_numpy()
    modelled = oi[0] * walk["close"].iloc[0] + np.concatenate([[0.0], np.cumsum(np.diff(oi) * typical[1:])])
    np.testing.assert_allclose(alive_l, modelled, rtol=1e-9)
    np.testing.assert_allclose(alive_s, modelled, rtol=1e-9)
    assert (hm.long_usd >= 0).all() and (hm.short_usd >= 0).all()
    acct = res.accounting.set_index("side")
    for side in ("long", "short"):
        a = acct.loc[side]
        explicit = a.seeded_usd + a.opened_usd - a.closed_usd - a.liquidated_usd - a.decayed_usd
        assert explicit == pytest.approx(a.alive_usd, rel=1e-9) and a.alive_usd == pytest.approx(modelled[-1])
        ev = res.events[res.events["side"] == side]["notional_usd"].sum()
        assert ev == pytest.approx(a.liquidated_usd, rel=1e-12) and a.liquidated_usd > 0


def test_decay_is_accounted(walk):
    res = run(walk, config=_cfg(decay_half_life_ms=3_600_000))
    a = res.accounting.set_index("side")
    for side in ("long", "short"):
        r = a.loc[side]
        assert r.decayed_usd > 0
        assert r.seeded_usd + r.opened_usd - r.closed_usd - r.liquidated_usd - r.decayed_usd == pytest.approx(
            r.alive_usd, rel=1e-9
        )
    assert a.loc["long", "alive_usd"] == pytest.approx(a.loc["short", "alive_usd"], rel=1e-9)


def test_liquidated_mass_never_reappears():
    bars = random_bars(n=300, seed=3)
    crash = 200  # a −6 % wick with OI collapsing: no new positions open in that bar
    bars.loc[crash, "low"] = bars.loc[crash - 1, "close"] * 0.94
    bars.loc[crash:, "open_interest"] = bars.loc[crash:, "open_interest"] * 0.2
    eng = IncrementalEngine("binance", "BTCUSDT", config=_cfg(mark_path=False))  # last-price wick + basis
    for i, row in enumerate(bars.to_dict("records")):
        before = eng.raw[0] * eng.st[nb.ST_SCALE]
        rep = eng.update(row)
        if i == crash:
            trigger = min(row["low"], bars.loc[crash - 1, "close"]) + row["mark_price"] - row["close"]
            dead = eng.lp_price[0] >= trigger
            assert before[dead].sum() > 0 and rep.liquidated_long_usd == pytest.approx(before[dead].sum())
            assert eng.raw[0][dead].sum() == 0.0  # every crossed long cell is empty ...
    after = eng.raw[0]
    # ... and stays empty unless price comes back to re-open there (it does not: entries sit in bars' ranges)
    assert after[dead & (eng.lp_price[0] >= bars["low"].iloc[crash + 1 :].max() * 1.0)].sum() == 0.0


def test_batch_equals_incremental_bit_for_bit(walk):
    walk = walk.copy()
    walk.loc[100:110, "open_interest"] = np.nan
    walk.loc[300:310, "taker_buy_volume"] = np.nan
    cfg = _cfg(keep_leverage_layers=True, decay_half_life_ms=7_200_000)
    res = run(walk, config=cfg)
    assert_incremental_matches(walk, res, cfg)


def test_result_engines_continue_live(walk):
    head, tail = walk.iloc[:1000], walk.iloc[1000:]
    full = run(walk, config=GRID)
    part = run(head, config=GRID)
    eng = part.engines["binance"]
    for row in tail.to_dict("records"):
        eng.update(row)
    assert np.array_equal(eng.project()[0], full.heatmap.long_usd[-1])
    assert np.array_equal(full.liqmap().long_usd, full.heatmap.long_usd[-1])


@pytest.mark.parametrize("closure", list(ClosureRule))
def test_python_twins_match_compiled_kernels(closure):
    bars = random_bars(n=250, seed=11)
    _, arrays, _ = split_bars(bars, Model.OI_DELTA)
    arr = arrays["binance"]
    cfg = _cfg(closure=closure, keep_leverage_layers=True)
    outs = []
    for runner in (nb.run_py, nb.run_nb):
        eng = IncrementalEngine("binance", "BTCUSDT", config=cfg)
        n_t, k, n = len(arr), len(cfg.leverages), len(eng.grid)
        hm = (np.zeros((n_t, n)), np.zeros((n_t, n)), np.zeros((n_t, k, n)), np.zeros((n_t, k, n)))
        prof = empty_profile(n_t)
        args = (prof, tuple(eng.tables), tuple(eng.book), eng.ev_i, eng.ev_usd, 0, hm, True, eng.max_events_per_bar)
        _, n_ev = runner(arr, 0, np.arange(n_t), *args)
        outs.append((hm, eng.ev_i[:n_ev].copy(), eng.ev_usd[:n_ev].copy(), eng.acct.copy()))
    (hm_p, evi_p, evu_p, acct_p), (hm_n, evi_n, evu_n, acct_n) = outs
    for a, b in zip(hm_p, hm_n, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-6)
    assert np.array_equal(evi_p, evi_n) and len(evi_p) > 0
    np.testing.assert_allclose(evu_p, evu_n, rtol=1e-12)
    np.testing.assert_allclose(acct_p, acct_n, rtol=1e-12)


def test_small_kernels_twins():
    for x in (59_000.0, 60_000.0, 94_123.4, 130_000.0, np.nan):
        assert nb.bin_of_py(x, 60_000.0, 100.0, 700) == nb.bin_of_nb(x, 60_000.0, 100.0, 700)
    assert nb.bin_of_py(94_123.4, 60_000.0, 100.0, 700) == 341
    for x in (1.0, 1.5, 2.0, 2.9):
        for dist in (nb.ENTRY_TRIANGULAR, nb.ENTRY_UNIFORM):
            assert nb.entry_cdf_py(x, 1.0, 2.0, 3.0, dist) == nb.entry_cdf_nb(x, 1.0, 2.0, 3.0, dist)
    assert nb.entry_cdf_py(1.5, 1.0, 2.0, 3.0, nb.ENTRY_TRIANGULAR) == 0.125  # (0.5)² / (2 · 1)


def test_multi_exchange_sums_layers(walk):
    other = random_bars(seed=8, exchange="bybit")
    both = pd.concat([walk, other.iloc[5:]], ignore_index=True)  # bybit starts 5 bars later
    res = run(both, config=GRID)
    solo_b = run(walk, config=GRID)
    hm = res.heatmap
    lb, _ = hm.by_exchange["binance"]
    ly, _ = hm.by_exchange["bybit"]
    np.testing.assert_array_equal(lb, solo_b.heatmap.long_usd)
    np.testing.assert_allclose(hm.long_usd, lb + ly, rtol=1e-12)
    assert ly[:5].sum() == 0 and ly[5].sum() > 0
    assert set(res.events["exchange"]) == {"binance", "bybit"}
    assert res.events["timestamp"].is_monotonic_increasing
    lm = res.liqmap()
    assert set(lm.by_exchange) == {"binance", "bybit"} and lm.long_by_leverage.shape == (6, 700)
    np.testing.assert_allclose(lm.long_usd, hm.long_usd[-1], rtol=1e-12)
