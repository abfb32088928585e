"""OKX v5 USDT swaps (ccxt ``okx``): candles, rubik OI and long/short statistics, funding, liquidations.

OKX windows use exclusive ``before``/``after`` bounds on candles and funding, inclusive ``begin``/``end``
on rubik statistics; sizes in contracts are converted with the instrument's ``ctVal``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

import pandas as pd

from liqmap.data.connectors.base import Connector, ConnectorError, Endpoint, Parser, frame, renamed
from liqmap.timeframes import MS_PER_HOUR

_CANDLES = {
    "1m": "1m",
    "3m": "3m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
    "1h": "1H",
    "2h": "2H",
    "4h": "4H",
    "6h": "6Hutc",
    "12h": "12Hutc",
    "1d": "1Dutc",
    "1w": "1Wutc",
}
_RUBIK = {"5m": "5m", "1h": "1H", "1d": "1D"}


def parse_candles(raw: Any) -> pd.DataFrame:
    """``GET /api/v5/market/history-candles`` → bars columns (only confirmed candles).

    Raw: ``{"code": "0", "msg": "", "data": [["1764932400000", "92166.1", "92217.3", "91900.1", "91949.9",
    "226139.6", "2261.396", "208222379.96", "1"], ...]}`` (ts, OHLC, volume in contracts, volume in
    base coin, volume in quote, confirm).
    """
    k = frame(
        raw["data"], ["timestamp", "open", "high", "low", "close", "contracts", "volume", "quote_volume", "confirm"]
    )
    if k.empty:
        return k
    k = k[k["confirm"] == 1]
    return k[["timestamp", "open", "high", "low", "close", "volume", "quote_volume"]]


def parse_open_interest(raw: Any) -> pd.DataFrame:
    """``GET /api/v5/rubik/stat/contracts/open-interest-history`` → OI snapshots.

    Raw: ``{"code": "0", "msg": "", "data": [["1765256400000", "2161234.12", "21612.3412",
    "1990212345.5"], ...]}`` (ts, OI in contracts, OI in base coin, OI in USD).
    """
    f = frame(raw["data"], ["timestamp", "contracts", "open_interest", "open_interest_usd"])
    return f.drop(columns=["contracts"]) if not f.empty else f


def parse_funding(raw: Any) -> pd.DataFrame:
    """``GET /api/v5/public/funding-rate-history`` → funding events (realized rate when given).

    Raw: ``{"code": "0", "msg": "", "data": [{"fundingRate": "0.0000746", "fundingTime": "1764921600000",
    "instId": "BTC-USDT-SWAP", "instType": "SWAP", "method": "current_period", "realizedRate":
    "0.0000746"}, ...]}``.
    """
    rows = [{"fundingTime": r["fundingTime"], "rate": r.get("realizedRate") or r["fundingRate"]} for r in raw["data"]]
    return renamed(rows, {"timestamp": "fundingTime", "funding_rate": "rate"})


def parse_long_short(raw: Any) -> pd.DataFrame:
    """``GET /api/v5/rubik/stat/contracts/long-short-account-ratio-contract`` → accounts long / short.

    Raw: ``{"code": "0", "msg": "", "data": [["1765256400000", "1.32"], ...]}``.
    """
    return frame(raw["data"], ["timestamp", "long_short_ratio"])


def parse_taker(raw: Any) -> pd.DataFrame:
    """``GET /api/v5/rubik/stat/taker-volume-contract`` (``unit=0``: base coin) → taker-buy volume.

    Raw: ``{"code": "0", "msg": "", "data": [["1765252800000", "3122.51", "3187.03"], ...]}``
    (period open, taker sell volume, taker buy volume).
    """
    f = frame(raw["data"], ["timestamp", "sell", "taker_buy_volume"])
    return f.drop(columns=["sell"]) if not f.empty else f


def parse_liquidations(raw: Any, contract_value: float) -> pd.DataFrame:
    """``GET /api/v5/public/liquidation-orders`` → liquidations (position side, base quantity).

    Raw: ``{"code": "0", "msg": "", "data": [{"details": [{"bkLoss": "0", "bkPx": "72431.4", "ccy": "",
    "posSide": "net", "side": "sell", "sz": "0.21", "ts": "1772664343781"}], "instFamily": "BTC-USDT",
    "instId": "BTC-USDT-SWAP", "instType": "SWAP", "totalLoss": "0", "uly": "BTC-USDT"}]}``. ``posSide``
    is the position side in long/short mode; in net mode a ``buy`` order closes a short.
    """
    rows = []
    for block in raw["data"]:
        for d in block["details"]:
            pos = d.get("posSide", "net")
            side = pos if pos in ("long", "short") else ("short" if d["side"] == "buy" else "long")
            price = float(d["bkPx"])
            quantity = float(d["sz"]) * contract_value
            rows.append(
                {
                    "timestamp": int(d["ts"]),
                    "side": side,
                    "price": price,
                    "quantity": quantity,
                    "notional_usd": quantity * price,
                }
            )
    return pd.DataFrame(rows, columns=["timestamp", "side", "price", "quantity", "notional_usd"])


def _paged(method: str, parse: Parser, **kwargs: Any) -> Endpoint:
    """An OKX endpoint of 100 records a page with exclusive ``before``/``after`` bounds."""
    return Endpoint(method, parse, 100, start=("before", -1), end=("after", 1), symbol_param="instId", **kwargs)


def _rubik(method: str, parse: Parser, **kwargs: Any) -> Endpoint:
    """A rubik statistics endpoint: 100 records a page, inclusive ``begin``/``end``, ``period`` timeframe."""
    return Endpoint(
        method,
        parse,
        100,
        start=("begin", 0),
        end=("end", 0),
        symbol_param="instId",
        timeframe_param="period",
        timeframes=_RUBIK,
        **kwargs,
    )


class Okx(Connector):
    """OKX USDT-margined perpetual swaps."""

    exchange = "okx"
    ccxt_id = "okx"
    ccxt_options = MappingProxyType({"fetchMarkets": {"types": ["swap"]}})
    ohlcv = _paged("publicGetMarketHistoryCandles", parse_candles, timeframe_param="bar", timeframes=_CANDLES)
    open_interest = _rubik("publicGetRubikStatContractsOpenInterestHistory", parse_open_interest)
    funding = _paged("publicGetPublicFundingRateHistory", parse_funding, step_ms=8 * MS_PER_HOUR)
    long_short_ratio: ClassVar[Endpoint | None] = _rubik(
        "publicGetRubikStatContractsLongShortAccountRatioContract", parse_long_short
    )
    taker_volume: ClassVar[Endpoint | None] = _rubik(
        "publicGetRubikStatTakerVolumeContract", parse_taker, extra={"unit": "0"}
    )
    retry_codes: ClassVar[frozenset[str]] = frozenset({"50001", "50004", "50013", "50026"})  # busy/timeout
    unsupported = MappingProxyType(
        {
            "tiers": "OKX position tiers are sized in contracts, not USD notional; liqmap bundles converted tables",
        }
    )

    def liquidations(self, symbol: str, since_ms: int, until_ms: int) -> pd.DataFrame:
        """Filled liquidation orders (OKX keeps only recent ones), paging back from ``until_ms``."""
        market = self.market(symbol)
        ct_val = float(market.get("contractSize") or 1.0)
        params: dict[str, Any] = {
            "instType": "SWAP",
            "instFamily": market["id"].removesuffix("-SWAP"),
            "state": "filled",
            "limit": 100,
        }
        frames, after = [], until_ms + 1
        while after > since_ms:
            raw = self.call_path("public/liquidation-orders", {**params, "after": after})
            try:
                page = parse_liquidations(raw, ct_val)
            except (KeyError, TypeError, ValueError) as exc:
                raise ConnectorError(f"okx: malformed liquidation-orders payload: {exc}: {str(raw)[:120]!r}") from None
            if page.empty:
                break
            frames.append(page)
            oldest = int(page["timestamp"].min())
            # re-ask for the oldest millisecond too (events sharing it may straddle pages); dedupe below
            after = oldest + 1 if oldest + 1 < after else oldest
        out = pd.concat(frames, ignore_index=True) if frames else parse_liquidations({"data": []}, ct_val)
        return out[(out["timestamp"] >= since_ms) & (out["timestamp"] <= until_ms)].drop_duplicates()

    def call_path(self, path: str, params: dict[str, Any]) -> Any:
        """A public REST path not in ccxt's implicit API, through the same retry/backoff policy."""
        return self.retry(lambda: self.client.request(path, ["public"], "GET", params), path)
