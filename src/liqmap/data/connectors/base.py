"""The shared machinery of every venue adapter: ccxt client setup, retries with exponential backoff,
window pagination and normalisation into canonical frames.

A venue adapter (``binance.py``, ``bybit.py``, ``okx.py``) *declares* its endpoints as :class:`Endpoint`
values — ccxt implicit method, parameter names, page size, timeframe map — plus one small parser per
payload; everything else lives here. Traffic goes through ccxt's synchronous client (``requests``) with
ccxt's own rate limiter switched on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import ccxt
import pandas as pd

from liqmap.errors import LiqmapError
from liqmap.symbols import normalize_symbol
from liqmap.timeframes import parse_duration_ms

Progress = Callable[[float], None]
Parser = Callable[[Any], pd.DataFrame]
RETRYABLE = (ccxt.OperationFailed,)  # NetworkError (429/418, 5xx, timeouts, resets), BadResponse


_VENUE_CODE = re.compile(r'"(?:retCode|code)"\s*:\s*"?(-?\d+)')


class ConnectorError(LiqmapError):
    """A download that failed for good (after retries) or returned a payload that cannot be read."""


@dataclass(frozen=True)
class Endpoint:
    """One paginated REST endpoint, as data.

    ``start``/``end`` name the window parameters and the offset added to the inclusive window bound
    (OKX's ``before``/``after`` are exclusive, hence ``-1``/``+1``). ``timeframes`` maps liqmap
    timeframes to the venue's spelling (``None``: no timeframe parameter). ``step_ms`` fixes the record
    spacing for event streams such as funding (else the timeframe is the spacing).
    """

    method: str
    parse: Parser
    page_limit: int
    start: tuple[str, int] = ("startTime", 0)
    end: tuple[str, int] = ("endTime", 0)
    symbol_param: str = "symbol"
    timeframe_param: str | None = None
    timeframes: dict[str, str] = field(default_factory=dict)
    step_ms: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Connector:
    """Base adapter over one ccxt exchange class. Subclasses set the class attributes.

    ``api_url`` replaces the scheme and host of every ccxt API URL (used to talk to a local fake
    exchange in tests); ``sleep`` is injectable so tests can check the backoff schedule.
    """

    # per venue: class attributes of a subclass, or set per instance (GenericConnector)
    exchange: str
    ccxt_id: str
    ccxt_options: Mapping[str, Any] = MappingProxyType({})
    ohlcv: Endpoint
    open_interest: Endpoint | None = None
    funding: Endpoint | None = None
    long_short_ratio: ClassVar[Endpoint | None] = None
    taker_volume: ClassVar[Endpoint | None] = None
    retry_codes: ClassVar[frozenset[str]] = frozenset()
    """Venue error codes that mean "try again" even where ccxt maps them to a permanent error."""
    unsupported: Mapping[str, str] = MappingProxyType({})

    def __init__(
        self,
        api_url: str | None = None,
        timeout_ms: int = 10_000,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limit_ms: int | None = None,
    ) -> None:
        config: dict[str, Any] = {"enableRateLimit": True, "timeout": timeout_ms, "options": dict(self.ccxt_options)}
        if rate_limit_ms is not None:
            config["rateLimit"] = rate_limit_ms
        self.client = getattr(ccxt, self.ccxt_id)(config)
        if api_url is not None:
            self.client.urls["api"] = _rebase(self.client.urls["api"], api_url.rstrip("/"))
            self.client.hostname = api_url.split("://", 1)[-1]
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._markets_loaded = False

    # ------------------------------------------------------------------ plumbing
    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Call a ccxt implicit method (e.g. ``fapiPublicGetKlines``) through :meth:`retry`."""
        return self.retry(lambda: getattr(self.client, method)(params), method)

    def retry(self, request: Callable[[], Any], what: str) -> Any:
        """Run ``request``, retrying transient failures with exponential backoff.

        Retries on HTTP 429/418, 5xx, timeouts, resets and unreadable answers (ccxt ``OperationFailed``), waiting
        ``backoff_s × 2^attempt`` seconds between attempts; venue error codes in :attr:`retry_codes` are
        retried the same way; other exchange errors fail at once.
        """
        for attempt in range(self.max_retries + 1):
            try:
                return request()
            except RETRYABLE as exc:
                if attempt == self.max_retries:
                    raise ConnectorError(
                        f"{self.exchange}: {what} failed after {self.max_retries + 1} attempts: "
                        f"{type(exc).__name__}: {_short(exc)}"
                    ) from None
                self._sleep(self.backoff_s * 2**attempt)
            except ccxt.BaseError as exc:
                code = _VENUE_CODE.search(str(exc))
                if code is None or code.group(1) not in self.retry_codes or attempt == self.max_retries:
                    raise ConnectorError(f"{self.exchange}: {what}: {type(exc).__name__}: {_short(exc)}") from None
                self._sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def market(self, symbol: str) -> dict[str, Any]:
        """The ccxt market of ``symbol`` (markets are loaded once, with retries)."""
        if not self._markets_loaded:
            self.retry(self.client.load_markets, "load_markets")
            self._markets_loaded = True
        unified = normalize_symbol(symbol)
        if unified not in self.client.markets:
            raise ConnectorError(f"{self.exchange} lists no market {unified}")
        return self.client.markets[unified]

    def order_book(self, symbol: str, levels: int = 100) -> pd.DataFrame:
        """One order-book snapshot as canonical depth rows (sizes in base units)."""
        market = self.market(symbol)
        book = self.retry(lambda: self.client.fetch_order_book(market["symbol"], levels), "fetch_order_book")
        ts = book.get("timestamp") or self.client.milliseconds()
        size = float(market.get("contractSize") or 1.0)
        rows = [("bid", p, a * size) for p, a, *_ in book["bids"]] + [("ask", p, a * size) for p, a, *_ in book["asks"]]
        out = pd.DataFrame(rows, columns=["side", "price", "size"])
        return out.assign(exchange=self.exchange, symbol=market["symbol"], timestamp=int(ts))

    def tiers(self, symbol: str) -> pd.DataFrame:
        """Maintenance-margin tiers as canonical rows, parsed by :func:`liqmap.margin.tiers_from_ccxt` (the one
        ccxt-tier reader): ``maintenance_amount`` is the venue's ``info.mmDeduction`` / ``info.cum`` where it
        sends one (Bybit, Binance), else derived by the tier-continuity recursion
        ``amount_i = amount_{i−1} + floor_i·(mmr_i − mmr_{i−1})``; contract-sized tiers are converted to base
        units with the market's ``contractSize``.
        """
        from liqmap.margin import tiers_from_ccxt

        reason = self.supports("tiers")
        if reason:
            raise ConnectorError(f"{self.exchange}: {reason}")
        market = self.market(symbol)
        tiers = self.retry(lambda: self.client.fetch_market_leverage_tiers(market["symbol"]), "leverage tiers")
        today = pd.Timestamp(self.client.milliseconds(), unit="ms").strftime("%Y-%m-%d")
        try:
            table = tiers_from_ccxt(
                self.exchange,
                market["symbol"],
                list(tiers or []),
                contract_size=float(market.get("contractSize") or 1.0),
                valid_from=today,
                source=f"ccxt {self.ccxt_id} fetch_market_leverage_tiers",
            )
        except LiqmapError as exc:
            raise ConnectorError(f"{self.exchange}: leverage tiers: {exc}") from None
        return pd.DataFrame(table.to_records())

    def pages(
        self,
        ep: Endpoint,
        symbol: str,
        timeframe: str | None,
        since_ms: int,
        until_ms: int,
        progress: Progress | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Yield the records of ``ep`` with ``since_ms <= timestamp <= until_ms`` one window at a time.

        Each window asks for at most ``page_limit`` records (so venues that answer newest-first cannot
        skip any), oldest window first; each yielded page is sorted and de-duplicated on timestamp.
        """
        step = ep.step_ms or parse_duration_ms(timeframe, noun="timeframe", error=ConnectorError)
        market = self.market(symbol)
        venue_tf = self._venue_timeframe(ep, timeframe) if ep.timeframe_param is not None else None
        cursor = since_ms
        span = max(until_ms - since_ms, 1)
        while cursor <= until_ms:
            window_end = min(until_ms, cursor + step * (ep.page_limit - 1))
            raw = self.fetch_page(ep, market, venue_tf, cursor, window_end)
            try:
                page = ep.parse(raw)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise ConnectorError(
                    f"{self.exchange}: malformed {ep.method} payload ({type(exc).__name__}: {exc}): {str(raw)[:120]!r}"
                ) from None
            page = page[(page["timestamp"] >= cursor) & (page["timestamp"] <= window_end)]
            yield page.drop_duplicates("timestamp", keep="last").sort_values("timestamp", ignore_index=True)
            if progress is not None:
                progress(min(1.0, (window_end - since_ms + step) / (span + step)))
            cursor = window_end + step

    def fetch_page(self, ep: Endpoint, market: dict[str, Any], venue_tf: str | None, start_ms: int, end_ms: int) -> Any:
        """The raw payload of window ``[start_ms, end_ms]`` of ``ep`` (a ccxt implicit call, declared params)."""
        params: dict[str, Any] = dict(ep.extra)
        params[ep.symbol_param] = market["id"]
        if ep.timeframe_param is not None:
            params[ep.timeframe_param] = venue_tf
        params.update({ep.start[0]: start_ms + ep.start[1], ep.end[0]: end_ms + ep.end[1], "limit": ep.page_limit})
        return self.call(ep.method, params)

    def paginate(
        self,
        ep: Endpoint,
        symbol: str,
        timeframe: str | None,
        since_ms: int,
        until_ms: int,
        progress: Progress | None = None,
    ) -> pd.DataFrame:
        """All records of :meth:`pages` in one frame, oldest first."""
        frames = list(self.pages(ep, symbol, timeframe, since_ms, until_ms, progress))
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"timestamp": []})
        return out.drop_duplicates("timestamp", keep="last").sort_values("timestamp", ignore_index=True)

    def _venue_timeframe(self, ep: Endpoint, timeframe: str | None) -> str:
        if timeframe in ep.timeframes:
            return ep.timeframes[timeframe]
        # the venue lacks this resolution: take its finest period not above it, else its finest
        target = parse_duration_ms(timeframe, noun="timeframe", error=ConnectorError)
        periods = sorted(ep.timeframes, key=parse_duration_ms)
        below = [p for p in periods if parse_duration_ms(p) <= target]
        return ep.timeframes[below[-1] if below else periods[0]]

    def supports(self, what: str) -> str | None:
        """``None`` if the dataset is supported, else the reason it is not."""
        return self.unsupported.get(what)

    def step_for(self, ep: Endpoint, timeframe: str) -> str:
        """The timeframe actually requested from ``ep`` for bars of ``timeframe``."""
        venue = self._venue_timeframe(ep, timeframe)
        inverse = {v: k for k, v in ep.timeframes.items()}
        return inverse[venue]


def _rebase(urls: Any, base: str) -> Any:
    if isinstance(urls, dict):
        return {k: _rebase(v, base) for k, v in urls.items()}
    if isinstance(urls, str):
        return re.sub(r"^https?://[^/]+", base, urls)
    return urls


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def frame(rows: list[dict[str, Any]] | list[list[Any]], columns: list[str] | None = None) -> pd.DataFrame:
    """Rows of a payload → DataFrame with numeric columns (raises ValueError on a non-list payload)."""
    if not isinstance(rows, list):
        raise ValueError(f"expected a list of records, got {type(rows).__name__}")
    out = pd.DataFrame(rows, columns=columns) if columns else pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame({"timestamp": pd.Series([], dtype="int64")})
    for c in out.columns:
        if c not in ("symbol", "instId", "side", "posSide", "instType", "method"):
            out[c] = pd.to_numeric(out[c], errors="raise")
    return out


def renamed(rows: list[dict[str, Any]], fields: dict[str, str]) -> pd.DataFrame:
    """Payload records → canonical columns read from the venue's field names (``{column: field}``)."""
    f = frame(rows)
    if f.empty:
        return f
    return pd.DataFrame({column: f[name] for column, name in fields.items()})
