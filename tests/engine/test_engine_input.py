"""Bad input: rejected with a message naming the problem, or repaired by a documented rule that is reported."""

from __future__ import annotations

import numpy as np
import pytest
from engine_bars import flat_bars, random_bars

from liqmap.engine import EngineConfig, IncrementalEngine, run
from liqmap.errors import DataValidationError, LiqmapError, UnknownSymbolError

CFG = EngineConfig(price_range=(60_000.0, 130_000.0), n_bins=700)


@pytest.fixture(scope="module")
def bars():
    return random_bars(n=200, seed=5)


@pytest.fixture(scope="module")
def clean(bars):
    return run(bars, config=CFG)


def test_unsorted_rows_are_sorted_and_reported(bars, clean):
    res = run(bars.iloc[::-1], config=CFG)
    assert any("out of time order" in w for w in res.warnings)
    np.testing.assert_array_equal(res.heatmap.long_usd, clean.heatmap.long_usd)


def test_exact_duplicates_dropped_conflicting_rejected(bars, clean):
    res = run(bars.iloc[[*range(200), 50, 51]], config=CFG)
    assert any("dropped 2 exact duplicate" in w for w in res.warnings)
    np.testing.assert_array_equal(res.heatmap.short_usd, clean.heatmap.short_usd)
    bad = bars.iloc[[*range(200), 50]].copy()
    bad.iloc[-1, bad.columns.get_loc("close")] += 1.0
    with pytest.raises(DataValidationError, match=f"share timestamp {int(bars['timestamp'][50])}"):
        run(bad, config=CFG)


def test_nan_oi_counts_as_zero_delta_and_is_reported(bars):
    b = bars.copy()
    b.loc[20:29, "open_interest"] = np.nan
    res = run(b, config=CFG)
    assert any("10 bar(s) without open interest" in w for w in res.warnings)
    assert (res.accounting["nan_oi_bars"] == 10).all()
    # ΔOI across the hole is applied at the first bar after it (bar 30 vs bar 19)
    hm = res.heatmap
    assert hm.long_usd[29].sum() == pytest.approx(hm.short_usd[29].sum(), rel=1e-9)
    with pytest.raises(DataValidationError, match="use model 'volume'"):
        run(b.assign(open_interest=np.nan), config=CFG)
    assert run(b.assign(open_interest=np.nan), "volume", CFG).heatmap.long_usd[-1].sum() > 0


def test_open_interest_usd_fallback(bars):
    b = bars.assign(open_interest_usd=bars["open_interest"] * bars["close"], open_interest=np.nan)
    a = run(bars, config=CFG).heatmap.long_usd
    np.testing.assert_allclose(run(b, config=CFG).heatmap.long_usd, a, rtol=1e-9)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("volume", -1.0, "NaN or negative volume"),
        ("close", 0.0, "non-positive open/high/low/close"),
        ("high", np.nan, "missing or non-positive"),
        ("open_interest", -5.0, "negative open interest"),
        ("taker_buy_volume", 1e9, "taker_buy_volume outside"),
        ("mark_price", -1.0, "non-positive mark_price"),
    ],
)
def test_bad_values_rejected(bars, column, value, message):
    b = bars.copy()
    b.loc[7, column] = value
    with pytest.raises(DataValidationError, match=message) as exc:
        run(b, config=CFG)
    assert str(int(bars["timestamp"][7])) in str(exc.value)


def test_venue_spellings_are_normalised(bars, clean):
    res = run(bars.assign(exchange="Binance", symbol="BTCUSDT"), config=CFG)
    assert res.heatmap.symbol == "BTC/USDT:USDT" and set(res.engines) == {"binance"}
    assert set(res.events["exchange"]) == {"binance"} and set(res.heatmap.by_exchange) == {"binance"}
    np.testing.assert_array_equal(res.heatmap.long_usd, clean.heatmap.long_usd)


def test_gaps_and_inverted_ranges_reported(bars):
    b = bars.drop(index=range(50, 60))
    assert any("1 gap(s)" in w and "11 min" in w for w in run(b, config=CFG).warnings)
    c = bars.copy()
    c.loc[3, "high"] = c.loc[3, "low"]
    assert any("widened high/low of 1 bar" in w for w in run(c, config=CFG).warnings)


def test_structural_errors(bars):
    with pytest.raises(DataValidationError, match="required column"):
        run(bars.drop(columns="close"), config=CFG)
    with pytest.raises(DataValidationError, match="2 symbols"):
        run(bars.assign(symbol=["BTC/USDT:USDT"] * 100 + ["ETH/USDT:USDT"] * 100), config=CFG)
    with pytest.raises(DataValidationError, match="empty"):
        run(bars.iloc[:0], config=CFG)
    with pytest.raises(ValueError, match="unknown model 'heat'"):
        run(bars, "heat", CFG)
    with pytest.raises(UnknownSymbolError, match="tier_exchange"):
        run(bars.assign(exchange="hyperliquid"), config=CFG)
    borrowed = EngineConfig(**{**CFG.__dict__, "tier_exchange": {"hyperliquid": "binance"}})
    res = run(bars.assign(exchange="hyperliquid"), config=borrowed)
    np.testing.assert_array_equal(res.heatmap.long_usd, run(bars, config=CFG).heatmap.long_usd)


def test_incremental_rejects_out_of_order_bars(bars):
    eng = IncrementalEngine("sim", "BTCUSDT", config=CFG)
    rows = bars.to_dict("records")
    eng.update(rows[1])
    with pytest.raises(DataValidationError, match="not after the previous bar"):
        eng.update(rows[0])
    with pytest.raises(DataValidationError, match="positive open/high/low/close"):
        eng.update({**rows[2], "low": -1.0})
    with pytest.raises(LiqmapError, match="price_range"):
        IncrementalEngine("binance", "BTCUSDT")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"aggressive_weights": (0.5, 0.5, 0, 0, 0, 0.1)}, "sum to 1"),
        ({"leverages": (5.0, 10.0)}, "equal length"),
        ({"n_bins": 1000, "bin_usd": 10.0}, "either n_bins or bin_usd"),
        ({"n_bins": 5}, "n_bins must be"),
        ({"closure": "random"}, "choose one of proportional, oldest-first, most-profitable-first"),
        ({"price_range": (10.0, 5.0)}, "0 < low < high"),
        ({"decay_half_life_ms": -1}, "decay_half_life_ms must be"),
        ({"volume_fraction": 0.0}, "volume_fraction must be"),
    ],
)
def test_config_validation(kwargs, message):
    with pytest.raises(LiqmapError, match=message):
        EngineConfig(**kwargs)


def test_leverage_above_tier_max_gets_no_weight_and_a_warning():
    bars = flat_bars([100.5, 90.0], [1.0, 1.0])
    cfg = EngineConfig(leverages=(5.0, 200.0), aggressive_weights=(0.5, 0.5), passive_weights=(0.5, 0.5))
    res = run(bars, config=cfg)  # Binance BTC allows 150x at most
    assert any("leverages 200x exceed the venue's 150x maximum" in w for w in res.warnings)
    only_5x = run(bars, config=EngineConfig(leverages=(5.0,), aggressive_weights=(1.0,), passive_weights=(1.0,)))
    np.testing.assert_array_equal(res.heatmap.long_usd, only_5x.heatmap.long_usd)  # all weight on 5x
