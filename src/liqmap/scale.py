"""Scale-out: run the engine over many symbol/exchange series in parallel on Dask.

A thin orchestration layer (no computation of its own): each task opens the DuckDB store read-only, loads
one series' bars, runs :func:`liqmap.engine.run` and returns its :class:`~liqmap.engine.results.LiqMap` and
(optionally) its :class:`~liqmap.engine.results.Heatmap`. The default client is a
``distributed.LocalCluster`` with one single-threaded worker process per core; pass ``client=`` to use a
real cluster (workers need the store file at the same path).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from distributed import Client, LocalCluster

from liqmap.engine import EngineConfig, run
from liqmap.engine.results import Heatmap, LiqMap
from liqmap.errors import LiqmapError


@dataclass(frozen=True)
class SeriesJob:
    """One series to compute: a symbol on one or more exchanges (aggregated), over an optional range."""

    symbol: str
    exchanges: tuple[str, ...] = ()
    start_ms: int | None = None
    end_ms: int | None = None
    config: EngineConfig | None = None  # overrides the batch's config (e.g. to borrow a tier table)

    @property
    def label(self) -> str:
        """``"binance+okx BTC/USDT:USDT"``-style name (``"all"`` when no exchange is given)."""
        return f"{'+'.join(self.exchanges) or 'all'} {self.symbol}"


@dataclass(frozen=True)
class SeriesResult:
    """What one task returns: the final map, the heatmap when asked, and timings."""

    job: SeriesJob
    liqmap: LiqMap
    heatmap: Heatmap | None
    bars: int
    events: int
    seconds: float


def run_series(
    job: SeriesJob, db_path: str, model: str, config: EngineConfig | None, keep_heatmap: bool
) -> SeriesResult:
    """Run one job (executed on a worker; also usable serially)."""
    from liqmap.data.store import Store

    t0 = time.perf_counter()
    with Store(db_path, read_only=True) as store:
        bars = store.query_bars(list(job.exchanges) or None, job.symbol, job.start_ms, job.end_ms)
        tables = store.tier_tables(sorted(bars["exchange"].unique()), job.symbol)
    cfg = job.config or config or EngineConfig()
    if tables:  # the store's fetched tiers come before the bundled ones
        cfg = replace(cfg, tier_tables=(*tables, *cfg.tier_tables))
    res = run(bars, model=model, config=cfg)
    return SeriesResult(
        job=job,
        liqmap=res.liqmap(),
        heatmap=res.heatmap if keep_heatmap else None,
        bars=len(bars),
        events=len(res.events),
        seconds=time.perf_counter() - t0,
    )


def run_batch(
    jobs: Sequence[SeriesJob],
    db_path: str | Path,
    model: str = "oi-delta",
    config: EngineConfig | None = None,
    *,
    keep_heatmap: bool = False,
    client: Client | None = None,
    n_workers: int | None = None,
) -> list[SeriesResult]:
    """Compute every job on Dask and return the results in job order.

    Without ``client`` a ``LocalCluster`` (processes, one thread each, ``n_workers`` default = cores) is
    started for the call and closed afterwards.
    """
    if not jobs:
        raise LiqmapError("no series to run: give at least one --symbol")
    path = str(Path(db_path).expanduser().resolve())
    if not Path(path).is_file():
        raise LiqmapError(f"store {path} does not exist; run `liqmap import` or `liqmap demo` first")
    if client is not None:
        return _gather(client, jobs, path, model, config, keep_heatmap)
    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as own,
    ):
        return _gather(own, jobs, path, model, config, keep_heatmap)


def _gather(
    client: Client,
    jobs: Sequence[SeriesJob],
    path: str,
    model: str,
    config: EngineConfig | None,
    keep_heatmap: bool,
) -> list[SeriesResult]:
    futures = client.map(
        run_series, list(jobs), db_path=path, model=model, config=config, keep_heatmap=keep_heatmap, pure=False
    )
    return client.gather(futures)
