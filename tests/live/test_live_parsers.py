"""Edge parsers on the venues' documented example payloads (docstrings of liqmap.live.parsers) and bad frames."""

from __future__ import annotations

import json
import logging

import pytest

from liqmap.live.parsers import (
    Bar,
    BinanceParser,
    BybitParser,
    Drops,
    Liquidation,
    Mark,
    OkxParser,
    Trade,
    parser_for,
)

BTC = "BTC/USDT:USDT"


def test_binance_force_order_sell_liquidates_a_long():
    frame = {"e": "forceOrder", "E": 1568014460893, "o": {"s": "BTCUSDT", "S": "SELL", "o": "LIMIT", "f": "IOC",
             "q": "0.014", "p": "9910", "ap": "9910", "X": "FILLED", "l": "0.014", "z": "0.014", "T": 1568014460893}}  # fmt: skip  # noqa: E501
    (liq,) = BinanceParser({"BTCUSDT": BTC}).parse(json.dumps({"stream": "btcusdt@forceOrder", "data": frame}))
    assert liq == Liquidation("binance", BTC, 1568014460893, "long", 9910.0, 0.014)
    assert liq.notional_usd == pytest.approx(138.74)
    frame["o"]["S"] = "BUY"
    assert BinanceParser({"BTCUSDT": BTC}).parse(json.dumps(frame))[0].side == "short"


def test_binance_kline_closed_flag_and_volumes():
    k = {"t": 1638747660000, "T": 1638747719999, "s": "BTCUSDT", "i": "1m", "o": "0.0010", "c": "0.0020",
         "h": "0.0025", "l": "0.0015", "v": "1000", "x": False, "q": "1.0000", "V": "500"}  # fmt: skip
    p = BinanceParser({"BTCUSDT": BTC})
    # the docs' example has low 0.0015 above open 0.0010: refused as inconsistent
    assert p.parse(json.dumps({"e": "kline", "k": k})) == []
    k["l"] = "0.0009"
    (bar,) = p.parse(json.dumps({"e": "kline", "k": k}))
    assert bar == Bar("binance", BTC, 1638747660000, 0.001, 0.0025, 0.0009, 0.002, 1000.0, 1.0, 500.0, False)
    k["x"] = True
    assert p.parse(json.dumps({"e": "kline", "k": k}))[0].closed
    assert p.drops.counts == {("binance", "high/low inconsistent with open/close"): 1}


def test_bybit_all_liquidation_buy_is_a_long_and_kline_confirm():
    frame = {"topic": "allLiquidation.ROSEUSDT", "type": "snapshot", "ts": 1739502303204,
             "data": [{"T": 1739502302929, "s": "ROSEUSDT", "S": "Sell", "v": "20000", "p": "0.04499"}]}  # fmt: skip
    p = BybitParser({"ROSEUSDT": "ROSE/USDT:USDT"})
    (liq,) = p.parse(json.dumps(frame))
    assert liq == Liquidation("bybit", "ROSE/USDT:USDT", 1739502302929, "short", 0.04499, 20000.0)
    frame["data"][0]["S"] = "Buy"
    assert p.parse(json.dumps(frame))[0].side == "long"
    kline = {"topic": "kline.1.BTCUSDT", "type": "snapshot", "ts": 1672324988882,
             "data": [{"start": 1672324800000, "end": 1672324859999, "interval": "1", "open": "16649.5",
                       "close": "16677", "high": "16677", "low": "16608", "volume": "2.081",
                       "turnover": "34666.4005", "confirm": True, "timestamp": 1672324988882}]}  # fmt: skip
    (bar,) = BybitParser({"BTCUSDT": BTC}).parse(json.dumps(kline))
    assert (bar.closed, bar.volume, bar.quote_volume, bar.taker_buy_volume) == (True, 2.081, 34666.4005, None)
    assert BybitParser({}).parse('{"success": true, "op": "subscribe", "conn_id": "x"}') == []


def test_okx_liquidation_contracts_times_ct_val_and_candle_volccy():
    frame = {"arg": {"channel": "liquidation-orders", "instType": "SWAP"},
             "data": [{"details": [{"bkLoss": "0", "bkPx": "0.007831", "ccy": "", "posSide": "short", "side": "buy",
                                    "sz": "13", "ts": "1692266434010"}],
                       "instFamily": "IOST-USDT", "instId": "IOST-USDT-SWAP", "instType": "SWAP", "uly": "IOST-USDT"},
                      {"details": [{"bkPx": "60000", "posSide": "net", "side": "sell", "sz": "5", "ts": "1692266434011"}],  # noqa: E501
                       "instId": "BTC-USDT-SWAP"}]}  # fmt: skip
    p = OkxParser({"BTC-USDT-SWAP": BTC})  # IOST is not subscribed: ignored, not a bad frame
    (liq,) = p.parse(json.dumps(frame))
    assert liq == Liquidation("okx", BTC, 1692266434011, "long", 60000.0, pytest.approx(0.05))  # 5 × 0.01 BTC
    assert p.ignored == 1 and p.drops.total == 0
    candle = {"arg": {"channel": "candle1m", "instId": "BTC-USDT-SWAP"},
              "data": [["1597026360000", "8533.02", "8553.74", "8527.17", "8548.26", "45247", "529.5858061",
                        "4525745.0002", "1"]]}  # fmt: skip
    (bar,) = p.parse(json.dumps(candle))
    assert (bar.closed, bar.volume, bar.quote_volume) == (True, 529.5858061, 4525745.0002)
    assert p.parse("pong") == [] and p.parse('{"event": "subscribe", "arg": {}}') == []


