"""The one JSON shape of a map (``LiqMap.to_dict``) and the layered frames (``to_frame(layers=True)``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liqmap import CAVEAT
from liqmap.engine.results import Heatmap, LiqMap

BINS = np.array([99.0, 100.0, 101.0])
LONG_10X, LONG_50X = np.array([1.234, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
SHORT_10X, SHORT_50X = np.array([0.0, 3.0, 0.0]), np.array([0.0, 0.0, 4.5678])


def three_bins() -> LiqMap:
    """Price 100 on three $1 bins, two leverages, two exchanges (binance holds the 10x, bybit the 50x)."""
    return LiqMap(
        symbol="BTC/USDT:USDT",
        as_of_ms=1_000,
        price=100.0,
        price_bins=BINS,
        long_usd=LONG_10X + LONG_50X,
        short_usd=SHORT_10X + SHORT_50X,
        leverages=(10.0, 50.0),
        long_by_leverage=np.vstack([LONG_10X, LONG_50X]),
        short_by_leverage=np.vstack([SHORT_10X, SHORT_50X]),
        by_exchange={"binance": (LONG_10X, SHORT_10X), "bybit": (LONG_50X, SHORT_50X)},
        model="oi-delta",
        profile="prior",
    )


def test_to_dict_of_a_three_bin_map():
    expected = {
        "symbol": "BTC/USDT:USDT",
        "as_of_ms": 1_000,
        "price": 100.0,
        "model": "oi-delta",
        "profile": "prior",
        "bin_usd": 1.0,
        "price_bins": [99.0, 100.0, 101.0],
        "long_usd": [1.23, 2.0, 0.0],
        "short_usd": [0.0, 3.0, 4.57],
        "long_cumulative_usd": [1.23, 0.0, 0.0],  # falls to 99: the 1.234 below price; nothing at/above it
        "short_cumulative_usd": [0.0, 0.0, 4.57],
        "total_long_usd": 3.234,
        "total_short_usd": 7.5678,
        "by_exchange": {
            "binance": {"long_usd": [1.23, 0.0, 0.0], "short_usd": [0.0, 3.0, 0.0]},
            "bybit": {"long_usd": [0.0, 2.0, 0.0], "short_usd": [0.0, 0.0, 4.57]},
        },
        "leverages": [10.0, 50.0],
        "long_by_leverage": [[1.23, 0.0, 0.0], [0.0, 2.0, 0.0]],
        "short_by_leverage": [[0.0, 3.0, 0.0], [0.0, 0.0, 4.57]],
        "caveat": CAVEAT,
    }
    lm = three_bins()
    assert lm.to_dict(layers=True) == expected
    assert json.loads(json.dumps(expected)) == expected
    plain = lm.to_dict()  # layers only on request; one exchange is no breakdown
    assert plain["leverages"] == plain["long_by_leverage"] == plain["short_by_leverage"] == []
    one = LiqMap("X", 0, 100.0, BINS, lm.long_usd, lm.short_usd, by_exchange={"binance": (lm.long_usd, lm.short_usd)})
    assert one.to_dict()["by_exchange"] == {}


def test_heatmap_frame_layers_add_up_to_the_totals():
    lm = three_bins()
    hm = Heatmap(
        symbol=lm.symbol,
        times_ms=np.array([0, 1_000]),
        price_bins=BINS,
        long_usd=np.vstack([lm.long_usd / 2, lm.long_usd]),
        short_usd=np.vstack([lm.short_usd / 2, lm.short_usd]),
        close=np.array([99.5, 100.0]),
        leverages=lm.leverages,
        long_by_leverage=np.stack([lm.long_by_leverage / 2, lm.long_by_leverage]),
        short_by_leverage=np.stack([lm.short_by_leverage / 2, lm.short_by_leverage]),
        by_exchange={k: (np.vstack([a / 2, a]), np.vstack([b / 2, b])) for k, (a, b) in lm.by_exchange.items()},
    )
    frame = hm.to_frame(layers=True)
    assert list(frame.columns) == [
        "timestamp", "price", "long_usd", "short_usd", "close", "long_10x", "short_10x", "long_50x", "short_50x",
        "binance_long_usd", "binance_short_usd", "bybit_long_usd", "bybit_short_usd",
    ]  # fmt: skip
    assert list(hm.to_frame().columns) == ["timestamp", "price", "long_usd", "short_usd", "close"]
    assert frame["timestamp"].tolist() == [0, 0, 0, 1_000, 1_000, 1_000]
    assert frame["long_10x"].tolist() == [0.617, 0.0, 0.0, 1.234, 0.0, 0.0]
    for side, total in (("long", 1.5 * 3.234), ("short", 1.5 * 7.5678)):
        assert frame[f"{side}_usd"].sum() == pytest.approx(total, rel=1e-12)
        assert frame[[f"{side}_10x", f"{side}_50x"]].sum().sum() == pytest.approx(total, rel=1e-12)
        assert frame[[f"binance_{side}_usd", f"bybit_{side}_usd"]].sum().sum() == pytest.approx(total, rel=1e-12)
    last = frame[frame["timestamp"] == 1_000].drop(columns=["timestamp", "close"]).reset_index(drop=True)
    assert last.to_dict("list") == lm.to_frame().drop(columns=["long_cumulative_usd", "short_cumulative_usd"]).to_dict(
        "list"
    )  # the same columns and values as the map at that snapshot


def test_heatmap_bins_within_the_close_range():
    bins = np.arange(80.0, 121.0, 1.0)  # 80 … 120
    zeros = np.zeros((2, len(bins)))
    hm = Heatmap(symbol="X", times_ms=np.array([0, 1]), price_bins=bins, long_usd=zeros, short_usd=zeros,
                 close=np.array([95.0, 105.0]))  # fmt: skip
    assert bins[hm.bins_within(10)].tolist() == np.arange(86.0, 116.0).tolist()  # 95 × 0.9 = 85.5 … 105 × 1.1 = 115.5
    assert bins[hm.bins_within(5.0)][[0, -1]].tolist() == [91.0, 110.0]  # 90.25 … 110.25
    assert hm.bins_within(100) == slice(0, len(bins))
    far = Heatmap(symbol="X", times_ms=np.array([0]), price_bins=bins, long_usd=zeros[:1], short_usd=zeros[:1],
                  close=np.array([500.0]))  # fmt: skip
    assert far.bins_within(1) == slice(None)  # fewer than two bins inside: every bin
