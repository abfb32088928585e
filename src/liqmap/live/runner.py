"""The live runner: streams → closed bars → one :class:`~liqmap.engine.IncrementalEngine` per venue and symbol.

On the first closed bar of a series it backfills the store over REST (``fetch_into_store``, 1-minute bars)
from the last stored bar — or ``history_minutes`` back — up to the bar before, warm-starts the engine with
a batch :func:`liqmap.engine.run` over the stored history on a fixed grid (± ``grid_pad_pct`` around the
history's range), then applies each closed bar as it arrives (bit for bit what a batch run over the same
bars gives). A later gap (a reconnect, a dropped kline) is backfilled the same way before the new bar is
applied; a bar at or before the last applied one (duplicate, out of order) is dropped and counted.

Bars and realized liquidations go to the store in small batches every ``flush_s`` (each one
``Store.upsert`` transaction, keyed: a restart that re-sends a stored row changes nothing). Store and
REST work runs on worker threads so the event loop keeps reading frames. Open interest is polled over REST
every ``oi_poll_s`` (no OI stream exists) and attached to the next closed bar when fresh. The streamed mark
price rides on the closed bar as its ``mark_price`` (the last mark stamped in the bar's minute), and where the kline
has no taker-buy volume (Bybit, OKX) the streamed trades give it: the bar's volume × the minute's taker-buy
share of traded quantity, for minutes the trade stream covered from their start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from liqmap.live.parsers import Bar, Drops, Liquidation, Mark, Parser, Trade, parser_for
from liqmap.live.streams import Backoff, StreamSpec, StreamState, read_stream, stream_specs
from liqmap.tables import BARS, LIQUIDATIONS
from liqmap.timeframes import MS_PER_MINUTE

if TYPE_CHECKING:
    from liqmap.data.store import Store
    from liqmap.engine.results import LiqMap

log = logging.getLogger("liqmap.live")


@dataclass(frozen=True)
class LiveSettings:
    """What ``liqmap live`` runs; ``ws_urls``/``api_urls`` replace a venue's websocket/REST base URL."""

    exchanges: tuple[str, ...]
    symbols: tuple[str, ...]
    db: Path | None = None
    ws_urls: dict[str, str] = field(default_factory=dict)
    api_urls: dict[str, str] = field(default_factory=dict)
    history_minutes: int = 1440
    backfill: bool = True
    stale_s: float = 30.0
    flush_s: float = 1.0
    oi_poll_s: float = 60.0
    model: str = "oi-delta"
    profile: str = "default"
    tiers_from: str | None = "binance"
    grid_pad_pct: float = 30.0
    n_bins: int | None = None
    duration_s: float | None = None
    backoff_base_s: float = 1.0


@dataclass
class Series:
    """One venue + symbol: its engine (after warm start), last applied bar and recent bars."""

    exchange: str
    symbol: str
    engine: Any = None
    config: Any = None
    last_ts: int | None = None
    first_ts: int | None = None  # the first bar the engine applied (warm start included)
    history: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1440))
    oi: tuple[float, float] | None = None  # (base units, time.monotonic() of the poll)
    marks: dict[int, tuple[float, int]] = field(default_factory=dict)  # minute → (its last mark, time in ms)
    taker: dict[int, list[float]] = field(default_factory=dict)  # minute → [taker-buy qty, traded qty]
    trades_from_ms: int | None = None  # the first minute the trade stream covered from its start
    trade_connects: int = 0  # the trade stream's connection the coverage belongs to
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    applied: int = 0
    backfilled: int = 0


@dataclass
class Counters:
    bars_stored: int = 0
    liqs_stored: int = 0
    liqs_seen: int = 0
    marks: int = 0
    trades: int = 0
    trades_late: int = 0  # trades of a minute already applied (another connection's closed bar came first)
    duplicates: int = 0
    forming: int = 0
    gaps_filled: int = 0
    gaps_unfilled: int = 0
    flushes: int = 0
    oi_polls: int = 0
    oi_errors: int = 0


class Listener(Protocol):
    """Told of each streamed update on the runner's event loop (keep it short: it delays the next frame)."""

    def on_map(self, series: Series, liqmap: LiqMap) -> None:
        """A streamed closed bar was applied: ``liqmap`` is the series' updated map (a fresh copy)."""

    def on_liquidation(self, liq: Liquidation) -> None:
        """A realized liquidation arrived (parsed and checked; stored within ``flush_s``)."""


