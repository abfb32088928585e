"""Malformed-input suite: every case must raise DataValidationError with the expected message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from datafactories import make_bars, make_tiers

from liqmap.data.validate import validate, validate_fields
from liqmap.errors import DataValidationError


def _liqs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exchange": "okx",
            "symbol": "BTC-USDT-SWAP",
            "timestamp": [1772664343781, 1772664345620],
            "side": ["long", "short"],
            "price": [72431.4, 72388.2],
            "quantity": [0.0021, 0.6483],
            "notional_usd": [152.10594, 46929.27006],
        }
    )


def _depth() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "timestamp": 1667346579146,
            "side": ["bid", "bid", "ask"],
            "price": [20377.0, 20376.9, 20377.1],
            "size": [1.77, 0.001, 2.0],
        }
    )


def _texts() -> pd.DataFrame:
    return make_tiers().assign(valid_from="2026-09", source="Binance leverageBracket")


def _set(df: pd.DataFrame, row: int, col: str, value: object) -> pd.DataFrame:
    out = df.copy()
    if not isinstance(value, float) or out[col].dtype.kind not in "f":
        out[col] = out[col].astype(object)
    out.loc[row, col] = value
    return out


BARS = make_bars(6)
CASES = [
    # (id, kind, frame, expected message fragment)
    ("missing-close", "bars", BARS.drop(columns=["close"]), "missing column(s) close"),
    ("missing-two", "bars", BARS.drop(columns=["open", "volume"]), "missing column(s) open, volume"),
    ("nan-close", "bars", _set(BARS, 2, "close", np.nan), "column 'close' is NaN/empty at row 3"),
    ("nan-volume", "bars", _set(BARS, 0, "volume", np.nan), "column 'volume' is NaN/empty at row 1"),
    ("inf-high", "bars", _set(BARS, 4, "high", np.inf), "column 'high' is infinite at row 5"),
    ("text-price", "bars", _set(BARS, 1, "open", "abc"), "column 'open' is not a number at row 2"),
    ("negative-price", "bars", _set(_set(BARS, 3, "low", -1.0), 3, "open", -1.0), "column 'open' must be > 0 at row 4"),
    ("zero-close", "bars", _set(_set(BARS, 0, "close", 0.0), 0, "low", 0.0), "column 'low' must be > 0 at row 1"),
    ("negative-volume", "bars", _set(BARS, 5, "volume", -2.0), "column 'volume' is negative at row 6"),
    ("negative-oi", "bars", _set(BARS, 2, "open_interest", -5.0), "column 'open_interest' is negative at row 3"),
    ("negative-quote-volume", "bars", _set(BARS, 1, "quote_volume", -1.0), "column 'quote_volume' is negative"),
    ("high-below-low", "bars", _set(BARS, 2, "high", 89_000.0), "high < low at row 3"),
    ("high-below-close", "bars", _set(BARS, 1, "high", 90_005.0), "high is below open or close at row 2"),
    ("low-above-open", "bars", _set(BARS, 1, "low", 90_006.0), "low is above open or close at row 2"),
    ("taker-over-volume", "bars", _set(BARS, 0, "taker_buy_volume", 5.0), "taker_buy_volume exceeds volume at row 1"),
    (
        "duplicate-ts",
        "bars",
        pd.concat([BARS, BARS.iloc[[2]]], ignore_index=True),
        "duplicate rows for key (exchange, symbol, timestamp) at rows 3, 7",
    ),
    ("unsorted", "bars", BARS.iloc[[0, 2, 1, 3, 4, 5]], "timestamps are not sorted ascending"),
    (
        "mixed-resolution",
        "bars",
        _set(BARS, 5, "timestamp", int(BARS["timestamp"].iloc[4]) + 30_000),
        "mixed resolutions in binance BTC/USDT:USDT: bars are 1m apart but also 30s at row 6",
    ),
    ("unknown-exchange", "bars", _set(BARS, 0, "exchange", "kraken"), "unknown exchange 'kraken' (known: binance"),
    ("empty-exchange", "bars", _set(BARS, 2, "exchange", None), "empty exchange (known: binance"),
    ("bad-symbol", "bars", _set(BARS, 1, "symbol", "BTC/EUR"), "unreadable symbol 'BTC/EUR' (use e.g. BTCUSDT"),
    ("empty-symbol", "bars", _set(BARS, 1, "symbol", None), "column 'symbol' is empty at row 2"),
    (
        "text-timestamp",
        "bars",
        _set(BARS, 3, "timestamp", "yesterday"),
        "column 'timestamp' mixes numbers and text at row 4",
    ),
    (
        "unreadable-time",
        "bars",
        BARS.assign(timestamp=["2026-01-01"] * 5 + ["noon"]),
        "column 'timestamp' cannot be read as a time (use epoch ms or ISO 8601) at row 6",
    ),
    (
        "ancient-timestamp",
        "bars",
        BARS.assign(timestamp=BARS["timestamp"] // 1000 // 1000),
        "outside 2009-01-01 … now + 1 day",
    ),
    ("sub-ms-timestamp", "bars", BARS.assign(timestamp=BARS["timestamp"] + 0.5), "sub-millisecond digits"),
    ("no-rows", "bars", BARS.iloc[:0], "the table has no rows"),
    ("unknown-kind", "candles", BARS, "unknown table kind 'candles'"),
    (
        "liq-order-side",
        "liquidations",
        _set(_liqs(), 0, "side", "buy"),
        "side must be the liquidated POSITION, 'long' or 'short' ('buy'/'sell' are order sides",
    ),
    ("liq-zero-qty", "liquidations", _set(_liqs(), 1, "quantity", 0.0), "column 'quantity' must be > 0 at row 2"),
    ("liq-missing-notional", "liquidations", _liqs().drop(columns=["notional_usd"]), "missing column(s) notional_usd"),
    ("liq-duplicate", "liquidations", pd.concat([_liqs(), _liqs()], ignore_index=True), "duplicate rows for key"),
    ("depth-bad-side", "depth", _set(_depth(), 0, "side", "mid"), "unknown side 'mid'; side must be 'bid' or 'ask'"),
    ("depth-negative-size", "depth", _set(_depth(), 1, "size", -1.0), "column 'size' is negative at row 2"),
    ("depth-crossed", "depth", _set(_depth(), 2, "price", 20377.0), "crossed book"),
    (
        "tiers-cap-below-floor",
        "tiers",
        _set(make_tiers(), 1, "notional_cap", 200_000.0),
        "notional_cap must exceed notional_floor at row 2",
    ),
    ("tiers-mmr-percent", "tiers", _set(make_tiers(), 0, "maintenance_margin_rate", 1.5), "must be a fraction < 1"),
    (
        "tiers-leverage",
        "tiers",
        _set(make_tiers(), 1, "max_leverage", 0.5),
        "max_leverage must lie in 1 … 1000 at row 2",
    ),
    ("not-a-frame", "bars", [[1, 2, 3]], "expected a pandas DataFrame, got list"),
    # plausibility bounds
    ("tiny-price", "bars", _set(BARS, 0, "low", 1e-198), "column 'low' is implausible (outside the plausible price"),
    ("huge-price", "bars", _set(BARS, 0, "high", 1e302), "column 'high' is implausible (outside the plausible price"),
    ("huge-volume", "bars", _set(BARS, 4, "volume", 1e20), "column 'volume' is implausible (outside 1e+15) at row 5"),
    ("liq-price", "liquidations", _set(_liqs(), 1, "price", 2e9), "column 'price' is implausible"),
    ("long-symbol", "bars", _set(BARS, 0, "symbol", "B" * 20_000_000), "at most 64 characters) at row 1"),
    ("future-bar", "bars", _set(BARS, 0, "timestamp", 4_070_908_800_000), "outside 2009-01-01 … now + 1 day"),
    ("tiers-absurd-leverage", "tiers", _set(make_tiers(), 0, "max_leverage", 1e9), "must lie in 1 … 1000 at row 1"),
    ("tiers-formula", "tiers", _set(_texts(), 0, "source", "=cmd|' /C calc'!A0"), "spreadsheet formula"),
    ("tiers-formula-at", "tiers", _set(_texts(), 1, "valid_from", " @SUM(1)"), "formula character (= + - @)"),
    ("tiers-long-text", "tiers", _set(_texts(), 0, "source", "x" * 2000), "longer than 1024 characters"),
]


@pytest.mark.parametrize(("kind", "frame", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_input_names_the_problem(kind, frame, message):
    with pytest.raises(DataValidationError) as info:
        validate(kind, frame)
    assert message in str(info.value)


def test_valid_bars_are_normalised():
    raw = make_bars(3).assign(exchange="BINANCE", symbol="btcusdt")
    raw["timestamp"] = pd.to_datetime(raw["timestamp"], unit="ms")  # naive datetimes are UTC
    out = validate("bars", raw.drop(columns=["mark_price"]))
    assert out["exchange"].tolist() == ["binance"] * 3
    assert out["symbol"].tolist() == ["BTC/USDT:USDT"] * 3
    assert out["timestamp"].tolist() == [1_767_225_600_000, 1_767_225_660_000, 1_767_225_720_000]
    assert out["mark_price"].isna().all()
    assert list(out.columns)[:4] == ["exchange", "symbol", "timestamp", "open"]


@pytest.mark.parametrize(("scale", "unit"), [(1e-3, "s"), (1.0, "ms"), (1e3, "us"), (1e6, "ns")])
def test_epoch_units_are_inferred(scale, unit):
    bars = make_bars(3)
    bars["timestamp"] = (bars["timestamp"] * scale).astype("int64")
    assert validate("bars", bars)["timestamp"].iloc[1] == 1_767_225_660_000, unit


def test_iso_text_timestamps():
    bars = make_bars(2).assign(timestamp=["2026-01-01T00:00:00Z", "2026-01-01 00:01"])
    assert validate("bars", bars)["timestamp"].tolist() == [1_767_225_600_000, 1_767_225_660_000]


def test_events_are_sorted_not_rejected():
    liqs = _liqs().iloc[::-1]
    assert validate("liquidations", liqs)["timestamp"].tolist() == [1772664343781, 1772664345620]


def test_gaps_are_allowed_in_bars():
    bars = make_bars(6).drop(index=[2, 3])
    out = validate("bars", bars)
    assert out["timestamp"].tolist() == bars["timestamp"].tolist()  # the gap stays, nothing is filled in
    assert out["close"].tolist() == bars["close"].tolist()


def test_bar_fields_checks():
    fields = pd.DataFrame(
        {"exchange": "binance", "symbol": "BTCUSDT", "timestamp": [1, 2], "open_interest_usd": [1.0, -1.0]}
    )
    with pytest.raises(DataValidationError, match="outside 2009"):
        validate_fields(fields)
    fields["timestamp"] = [1_767_225_600_000, 1_767_225_660_000]
    with pytest.raises(DataValidationError, match="'open_interest_usd' is out of range at row 2"):
        validate_fields(fields)
    with pytest.raises(DataValidationError, match="need exchange, symbol, timestamp and one of"):
        validate_fields(fields.drop(columns=["open_interest_usd"]))
