"""Trade volume profile: a bar with trades opens its new positions in proportion to its traded notional per
price bin. Expected numbers come from the Binance formula (tier 1 of BTC/USDT:USDT at 10,000 USD: MMR 0.4 %)
and liqmap.margin, not from the engine."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from engine_bars import SYMBOL, TINY_CFG, assert_incremental_matches, flat_bars, random_bars

from liqmap.engine import EngineConfig, IncrementalEngine, nb, run
from liqmap.engine._prep import split_bars, trade_profile
from liqmap.engine.enums import Model
from liqmap.errors import LiqmapError
from liqmap.margin import get_tiers, liquidation_prices

CFG = TINY_CFG
GRID = EngineConfig(price_range=(60_000.0, 130_000.0), n_bins=700, snapshot_every_ms=60_000)
OPENED = 20 * 100.5  # bar 1: ΔOI 20 × typical (101.8 + 99.2 + 100.5) / 3


def lp(side: int, entry: float, lev: float) -> float:
    """Binance isolated one-way: LP = EP (1 ∓ 1/L) / (1 ∓ MMR)."""
    return entry * (1 - side / lev) / (1 - side * 0.004)


def bars3() -> pd.DataFrame:
    """Seed at 100.5; bar 1 opens ΔOI 20 over [99.2, 101.8] (no turnover: volume = ΔOI), taker-buy 3/4;
    bar 2 dips to 99.5 with OI flat."""
    bars = flat_bars([100.5, 100.5, 99.6], [100.0, 120.0, 120.0])
    bars["volume"] = [4.0, 20.0, 0.0]
    bars["taker_buy_volume"] = [2.0, 15.0, np.nan]
    bars.loc[1, ["high", "low"]] = [101.8, 99.2]
    bars.loc[2, ["open", "high", "low"]] = [100.5, 100.5, 99.5]
    return bars


def trades_at(ts: list[int], price: list[float], amount: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": np.asarray(ts, dtype=np.int64), "price": price, "amount": amount})


def new_usd(res, side: int, entry_bin: int) -> float:
    """Alive USD entered in ``entry_bin`` on ``side`` (all leverages) in the final book."""
    eng = res.engines["binance"]
    return float(eng.raw[side, :, entry_bin].sum() * eng.st[nb.ST_SCALE + side])


def test_one_bin_profile_puts_the_whole_bar_at_its_price():
    bars = bars3()
    trades = trades_at([60_000, 75_000, 119_999], [101.2, 101.4, 101.3], [1.0, 2.0, 0.5])  # all in bin 51
    res = run(bars, config=CFG, trades=trades)
    eng = res.engines["binance"]
    book = eng.raw * eng.st[nb.ST_SCALE : nb.ST_SCALE + 2, None, None]
    # after bar 1 the new longs sit in entry bin 51 only: 10x gets 1/4 (makers), 50x 3/4 (takers)
    margin = liquidation_prices(
        get_tiers("binance", SYMBOL), np.ones(2), np.full(2, 101.5), np.array([10.0, 50.0]), np.full(2, 10_000.0)
    ).liquidation_price
    np.testing.assert_allclose(margin, [lp(1, 101.5, 10), lp(1, 101.5, 50)], rtol=1e-12)
    np.testing.assert_allclose(eng.lp_price[0, :, 51], margin, rtol=1e-12)
    assert margin[1] == pytest.approx(99.8695, abs=1e-4)  # 101.5 · 0.98 / 0.996
    long1 = res.heatmap.long_usd[1]
    assert long1[math.floor(margin[0] - 50)] == pytest.approx(OPENED / 4, rel=1e-12)  # 91.72 → bin 41
    assert long1[math.floor(margin[1] - 50)] == pytest.approx(OPENED * 3 / 4, rel=1e-12)  # 99.87 → bin 49
    # bar 2's low 99.5 reaches the 50x longs entered at 101.5 (LP 99.87) but not the seeded ones (LP 98.89)
    ev = res.events[res.events["timestamp"] == 120_000]
    assert list(ev["side"]) == ["long"] and list(ev["leverage"]) == [50.0]
    assert ev["price"].iloc[0] == 99.5 and ev["notional_usd"].iloc[0] == pytest.approx(OPENED * 3 / 4, rel=1e-12)
    assert set(np.flatnonzero(long1)) == {40, 48, 41, 49}  # seed: LP 90.81 (10x), 98.89 (50x)
    assert book[0, 0, 51] == pytest.approx(OPENED / 4, rel=1e-12) and book[0, 1, 51] == 0.0
    # without trades bar 1 spreads triangularly over [99.2, 101.8] and bar 2 liquidates a different amount
    plain = run(bars, config=CFG)
    assert plain.heatmap.long_usd[1, 49] != pytest.approx(OPENED * 3 / 4)
    assert res.warnings == plain.warnings == ()


def test_two_clusters_split_the_opened_notional():
    bars = bars3().iloc[:2]
    trades = trades_at([60_000, 61_000, 90_000], [99.3, 101.4, 101.6], [1.0, 2.0, 1.0])  # bins 49, 51, 51
    res = run(bars, config=CFG, trades=trades)
    low, high = 99.3 * 1.0, 101.4 * 2.0 + 101.6 * 1.0
    for side in (0, 1):
        assert new_usd(res, side, 49) == pytest.approx(OPENED * low / (low + high), rel=1e-12)
        assert new_usd(res, side, 51) == pytest.approx(OPENED * high / (low + high), rel=1e-12)
        assert new_usd(res, side, 50) == pytest.approx(100 * 100.5, rel=1e-12)  # the seed keeps its place
    acct = res.accounting.set_index("side")
    assert acct.loc["long", "opened_usd"] == pytest.approx(OPENED, rel=1e-12)


def test_trade_profile_csr():
    grid = 50.5 + np.arange(100.0)
    bar_ts = np.array([0, 60_000, 120_000])
    bar_end = np.array([60_000, 120_000, 180_000.0])
    ts = np.array([-1, 0, 10, 59_999, 130_000, 180_000])
    price = np.array([100.0, 100.2, 101.7, 100.9, 40.0, 100.0])
    amount = np.array([9.0, 1.0, 2.0, 3.0, 0.5, 9.0])
    (ptr, bins, weight), outside = trade_profile(bar_ts, bar_end, (ts, price, amount), grid)
    assert outside == 2 and list(ptr) == [0, 2, 2, 3] and list(bins) == [50, 51, 0]
    np.testing.assert_allclose(weight, [100.2 + 3 * 100.9, 2 * 101.7, 20.0], rtol=1e-15)


def test_no_trades_is_unchanged(walk):
    plain = run(walk, config=GRID)
    empty = run(walk, config=GRID, trades=trades_at([], [], []))
    late = run(walk, config=GRID, trades=trades_at([int(walk["timestamp"].iloc[-1]) + 60_000], [94_000.0], [1.0]))
    for other in (empty, late):
        assert np.array_equal(plain.heatmap.long_usd, other.heatmap.long_usd)
        assert np.array_equal(plain.heatmap.short_usd, other.heatmap.short_usd)
        pd.testing.assert_frame_equal(plain.events, other.events)
        pd.testing.assert_frame_equal(plain.accounting, other.accounting)
    assert empty.warnings == plain.warnings
    assert late.warnings == (*plain.warnings, "binance: ignored 1 trade(s) outside every bar")


def random_trades(bars: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """A few trades inside most bars' ranges (every fifth bar has none)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, bar in enumerate(bars.itertuples()):
        if i % 5 == 4:
            continue
        n = int(rng.integers(1, 6))
        rows.append(
            pd.DataFrame(
                {
                    "timestamp": bar.timestamp + np.sort(rng.integers(0, 60_000, n)),
                    "price": rng.uniform(bar.low, bar.high, n),
                    "amount": rng.gamma(2.0, 0.5, n),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_batch_equals_incremental_with_trades():
    bars = random_bars(n=400, seed=12)
    trades = random_trades(bars)
    cfg = EngineConfig(**{**GRID.__dict__, "keep_leverage_layers": True})
    trades = trades.iloc[::-1]  # out of order: sorted (stably) and reported
    res = run(bars, config=cfg, trades=trades)
    assert res.warnings == ("binance: trades were out of time order; sorted by timestamp",)
    assert not np.array_equal(res.heatmap.long_usd, run(bars, config=cfg).heatmap.long_usd)
    which = np.searchsorted(bars["timestamp"].to_numpy(), trades["timestamp"].to_numpy(), side="right") - 1
    assert_incremental_matches(bars, res, cfg, lambda i: trades[which == i])


def test_python_twin_matches_compiled_kernel_with_trades():
    from liqmap.engine._prep import bar_profiles

    bars = random_bars(n=200, seed=4)
    _, arrays, _ = split_bars(bars, Model.OI_DELTA)
    arr = arrays["binance"]
    outs = []
    for runner in (nb.run_py, nb.run_nb):
        eng = IncrementalEngine("binance", SYMBOL, config=GRID)
        prof = bar_profiles(random_trades(bars), SYMBOL, arrays, eng.grid, [])["binance"]
        n_t, n = len(arr), len(eng.grid)
        hm = (np.zeros((n_t, n)), np.zeros((n_t, n)), np.zeros((n_t, 0, 0)), np.zeros((n_t, 0, 0)))
        args = (prof, tuple(eng.tables), tuple(eng.book), eng.ev_i, eng.ev_usd, 0, hm, False, eng.max_events_per_bar)
        runner(arr, 0, np.arange(n_t), *args)
        outs.append(hm[:2])
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.assign(price=[np.nan, 101.0]), r"1 trade\(s\) with NaN or non-positive price"),
        (lambda t: t.assign(amount=[1.0, -2.0]), r"1 trade\(s\) with NaN or non-positive amount"),
        (lambda t: t.drop(columns="amount"), r"trades lack required column\(s\) \['amount'\]"),
        (lambda t: t.assign(timestamp=[0.5, 60_000]), "timestamp must be integer epoch milliseconds"),
        (lambda t: t.assign(symbol="ETH/USDT:USDT"), r"trades hold symbol\(s\) \['ETH/USDT:USDT'\]"),
        (lambda t: t.to_numpy(), "trades must be a pandas DataFrame"),
    ],
)
def test_bad_trades_rejected(change, message):
    good = trades_at([0, 60_000], [100.0, 101.0], [1.0, 1.0])
    with pytest.raises(LiqmapError, match=message):
        run(bars3(), config=CFG, trades=change(good))