class LiveRunner:
    """Run :class:`LiveSettings` until ``duration_s`` passes or :meth:`stop` (SIGINT/SIGTERM) is called."""

    def __init__(
        self,
        settings: LiveSettings,
        *,
        alerts: Any = None,
        status: Callable[[str], None] | None = None,
        listeners: Sequence[Listener] = (),
    ) -> None:
        from liqmap.symbols import normalize_symbol

        self.s = settings
        self.symbols = tuple(normalize_symbol(x) for x in settings.symbols)
        self.drops = Drops()
        self.parsers: dict[str, Parser] = {ex: parser_for(ex, self.symbols, self.drops) for ex in settings.exchanges}
        self.series = {(ex, sym): Series(ex, sym) for ex in settings.exchanges for sym in self.symbols}
        for ser in self.series.values():
            ser.history = deque(maxlen=max(settings.history_minutes, 60))
        self.specs = [
            sp for ex in settings.exchanges for sp in stream_specs(ex, self.symbols, settings.ws_urls.get(ex))
        ]
        self.states = {sp.name: StreamState() for sp in self.specs}
        self.c = Counters()
        self.alerts = alerts
        self.status_cb = status
        self.listeners = tuple(listeners)
        self.latencies_ms: deque[float] = deque(maxlen=100_000)
        self.pending_bars: list[dict[str, Any]] = []
        self.pending_liqs: list[dict[str, Any]] = []
        self.stop_event: asyncio.Event | None = None
        self._store: Any = None
        self._conns: dict[str, Any] = {}
        self._store_pool = ThreadPoolExecutor(1, thread_name_prefix="liqmap-store")  # one writer, in order
        self._net_pool = ThreadPoolExecutor(len(settings.exchanges) + 1, thread_name_prefix="liqmap-rest")
        self.error: BaseException | None = None
        self.alert_errors = 0
        self._dirty: dict[tuple[str, str], Series] = {}
        self._reader_root: Store | None = None  # the store handle store_reader() derives handles from
        self._reader_lock = threading.Lock()
        self.grids: dict[str, tuple[float, float]] = {}  # symbol → its price range, shared by every venue

    # -- lifecycle ------------------------------------------------------------------------------------------
    def stop(self) -> None:
        if self.stop_event is not None:
            self.stop_event.set()

    def open(self) -> None:
        """Open the store for writing and publish its reader (:meth:`store_reader`); :meth:`run` does it if
        not done. Call it before another thread of this process may read the store (``serve --live`` before
        it accepts requests): DuckDB refuses a read-write open of a file the process has open read-only."""
        from liqmap.data.store import Store

        if self._store is not None:
            return
        self._store = Store(self.s.db)
        root = self._store.reader()
        with self._reader_lock:
            self._reader_root = root

    async def run(self) -> Counters:
        self.stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
                loop.add_signal_handler(sig, self.stop)
        await loop.run_in_executor(self._store_pool, self.open)
        tasks = [
            asyncio.create_task(
                read_stream(
                    sp,
                    self._on_frame(sp),
                    self.states[sp.name],
                    self.stop_event,
                    stale_s=self.s.stale_s,
                    backoff=Backoff(self.s.backoff_base_s),
                )
            )
            for sp in self.specs
        ]
        tasks.append(asyncio.create_task(self._flusher()))
        if self.s.oi_poll_s > 0:
            tasks.append(asyncio.create_task(self._oi_poller()))
        if self.status_cb is not None:
            tasks.append(asyncio.create_task(self._status_loop()))
        if self.alerts is not None:
            tasks.append(asyncio.create_task(self._alert_loop()))
        try:
            if self.s.duration_s is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop_event.wait(), timeout=self.s.duration_s)
            else:
                await self.stop_event.wait()
        finally:
            self.stop_event.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.alerts is not None and self._dirty:
                self.evaluate_alerts()
            await self._flush()
            with self._reader_lock:
                self._reader_root = None
            await loop.run_in_executor(self._store_pool, self._store.close)
            self._store_pool.shutdown(wait=True)
            self._net_pool.shutdown(wait=False, cancel_futures=True)
        if self.error is not None:
            raise self.error
        return self.c

    def store_reader(self) -> Store | None:
        """A read-only handle on the runner's open store for another thread (:meth:`Store.reader`: this
        process cannot open the file read-only while the runner writes it); None while it is not open."""
        with self._reader_lock:
            return None if self._reader_root is None else self._reader_root.reader()

    # -- frames ---------------------------------------------------------------------------------------------
    def _on_frame(self, spec: StreamSpec) -> Callable[[str | bytes, float], Any]:
        parser = self.parsers[spec.exchange]
        state = self.states[spec.name]

        async def handle(frame: str | bytes, t_recv: float) -> None:
            for ev in parser.parse(frame):
                if isinstance(ev, Trade):
                    self.on_trade(ev, state.connects)
                elif isinstance(ev, Mark):
                    self.on_mark(ev)
                elif isinstance(ev, Liquidation):
                    self.c.liqs_seen += 1
                    self.pending_liqs.append(ev.row())
                    if self.alerts is not None:
                        self.alerts.on_liquidation(ev)
                    for listener in self.listeners:
                        listener.on_liquidation(ev)
                elif ev.closed:
                    await self.on_closed_bar(ev, t_recv)
                else:
                    self.c.forming += 1

        return handle

    def on_mark(self, mark: Mark) -> None:
        """Keep the last mark price of each minute (the bar's ``mark_price``: the mark at its close)."""
        ser = self.series.get((mark.exchange, mark.symbol))
        if ser is None:
            return
        self.c.marks += 1
        minute = mark.timestamp - mark.timestamp % MS_PER_MINUTE
        last = ser.marks.get(minute)
        if last is None or mark.timestamp >= last[1]:
            ser.marks[minute] = (mark.price, mark.timestamp)

    def on_trade(self, trade: Trade, connects: int) -> None:
        """Add a trade to its minute's taker-buy and traded quantities. After a (re)connect (``connects``
        changed) the minute in progress is partial: coverage starts at the next one."""
        ser = self.series.get((trade.exchange, trade.symbol))
        if ser is None:
            return
        minute = trade.timestamp - trade.timestamp % MS_PER_MINUTE
        if connects != ser.trade_connects:
            ser.trade_connects, ser.trades_from_ms = connects, minute + MS_PER_MINUTE
        self.c.trades += 1
        if ser.last_ts is not None and minute <= ser.last_ts:
            self.c.trades_late += 1
            return
        if ser.trades_from_ms is not None and minute >= ser.trades_from_ms:
            acc = ser.taker.setdefault(minute, [0.0, 0.0])
            acc[0] += trade.quantity if trade.taker_buy else 0.0
            acc[1] += trade.quantity

    def _streamed_fields(self, ser: Series, bar: Bar, row: dict[str, Any]) -> None:
        """Attach the polled OI, the bar's last streamed mark and, when the kline has none, the taker-buy
        volume from the minute's streamed trades to ``row``."""
        if ser.oi is not None and time.monotonic() - ser.oi[1] <= 2.5 * max(self.s.oi_poll_s, 1.0):
            row["open_interest"] = ser.oi[0]
        mark = ser.marks.pop(bar.timestamp, None)
        if mark is not None:
            row["mark_price"] = mark[0]
        acc = ser.taker.pop(bar.timestamp, None)
        if row["taker_buy_volume"] is None and acc is not None and acc[1] > 0:
            row["taker_buy_volume"] = bar.volume * acc[0] / acc[1]
        for per_minute in (ser.marks, ser.taker):
            for minute in [m for m in per_minute if m < bar.timestamp]:
                del per_minute[minute]

    async def on_closed_bar(self, bar: Bar, t_recv: float | None = None) -> None:
        """Apply one closed bar: warm start or backfill first where needed; duplicates are dropped."""
        ser = self.series.get((bar.exchange, bar.symbol))
        if ser is None:
            return
        async with ser.lock:
            waited = ser.engine is None  # this bar waited for a warm start or a backfill: not a latency sample
            if ser.engine is None:
                await self._warm_start(ser, bar)
            if ser.last_ts is not None and bar.timestamp <= ser.last_ts:  # stored or applied already
                self.c.duplicates += 1
                return
            loop = asyncio.get_running_loop()
            if ser.last_ts is not None and bar.timestamp > ser.last_ts + MS_PER_MINUTE:
                waited = True
                start = ser.last_ts + MS_PER_MINUTE
                fetched = await self._rest(ser, start, bar.timestamp)
                pending = self._take_pending()
                try:
                    rows = await loop.run_in_executor(
                        self._store_pool, self._backfill, ser, start, bar.timestamp, pending, fetched
                    )
                except Exception as exc:  # the store is unreachable or refuses the rows: stop with the reason
                    self._fatal(exc)
                    return
                for row in rows:
                    self._apply(ser, row, None)
                self.c.gaps_filled += bool(rows)
                if ser.last_ts + MS_PER_MINUTE < bar.timestamp:
                    self.c.gaps_unfilled += 1
            row = bar.row()
            self._streamed_fields(ser, bar, row)
            self._apply(ser, row, t_recv, measure=not waited)
            self.pending_bars.append(row)

    def _apply(self, ser: Series, row: dict[str, Any], t_recv: float | None, measure: bool = True) -> None:
        ser.engine.update(row)
        ser.last_ts = int(row["timestamp"])
        if ser.first_ts is None:
            ser.first_ts = ser.last_ts
        ser.history.append(row)
        ser.applied += 1
        if t_recv is not None:
            lm = ser.engine.liqmap()  # the updated map (what a consumer reads): part of the measured latency
            if measure:
                self.latencies_ms.append((time.perf_counter() - t_recv) * 1e3)
            if self.alerts is not None:
                self._dirty[(ser.exchange, ser.symbol)] = ser
            for listener in self.listeners:
                listener.on_map(ser, lm)

    def evaluate_alerts(self) -> None:
        """Run the alert rules on the maps updated since the last call (one map report per series). Called
        ~50 ms after a burst of closed bars, so every series' map is updated before any report is built."""
        dirty, self._dirty = self._dirty, {}
        for ser in dirty.values():
            try:
                self.alerts.on_map(ser, ser.engine.liqmap())
            except Exception as exc:  # a report that cannot be built never stops the stream
                self.alert_errors += 1
                if self.alert_errors == 1:
                    log.warning("%s %s: alert rules not evaluated (%s)", ser.exchange, ser.symbol, exc)

    async def _alert_loop(self) -> None:
        assert self.stop_event is not None
        while not self.stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=0.05)
            if self._dirty:
                self.evaluate_alerts()

    # -- store work (on the store thread) -------------------------------------------------------------------
    def _take_pending(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        bars, liqs = self.pending_bars, self.pending_liqs
        self.pending_bars, self.pending_liqs = [], []
        return bars, liqs

    def _write(self, pending: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        import pandas as pd

        bars, liqs = pending
        if bars:
            key = list(BARS.primary_key)
            df = pd.DataFrame(bars).drop_duplicates(key, keep="last")
            self.c.bars_stored += self._store.upsert("bars", df.sort_values(key))
        if liqs:
            df = pd.DataFrame(liqs).drop_duplicates(list(LIQUIDATIONS.primary_key))
            self.c.liqs_stored += self._store.upsert("liquidations", df)
        if bars or liqs:
            self.c.flushes += 1

    def _connector(self, exchange: str) -> Any:
        if exchange not in self._conns:
            from liqmap.data.connectors import connector

            self._conns[exchange] = connector(exchange, api_url=self.s.api_urls.get(exchange))
        return self._conns[exchange]

    def _fetch(self, ser: Series, start_ms: int, until_ms: int) -> list[tuple[str, Any]]:
        """On a REST thread: the missing 1-minute bars ``[start_ms, until_ms]`` and their OI history through
        ``fetch_into_store`` into a collector (the store itself is written on the store thread); a REST
        failure (no network, venue down) leaves the gap, logged."""
        from liqmap.data.connectors import Dataset, fetch_into_store

        sink = _Collector()
        for ds in (Dataset.OHLCV, Dataset.OPEN_INTEREST):  # OI history (5-minute at best) onto those bars
            try:
                fetch_into_store(
                    sink, ser.exchange, ser.symbol, [ds], start_ms, until_ms, timeframe="1m", resume=False,  # type: ignore[arg-type]
                    client=self._connector(ser.exchange),
                )  # fmt: skip
            except Exception as exc:
                log.warning("%s %s: REST backfill of %s failed (%s)", ser.exchange, ser.symbol, ds.value, exc)
                if ds is Dataset.OHLCV:
                    break
        return sink.ops

    async def _rest(self, ser: Series, start_ms: int, next_ms: int) -> list[tuple[str, Any]]:
        if not self.s.backfill or next_ms - MS_PER_MINUTE < start_ms:
            return []
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._net_pool, self._fetch, ser, start_ms, next_ms - MS_PER_MINUTE)

    def _backfill(
        self, ser: Series, start_ms: int, next_ms: int, pending: tuple[list[Any], list[Any]], fetched: list[Any]
    ) -> list[dict[str, Any]]:
        """On the store thread: write ``pending`` and the ``fetched`` REST rows, return the stored bars
        ``[start_ms, next_ms)`` (in time order) as rows to apply."""
        self._write(pending)
        for kind, df in fetched:
            if kind == "attach":
                self._store.attach(df)
            else:
                self._store.upsert(kind, df)
        return self._stored_rows(ser, start_ms, next_ms - MS_PER_MINUTE) if next_ms - MS_PER_MINUTE >= start_ms else []

    def _stored_rows(self, ser: Series, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        from liqmap.errors import StoreError

        try:
            df = self._store.query_bars(ser.exchange, ser.symbol, start_ms, end_ms)
        except StoreError:
            return []
        keep = [c for c in ("timestamp", "open", "high", "low", "close", "volume", "quote_volume",
                            "taker_buy_volume", "open_interest", "mark_price") if c in df.columns]  # fmt: skip
        out = df[keep].assign(exchange=ser.exchange, symbol=ser.symbol).to_dict("records")
        for r in out:
            r["timestamp"] = int(r["timestamp"])
            for k, v in list(r.items()):
                if isinstance(v, float) and math.isnan(v):
                    r[k] = None
        return out

    def _warm(
        self, ser: Series, first: Bar, start: int, last: int | None, pending: tuple[list[Any], list[Any]],
        fetched: list[Any],
    ) -> tuple[Any, Any, list[Any]]:  # fmt: skip
        """Store the backfill, build the engine from the stored history; returns ``(engine, config, rows)``."""
        from liqmap.engine import IncrementalEngine

        self._backfill(ser, start, start, pending, fetched)
        rows = self._stored_rows(ser, start, max(first.timestamp - MS_PER_MINUTE, last or 0))
        cfg = self.engine_config(ser, rows, first)
        eng = IncrementalEngine(ser.exchange, ser.symbol, self.s.model, cfg)
        for row in rows:  # the same kernel as a batch run (bit for bit), and no all-bars-need-OI check
            eng.update(row)
        return eng, cfg, rows

    def engine_config(self, ser: Series, rows: Sequence[dict[str, Any]], first: Bar) -> Any:
        """The fixed-grid config of ``ser``: the profile's, the store's tier tables, ± ``grid_pad_pct`` around
        the history's range — the first venue's of the symbol, so every venue's map is on one grid (their
        sum is the symbol's map across venues)."""
        import pandas as pd

        from liqmap.engine.options import engine_config

        lows = [r["low"] for r in rows] + [first.low]
        highs = [r["high"] for r in rows] + [first.high]
        pad = self.s.grid_pad_pct / 100.0
        frame = pd.DataFrame([{"exchange": ser.exchange, "symbol": ser.symbol}])
        return engine_config(
            frame,
            profile=self.s.profile,
            tiers_from=self.s.tiers_from,
            tier_tables=self._store.tier_tables([ser.exchange], ser.symbol),
            price_range=self.grids.setdefault(ser.symbol, (min(lows) * (1 - pad), max(highs) * (1 + pad))),
            n_bins=self.s.n_bins,
        )

    async def _warm_start(self, ser: Series, first: Bar) -> None:
        loop = asyncio.get_running_loop()
        start = first.timestamp - self.s.history_minutes * MS_PER_MINUTE
        try:
            last = await loop.run_in_executor(
                self._store_pool, self._store.last_timestamp, "bars", ser.exchange, ser.symbol
            )
            if last is None or last < first.timestamp - MS_PER_MINUTE:
                fetched = await self._rest(ser, max(start, last) if last is not None else start, first.timestamp)
            else:  # the stream re-sent stored bars (a restart): warm up to the last stored one
                fetched, start = [], last - self.s.history_minutes * MS_PER_MINUTE
            pending = self._take_pending()
            eng, cfg, rows = await loop.run_in_executor(
                self._store_pool, self._warm, ser, first, start, last, pending, fetched
            )
        except Exception as exc:
            self._fatal(exc)
            raise
        ser.engine, ser.config = eng, cfg
        ser.history.extend(rows)
        ser.backfilled = len(rows)
        ser.last_ts = int(rows[-1]["timestamp"]) if rows else None
        ser.first_ts = int(rows[0]["timestamp"]) if rows else None
        log.info("%s %s: warm start from %d stored bars", ser.exchange, ser.symbol, len(rows))

    def _fatal(self, exc: BaseException) -> None:
        log.error("stopping: %s", exc)
        self.error = exc
        self.stop()

    # -- loops ----------------------------------------------------------------------------------------------
    async def _flush(self) -> None:
        pending = self._take_pending()
        if not pending[0] and not pending[1]:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(self._store_pool, self._write, pending)
        except Exception as exc:
            self._fatal(exc)

    async def _flusher(self) -> None:
        assert self.stop_event is not None
        while not self.stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=self.s.flush_s)
            await self._flush()

    def _poll_oi(self, ser: Series) -> float | None:
        conn = self._connector(ser.exchange)
        oi = conn.client.fetch_open_interest(ser.symbol)
        base = oi.get("baseVolume")
        if base is None and oi.get("openInterestAmount") is not None:
            market = conn.client.market(ser.symbol)
            base = float(oi["openInterestAmount"]) * float(market.get("contractSize") or 1.0)
        return float(base) if base is not None and math.isfinite(float(base)) and base > 0 else None

    async def _oi_poller(self) -> None:
        assert self.stop_event is not None
        loop = asyncio.get_running_loop()
        while not self.stop_event.is_set():
            for ser in self.series.values():
                try:
                    value = await loop.run_in_executor(self._net_pool, self._poll_oi, ser)
                except Exception as exc:  # rate limit, 5xx, no network: keep the last reading, count it
                    self.c.oi_errors += 1
                    if self.c.oi_errors == 1:
                        log.warning("%s %s: open-interest poll failed (%s)", ser.exchange, ser.symbol, exc)
                    continue
                self.c.oi_polls += 1
                if value is not None:
                    ser.oi = (value, time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=self.s.oi_poll_s)

    def status_line(self) -> str:
        """One line: each connection's state and message count, then bars, liquidations, drops, latency."""
        parts = []
        for name, st in self.states.items():
            extra = f", {st.connects} connects" if st.connects > 1 else ""
            if st.last_error and not st.state.startswith("reconnect"):
                extra += f", last error {st.last_error}"
            parts.append(f"{name}: {st.state} ({st.messages} msg{extra})")
        lat = sorted(self.latencies_ms)
        p99 = f"{lat[int(0.99 * (len(lat) - 1))]:.1f} ms" if lat else "—"
        c = self.c
        parts.append(
            f"bars {sum(x.applied for x in self.series.values())} applied / {c.bars_stored} stored, "
            f"liqs {c.liqs_seen}, marks {c.marks}, trades {c.trades}, dup {c.duplicates}, "
            f"dropped {self.drops.total}, gaps {c.gaps_filled} filled"
            f"{f' {c.gaps_unfilled} open' if c.gaps_unfilled else ''}, map p99 {p99}"
        )
        return " | ".join(parts)

    async def _status_loop(self) -> None:
        assert self.stop_event is not None and self.status_cb is not None
        while not self.stop_event.is_set():
            self.status_cb(self.status_line())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=1.0)
        self.status_cb(self.status_line())


class _Collector:
    """Stands in for the store in ``fetch_into_store`` on a REST thread: records what it would write."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, Any]] = []

    def upsert(self, kind: str, df: Any) -> int:
        self.ops.append((kind, df))
        return len(df)

    def attach(self, df: Any) -> int:
        self.ops.append(("attach", df))
        return len(df)
