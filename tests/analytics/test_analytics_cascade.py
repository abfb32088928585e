import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap import CAVEAT
from liqmap.analytics.cascade import critical_shock_pct, simulate_cascade
from liqmap.analytics.impact import BookImpact, SqrtImpact
from liqmap.engine.results import LiqMap
from liqmap.errors import DataValidationError, LiqmapError

UNIT = SqrtImpact(sigma_daily=0.02, volume_daily_usd=1e9)  # $1B of flow moves price 2 %


def test_two_cluster_chain_by_hand(make_map):
    lm = make_map(100.0, 90.0, 110.0, 1.0, shorts={101.0: 1e9, 103.0: 1e9})
    res = simulate_cascade(lm, 1.0, UNIT)
    assert [r.price for r in res.rounds] == pytest.approx([101.0, 103.02, 101 * (1 + 0.02 * math.sqrt(2))])
    assert [r.liquidated_usd for r in res.rounds] == [1e9, 1e9, 0.0]
    assert [r.side for r in res.rounds] == ["short", "short", "none"]
    assert res.final_price == pytest.approx(101 * (1 + 0.02 * math.sqrt(2)))
    assert res.amplification == pytest.approx(3.8567114)
    assert (res.total_liquidated_usd, res.runaway, res.hit_edge, res.converged) == (2e9, True, False, True)
    # Resilience 0.5 halves the impact: 101·1.01 = 102.01 stops short of the 103 cluster.
    half = simulate_cascade(lm, 1.0, UNIT, resilience=0.5)
    assert [r.price for r in half.rounds] == pytest.approx([101.0, 102.01])
    assert (half.total_liquidated_usd, half.runaway) == (1e9, True)
    assert half.amplification == pytest.approx(2.01)
    full = simulate_cascade(lm, 1.0, UNIT, resilience=1.0)
    assert (full.final_price, full.amplification, full.total_liquidated_usd) == (101.0, 1.0, 1e9)


def test_down_cascade_sells_longs(make_map):
    lm = make_map(100.0, 90.0, 110.0, 1.0, longs={99.0: 1e9}, shorts={101.0: 5e9})
    res = simulate_cascade(lm, -1.0, UNIT)
    assert [r.price for r in res.rounds] == pytest.approx([99.0, 97.02])
    assert [(r.long_liquidated_usd, r.short_liquidated_usd) for r in res.rounds] == [(1e9, 0.0), (0.0, 0.0)]
    assert res.rounds[0].side == "long"
    assert res.final_move_pct == pytest.approx(-2.98)


def test_no_leverage_nearby_gives_amplification_exactly_one(make_map):
    far = make_map(100.0, 80.0, 120.0, 1.0, longs={85.0: 1e12}, shorts={115.0: 1e12})
    for shock in (0.5, -0.5, 3.0, -3.0):
        res = simulate_cascade(far, shock, UNIT)
        assert res.amplification == 1.0
        assert res.final_price == res.shock_price == 100 * (1 + shock / 100)
        assert (len(res.rounds), res.total_liquidated_usd, res.runaway) == (1, 0.0, False)
    empty = make_map(100.0, 80.0, 120.0, 1.0)
    assert simulate_cascade(empty, 5.0, UNIT).amplification == 1.0


def _random_map(seed: int) -> LiqMap:
    rng = np.random.default_rng(seed)
    bins = np.arange(80.0, 120.5, 0.5)
    dense = rng.random(bins.size) < 0.3
    shorts = np.where(bins > 100, rng.exponential(1e8, bins.size) * dense, 0.0)
    longs = np.where(bins < 100, rng.exponential(1e8, bins.size) * dense, 0.0)
    return LiqMap("X", 0, 100.0, bins, longs, shorts)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.0, 0.3, 1.0]), st.floats(8.0, 10.0))
