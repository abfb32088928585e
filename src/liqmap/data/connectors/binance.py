"""Binance USDⓈ-M futures (ccxt ``binanceusdm``): klines with taker-buy volume, OI, funding, L/S ratio.

OI and long/short history (``/futures/data/*``) cover only the latest 30 days; leverage brackets need a
signed request and public liquidations exist only on the ``forceOrder`` websocket stream.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

import pandas as pd

from liqmap.data.connectors.base import Connector, Endpoint, frame, renamed
from liqmap.data.layouts import BINANCE_KLINE_COLUMNS
from liqmap.timeframes import MS_PER_HOUR

_PERIODS = {p: p for p in ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")}
_KLINES = {p: p for p in ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "1w")}


def parse_klines(raw: Any) -> pd.DataFrame:
    """``GET /fapi/v1/klines`` → bars columns.

    Raw: ``[[1764892800000, "92034.70", "92665.50", "91917.70", "92104.90", "10956.852", 1764896399999,
    "1009182742.37", 291843, "5210.441", "479928172.07", "0"], ...]`` (open time, OHLC, base volume,
    close time, quote volume, trades, taker-buy base volume, taker-buy quote volume, ignore).
    """
    k = frame(raw, list(BINANCE_KLINE_COLUMNS))
    if k.empty:
        return k
    return k.rename(columns={"open_time": "timestamp"})[
        ["timestamp", "open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume"]
    ]


def parse_open_interest(raw: Any) -> pd.DataFrame:
    """``GET /futures/data/openInterestHist`` → OI snapshots.

    Raw: ``[{"symbol": "BTCUSDT", "sumOpenInterest": "74156.845", "sumOpenInterestValue": "6664876113.23",
    "CMCCirculatingSupply": "19960000", "timestamp": 1765256400000}, ...]``.
    """
    return renamed(
        raw,
        {"timestamp": "timestamp", "open_interest": "sumOpenInterest", "open_interest_usd": "sumOpenInterestValue"},
    )


def parse_funding(raw: Any) -> pd.DataFrame:
    """``GET /fapi/v1/fundingRate`` → funding events.

    Raw: ``[{"symbol": "BTCUSDT", "fundingTime": 1764921600004, "fundingRate": "0.00004848",
    "markPrice": "91307.90000000"}, ...]``.
    """
    return renamed(raw, {"timestamp": "fundingTime", "funding_rate": "fundingRate"})


def parse_long_short(raw: Any) -> pd.DataFrame:
    """``GET /futures/data/globalLongShortAccountRatio`` → accounts long / accounts short.

    Raw: ``[{"symbol": "BTCUSDT", "longShortRatio": "1.8812", "longAccount": "0.6529",
    "shortAccount": "0.3471", "timestamp": 1765256400000}, ...]``.
    """
    return renamed(raw, {"timestamp": "timestamp", "long_short_ratio": "longShortRatio"})


def parse_taker(raw: Any) -> pd.DataFrame:
    """``GET /futures/data/takerlongshortRatio`` → taker-buy volume per period (base units).

    Raw: ``[{"buySellRatio": "1.0418", "buyVol": "5210.4410", "sellVol": "5001.3110",
    "timestamp": 1765252800000}, ...]``; the timestamp is taken as the period's open.
    """
    return renamed(raw, {"timestamp": "timestamp", "taker_buy_volume": "buyVol"})


class BinanceUsdm(Connector):
    """Binance USDⓈ-M perpetuals."""

    exchange = "binance"
    ccxt_id = "binanceusdm"
    ohlcv = Endpoint("fapiPublicGetKlines", parse_klines, 1500, timeframe_param="interval", timeframes=_KLINES)
    open_interest = Endpoint(
        "fapiDataGetOpenInterestHist", parse_open_interest, 500, timeframe_param="period", timeframes=_PERIODS
    )
    funding = Endpoint("fapiPublicGetFundingRate", parse_funding, 1000, step_ms=8 * MS_PER_HOUR)
    long_short_ratio: ClassVar[Endpoint | None] = Endpoint(
        "fapiDataGetGlobalLongShortAccountRatio", parse_long_short, 500, timeframe_param="period", timeframes=_PERIODS
    )
    retry_codes: ClassVar[frozenset[str]] = frozenset({"-1001", "-1003", "-1007"})  # internal, rate, timeout
    taker_volume: ClassVar[Endpoint | None] = Endpoint(
        "fapiDataGetTakerlongshortRatio", parse_taker, 500, timeframe_param="period", timeframes=_PERIODS
    )
    unsupported = MappingProxyType(
        {
            "tiers": "Binance leverage brackets need a signed (API-key) request; liqmap bundles them (liqmap tiers)",
            "liquidations": "Binance publishes liquidations only on the forceOrder websocket stream, not over REST",
        }
    )
