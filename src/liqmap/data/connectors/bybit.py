"""Bybit v5 linear perpetuals (ccxt ``bybit``): klines with turnover, OI, funding, account ratio, tiers.

Bybit returns newest-first lists inside ``result.list``; each window is sized to fit in one page.
Public liquidations exist only on the ``allLiquidation`` websocket topic.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

import pandas as pd

from liqmap.data.connectors.base import Connector, Endpoint, frame, renamed
from liqmap.timeframes import MS_PER_HOUR

_LINEAR = {"category": "linear"}
_KLINES = {
    "1m": "1",
    "3m": "3",
    "5m": "5",
    "15m": "15",
    "30m": "30",
    "1h": "60",
    "2h": "120",
    "4h": "240",
    "6h": "360",
    "12h": "720",
    "1d": "D",
    "1w": "W",
}
_PERIODS = {"5m": "5min", "15m": "15min", "30m": "30min", "1h": "1h", "4h": "4h", "1d": "1d"}


def _rows(raw: Any) -> Any:
    return raw["result"]["list"]


def parse_klines(raw: Any) -> pd.DataFrame:
    """``GET /v5/market/kline`` → bars columns (turnover is the quote volume).

    Raw: ``{"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "symbol": "BTCUSDT", "list":
    [["1764896400000", "92104.8", "92455.4", "91750.6", "92227.5", "12306.339", "1133183515.82"], ...]},
    "retExtInfo": {}, "time": 1764900000000}`` (start, open, high, low, close, volume, turnover).
    """
    k = frame(_rows(raw), ["timestamp", "open", "high", "low", "close", "volume", "quote_volume"])
    return k


def parse_open_interest(raw: Any) -> pd.DataFrame:
    """``GET /v5/market/open-interest`` → OI snapshots in base coin.

    Raw: ``{"retCode": 0, "result": {"symbol": "BTCUSDT", "category": "linear", "list": [{"openInterest":
    "50874.27400000", "timestamp": "1765256400000"}, ...], "nextPageCursor": "..."}}``.
    """
    return renamed(_rows(raw), {"timestamp": "timestamp", "open_interest": "openInterest"})


def parse_funding(raw: Any) -> pd.DataFrame:
    """``GET /v5/market/funding/history`` → funding events.

    Raw: ``{"retCode": 0, "result": {"category": "linear", "list": [{"symbol": "BTCUSDT", "fundingRate":
    "0.0001", "fundingRateTimestamp": "1764921600000"}, ...]}}``.
    """
    return renamed(_rows(raw), {"timestamp": "fundingRateTimestamp", "funding_rate": "fundingRate"})


def parse_long_short(raw: Any) -> pd.DataFrame:
    """``GET /v5/market/account-ratio`` → buy-side accounts / sell-side accounts.

    Raw: ``{"retCode": 0, "result": {"list": [{"symbol": "BTCUSDT", "buyRatio": "0.5777", "sellRatio":
    "0.4223", "timestamp": "1765256400000"}, ...], "nextPageCursor": ""}}``.
    """
    f = frame(_rows(raw))
    if f.empty:
        return f
    return pd.DataFrame({"timestamp": f["timestamp"], "long_short_ratio": f["buyRatio"] / f["sellRatio"]})


class Bybit(Connector):
    """Bybit USDT linear perpetuals."""

    exchange = "bybit"
    ccxt_id = "bybit"
    ccxt_options = MappingProxyType({"fetchMarkets": {"types": ["linear"]}})
    ohlcv = Endpoint(
        "publicGetV5MarketKline",
        parse_klines,
        1000,
        start=("start", 0),
        end=("end", 0),
        timeframe_param="interval",
        timeframes=_KLINES,
        extra=_LINEAR,
    )
    open_interest = Endpoint(
        "publicGetV5MarketOpenInterest",
        parse_open_interest,
        200,
        timeframe_param="intervalTime",
        timeframes=_PERIODS,
        extra=_LINEAR,
    )
    funding = Endpoint("publicGetV5MarketFundingHistory", parse_funding, 200, step_ms=8 * MS_PER_HOUR, extra=_LINEAR)
    long_short_ratio: ClassVar[Endpoint | None] = Endpoint(
        "publicGetV5MarketAccountRatio",
        parse_long_short,
        500,
        timeframe_param="period",
        timeframes=_PERIODS,
        extra=_LINEAR,
    )
    retry_codes: ClassVar[frozenset[str]] = frozenset({"10000", "10006", "10016"})  # timeout, rate, server error
    unsupported = MappingProxyType(
        {
            "liquidations": "Bybit publishes liquidations only on the allLiquidation websocket topic, not over REST",
        }
    )