def test_trades_matched_to_exchanges():
    both = pd.concat([bars3().iloc[:2], bars3().iloc[:2].assign(exchange="Bybit")], ignore_index=True)
    trades = trades_at([60_000], [101.3], [1.0])
    with pytest.raises(LiqmapError, match="trades need an 'exchange' column"):
        run(both, config=CFG, trades=trades)
    res = run(both, config=CFG, trades=pd.concat([trades.assign(exchange="BYBIT"), trades.assign(exchange="okx")]))
    assert res.warnings == ("ignored 1 trade(s) of exchange(s) ['okx'] without bars",)
    eng_by, eng_bn = res.engines["bybit"], res.engines["binance"]
    # bybit's bar 1 opens at 101.3's bin only; binance's (no trades) spreads triangularly over [99.2, 101.8]
    assert eng_by.raw[0, :, 51].sum() > 0 and eng_by.raw[0, :, 49].sum() == 0.0
    assert eng_bn.raw[0, :, 49].sum() > 0


def test_incremental_rejects_foreign_trades():
    eng = IncrementalEngine("binance", SYMBOL, config=CFG)
    row = bars3().iloc[1].to_dict()
    with pytest.raises(LiqmapError, match=r"1 trade\(s\) are not this bar's .* timestamp 60000"):
        eng.update(row, trades=trades_at([59_999, 60_000], [101.0, 101.0], [1.0, 1.0]))
