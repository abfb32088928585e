"""Exchange connectors over ccxt: Binance USDⓈ-M, Bybit and OKX perpetuals, other venues through ccxt's unified API.

:func:`fetch_into_store` downloads bars first, then attaches OI, funding and long/short ratios to them,
resuming each series from the store's last timestamp; order books, tiers and (OKX) liquidation orders
go to their own tables. Every request is rate-limited by ccxt and retried with exponential backoff.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import ccxt

from liqmap.data.connectors.base import Connector, ConnectorError
from liqmap.data.connectors.binance import BinanceUsdm
from liqmap.data.connectors.bybit import Bybit
from liqmap.data.connectors.generic import Unified
from liqmap.data.connectors.okx import Okx
from liqmap.data.store import Store
from liqmap.enums import Exchange
from liqmap.symbols import normalize_symbol
from liqmap.timeframes import parse_duration_ms

__all__ = [
    "CONNECTORS",
    "UNIFIED_EXCHANGES",
    "Connector",
    "ConnectorError",
    "Dataset",
    "Unified",
    "connector",
    "fetch_into_store",
]

CONNECTORS: dict[str, type[Connector]] = {"binance": BinanceUsdm, "bybit": Bybit, "okx": Okx}
"""Venues with a dedicated adapter (raw endpoints: quote/taker volume, ratios, liquidations where public)."""
_UNIFIED_METHODS = ("fetchOHLCV", "fetchFundingRateHistory")


def _unified_gap(ccxt_id: str) -> str | None:
    """Why ccxt's ``ccxt_id`` cannot back :class:`Unified` (no id, no swaps, no unified bars/funding), else None."""
    if ccxt_id not in ccxt.exchanges:
        return "not a ccxt exchange id"
    has = getattr(ccxt, ccxt_id)().has
    if not has.get("swap"):
        return f"ccxt's {ccxt_id} lists no perpetual swaps"
    missing = [m for m in _UNIFIED_METHODS if not has.get(m)]
    return f"ccxt's {ccxt_id} has no {' or '.join(missing)}" if missing else None


UNIFIED_EXCHANGES = tuple(e.value for e in Exchange if e.value not in CONNECTORS and _unified_gap(e.value) is None)
"""liqmap's other exchanges (:class:`liqmap.enums.Exchange` values whose ccxt class has perpetual swaps, unified
bars and funding history): served by :class:`Unified`."""


class Dataset(StrEnum):
    """What ``liqmap fetch --what`` can download."""

    OHLCV = "ohlcv"
    OPEN_INTEREST = "oi"
    FUNDING = "funding"
    LONG_SHORT = "ratio"
    TAKER = "taker"
    DEPTH = "depth"
    TIERS = "tiers"
    LIQUIDATIONS = "liquidations"

    @classmethod
    def parse(cls, text: str) -> Dataset:
        """Parse a dataset name (also ``open-interest``, ``long-short``, ``klines``, ``orderbook``)."""
        key = text.strip().lower().replace("_", "-")
        aliases = {
            "open-interest": "oi",
            "long-short": "ratio",
            "klines": "ohlcv",
            "bars": "ohlcv",
            "orderbook": "depth",
            "book": "depth",
        }
        try:
            return cls(aliases.get(key, key))
        except ValueError:
            raise ConnectorError(f"unknown dataset {text!r}: use {', '.join(d.value for d in cls)}") from None


_FIELD_COLUMN = {
    Dataset.OPEN_INTEREST: "open_interest",
    Dataset.FUNDING: "funding_rate",
    Dataset.LONG_SHORT: "long_short_ratio",
    Dataset.TAKER: "taker_buy_volume",
}


def connector(exchange: str, **kwargs: Any) -> Connector:
    """The adapter for ``exchange``: a dedicated one, else :class:`Unified` (keyword arguments go to either)."""
    key = exchange.strip().lower()
    if key in CONNECTORS:
        return CONNECTORS[key](**kwargs)
    if key in UNIFIED_EXCHANGES:
        return Unified(key, **kwargs)
    not_enum = "ccxt knows it, but liqmap's tables accept only the exchanges in liqmap.enums.Exchange"
    reason = _unified_gap(key) or not_enum
    raise ConnectorError(
        f"no connector for {exchange!r} ({reason}): use one of {', '.join([*CONNECTORS, *UNIFIED_EXCHANGES])}"
    )