def test_conservation_and_no_double_count(seed, resilience, log_volume):
    lm = _random_map(seed)
    for shock in (2.0, -2.0, 7.0):
        res = simulate_cascade(lm, shock, SqrtImpact(0.03, 10**log_volume), resilience=resilience)
        by_round = sum(r.liquidated_usd for r in res.rounds)
        by_bin = res.liquidated_long_usd.sum() + res.liquidated_short_usd.sum()
        assert res.total_liquidated_usd == pytest.approx(by_round, rel=1e-12)
        assert res.total_liquidated_usd == pytest.approx(by_bin, rel=1e-12)
        # Each bin is either untouched or removed in full, once: notional removed from the map == total.
        for liq, orig in ((res.liquidated_long_usd, lm.long_usd), (res.liquidated_short_usd, lm.short_usd)):
            assert np.all((liq == 0) | (liq == orig))
        remaining = (lm.long_usd - res.liquidated_long_usd).sum() + (lm.short_usd - res.liquidated_short_usd).sum()
        assert lm.long_usd.sum() + lm.short_usd.sum() - remaining == pytest.approx(res.total_liquidated_usd)
        # Only the shocked side liquidates, and only bins the path reached.
        if shock > 0:
            assert res.liquidated_long_usd.sum() == 0
            assert np.all(res.liquidated_short_usd[lm.price_bins > res.final_price] == 0)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.0, 0.3, 0.7, 1.0]), st.sampled_from([1, -1]))
def test_monotone_in_shock_size(seed, resilience, sign):
    lm = _random_map(seed)
    impact = SqrtImpact(0.03, 3e9)
    prev_total = prev_move = -1.0
    for size in np.linspace(0.1, 8.0, 80):
        res = simulate_cascade(lm, sign * size, impact, resilience=resilience)
        if res.hit_edge:
            break
        move = abs(res.final_price - lm.price)
        assert res.total_liquidated_usd >= prev_total * (1 - 1e-12)
        assert move >= prev_move - 1e-12
        prev_total, prev_move = res.total_liquidated_usd, move


def test_edge_of_map_is_a_runaway(make_map):
    shorts = {float(p): 5e9 for p in range(101, 111)}
    lm = make_map(100.0, 90.0, 110.0, 1.0, shorts=shorts)
    res = simulate_cascade(lm, 1.0, UNIT)
    assert res.hit_edge and res.runaway and not res.converged
    assert res.total_liquidated_usd == 5e10
    # A shock that itself reaches the edge is not a runaway by itself.
    assert simulate_cascade(make_map(100.0, 90.0, 110.0, 1.0), 12.0, UNIT).runaway is False


def test_critical_shock_scans_then_bisects(make_map):
    lm = make_map(100.0, 90.0, 110.0, 1.0, shorts={103.0: 4e9})
    # Below 3 % nothing liquidates; at 3 %: 103·(1 + 0.02·2) = 107.12 → amplification 2.37 ≥ 2.
    assert critical_shock_pct(lm, UNIT, "up") == pytest.approx(3.0, abs=1e-4)
    # Amplification falls again for bigger shocks (5 % → 105·1.04 = 109.2, 1.84), hence the scan.
    assert simulate_cascade(lm, 5.0, UNIT).runaway is False
    assert critical_shock_pct(lm, UNIT, "down") is None
    assert critical_shock_pct(lm, UNIT, "up", resilience=0.9) is None


def test_cascade_to_dict_and_bad_params(make_map):
    lm = make_map(100.0, 90.0, 110.0, 1.0, shorts={101.0: 1e9})
    d = simulate_cascade(lm, 1.0, UNIT).to_dict()
    assert d["caveat"] == CAVEAT and d["rounds"][0] == {
        "index": 0,
        "price": 101.0,
        "liquidated_usd": 1e9,
        "long_liquidated_usd": 0.0,
        "short_liquidated_usd": 1e9,
        "side": "short",
    }
    for kwargs, match in (
        ({"shock_pct": 0.0}, "non-zero"),
        ({"shock_pct": -100.0}, "above −100"),
        ({"shock_pct": 1.0, "resilience": 1.5}, "resilience"),
        ({"shock_pct": 1.0, "runaway_amplification": 1.0}, "exceed 1"),
    ):
        with pytest.raises(LiqmapError, match=match):
            simulate_cascade(lm, impact=UNIT, **kwargs)


def test_book_impact_fits_binance_depth_exponents():
    # Binance BTCUSDT perp bookDepth 2025-05-19 (exchange-mechanics.md §5), cumulative BTC at ±1…5 %.
    book = BookImpact.from_levels(np.arange(1, 6), [2294, 3990, 5443, 7178, 7885], [2097, 3485, 4814, 5700, 6492])
    assert (round(book.bid_exponent, 3), round(book.ask_exponent, 3)) == (0.786, 0.711)
    assert book.move_frac(-2294) == pytest.approx(-0.01)
    assert book.move_frac(3485) == pytest.approx(0.02)
    assert book.move_frac((2294 + 3990) / -2) == pytest.approx(-0.015)
    assert book.move_frac(-2 * 7885) == pytest.approx(-0.05 * 2 ** (1 / book.bid_exponent))


