"""Hand-computed scenarios: every expected number below is derived in the test from the Binance formula
(tier 1 of BTC/USDT:USDT for a 10,000 USD position: MMR 0.4 %, maintenance amount 0) and the documented
rules, not read back from the engine."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from engine_bars import SYMBOL, TINY_CFG, flat_bars

from liqmap.engine import ClosureRule, EngineConfig, run

MMR = 0.004
LEVS = (10.0, 50.0)
CFG = TINY_CFG


def lp(side: int, entry: float, lev: float) -> float:
    """Binance isolated one-way: LP = (Q·EP ∓ WB ∓ cum)/(Q(1 ∓ MMR)) with Q = N/EP, WB = N/L, cum = 0."""
    return entry * (1 - side / lev) / (1 - side * MMR)


def bin_of(price: float) -> int:
    return math.floor(price - 50.0)


def tri_cdf(x: float, a: float, m: float, b: float) -> float:
    if x <= a:
        return 0.0
    if x >= b:
        return 1.0
    if x <= m:
        return (x - a) ** 2 / ((b - a) * (m - a))
    return 1 - (b - x) ** 2 / ((b - a) * (b - m))


@pytest.fixture(scope="module")
def scenario():
    bars = flat_bars([100.5, 100.5, 98.5, 110.5], [100.0, 120.0, 40.0, 40.0])
    bars["taker_buy_volume"] = [2.0, 3.0, 2.0, np.nan]
    bars.loc[2, ["open", "high"]] = 100.5  # bar 2: 100.5 → 98.5
    bars.loc[3, ["open", "low", "high"]] = [98.5, 98.5, 111.0]  # bar 3: squeeze to 111
    return bars, run(bars, config=CFG)


def test_seed_and_open_bars(scenario):
    _, res = scenario
    hm = res.heatmap
    # bar 0: seed OI 100 × close 100.5 = 10,050 per side, half at each leverage, entry 100.5
    # bar 1: ΔOI 20 × typical 100.5 = 2,010; taker-buy share 3/4 → longs 1/4 at 10x, 3/4 at 50x
    seed = 100 * 100.5
    assert hm.long_usd[0].sum() == pytest.approx(seed) and hm.short_usd[0].sum() == pytest.approx(seed)
    opened = 20 * 100.5
    expect_long = {
        bin_of(lp(1, 100.5, 10)): seed / 2 + opened / 4,
        bin_of(lp(1, 100.5, 50)): seed / 2 + opened * 3 / 4,
    }
    expect_short = {
        bin_of(lp(-1, 100.5, 10)): seed / 2 + opened * 3 / 4,
        bin_of(lp(-1, 100.5, 50)): seed / 2 + opened / 4,
    }
    assert set(np.flatnonzero(hm.long_usd[1])) == set(expect_long)
    assert set(np.flatnonzero(hm.short_usd[1])) == set(expect_short)
    for b, v in expect_long.items():
        assert hm.long_usd[1, b] == pytest.approx(v, rel=1e-12)
    for b, v in expect_short.items():
        assert hm.short_usd[1, b] == pytest.approx(v, rel=1e-12)
    assert (bin_of(lp(1, 100.5, 10)), bin_of(lp(-1, 100.5, 50))) == (40, 52)  # 90.81 and 102.10


def test_liquidation_counterparty_close_and_oi_drop(scenario):
    _, res = scenario
    hm, ev = res.heatmap, res.events
    seed, opened = 10_050.0, 2_010.0
    long50 = seed / 2 + opened * 3 / 4  # LP 98.89 ≥ low 98.5 → liquidated in bar 2
    long10 = seed / 2 + opened / 4
    alive = seed + opened  # per side before bar 2
    bar2 = ev[ev["timestamp"] == 120_000]
    assert len(bar2) == 1
    row = bar2.iloc[0]
    assert (row["side"], row["leverage"], row["exchange"]) == ("long", 50.0, "binance")
    assert row["price"] == 50.5 + bin_of(lp(1, 100.5, 50))
    assert row["notional_usd"] == pytest.approx(long50, rel=1e-12)
    # shorts close the same 6,532.5 (counterparties) proportionally; then ΔOI −80 × typical (100.5+98.5+98.5)/3
    # minus the liquidated amount is closed from both sides proportionally
    typical = (100.5 + 98.5 + 98.5) / 3
    close_more = 80 * typical - long50
    f_short = (1 - long50 / alive) * (1 - close_more / (alive - long50))
    f_long = 1 - close_more / long10
    assert hm.long_usd[2, bin_of(lp(1, 100.5, 10))] == pytest.approx(long10 * f_long, rel=1e-12)
    assert hm.long_usd[2].sum() == pytest.approx(long10 * f_long, rel=1e-12)
    assert hm.short_usd[2, bin_of(lp(-1, 100.5, 10))] == pytest.approx((seed / 2 + opened * 3 / 4) * f_short, rel=1e-12)
    assert hm.short_usd[2, bin_of(lp(-1, 100.5, 50))] == pytest.approx((seed / 2 + opened / 4) * f_short, rel=1e-12)
    # modelled OI: seed + Σ ΔOI × typical
    assert hm.long_usd[2].sum() == pytest.approx(seed + opened - 80 * typical, rel=1e-12)
    assert hm.short_usd[2].sum() == pytest.approx(seed + opened - 80 * typical, rel=1e-12)


def test_squeeze_liquidates_all_shorts_and_reopens_spread(scenario):
    _, res = scenario
    hm, ev = res.heatmap, res.events
    alive = 10_050 + 2_010 - 80 * (100.5 + 98.5 + 98.5) / 3
    bar3 = ev[ev["timestamp"] == 180_000]
    assert set(bar3["side"]) == {"short"} and set(bar3["leverage"]) == {10.0, 50.0}
    assert bar3["notional_usd"].sum() == pytest.approx(alive, rel=1e-12)
    # all longs close as counterparties; ΔOI = 0 so the liquidated notional re-opens on both sides over
    # [98.5, 111], triangular with mode at the typical price; taker-buy share = close location (110.5−98.5)/12.5
    a, b, c = 98.5, 111.0, 110.5
    m = (a + b + c) / 3
    buy = (c - a) / (b - a)
    edges = [a, *range(99, 112), b]  # upper edges of bins 48 … 61 (the last one holds no mass)
    weights = np.diff([tri_cdf(x, a, m, b) for x in edges])
    entries = 50.5 + np.arange(bin_of(a), bin_of(b) + 1)
    expect = np.zeros(100)
    for w, e in zip(weights, entries, strict=True):
        for lev, share in ((10.0, 1 - buy), (50.0, buy)):
            expect[bin_of(lp(1, e, lev))] += alive * w * share
    np.testing.assert_allclose(hm.long_usd[3], expect, rtol=1e-12, atol=1e-9)
    assert hm.short_usd[3].sum() == pytest.approx(alive, rel=1e-12)
    acct = res.accounting.set_index("side")
    assert acct.loc["long", "liquidated_usd"] == pytest.approx(10_050 / 2 + 2_010 * 3 / 4, rel=1e-12)
    assert acct.loc["short", "liquidated_usd"] == pytest.approx(alive, rel=1e-12)


def test_most_profitable_and_oldest_first_closure():
    # cohort A entered at 100.5 (seed), cohort B at 101.5 (ΔOI +100); OI then falls by 100 at 100.5
    bars = flat_bars([100.5, 101.5, 100.5], [100.0, 200.0, 100.0])
    a_usd, b_usd, closed = 100 * 100.5, 100 * 101.5, 100 * 100.5
    prof = run(bars, config=EngineConfig(**{**CFG.__dict__, "closure": ClosureRule.MOST_PROFITABLE_FIRST}))
    old = run(bars, config=EngineConfig(**{**CFG.__dict__, "closure": "oldest-first"}))
    prop = run(bars, config=EngineConfig(**CFG.__dict__))
    a_long = [bin_of(lp(1, 100.5, lev)) for lev in LEVS]
    a_short = [bin_of(lp(-1, 100.5, lev)) for lev in LEVS]
    b_short = [bin_of(lp(-1, 101.5, lev)) for lev in LEVS]
    for res in (prof, old):  # longs: cohort A is both the most profitable (lowest entry) and the oldest
        lm = res.liqmap()
        assert lm.long_usd.sum() == pytest.approx(a_usd + b_usd - closed, rel=1e-12)
        assert lm.long_usd[a_long].sum() == 0.0
    # shorts: most profitable = highest entry (B) goes first, A survives in full; oldest-first removes A
    assert prof.liqmap().short_usd[a_short].sum() == pytest.approx(a_usd, rel=1e-12)
    assert prof.liqmap().short_usd[b_short].sum() == pytest.approx(b_usd - closed, rel=1e-12)
    assert old.liqmap().short_usd[a_short].sum() == 0.0
    assert old.liqmap().short_usd[b_short].sum() == pytest.approx(b_usd, rel=1e-12)
    # proportional keeps both cohorts, each scaled by the same factor
    f = 1 - closed / (a_usd + b_usd)
    assert prop.liqmap().long_usd[a_long[0]] == pytest.approx(a_usd / 2 * f, rel=1e-12)
    assert prop.liqmap().short_usd[b_short[1]] == pytest.approx(b_usd / 2 * f, rel=1e-12)


def test_volume_model_decay_by_hand():
    bars = flat_bars([100.5, 100.5], [np.nan, np.nan], quote_volume=[1_000.0, 3_000.0])
    cfg = EngineConfig(**{**CFG.__dict__, "volume_fraction": 0.1, "volume_half_life_ms": 60_000})
    res = run(bars, "volume", cfg)
    # bar 0 opens 100 per side; one half-life later 50 remain and bar 1 opens 300
    assert res.heatmap.long_usd.sum(axis=1) == pytest.approx([100.0, 350.0], rel=1e-12)
    assert res.heatmap.short_usd.sum(axis=1) == pytest.approx([100.0, 350.0], rel=1e-12)
    acct = res.accounting.set_index("side")
    assert acct.loc["long", "decayed_usd"] == pytest.approx(50.0, rel=1e-12)


def test_uniform_baseline_spreads_the_same_totals():
    bars = flat_bars([100.5, 100.5, 100.5], [100.0, 120.0, 110.0])
    uni = run(bars, "uniform", CFG)
    oi = run(bars, "oi-delta", CFG)
    np.testing.assert_allclose(uni.heatmap.long_usd.sum(axis=1), oi.heatmap.long_usd.sum(axis=1), rtol=1e-12)
    row = uni.heatmap.long_usd[2]
    # longs over [85.425, 100.5]: full bins 36..49 (86–99), partial bin 35 (85.425–86) and bin 50 (100–100.5)
    total = 110 * 100.5 - 0.0
    assert row.sum() == pytest.approx(oi.heatmap.long_usd[2].sum(), rel=1e-12)
    assert row[40] == pytest.approx(total / (100.5 * 0.15), rel=1e-9)
    assert row[35] == pytest.approx(total * (86 - 85.425) / (100.5 * 0.15), rel=1e-9)
    assert row[:35].sum() == 0 and row[51:].sum() == 0
    assert uni.events.empty and list(uni.events.columns) == [
        "timestamp",
        "exchange",
        "side",
        "price",
        "leverage",
        "notional_usd",
    ]


def test_symbol_in_result_and_snapshot_labels():
    bars = flat_bars([100.5] * 5, [10.0] * 5)
    res = run(bars, config=EngineConfig(**{**CFG.__dict__, "snapshot_every_ms": 120_000}))
    # buckets [0, 120k), [120k, 240k), [240k, …): labelled by the last bar in each
    assert res.heatmap.times_ms.tolist() == [60_000, 180_000, 240_000]
    assert res.heatmap.symbol == SYMBOL and isinstance(res.events, pd.DataFrame)
