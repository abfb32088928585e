"""Other ccxt derivatives venues through ccxt's *unified* methods (``fetch_ohlcv``, ``fetch_funding_rate_history``).

Where the dedicated adapters declare a venue's raw endpoints, :class:`Unified` declares the unified methods
and reads ccxt's unified structures. A dataset is offered only where the venue's ``client.has`` says ccxt
implements it; windows are requested as ``since`` + ``limit`` with the window end as ccxt's unified
``until`` parameter, through the same pagination, retries and resume logic as the dedicated adapters.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from liqmap.data.connectors.base import Connector, ConnectorError, Endpoint, frame
from liqmap.data.layouts import CCXT_OHLCV_COLUMNS
from liqmap.timeframes import MS_PER_HOUR, parse_duration_ms

DEFAULT_PAGE_LIMIT = 100
OI_PERIODS = ("5m", "15m", "30m", "1h", "4h", "1d")
OHLCV_IN_CONTRACTS = frozenset({"gate", "kucoinfutures", "mexc"})
"""Venues whose ccxt ``fetch_ohlcv`` volume counts contracts on swaps (gate's ``v``, KuCoin futures' lots, MEXC's
``vol``): multiplied by the market's ``contractSize``. The others return base units (okx ``volCcy``, bybit and
bitget linear ``volume``, htx ``amount``, binance, bingx, hyperliquid)."""
"""Open-interest periods requested (the ones Binance and Bybit share); a venue's finest one not above the bars."""

_METHODS = {
    "ohlcv": ("fetchOHLCV",),
    "oi": ("fetchOpenInterestHistory",),
    "funding": ("fetchFundingRateHistory",),
    "depth": ("fetchOrderBook",),
    "tiers": ("fetchMarketLeverageTiers", "fetchLeverageTiers"),  # ccxt derives the first from the second
}
_NO_UNIFIED = {
    "ratio": "ccxt has no unified long/short-ratio history method",
    "taker": "ccxt has no unified taker-volume history method",
    "liquidations": "ccxt's unified fetchLiquidations history is not wired into the generic connector",
}


def parse_ohlcv(raw: Any) -> pd.DataFrame:
    """``fetch_ohlcv`` → bars columns (ccxt gives no quote or taker volume).

    Raw: ``[[1764892800000, 92034.7, 92665.5, 91917.7, 92104.9, 10956.852], ...]`` (open time, OHLC,
    volume in base units: :meth:`Unified.fetch_page` has converted contract counts).
    """
    return frame(raw, list(CCXT_OHLCV_COLUMNS))


def parse_funding(raw: Any) -> pd.DataFrame:
    """``fetch_funding_rate_history`` → funding events.

    Raw: ``[{"info": {...}, "symbol": "BTC/USDT:USDT", "fundingRate": 0.0001, "timestamp": 1764921600000,
    "datetime": "2025-12-05T08:00:00.000Z"}, ...]``.
    """
    return frame([{"timestamp": r["timestamp"], "funding_rate": r["fundingRate"]} for r in raw])


