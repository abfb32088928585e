"""``liqmap serve --live``: the live runner on its own thread, publishing to the server's event loop.

:class:`LiveFeed` runs a :class:`~liqmap.live.runner.LiveRunner` (streams, backfill, store writes, alerts)
in a thread with its own event loop, so a burst of frames and the server's requests never wait on each
other. As a runner :class:`~liqmap.live.runner.Listener` it hands each series' updated map (a
:class:`LiveSnapshot`, immutable) and each realized liquidation to the server loop, where ``/ws/map`` and
``/ws/liquidations`` wait on :meth:`LiveFeed.changed`. The server reads the store through the runner's open
database (:meth:`LiveRunner.store_reader`): DuckDB refuses a read-only open of a file the process writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from liqmap.live.parsers import Liquidation
from liqmap.live.runner import LiveRunner, LiveSettings, Series

if TYPE_CHECKING:
    from liqmap.data.store import Store
    from liqmap.engine.config import EngineConfig
    from liqmap.engine.results import LiqMap

log = logging.getLogger("liqmap.server")

KEEP_LIQUIDATIONS = 1_000  # the latest realized liquidations a new /ws/liquidations client receives first
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class LiveSnapshot:
    """One series' map after a streamed closed bar, with the bars behind it (the report's impact model)."""

    exchange: str
    symbol: str
    model: str
    profile: str
    config: EngineConfig  # the live engine's (its tier tables: the inputs' status)
    liqmap: LiqMap
    bars: tuple[dict[str, Any], ...]  # the runner's recent bars (at most history_minutes)
    first_ms: int  # the first bar the engine applied (its warm start)
    last_ms: int
    n_bars: int  # bars the engine applied since its warm start


class LiveFeed:
    """A :class:`LiveRunner` over ``settings`` on its own thread (``alerts`` and ``status`` passed on); its
    latest maps and liquidations."""

    def __init__(
        self,
        settings: LiveSettings,
        alerts: Any = None,
        status: Callable[[str], None] | None = None,
        keep: int = KEEP_LIQUIDATIONS,
    ) -> None:
        self.runner = LiveRunner(settings, alerts=alerts, status=status, listeners=(self,))
        self.model = settings.model
        self.snapshots: dict[tuple[str, str], LiveSnapshot] = {}
        self.liquidations: deque[tuple[int, Liquidation]] = deque(maxlen=keep)  # (sequence number, order)
        self._kept: set[Liquidation] = set()  # the orders in self.liquidations (a Liquidation is its store key)
        self.running = False
        self._seq = 0
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner_loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle (server loop) ----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the runner's store, then start its thread; call on the server's event loop (the app's lifespan,
        before the first request: every read goes through the runner's store from then on)."""
        self.runner.open()
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self.running = True
        self._thread = threading.Thread(target=self._run, name="liqmap-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the runner (final store flush included) and wait for its thread; blocking."""
        if self._thread is None:
            return
        self._started.wait(STOP_TIMEOUT_S)
        if self._runner_loop is not None:
            with contextlib.suppress(RuntimeError):  # the runner already ended (its loop is closed)
                self._runner_loop.call_soon_threadsafe(self.runner.stop)
        self._thread.join(STOP_TIMEOUT_S)
        self.running = False

    def _run(self) -> None:
        async def main() -> None:
            self._runner_loop = asyncio.get_running_loop()
            self._started.set()  # runner.run() creates its stop event before it first yields
            await self.runner.run()

        try:
            asyncio.run(main())
        except Exception as exc:
            log.error(
                "live runner stopped: %s; the server keeps serving the store (restart `liqmap serve --live` to stream)",
                exc,
            )
        finally:
            self._started.set()
            self._post(self._stopped)

    def _stopped(self) -> None:
        self.running = False
        self._notify()

    # -- Listener (runner thread) ---------------------------------------------------------------------------
    def on_map(self, series: Series, liqmap: LiqMap) -> None:
        assert series.first_ts is not None and series.last_ts is not None and series.config is not None
        snap = LiveSnapshot(
            exchange=series.exchange,
            symbol=series.symbol,
            model=self.model,
            profile=series.config.profile,
            config=series.config,
            liqmap=liqmap,
            bars=tuple(series.history),
            first_ms=series.first_ts,
            last_ms=series.last_ts,
            n_bars=series.backfilled + series.applied,
        )
        self._post(self._publish_map, snap)

    def on_liquidation(self, liq: Liquidation) -> None:
        self._post(self._publish_liquidation, liq)

    def _post(self, fn: Any, *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the server loop closed meanwhile (shutdown)
                loop.call_soon_threadsafe(fn, *args)

    # -- published state (server loop) ----------------------------------------------------------------------
    def _publish_map(self, snap: LiveSnapshot) -> None:
        self.snapshots[(snap.exchange, snap.symbol)] = snap
        self._notify()

    def _publish_liquidation(self, liq: Liquidation) -> None:
        if liq in self._kept:  # re-sent (a venue replaying after a reconnect): stored once, pushed once
            return
        if len(self.liquidations) == self.liquidations.maxlen:
            self._kept.discard(self.liquidations[0][1])
        self._seq += 1
        self.liquidations.append((self._seq, liq))
        self._kept.add(liq)
        self._notify()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    def changed(self) -> Coroutine[Any, Any, bool]:
        """An awaitable of the next published map, liquidation or the runner's end (check the state first):
        bound to the current event now, so a publication before it is first awaited is not missed."""
        assert self._changed is not None, "LiveFeed.start() was not called"
        return self._changed.wait()

    def serves(self, exchanges: tuple[str, ...], symbol: str, model: str) -> tuple[tuple[str, str], ...] | None:
        """The live series a map query maps onto (every venue it asks for streamed by the runner, its model;
        the venues of a symbol share one grid), else None."""
        keys = tuple((ex, symbol) for ex in exchanges)
        return keys if model == self.model and all(k in self.runner.series for k in keys) else None

    def liquidations_after(self, seq: int, exchanges: tuple[str, ...], symbol: str) -> Iterator[Liquidation]:
        """The kept realized liquidations of ``symbol`` (on ``exchanges``; empty: any) after sequence ``seq``."""
        for n, liq in self.liquidations:
            if n > seq and liq.symbol == symbol and (not exchanges or liq.exchange in exchanges):
                yield liq

    @property
    def last_seq(self) -> int:
        return self._seq

    def store_reader(self) -> Store | None:
        """The runner's open store for a reading thread, None while it is not open (:meth:`LiveRunner.store_reader`)."""
        return self.runner.store_reader()
