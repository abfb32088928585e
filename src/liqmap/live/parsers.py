"""Edge parsers: one venue's raw websocket frame → bars, liquidations, mark prices and trades.

Each parser takes the frame's text, returns a list of :class:`Bar` / :class:`Liquidation` / :class:`Mark` /
:class:`Trade` and never raises:
a frame that does not parse, a NaN or non-positive price, a negative or zero size, a symbol that was not
subscribed, is counted in :class:`Drops` (per venue and reason) and logged once per venue + reason, then
dropped. Control frames (subscription acks, pongs) are ignored silently. Sides are normalised to the
liquidated **position** here, once: a Binance ``forceOrder`` SELL order liquidates a LONG, Bybit's
``allLiquidation`` ``S`` already names the position (``Buy`` = a long was liquidated), OKX gives ``posSide``
(``long``/``short``; in net mode the order ``side``: ``sell`` = a long); a trade's ``taker_buy`` says the
taker bought. Quantities are base units (OKX's contract counts × the instrument's contract value,
``liqmap.data.contracts``).
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from liqmap.timeframes import MS_PER_MINUTE

log = logging.getLogger("liqmap.live")

_TS_MIN, _TS_MAX = 1_230_768_000_000, 4_102_444_800_000  # 2009-01-01 … 2100-01-01, epoch ms


@dataclass(frozen=True, slots=True)
class Bar:
    """One 1-minute bar as the venue pushed it; ``closed`` is the venue's own "final" flag."""

    exchange: str
    symbol: str
    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float | None
    taker_buy_volume: float | None
    closed: bool

    def row(self) -> dict[str, Any]:
        """Canonical BARS row (without open interest: the runner attaches its polled value)."""
        return {
            "exchange": self.exchange,
            "symbol": self.symbol,
            "timestamp": self.timestamp,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
            "quote_volume": self.quote_volume,
            "taker_buy_volume": self.taker_buy_volume,
        }


@dataclass(frozen=True, slots=True)
class Liquidation:
    """One realized liquidation; ``side`` is the liquidated position (``long``/``short``)."""

    exchange: str
    symbol: str
    timestamp: int
    side: str
    price: float
    quantity: float

    @property
    def notional_usd(self) -> float:
        return self.price * self.quantity

    def row(self) -> dict[str, Any]:
        """Canonical LIQUIDATIONS row."""
        return {
            "exchange": self.exchange,
            "symbol": self.symbol,
            "timestamp": self.timestamp,
            "side": self.side,
            "price": self.price,
            "quantity": self.quantity,
            "notional_usd": self.notional_usd,
        }


