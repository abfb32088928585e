"""The shared request pipeline: resolve the window → load bars → run the engine (cached) → encode.

Engine runs are cached per (query, window, last bar timestamp) in the app's engine cache; encoded JSON
bodies per (route, query, route parameters, last bar) in its response cache. A new bar changes the last
bar timestamp, hence every key, so cached results never go stale. A cache hit is served on the event
loop without touching the store or a worker thread; everything that can block (store probes, engine
runs, encoding) runs in the thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace

import pandas as pd
from fastapi import Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from liqmap.analytics.report import MapReport, ReportSettings
from liqmap.engine.results import EngineOutput, LiqMap
from liqmap.errors import LiqmapError, StoreError
from liqmap.server.api.inputs import InputStatus, input_status
from liqmap.server.api.params import MAX_DAYS, LeverageRange, SeriesQuery
from liqmap.server.deps import ServerState
from liqmap.server.fastpath import RawEntry
from liqmap.timeframes import MS_PER_DAY

MAX_BARS = 1_100_000  # a year of 1-minute bars on two venues
HINT_SYMBOLS = 8  # stored symbols a 404 names


@dataclass(frozen=True)
class Window:
    """The resolved time window of a query and the last stored bar it was computed against."""

    start_ms: int
    end_ms: int
    last_bar_ms: int


@dataclass(frozen=True)
class Computed:
    """An engine run over one query's bars, and the origin of its inputs."""

    query: SeriesQuery
    window: Window
    bars: pd.DataFrame
    output: EngineOutput
    inputs: list[InputStatus]


async def current_window(state: ServerState, q: SeriesQuery) -> Window:
    """The window of ``q`` against the last stored bar (probing the store in a worker thread if due); an
    unknown series is a :class:`StoreError` (404) that names what the store does hold."""
    last = await state.watcher.current(q.exchanges, q.symbol)
    if last is None:
        hint = await run_in_threadpool(stored_hint, state, q)
        raise StoreError(f"no bars stored for {q.symbol} on {', '.join(q.exchanges)}; {hint}")
    return window_for(q, last)


def stored_hint(state: ServerState, q: SeriesQuery) -> str:
    """What the store holds, for a 404: the venues that do hold ``q.symbol``, else up to
    :data:`HINT_SYMBOLS` stored symbols with their venues (read per store version, like ``/api/symbols``)."""
    version = state.services.store_version()

    def read() -> dict[str, list[str]]:
        with state.services.open_store() as store:
            frame = store.symbols()
        venues: dict[str, list[str]] = {}
        for sym, ex in sorted(zip(frame["symbol"].astype(str), frame["exchange"].astype(str), strict=True)):
            venues.setdefault(sym, []).append(ex)
        return venues

    try:
        venues = read() if version is None else state.engine_cache.get_or_compute(("stored", version), read)
    except StoreError:
        return "GET /api/symbols lists what is stored"
    if q.symbol in venues:
        return f"it is stored on {', '.join(venues[q.symbol])}; GET /api/symbols lists what is stored"
    if not venues:
        return "the store holds no bars; run `liqmap import` or `liqmap fetch`"
    shown = [f"{s} ({', '.join(v)})" for s, v in list(venues.items())[:HINT_SYMBOLS]]
    more = f", … ({len(venues)} symbols)" if len(venues) > HINT_SYMBOLS else ""
    return f"stored: {'; '.join(shown)}{more}; GET /api/symbols lists them all"


def window_for(q: SeriesQuery, last: int | None) -> Window:
    """Fill in the default end (``last``, the last stored bar) and start (end − days); cap the span."""
    if last is None:
        raise StoreError(
            f"no bars stored for {q.symbol} on {', '.join(q.exchanges)}; GET /api/symbols lists what is stored"
        )
    end = last if q.end_ms is None else min(q.end_ms, last)
    start = q.start_ms if q.start_ms is not None else max(0, end - round(q.days * MS_PER_DAY))
    if start >= end:
        raise StoreError(f"no bars for {q.symbol} between {start} and {end} (last stored bar: {last})")
    if end - start > MAX_DAYS * MS_PER_DAY:
        days = (end - start) / MS_PER_DAY
        raise LiqmapError(f"time span of {days:.1f} days exceeds the {MAX_DAYS:g}-day cap; narrow start_ms/end_ms")
    return Window(start, end, last)