def test_book_impact_from_depth_snapshot():
    rows = [
        (1, "bid", 99.0, 1.0),
        (1, "bid", 98.0, 2.0),
        (1, "ask", 101.0, 1.0),
        (1, "ask", 102.0, 2.0),
        (0, "bid", 50.0, 100.0),  # older snapshot is ignored
        (0, "ask", 150.0, 100.0),
    ]
    depth = pd.DataFrame(rows, columns=["timestamp", "side", "price", "size"])
    book = BookImpact.from_depth(depth)
    assert book.as_of_ms == 1
    assert book.move_frac(-99.0) == pytest.approx(-0.01)
    assert book.move_frac(-(99 + 98)) == pytest.approx(-0.015)
    assert book.move_frac(101 + 204) == pytest.approx(0.02)
    with pytest.raises(DataValidationError, match="no depth snapshot"):
        BookImpact.from_depth(depth, at_ms=-1)
    with pytest.raises(DataValidationError, match="has both bids and asks"):
        BookImpact.from_depth(depth[depth["side"] == "bid"])


def test_sqrt_impact_from_bars():
    r = 0.01
    close = 100 * np.exp(np.cumsum([0.0] + [r, -r] * 24))
    bars = pd.DataFrame(
        {
            "timestamp": np.arange(close.size) * 3_600_000,
            "close": close,
            "volume": 1.0,
            "quote_volume": 1e6,
        }
    )
    m = SqrtImpact.from_bars(bars)
    returns = np.diff(np.log(close))
    assert m.sigma_daily == pytest.approx(np.std(returns, ddof=1) * np.sqrt(24))
    assert m.volume_daily_usd == pytest.approx(24e6)
    assert m.move_frac(24e6) == pytest.approx(m.sigma_daily)
    with pytest.raises(DataValidationError, match="at least 3 bars"):
        SqrtImpact.from_bars(bars.iloc[:2])


def test_sqrt_impact_combines_exchanges():
    close = 100 * np.exp(np.cumsum([0.0, 0.01, -0.02, 0.01, 0.005]))
    one = pd.DataFrame({"timestamp": np.arange(5) * 3_600_000, "close": close, "volume": 1.0})
    two = pd.concat([one.assign(exchange="a"), one.assign(exchange="b", close=close * 1.001)])
    m1, m2 = SqrtImpact.from_bars(one), SqrtImpact.from_bars(two)
    assert m2.volume_daily_usd == pytest.approx(2.001 * m1.volume_daily_usd)
    assert m2.sigma_daily == pytest.approx(m1.sigma_daily)


def test_book_impact_on_real_binance_book25():
    from liqmap.data.sample import sample_depth

    depth = sample_depth()
    last_two_sided = int(depth.loc[depth["side"] == "ask", "timestamp"].max())  # 2020-09-01 00:00:04.005
    book = BookImpact.from_depth(depth, at_ms=last_two_sided)
    snap = depth[depth["timestamp"] == last_two_sided]
    best_bid = snap.loc[snap["side"] == "bid", "price"].max()
    best_ask = snap.loc[snap["side"] == "ask", "price"].min()
    mid = (best_bid + best_ask) / 2
    top = snap[(snap["side"] == "bid") & (snap["price"] == best_bid)]
    top_usd = float((top["price"] * top["size"]).sum())
    # Selling exactly the best bid's size walks price to the best bid.
    assert book.move_frac(-top_usd) == pytest.approx((best_bid - mid) / mid)
    # 25 levels reach ~3 bps: too narrow to fit a shape, so the default exponent extrapolates.
    assert book.bid_dist[-1] < 0.005 and book.bid_exponent == book.ask_exponent == 0.75
    assert book.bid_depth_usd[-1] == pytest.approx(
        float((snap.loc[snap["side"] == "bid", ["price", "size"]].prod(axis=1)).sum())
    )
    # The latest snapshot (2022-11-01) is bid-only: it is skipped for the last two-sided one.
    assert BookImpact.from_depth(depth).as_of_ms == last_two_sided