@dataclass(frozen=True, slots=True)
class Mark:
    """A mark-price update (the price liquidations trigger on)."""

    exchange: str
    symbol: str
    timestamp: int
    price: float


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade; ``taker_buy`` is True when the taker bought (lifted the offer)."""

    exchange: str
    symbol: str
    timestamp: int
    price: float
    quantity: float
    taker_buy: bool


Event = Bar | Liquidation | Mark | Trade


class BadFrameError(ValueError):
    """Raised inside a parser to drop a frame with a reason (never escapes :meth:`Parser.parse`)."""


class Drops:
    """Counts dropped frames per ``(venue, reason)``; logs the first of each at WARNING, the rest silently."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, venue: str, reason: str, frame: str | bytes = "") -> None:
        key = (venue, reason)
        self.counts[key] += 1
        if self.counts[key] == 1:
            text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
            log.warning("%s: dropped a frame (%s; further ones counted, not logged): %.200s", venue, reason, text)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _num(value: Any, name: str, *, positive: bool = True) -> float:
    """A finite float (> 0 with ``positive``, else ≥ 0) from a venue's string or number."""
    if isinstance(value, bool) or value is None:
        raise BadFrameError(f"missing {name}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise BadFrameError(f"non-numeric {name}") from None
    if not math.isfinite(x):
        raise BadFrameError(f"NaN/inf {name}")
    if x < 0:
        raise BadFrameError(f"negative {name}")
    if positive and x == 0:
        raise BadFrameError(f"zero {name}")
    return x


def _first_positive(*values: Any, name: str) -> float:
    """The first of ``values`` that is a finite positive number; the last one's error otherwise."""
    for v in values[:-1]:
        try:
            return _num(v, name)
        except BadFrameError:
            pass
    return _num(values[-1], name)


def _opt(value: Any, name: str) -> float | None:
    return None if value is None or value == "" else _num(value, name, positive=False)


def _ts(value: Any) -> int:
    try:
        t = int(value)
    except (TypeError, ValueError):
        raise BadFrameError("unreadable timestamp") from None
    if not _TS_MIN <= t <= _TS_MAX:
        raise BadFrameError("implausible timestamp")
    return t


def _bar(exchange: str, symbol: str, ts: Any, o: Any, h: Any, lo: Any, c: Any, v: Any, **kw: Any) -> Bar:
    bar = Bar(
        exchange,
        symbol,
        _ts(ts),
        _num(o, "open"),
        _num(h, "high"),
        _num(lo, "low"),
        _num(c, "close"),
        _num(v, "volume", positive=False),
        _opt(kw.get("quote_volume"), "quote volume"),
        _opt(kw.get("taker_buy_volume"), "taker-buy volume"),
        bool(kw.get("closed")),
    )
    if bar.high < bar.low or bar.high < max(bar.open, bar.close) or bar.low > min(bar.open, bar.close):
        raise BadFrameError("high/low inconsistent with open/close")
    if bar.timestamp % MS_PER_MINUTE:
        raise BadFrameError("bar open not on a minute")
    return bar


def _taker_buy(side: Any) -> bool:
    """A trade's taker side (``Buy``/``buy`` → True, ``Sell``/``sell`` → False)."""
    taker = {"buy": True, "sell": False}.get(str(side).lower())
    if taker is None:
        raise BadFrameError("unknown side")
    return taker


class Parser:
    """Base: ``symbols`` maps the venue's instrument id (as it appears in frames) to liqmap's symbol."""

    venue = ""

    def __init__(self, symbols: Mapping[str, str], drops: Drops | None = None) -> None:
        self.symbols = dict(symbols)
        self.drops = drops if drops is not None else Drops()
        self.ignored = 0  # frames for instruments not subscribed (OKX pushes every SWAP's liquidations)

    def parse(self, frame: str | bytes) -> list[Event]:
        """The frame's bars and liquidations; never raises (bad frames are counted and dropped)."""
        try:
            msg = json.loads(frame)
        except (ValueError, TypeError):
            if frame in ("pong", b"pong"):
                return []
            self.drops.add(self.venue, "unparsable", frame)
            return []
        try:
            return list(self._parse(msg))
        except BadFrameError as exc:
            self.drops.add(self.venue, str(exc), frame)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            self.drops.add(self.venue, "unexpected shape", frame)
        return []

    def _symbol(self, venue_id: Any) -> str:
        try:
            return self.symbols[str(venue_id)]
        except KeyError:
            raise BadFrameError("unknown symbol") from None

    def _parse(self, msg: Any) -> Iterable[Event]:  # pragma: no cover - abstract
        raise NotImplementedError


class BinanceParser(Parser):
    """Binance USDⓈ-M combined streams ``<symbol>@kline_1m``, ``<symbol>@forceOrder`` and ``<symbol>@markPrice@1s``.

    Source: Binance USDⓈ-M Futures docs, "Websocket Market Streams" → "Kline/Candlestick Streams" and
    "Liquidation Order Streams" (developers.binance.com/docs/derivatives/usds-margined-futures/
    websocket-market-streams). Combined streams wrap each payload as ``{"stream": ..., "data": ...}``.
    Kline example (``x`` = this kline is closed; ``v`` base volume, ``q`` quote volume, ``V`` taker-buy base)::

        {"e": "kline", "E": 1638747660000, "s": "BTCUSDT",
         "k": {"t": 1638747660000, "T": 1638747719999, "s": "BTCUSDT", "i": "1m", "f": 100, "L": 200,
               "o": "0.0010", "c": "0.0020", "h": "0.0025", "l": "0.0015", "v": "1000", "n": 100,
               "x": false, "q": "1.0000", "V": "500", "Q": "0.500", "B": "123456"}}

    forceOrder example (``S`` is the liquidation ORDER's side: SELL closes a long, so a long was
    liquidated; ``ap`` the average fill price, ``z`` the filled quantity in base units)::

        {"e": "forceOrder", "E": 1568014460893,
         "o": {"s": "BTCUSDT", "S": "SELL", "o": "LIMIT", "f": "IOC", "q": "0.014", "p": "9910",
               "ap": "9910", "X": "FILLED", "l": "0.014", "z": "0.014", "T": 1568014460893}}

    Binance pushes at most one liquidation per symbol per 1,000 ms (a snapshot), so this stream
    undercounts during cascades (../shared/docs/exchange-mechanics.md).

    Mark price example (same page, "Mark Price Stream", pushed every 1,000 ms; ``p`` mark, ``i`` index)::

        {"e": "markPriceUpdate", "E": 1562305380000, "s": "BTCUSDT", "p": "11794.15000000",
         "i": "11784.62659091", "P": "11784.25641265", "r": "0.00038167", "T": 1562306400000}

    No trade stream: the kline's ``V`` already is the minute's taker-buy volume.
    """

    venue = "binance"

    def _parse(self, msg: Any) -> Iterable[Event]:
        data = msg.get("data", msg) if isinstance(msg, dict) else msg
        if not isinstance(data, dict):
            raise BadFrameError("unexpected shape")
        if "result" in data and "id" in data:  # {"result": null, "id": 1}: a SUBSCRIBE ack
            return
        kind = data.get("e")
        if kind == "kline":
            k = data["k"]
            sym = self._symbol(k["s"])
            yield _bar(
                self.venue, sym, k["t"], k["o"], k["h"], k["l"], k["c"], k["v"],
                quote_volume=k.get("q"), taker_buy_volume=k.get("V"), closed=k["x"] is True,
            )  # fmt: skip
        elif kind == "forceOrder":
            o = data["o"]
            sym = self._symbol(o["s"])
            side = {"SELL": "long", "BUY": "short"}.get(str(o["S"]).upper())
            if side is None:
                raise BadFrameError("unknown side")
            qty = _first_positive(o.get("z"), o["q"], name="quantity")  # filled, else the order's quantity
            price = _first_positive(o.get("ap"), o["p"], name="price")  # average fill, else the order price
            yield Liquidation(self.venue, sym, _ts(o["T"]), side, price, qty)
        elif kind == "markPriceUpdate":
            yield Mark(self.venue, self._symbol(data["s"]), _ts(data["E"]), _num(data["p"], "mark price"))
        else:
            raise BadFrameError("unknown event")


class BybitParser(Parser):
    """Bybit v5 public linear topics ``kline.1.<SYMBOL>``, ``allLiquidation.<SYMBOL>``, ``tickers.<SYMBOL>`` and
    ``publicTrade.<SYMBOL>``.

    Source: Bybit v5 docs, WebSocket Stream → Public → "Kline" and "All Liquidation"
    (bybit-exchange.github.io/docs/v5/websocket/public/kline, …/all-liquidation; the payload also in ccxt
    4.5.90's ``ccxt/pro/bybit.py`` comments). Kline example (``confirm`` = the candle is closed; ``volume`` base,
    ``turnover`` quote)::

        {"topic": "kline.1.BTCUSDT", "type": "snapshot", "ts": 1672324988882,
         "data": [{"start": 1672324800000, "end": 1672324859999, "interval": "1", "open": "16649.5",
                   "close": "16677", "high": "16677", "low": "16608", "volume": "2.081",
                   "turnover": "34666.4005", "confirm": false, "timestamp": 1672324988882}]}

    allLiquidation example (pushed every 500 ms; ``S`` is the POSITION side per Bybit's docs — "Buy" means
    a long position was liquidated; ``v`` size in base units, ``p`` bankruptcy price)::

        {"topic": "allLiquidation.ROSEUSDT", "type": "snapshot", "ts": 1739502303204,
         "data": [{"T": 1739502302929, "s": "ROSEUSDT", "S": "Sell", "v": "20000", "p": "0.04499"}]}

    Tickers (…/public/ticker; a snapshot, then deltas carrying only the fields that changed — a delta without
    ``markPrice`` is skipped; the example in ccxt 4.5.90's ``ccxt/pro/bybit.py``, shortened)::

        {"topic": "tickers.BTCUSDT", "type": "snapshot", "cs": 24987956059, "ts": 1673272861686,
         "data": {"symbol": "BTCUSDT", "lastPrice": "17216.00", "markPrice": "17217.33",
                  "indexPrice": "17227.36", "openInterest": "68744.761", "fundingRate": "-0.000212"}}

    Public trades (…/public/trade; ``S`` the taker's side, ``v`` base units)::

        {"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 1672304486868,
         "data": [{"T": 1672304486865, "s": "BTCUSDT", "S": "Buy", "v": "0.001", "p": "16578.50",
                   "L": "PlusTick", "i": "20f43950-d8dd-5b31-9112-a178eb6023af", "BT": false}]}
    """

    venue = "bybit"

    def _parse(self, msg: Any) -> Iterable[Event]:
        if not isinstance(msg, dict):
            raise BadFrameError("unexpected shape")
        topic = msg.get("topic")
        if topic is None:  # {"success": true, "op": "subscribe"} / {"op": "pong"}
            if msg.get("success") is False:
                raise BadFrameError("subscription refused")
            return
        kind, _, rest = str(topic).partition(".")
        if kind == "kline":
            sym = self._symbol(rest.split(".")[-1])
            for d in msg["data"]:
                yield _bar(
                    self.venue, sym, d["start"], d["open"], d["high"], d["low"], d["close"], d["volume"],
                    quote_volume=d.get("turnover"), closed=d["confirm"] is True,
                )  # fmt: skip
        elif kind == "allLiquidation":
            for d in msg["data"]:
                sym = self._symbol(d["s"])
                side = {"buy": "long", "sell": "short"}.get(str(d["S"]).lower())
                if side is None:
                    raise BadFrameError("unknown side")
                yield Liquidation(self.venue, sym, _ts(d["T"]), side, _num(d["p"], "price"), _num(d["v"], "quantity"))
        elif kind == "tickers":
            mark = msg["data"].get("markPrice")
            if mark is not None:
                yield Mark(self.venue, self._symbol(rest), _ts(msg["ts"]), _num(mark, "mark price"))
        elif kind == "publicTrade":
            for d in msg["data"]:
                yield Trade(
                    self.venue, self._symbol(d["s"]), _ts(d["T"]), _num(d["p"], "price"), _num(d["v"], "quantity"),
                    _taker_buy(d["S"]),
                )  # fmt: skip
        else:
            raise BadFrameError("unknown topic")


class OkxParser(Parser):
    """OKX v5 channels ``candle1m`` (business endpoint), ``liquidation-orders`` (``instType`` SWAP), ``mark-price``
    and ``trades`` (public endpoint).

    Source: OKX v5 API docs, WebSocket → Public → "Candlesticks channel" and "Liquidation orders channel"
    (www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel; the liquidation payload also in
    ccxt 4.5.90's ``ccxt/pro/okx.py``). Candle rows are ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``:
    ``vol`` is contracts, ``volCcy`` base units (used), ``volCcyQuote`` quote, ``confirm`` "1" = closed::

        {"arg": {"channel": "candle1m", "instId": "BTC-USDT-SWAP"},
         "data": [["1597026383085", "8533.02", "8553.74", "8527.17", "8548.26", "45247", "529.5858061",
                   "4525745.0002", "0"]]}

    Liquidation example (``sz`` in contracts — × ``ctVal``; ``bkPx`` the bankruptcy price; ``posSide`` the
    liquidated position, ``net`` in one-way mode where the order ``side`` sell means a long)::

        {"arg": {"channel": "liquidation-orders", "instType": "SWAP"},
         "data": [{"details": [{"bkLoss": "0", "bkPx": "0.007831", "ccy": "", "posSide": "short",
                                "side": "buy", "sz": "13", "ts": "1692266434010"}],
                   "instFamily": "IOST-USDT", "instId": "IOST-USDT-SWAP", "instType": "SWAP",
                   "uly": "IOST-USDT"}]}

    The channel pushes every SWAP instrument's liquidations: those of instruments not subscribed are
    counted in :attr:`ignored`, not as bad frames.

    Mark price ("Mark price channel"; pushed every 200 ms on a change, else every 10 s) and trades ("Trades
    channel"; ``side`` the taker's, ``sz`` contracts for swaps — × ``ctVal``)::

        {"arg": {"channel": "mark-price", "instId": "BTC-USDT-SWAP"},
         "data": [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": "42310.6", "ts": "1630049139746"}]}
        {"arg": {"channel": "trades", "instId": "BTC-USDT-SWAP"},
         "data": [{"instId": "BTC-USDT-SWAP", "tradeId": "130639474", "px": "42219.9", "sz": "12",
                   "side": "buy", "ts": "1630048897897", "count": "3"}]}
    """

    venue = "okx"

    def __init__(
        self, symbols: Mapping[str, str], drops: Drops | None = None, contract_values: Mapping[str, float] | None = None
    ) -> None:
        super().__init__(symbols, drops)
        if contract_values is None:
            from liqmap.data.contracts import contract_value

            contract_values = {inst: contract_value("okx", sym) for inst, sym in self.symbols.items()}
        self.ct_val = dict(contract_values)

    def _parse(self, msg: Any) -> Iterable[Event]:
        if not isinstance(msg, dict):
            raise BadFrameError("unexpected shape")
        if "event" in msg:  # {"event": "subscribe", "arg": ...} / {"event": "error", ...}
            if msg["event"] == "error":
                raise BadFrameError("subscription refused")
            return
        arg = msg["arg"]
        channel = arg["channel"]
        if channel == "candle1m":
            sym = self._symbol(arg["instId"])
            for r in msg["data"]:
                yield _bar(
                    self.venue, sym, r[0], r[1], r[2], r[3], r[4], r[6],
                    quote_volume=r[7] if len(r) > 8 else None, closed=str(r[-1]) == "1",
                )  # fmt: skip
        elif channel == "liquidation-orders":
            for d in msg["data"]:
                inst = str(d["instId"])
                if inst not in self.symbols:
                    self.ignored += 1
                    continue
                sym = self.symbols[inst]
                for x in d["details"]:
                    pos = str(x.get("posSide", "")).lower()
                    side = pos if pos in ("long", "short") else {"sell": "long", "buy": "short"}.get(str(x["side"]))
                    if side is None:
                        raise BadFrameError("unknown side")
                    qty = _num(x["sz"], "quantity") * self.ct_val[inst]
                    yield Liquidation(self.venue, sym, _ts(x["ts"]), side, _num(x["bkPx"], "price"), qty)
        elif channel == "mark-price":
            sym = self._symbol(arg["instId"])
            for d in msg["data"]:
                yield Mark(self.venue, sym, _ts(d["ts"]), _num(d["markPx"], "mark price"))
        elif channel == "trades":
            inst = str(arg["instId"])
            sym = self._symbol(inst)
            for d in msg["data"]:
                qty = _num(d["sz"], "quantity") * self.ct_val[inst]
                yield Trade(self.venue, sym, _ts(d["ts"]), _num(d["px"], "price"), qty, _taker_buy(d["side"]))
        else:
            raise BadFrameError("unknown channel")


def venue_id(exchange: str, symbol: str) -> str:
    """The instrument id a venue's frames carry for liqmap's ``symbol`` (``BTC/USDT:USDT``)."""
    base, quote = symbol.split(":")[0].split("/")
    if exchange == "okx":
        return f"{base}-{quote}-SWAP"
    return f"{base}{quote}"


PARSERS: dict[str, type[Parser]] = {"binance": BinanceParser, "bybit": BybitParser, "okx": OkxParser}


def parser_for(exchange: str, symbols: Iterable[str], drops: Drops | None = None) -> Parser:
    """The parser of ``exchange`` for liqmap ``symbols``."""
    return PARSERS[exchange]({venue_id(exchange, s): s for s in symbols}, drops)
