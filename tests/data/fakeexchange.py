"""A local fake of the Binance USDⓈ-M, Bybit v5, OKX v5 and Gate v4 (futures candles) public REST APIs on 127.0.0.1.

Responses follow each venue's documented JSON shapes (the parsers' docstrings show them) and carry the
real rows of liqmap's bundled sample: hourly bars, funding (the 8-hourly values recorded in the bars),
open interest (the sample's OI columns), OKX liquidation orders and a Binance depth snapshot. Taker
volumes do not exist in the source: those endpoints (and Binance klines' taker column) serve a fixed
share of the real bar volume, which the tests assert to prove the parsing. Market
lists come from minimal real-shaped fixtures in ``fixtures/``. Gate has no sample of its own: its
BTC_USDT candles re-serve the Binance sample rows, with the volume counted in Gate's contracts (the
fixture's ``quanto_multiplier``), the unit Gate's futures candles use. Window parameters follow each venue's
semantics (Binance/Bybit inclusive start/end, OKX exclusive ``before``/``after`` and inclusive rubik
``begin``/``end``; Bybit and OKX answer newest first). Faults can be queued per path: an HTTP status
(429, 500, 503 ...), ``"timeout"`` (no answer until the client hangs up, at most 30 s), ``"html"`` (a 200 with an HTML
page), ``"shape"`` (a 200 with JSON of the wrong shape) or ``"ok"`` (a normal answer).
Not part of the project's runtime.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd

from liqmap.data.contracts import contract_value
from liqmap.data.sample import sample_bars, sample_depth, sample_liquidations

FIXTURES = Path(__file__).parent / "fixtures"
HOUR_MS = 3_600_000
Handler = Callable[[dict[str, str]], tuple[int, Any]]


class FakeExchange:
    """Serve the three venues on one random port; ``url`` is the base to hand to a connector."""

    def __init__(self) -> None:
        bars = sample_bars()
        self.bars = {
            (ex, sym.split("/")[0]): part.reset_index(drop=True)
            for (ex, sym), part in bars.groupby(["exchange", "symbol"])
        }
        self.liquidations = sample_liquidations()
        self.depth = sample_depth()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.faults: dict[str, deque[int | str]] = defaultdict(deque)
        self.fault_hold_s = 30.0  # a "timeout" fault: the longest it waits for the client to hang up
        self.routes: dict[str, Handler] = {
            "/fapi/v1/exchangeInfo": lambda q: (200, _fixture("binance_exchangeInfo.json")),
            "/fapi/v1/klines": self._binance_klines,
            "/futures/data/openInterestHist": self._binance_oi,
            "/fapi/v1/fundingRate": self._binance_funding,
            "/futures/data/globalLongShortAccountRatio": self._binance_ratio,
            "/fapi/v1/depth": self._binance_depth,
            "/futures/data/takerlongshortRatio": self._binance_taker,
            "/v5/market/instruments-info": lambda q: (200, _fixture("bybit_instruments_linear.json")),
            "/v5/market/kline": self._bybit_kline,
            "/v5/market/open-interest": self._bybit_oi,
            "/v5/market/funding/history": self._bybit_funding,
            "/v5/market/account-ratio": self._bybit_ratio,
            "/v5/market/risk-limit": self._bybit_risk_limit,
            "/api/v5/public/instruments": lambda q: (200, _fixture("okx_instruments_swap.json")),
            "/api/v5/market/history-candles": self._okx_candles,
            "/api/v5/rubik/stat/contracts/open-interest-history": self._okx_oi,
            "/api/v5/public/funding-rate-history": self._okx_funding,
            "/api/v5/rubik/stat/taker-volume-contract": self._okx_taker,
            "/api/v5/public/liquidation-orders": self._okx_liquidations,
            "/api/v4/spot/currencies": lambda q: (200, []),
            "/api/v4/futures/usdt/contracts": lambda q: (200, _fixture("gate_futures_usdt_contracts.json")),
            "/api/v4/futures/usdt/candlesticks": self._gate_candles,
        }
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)  # fast shutdown()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeExchange:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, path: str, *faults: int | str) -> None:
        """Answer the next requests to ``path`` with these faults, in order."""
        self.faults[path].extend(faults)

    def calls(self, path: str) -> list[dict[str, str]]:
        return [q for p, q in self.requests if p == path]

    # ------------------------------------------------------------------ dispatch
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        u = urlparse(h.path)
        query = {k: v[0] for k, v in parse_qs(u.query).items()}
        self.requests.append((u.path, query))
        fault = self.faults[u.path].popleft() if self.faults[u.path] else None
        if fault == "ok":
            fault = None
        if fault == "timeout":
            if _hung_up(h.connection, self.fault_hold_s):
                return  # the client gave up, as it should: nothing to answer
            status, body = self.routes[u.path](query)
        elif fault == "html":
            status, body = 200, "<html><body><h1>502 Bad Gateway</h1></body></html>"
        elif fault == "shape":
            status, body = (
                200,
                {"unexpected": {"shape": True}}
                if u.path.startswith("/fapi")
                else {"retCode": 0, "code": "0", "result": {"list": "oops"}, "data": [["x"]]},
            )
        elif isinstance(fault, int):
            status, body = fault, _error_body(u.path, fault)
        elif u.path in self.routes:
            status, body = self.routes[u.path](query)
        else:
            status, body = 404, {"code": -1, "msg": f"fake exchange has no route {u.path}"}
        data = body if isinstance(body, str) else json.dumps(body)
        h.send_response(status)
        h.send_header("Content-Type", "text/html" if isinstance(body, str) else "application/json")
        h.send_header("Content-Length", str(len(data.encode())))
        h.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client timed out
            h.wfile.write(data.encode())

    # ------------------------------------------------------------------ helpers
    def _series(self, venue: str, venue_symbol: str) -> pd.DataFrame:
        coin = venue_symbol.replace("-USDT-SWAP", "").replace("_USDT", "").replace("USDT", "").replace("-USDT", "")
        return self.bars.get((venue, coin), pd.DataFrame(columns=["timestamp"]))

    @staticmethod
    def _window(df: pd.DataFrame, lo: float, hi: float, limit: int, newest_first: bool) -> pd.DataFrame:
        part = df[(df["timestamp"] >= lo) & (df["timestamp"] <= hi)]
        part = part.sort_values("timestamp", ascending=not newest_first)
        return part.head(limit)

    def _funding_events(self, venue: str, venue_symbol: str) -> pd.DataFrame:
        b = self._series(venue, venue_symbol)
        events = b[b["timestamp"] % (8 * HOUR_MS) == 0][["timestamp", "funding_rate"]].dropna()
        return events.reset_index(drop=True)

    def _snapshots(self, venue: str, venue_symbol: str) -> pd.DataFrame:
        b = self._series(venue, venue_symbol).dropna(subset=["open_interest_usd"])
        # a snapshot stamped at a bar's close carries that bar's OI
        return b.assign(timestamp=b["timestamp"] + HOUR_MS)

    # ------------------------------------------------------------------ Binance
    def _binance_klines(self, q: dict[str, str]) -> tuple[int, Any]:
        if q["interval"] != "1h":
            return 200, []
        rows = self._window(
            self._series("binance", q["symbol"]),
            int(q["startTime"]),
            int(q["endTime"]),
            min(int(q.get("limit", 500)), 1500),
            newest_first=False,
        )
        return 200, [
            [
                int(r.timestamp),
                f"{r.open}",
                f"{r.high}",
                f"{r.low}",
                f"{r.close}",
                f"{r.volume}",
                int(r.timestamp) + HOUR_MS - 1,
                f"{r.quote_volume}",
                1000,
                f"{r.volume / 2}",
                f"{r.quote_volume / 2}",
                "0",
            ]
            for r in rows.itertuples()
        ]

    def _binance_oi(self, q: dict[str, str]) -> tuple[int, Any]:
        rows = self._window(
            self._snapshots("binance", q["symbol"]),
            int(q["startTime"]),
            int(q["endTime"]),
            min(int(q.get("limit", 30)), 500),
            newest_first=False,
        )
        return 200, [
            {
                "symbol": q["symbol"],
                "sumOpenInterest": f"{r.open_interest}",
                "sumOpenInterestValue": f"{r.open_interest_usd}",
                "CMCCirculatingSupply": "19960000",
                "timestamp": int(r.timestamp),
            }
            for r in rows.itertuples()
        ]

    def _binance_funding(self, q: dict[str, str]) -> tuple[int, Any]:
        rows = self._window(
            self._funding_events("binance", q["symbol"]),
            int(q["startTime"]),
            int(q["endTime"]),
            min(int(q.get("limit", 100)), 1000),
            newest_first=False,
        )
        return 200, [
            {
                "symbol": q["symbol"],
                "fundingTime": int(r.timestamp),
                "fundingRate": f"{r.funding_rate:.8f}",
                "markPrice": "",
            }
            for r in rows.itertuples()
        ]

    def _binance_ratio(self, q: dict[str, str]) -> tuple[int, Any]:
        return 200, []  # no real long/short history exists in the sample

    def _binance_taker(self, q: dict[str, str]) -> tuple[int, Any]:
        """Taker volumes are not in the source: buyVol is a placeholder of 40 % of the real bar volume."""
        rows = self._window(
            self._series("binance", q["symbol"]),
            int(q["startTime"]),
            int(q["endTime"]),
            min(int(q.get("limit", 30)), 500),
            newest_first=False,
        )
        return 200, [
            {
                "buySellRatio": "0.6667",
                "buyVol": f"{r.volume * 0.4}",
                "sellVol": f"{r.volume * 0.6}",
                "timestamp": int(r.timestamp),
            }
            for r in rows.itertuples()
        ]

    def _binance_depth(self, q: dict[str, str]) -> tuple[int, Any]:
        snap = self.depth[self.depth["timestamp"] == self.depth["timestamp"].iloc[0]]
        side = {
            s: [[f"{p}", f"{z}"] for p, z in zip(g["price"], g["size"], strict=True)] for s, g in snap.groupby("side")
        }
        ts = int(snap["timestamp"].iloc[0])
        return 200, {"lastUpdateId": 1027024, "E": ts, "T": ts, "bids": side["bid"][::-1], "asks": side["ask"]}

    # ------------------------------------------------------------------ Bybit
    def _bybit_ok(self, result: dict[str, Any]) -> tuple[int, Any]:
        return 200, {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1772880000000}

    def _bybit_kline(self, q: dict[str, str]) -> tuple[int, Any]:
        if q["interval"] != "60":
            return self._bybit_ok({"category": "linear", "symbol": q["symbol"], "list": []})
        rows = self._window(
            self._series("bybit", q["symbol"]),
            int(q["start"]),
            int(q["end"]),
            min(int(q.get("limit", 200)), 1000),
            newest_first=True,
        )
        return self._bybit_ok(
            {
                "category": "linear",
                "symbol": q["symbol"],
                "list": [
                    [
                        str(int(r.timestamp)),
                        f"{r.open}",
                        f"{r.high}",
                        f"{r.low}",
                        f"{r.close}",
                        f"{r.volume}",
                        f"{r.quote_volume}",
                    ]
                    for r in rows.itertuples()
                ],
            }
        )

    def _bybit_oi(self, q: dict[str, str]) -> tuple[int, Any]:
        rows = self._window(
            self._snapshots("bybit", q["symbol"]),
            int(q["startTime"]),
            int(q["endTime"]),
            min(int(q.get("limit", 50)), 200),
            newest_first=True,
        )
        return self._bybit_ok(
            {
                "symbol": q["symbol"],
                "category": "linear",
                "nextPageCursor": "",
                "list": [
                    {"openInterest": f"{r.open_interest:.8f}", "timestamp": str(int(r.timestamp))}
                    for r in rows.itertuples()
                ],
            }
        )

    def _bybit_funding(self, q: dict[str, str]) -> tuple[int, Any]:
        rows = self._window(
            self._funding_events("bybit", q["symbol"]),
            int(q["startTime"]),
            int(q["endTime"]),
            min(int(q.get("limit", 200)), 200),
            newest_first=True,
        )
        return self._bybit_ok(
            {
                "category": "linear",
                "list": [
                    {
                        "symbol": q["symbol"],
                        "fundingRate": f"{r.funding_rate}",
                        "fundingRateTimestamp": str(int(r.timestamp)),
                    }
                    for r in rows.itertuples()
                ],
            }
        )

    def _bybit_ratio(self, q: dict[str, str]) -> tuple[int, Any]:
        return self._bybit_ok({"list": [], "nextPageCursor": ""})

    def _bybit_risk_limit(self, q: dict[str, str]) -> tuple[int, Any]:
        tiers = [
            (1, "2000000", "0.005", "0.01", "100.00", ""),
            (2, "2600000", "0.0056", "0.0116", "85.00", "1200"),
            (3, "3200000", "0.0062", "0.0132", "75.00", "2760"),
        ]
        return self._bybit_ok(
            {
                "category": "linear",
                "list": [
                    {
                        "id": i,
                        "symbol": q["symbol"],
                        "riskLimitValue": v,
                        "maintenanceMargin": mm,
                        "initialMargin": im,
                        "isLowestRisk": int(i == 1),
                        "maxLeverage": lev,
                        "mmDeduction": ded,
                    }
                    for i, v, mm, im, lev, ded in tiers
                ],
            }
        )

    # ------------------------------------------------------------------ Gate
    def _gate_candles(self, q: dict[str, str]) -> tuple[int, Any]:
        if q["interval"] != "1h":
            return 200, []
        return 200, self.served_gate_candles(q["contract"], int(q["from"]) * 1000, int(q["to"]) * 1000)

    def served_gate_candles(self, contract: str, lo_ms: int, hi_ms: int) -> list[dict[str, Any]]:
        """Binance's real rows as Gate futures candles: seconds, string prices, ``v`` in contracts."""
        spec = next(c for c in _fixture("gate_futures_usdt_contracts.json") if c["name"] == contract)
        size = float(spec["quanto_multiplier"])
        rows = self._window(self._series("binance", contract), lo_ms, hi_ms, 2000, newest_first=False)
        return [
            {
                "t": int(r.timestamp) // 1000,
                "v": round(r.volume / size),
                "c": f"{r.close}",
                "h": f"{r.high}",
                "l": f"{r.low}",
                "o": f"{r.open}",
                "sum": f"{r.quote_volume}",
            }
            for r in rows.itertuples()
        ]

    # ------------------------------------------------------------------ OKX
    @staticmethod
    def _okx_ok(data: Any) -> tuple[int, Any]:
        return 200, {"code": "0", "msg": "", "data": data}

    def _okx_candles(self, q: dict[str, str]) -> tuple[int, Any]:
        if q["bar"] != "1H":
            return self._okx_ok([])
        before, after = int(q.get("before", 0)), int(q.get("after", 2**62))
        rows = self._window(
            self._series("okx", q["instId"]),
            before + 1,
            after - 1,
            min(int(q.get("limit", 100)), 100),
            newest_first=True,
        )
        ct = _okx_ct_val(q["instId"].split("-")[0])
        return self._okx_ok(
            [
                [
                    str(int(r.timestamp)),
                    f"{r.open}",
                    f"{r.high}",
                    f"{r.low}",
                    f"{r.close}",
                    f"{r.volume / ct}",
                    f"{r.volume}",
                    f"{r.quote_volume}",
                    "1",
                ]
                for r in rows.itertuples()
            ]
        )

    def _okx_oi(self, q: dict[str, str]) -> tuple[int, Any]:
        rows = self._window(
            self._snapshots("okx", q["instId"]),
            int(q["begin"]),
            int(q["end"]),
            min(int(q.get("limit", 100)), 100),
            newest_first=True,
        )
        ct = _okx_ct_val(q["instId"].split("-")[0])
        return self._okx_ok(
            [
                [str(int(r.timestamp)), f"{r.open_interest / ct}", f"{r.open_interest}", f"{r.open_interest_usd}"]
                for r in rows.itertuples()
            ]
        )

    def _okx_funding(self, q: dict[str, str]) -> tuple[int, Any]:
        before, after = int(q.get("before", 0)), int(q.get("after", 2**62))
        rows = self._window(
            self._funding_events("okx", q["instId"]),
            before + 1,
            after - 1,
            min(int(q.get("limit", 100)), 100),
            newest_first=True,
        )
        return self._okx_ok(
            [
                {
                    "fundingRate": f"{r.funding_rate}",
                    "fundingTime": str(int(r.timestamp)),
                    "instId": q["instId"],
                    "instType": "SWAP",
                    "method": "current_period",
                    "realizedRate": f"{r.funding_rate}",
                }
                for r in rows.itertuples()
            ]
        )

    def _okx_taker(self, q: dict[str, str]) -> tuple[int, Any]:
        """Placeholder taker split (40 % buy) of the real bar volume, in base coin (``unit=0``)."""
        if q.get("unit") != "0":
            return 200, {"code": "51000", "msg": "Parameter unit error", "data": []}
        rows = self._window(
            self._series("okx", q["instId"]),
            int(q["begin"]),
            int(q["end"]),
            min(int(q.get("limit", 100)), 100),
            newest_first=True,
        )
        return self._okx_ok(
            [[str(int(r.timestamp)), f"{r.volume * 0.6}", f"{r.volume * 0.4}"] for r in rows.itertuples()]
        )

    def _okx_liquidations(self, q: dict[str, str]) -> tuple[int, Any]:
        family = q["instFamily"]
        coin = family.split("-")[0]
        liqs = self.liquidations[self.liquidations["symbol"] == f"{coin}/USDT:USDT"]
        after = int(q.get("after", 2**62))
        rows = liqs[liqs["timestamp"] < after].sort_values("timestamp", ascending=False).head(int(q.get("limit", 100)))
        if rows.empty:
            return self._okx_ok([])
        ct = _okx_ct_val(coin)
        details = [
            {
                "bkLoss": "0",
                "bkPx": f"{r.price}",
                "ccy": "",
                "posSide": "net",
                "side": "buy" if r.side == "short" else "sell",
                "sz": f"{round(r.quantity / ct, 6)}",
                "ts": str(int(r.timestamp)),
            }
            for r in rows.itertuples()
        ]
        return self._okx_ok(
            [
                {
                    "details": details,
                    "instFamily": family,
                    "instId": f"{family}-SWAP",
                    "instType": "SWAP",
                    "totalLoss": "0",
                    "uly": family,
                }
            ]
        )


def _okx_ct_val(coin: str) -> float:
    return contract_value("okx", f"{coin}/USDT:USDT")


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _error_body(path: str, status: int) -> Any:
    if path.startswith(("/fapi", "/futures")):
        return {
            "code": -1003 if status == 429 else -1001,
            "msg": "Too many requests." if status == 429 else "Internal error; unable to process your request.",
        }
    if path.startswith("/v5"):
        return {
            "retCode": 10006 if status == 429 else 10016,
            "retMsg": "Too many visits!" if status == 429 else "Server error.",
            "result": {},
            "time": 1772880000000,
        }
    return {
        "code": "50011" if status == 429 else "50001",
        "msg": "Rate limit reached." if status == 429 else "Service temporarily unavailable, please try again later.",
        "data": [],
    }


def _hung_up(conn: socket.socket, limit_s: float) -> bool:
    """Wait until the client closes ``conn`` (True) or ``limit_s`` passes (False)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        readable, _, _ = select.select([conn], [], [], 0.05)
        if readable:
            try:
                if not conn.recv(1, socket.MSG_PEEK):
                    return True
            except OSError:  # reset by the client
                return True
            time.sleep(0.05)  # bytes of a next request (not expected while this one is open)
    return False