def fetch_into_store(
    store: Store,
    exchange: str,
    symbol: str,
    datasets: Sequence[Dataset],
    since_ms: int,
    until_ms: int | None = None,
    timeframe: str = "1h",
    resume: bool = True,
    progress: Callable[[str, float], None] | None = None,
    client: Connector | None = None,
) -> dict[str, int]:
    """Download ``datasets`` for one exchange/symbol into ``store``; returns rows written per dataset.

    Bars cover ``[since_ms, until_ms]`` (default: up to the last closed bar) and are stored page by page.
    With ``resume`` each series restarts at its last stored timestamp (re-fetching that bar), so an
    interrupted download continues where it stopped and re-running it writes no duplicates.
    """
    conn = client or connector(exchange)
    sym = normalize_symbol(symbol)
    step = parse_duration_ms(timeframe, noun="timeframe", error=ConnectorError)
    until = until_ms if until_ms is not None else (conn.client.milliseconds() // step - 1) * step
    if until < since_ms:
        raise ConnectorError(f"--until ({until}) is before --since ({since_ms}): nothing to fetch")
    order = sorted(set(datasets), key=list(Dataset).index)
    counts: dict[str, int] = {}
    for ds in order:
        label = f"{conn.exchange} {sym} {ds.value}"

        def report(done: float, label: str = label) -> None:
            if progress is not None:
                progress(label, done)

        counts[ds.value] = _fetch_one(store, conn, ds, sym, since_ms, until, timeframe, resume, report)
        report(1.0)
    return counts


def _fetch_one(
    store: Store,
    conn: Connector,
    ds: Dataset,
    sym: str,
    since_ms: int,
    until_ms: int,
    timeframe: str,
    resume: bool,
    report: Callable[[float], None],
) -> int:
    ids = {"exchange": conn.exchange, "symbol": sym}
    if ds is Dataset.OHLCV:
        last = store.last_timestamp("bars", conn.exchange, sym) if resume else None
        start = max(since_ms, last) if last is not None else since_ms
        written = 0
        for page in conn.pages(conn.ohlcv, sym, timeframe, start, until_ms, report):
            if not page.empty:  # each page is its own atomic upsert: an interrupted download keeps its progress
                written += store.upsert("bars", page.assign(**ids))
        return written
    if ds in _FIELD_COLUMN:
        ep = {
            Dataset.OPEN_INTEREST: conn.open_interest,
            Dataset.FUNDING: conn.funding,
            Dataset.LONG_SHORT: conn.long_short_ratio,
            Dataset.TAKER: conn.taker_volume,
        }[ds]
        if ep is None:
            reason = conn.supports(ds.value)
            raise ConnectorError(f"{conn.exchange} has no {ds.value} history" + (f" ({reason})" if reason else ""))
        sub_tf = conn.step_for(ep, timeframe) if ep.timeframe_param else None
        lead = ep.step_ms or parse_duration_ms(sub_tf, noun="timeframe", error=ConnectorError)
        last = store.last_timestamp("bars", conn.exchange, sym, _FIELD_COLUMN[ds]) if resume else None
        start = (max(since_ms, last) if last is not None else since_ms) - lead
        end_ms = until_ms + parse_duration_ms(timeframe, noun="timeframe", error=ConnectorError)
        rows = conn.paginate(ep, sym, sub_tf, start, end_ms, report)
        return store.attach(rows.assign(**ids)) if not rows.empty else 0
    if ds is Dataset.DEPTH:
        return store.upsert("depth", conn.order_book(sym))
    if ds is Dataset.TIERS:
        return store.upsert("tiers", conn.tiers(sym))
    fetch_liqs = getattr(conn, "liquidations", None)
    if fetch_liqs is None:
        raise ConnectorError(f"{conn.exchange}: {conn.supports('liquidations')}")
    rows = fetch_liqs(sym, since_ms, until_ms)
    return store.upsert("liquidations", rows.assign(**ids)) if not rows.empty else 0