def test_mark_prices_of_the_three_venues_and_a_bybit_delta_without_one():
    binance = {"e": "markPriceUpdate", "E": 1562305380000, "s": "BTCUSDT", "p": "11794.15000000",
               "i": "11784.62659091", "P": "11784.25641265", "r": "0.00038167", "T": 1562306400000}  # fmt: skip
    frame = json.dumps({"stream": "btcusdt@markPrice@1s", "data": binance})
    assert BinanceParser({"BTCUSDT": BTC}).parse(frame) == [Mark("binance", BTC, 1562305380000, 11794.15)]
    tick = {"topic": "tickers.BTCUSDT", "type": "snapshot", "cs": 24987956059, "ts": 1673272861686,
            "data": {"symbol": "BTCUSDT", "lastPrice": "17216.00", "markPrice": "17217.33"}}  # fmt: skip
    p = BybitParser({"BTCUSDT": BTC})
    assert p.parse(json.dumps(tick)) == [Mark("bybit", BTC, 1673272861686, 17217.33)]
    tick["type"], tick["data"] = "delta", {"symbol": "BTCUSDT", "lastPrice": "17220.00"}
    assert p.parse(json.dumps(tick)) == [] and p.drops.total == 0  # only the fields that changed
    okx = {"arg": {"channel": "mark-price", "instId": "BTC-USDT-SWAP"},
           "data": [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": "42310.6",
                     "ts": "1630049139746"}]}  # fmt: skip
    assert OkxParser({"BTC-USDT-SWAP": BTC}).parse(json.dumps(okx)) == [Mark("okx", BTC, 1630049139746, 42310.6)]


def test_trades_carry_the_taker_side_and_okx_contracts_become_btc():
    bybit = {"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 1672304486868,
             "data": [{"T": 1672304486865, "s": "BTCUSDT", "S": "Buy", "v": "0.001", "p": "16578.50",
                       "L": "PlusTick", "i": "20f43950-d8dd-5b31-9112-a178eb6023af", "BT": False},
                      {"T": 1672304486866, "s": "BTCUSDT", "S": "Sell", "v": "0.25", "p": "16578.00"}]}  # fmt: skip
    assert BybitParser({"BTCUSDT": BTC}).parse(json.dumps(bybit)) == [
        Trade("bybit", BTC, 1672304486865, 16578.5, 0.001, True),
        Trade("bybit", BTC, 1672304486866, 16578.0, 0.25, False),
    ]
    okx = {"arg": {"channel": "trades", "instId": "BTC-USDT-SWAP"},
           "data": [{"instId": "BTC-USDT-SWAP", "tradeId": "130639474", "px": "42219.9", "sz": "12", "side": "sell",
                     "ts": "1630048897897", "count": "3"}]}  # fmt: skip
    (trade,) = OkxParser({"BTC-USDT-SWAP": BTC}).parse(json.dumps(okx))
    assert trade == Trade("okx", BTC, 1630048897897, 42219.9, pytest.approx(0.12), False)  # 12 × 0.01 BTC


@pytest.mark.parametrize(
    ("venue", "frame", "reason"),
    [
        ("binance", "{not json", "unparsable"),
        ("binance", '{"e": "forceOrder", "o": {"s": "BTCUSDT", "S": "SELL", "q": "-1", "z": "-1", "p": "1", "T": 1692266434010}}', "negative quantity"),  # noqa: E501
        ("binance", '{"e": "forceOrder", "o": {"s": "DOGEUSDT", "S": "SELL", "q": "1", "p": "1", "T": 1692266434010}}', "unknown symbol"),  # noqa: E501
        ("bybit", '{"topic": "allLiquidation.BTCUSDT", "data": [{"T": 1692266434010, "s": "BTCUSDT", "S": "Buy", "v": "1", "p": "NaN"}]}', "NaN/inf price"),  # noqa: E501
        ("bybit", '{"topic": "kline.1.BTCUSDT", "data": "oops"}', "unexpected shape"),
        ("okx", '{"arg": {"channel": "candle1m", "instId": "BTC-USDT-SWAP"}, "data": [["x", "1", "1", "1", "1", "1", "1", "1", "1"]]}', "unreadable timestamp"),  # noqa: E501
        ("okx", '{"arg": {"channel": "books"}, "data": []}', "unknown channel"),
        ("okx", '{"arg": {"channel": "trades", "instId": "BTC-USDT-SWAP"}, "data": [{"px": "1", "sz": "1", "side": "hold", "ts": "1692266434010"}]}', "unknown side"),  # noqa: E501
        ("binance", '{"e": "markPriceUpdate", "E": 1562305380000, "s": "BTCUSDT", "p": "0"}', "zero mark price"),
    ],
)  # fmt: skip
def test_bad_frames_are_counted_and_dropped_never_raised(venue, frame, reason):
    p = parser_for(venue, [BTC])
    assert p.parse(frame) == []
    assert p.drops.counts == {(venue, reason): 1}


def test_each_venue_and_reason_is_logged_once(caplog):
    drops = Drops()
    p = parser_for("binance", [BTC], drops)
    with caplog.at_level(logging.WARNING, logger="liqmap.live"):
        for _ in range(5):
            p.parse("{not json")
        parser_for("bybit", [BTC], drops).parse("{not json")
    assert drops.counts == {("binance", "unparsable"): 5, ("bybit", "unparsable"): 1}
    assert len(caplog.records) == 2