class Unified(Connector):
    """A perpetual-swap venue read through ccxt's unified methods, gated by ``client.has``.

    ``ccxt_id`` is both the ccxt class and the stored exchange name; ``options`` go to the ccxt client
    (e.g. ``{"fetchMarkets": {"types": ["linear"]}}`` to load fewer markets); other keyword arguments
    as for :class:`Connector`.
    """

    def __init__(self, ccxt_id: str, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.exchange = ccxt_id
        self.ccxt_id = ccxt_id
        self.ccxt_options = {"defaultType": "swap", **(options or {})}
        super().__init__(**kwargs)
        has = self.client.has
        self.unsupported = {
            **{
                ds: f"ccxt's {ccxt_id} has no {' or '.join(methods)}"
                for ds, methods in _METHODS.items()
                if not any(has.get(m) for m in methods)
            },
            **_NO_UNIFIED,
        }
        bar_periods = {tf: tf for tf in self.client.timeframes if _readable(tf)}
        self.ohlcv = Endpoint(
            "fetch_ohlcv", parse_ohlcv, _page_limit(self.client), timeframe_param="timeframe", timeframes=bar_periods
        )
        oi_periods = {tf: tf for tf in OI_PERIODS if tf in bar_periods} or {"1h": "1h"}
        self.open_interest = (
            None
            if "oi" in self.unsupported
            else Endpoint(
                "fetch_open_interest_history",
                self.parse_open_interest,
                DEFAULT_PAGE_LIMIT,
                timeframe_param="timeframe",
                timeframes=oi_periods,
            )
        )
        # funding intervals differ (Hyperliquid 1 h, most 8 h): windows are sized for the finest, hourly
        self.funding = (
            None
            if "funding" in self.unsupported
            else Endpoint("fetch_funding_rate_history", parse_funding, DEFAULT_PAGE_LIMIT, step_ms=MS_PER_HOUR)
        )

    def fetch_page(self, ep: Endpoint, market: dict[str, Any], venue_tf: str | None, start_ms: int, end_ms: int) -> Any:
        """One window through the unified method: ``since=start_ms``, ``limit``, ``params={"until": end_ms}``.

        OHLCV volumes of :data:`OHLCV_IN_CONTRACTS` venues are converted to base units here.
        """
        args = (market["symbol"], venue_tf) if ep.timeframe_param is not None else (market["symbol"],)
        request = getattr(self.client, ep.method)
        raw = self.retry(lambda: request(*args, start_ms, ep.page_limit, {"until": end_ms}), ep.method)
        if ep is not self.ohlcv or self.ccxt_id not in OHLCV_IN_CONTRACTS or not isinstance(raw, list):
            return raw
        size = float(market.get("contractSize") or 1.0)
        return [[*r[:5], r[5] * size if r[5] is not None else None] for r in raw]

    def parse_open_interest(self, raw: Any) -> pd.DataFrame:
        """``fetch_open_interest_history`` → OI snapshots (contracts × contract size → base units).

        Raw: ``[{"symbol": "BTC/USDT:USDT", "openInterestAmount": 50874.274, "openInterestValue": None,
        "timestamp": 1765256400000, "datetime": "2025-12-09T05:00:00.000Z", "info": {...}}, ...]``;
        ``openInterestValue`` (quote) is taken as USD where the venue sends it.
        """
        rows = [
            {
                "timestamp": r["timestamp"],
                "open_interest": r["openInterestAmount"]
                * float(self.client.market(r["symbol"]).get("contractSize") or 1.0)
                if r["openInterestAmount"] is not None
                else None,
                "open_interest_usd": r.get("openInterestValue"),
            }
            for r in raw
        ]
        out = frame(rows)
        return out if out.empty else out.dropna(axis=1, how="all")  # a venue sends amount, value or both

    def order_book(self, symbol: str, levels: int = 100) -> pd.DataFrame:
        """One order-book snapshot (where ``client.has["fetchOrderBook"]``)."""
        reason = self.supports("depth")
        if reason:
            raise ConnectorError(f"{self.exchange}: {reason}")
        return super().order_book(symbol, levels)


def _readable(timeframe: str) -> bool:
    try:
        parse_duration_ms(timeframe, noun="timeframe", error=ConnectorError)
    except ConnectorError:
        return False
    return True


def _page_limit(client: Any) -> int:
    """The venue's largest ``fetch_ohlcv`` page for swaps per ccxt's ``features``, else :data:`DEFAULT_PAGE_LIMIT`."""
    swap = (client.features or {}).get("swap") or {}
    for sub in ("linear", "inverse"):
        limit = ((swap.get(sub) or {}).get("fetchOHLCV") or {}).get("limit")
        if limit:
            return int(limit)
    return DEFAULT_PAGE_LIMIT