def compute(state: ServerState, q: SeriesQuery, window: Window) -> Computed:
    """The (cached) engine run for ``q`` over ``window`` (from :func:`resolve_window`)."""

    def run() -> Computed:
        with state.engine_slots:
            exchanges = list(q.exchanges)
            with state.services.open_store() as store:
                bars = store.query_bars(exchanges, q.symbol, window.start_ms, window.end_ms)
                provenance = store.provenance(exchanges, q.symbol)
                liquidations = store.count("liquidations", exchanges, q.symbol, window.start_ms, window.end_ms)
                tables = store.tier_tables(sorted(bars["exchange"].unique()), q.symbol)  # fetched before bundled
            if len(bars) > MAX_BARS:
                raise LiqmapError(f"{len(bars):,} bars exceed the {MAX_BARS:,}-bar cap; narrow the time range")
            output = state.services.run_engine(bars, q.model.value, q.bins, q.bin_usd, q.tiers_from, tables)
            return Computed(q, window, bars, output, input_status(bars, provenance, liquidations, output.config))

    return state.engine_cache.get_or_compute(("engine", q, window), run)


def liqmap_at(state: ServerState, c: Computed, at_ms: int | None, lev: LeverageRange | None = None) -> LiqMap:
    """The (cached) map of a computed query at ``at_ms`` (default: its last bar), shared by the routes;
    with ``lev``, only the leverage layers in that range (:func:`filter_leverage`)."""

    def build() -> LiqMap:
        lm = c.output.liqmap(at_ms)
        return lm if lev is None else filter_leverage(lm, lev)

    return state.engine_cache.get_or_compute(("liqmap", c.query, c.window, at_ms, lev), build)


def filter_leverage(lm: LiqMap, lev: LeverageRange) -> LiqMap:
    """``lm`` restricted to its per-leverage layers within ``lev``: the totals are the sums of the kept
    layers, so the map report built on it (key levels, imbalance, asymmetry, cascades) covers only those
    positions. Per-exchange layers cannot be split by leverage and are dropped."""
    if lm.long_by_leverage is None or lm.short_by_leverage is None or not lm.leverages:
        raise LiqmapError(
            "the leverage filter needs the per-leverage layers, which only the last bar's map of the oi-delta "
            "and volume models carries; drop at_ms (or min_leverage/max_leverage)"
        )
    keep = [k for k, x in enumerate(lm.leverages) if x in lev]
    if not keep:
        have = ", ".join(f"{x:g}x" for x in lm.leverages)
        raise LiqmapError(f"no leverage layer lies in {lev.label}; the profile's are {have}")
    longs, shorts = lm.long_by_leverage[keep], lm.short_by_leverage[keep]
    return replace(
        lm,
        long_usd=longs.sum(axis=0),
        short_usd=shorts.sum(axis=0),
        leverages=tuple(lm.leverages[k] for k in keep),
        long_by_leverage=longs,
        short_by_leverage=shorts,
        by_exchange={},
    )


def report_at(
    state: ServerState, c: Computed, at_ms: int | None, settings: ReportSettings, lev: LeverageRange | None = None
) -> MapReport:
    """The (cached) map report of a computed query's map at ``at_ms`` (leverage layers in ``lev`` only), its
    impact calibrated on the query's bars (the venues mapped), shared by map, levels and cascade."""
    return state.engine_cache.get_or_compute(
        ("report", c.query, c.window, at_ms, settings, lev),
        lambda: state.services.map_report(liqmap_at(state, c, at_ms, lev), c.bars, settings, c.output),
    )


async def respond(
    state: ServerState,
    request: Request | None,
    q: SeriesQuery,
    route_key: tuple[Hashable, ...],
    build: Callable[[Window], BaseModel],
) -> Response:
    """The JSON response for ``route_key`` (route name and its own parameters) and ``q``.

    The body comes from the response cache when present; otherwise ``build(window)`` runs in a worker
    thread (once per key however many requests wait) and its response model is encoded and cached.
    Returning a :class:`Response` skips FastAPI's per-request re-validation: the body was produced by
    the route's response model once, when it was computed. The body is also registered under the
    ``request``'s exact path and query string for :class:`~liqmap.server.cache.FastPathMiddleware`.
    """
    window = await current_window(state, q)
    body = await cached_body(state, (route_key, q, window), lambda: build(window))
    if request is not None:
        raw_key = (request.url.path, request.scope["query_string"])
        state.raw_cache.put(raw_key, RawEntry(q.exchanges, q.symbol, window.last_bar_ms, body))
    return Response(content=body, media_type="application/json")


async def cached_body(state: ServerState, key: Hashable | None, build: Callable[[], BaseModel]) -> bytes:
    """The JSON body of ``build()``'s response model, from the response cache under ``key`` when present,
    else built in a worker thread (once per key however many requests wait) and cached; ``key`` None (the
    store's version is unknown) builds it every time."""

    def encoded() -> bytes:
        return build().model_dump_json().encode()

    if key is None:
        return await run_in_threadpool(encoded)
    body = state.response_cache.get(key)
    if body is None:
        body = await run_in_threadpool(state.response_cache.get_or_compute, key, encoded)
    return body
