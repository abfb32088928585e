"""The screener over a store (``liqmap scan``, ``GET /api/scan``): every stored (exchange, symbol) series →
engine → map report → :class:`~liqmap.analytics.scan.ScanRow`.

A thin orchestration layer like :mod:`liqmap.scale`: each task opens the DuckDB store read-only, reads the
series' last ``days`` of bars and its stored tier tables, runs the engine through
:func:`~liqmap.engine.options.engine_config` (store tiers, then bundled, then ``tiers_from``'s) and
:func:`~liqmap.analytics.report.build_map_report`, and returns the row (or why it was skipped). Few series run
serially in this process; many (``auto``: more than :data:`DASK_MIN_SERIES`), or ``dask=True``, run on the
Dask ``LocalCluster`` that ``liqmap batch`` uses (one single-threaded worker process per core).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from liqmap.analytics.scan import Scan, ScanRow, ScanSettings, ScanSkip, scan_row, sort_rows
from liqmap.errors import LiqmapError
from liqmap.symbols import normalize_symbol
from liqmap.timeframes import MS_PER_DAY, MS_PER_SECOND

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client

    from liqmap.data.store import StoreReader

SNAPSHOTS = 2  # the scan reads only the last map: no heatmap history (the last snapshot is the last bar either way)
DASK_MIN_SERIES = 400  # auto mode: more series than this run on Dask (benchmarks/scan.py: at 300 serial still won)


@dataclass(frozen=True)
class ScanJob:
    """One series to scan, as the store lists it."""

    exchange: str
    symbol: str
    last_bar_ms: int


def scan_jobs(
    db_path: str | Path, exchanges: Sequence[str] | None = None, symbols: Sequence[str] | None = None
) -> list[ScanJob]:
    """Every stored bar series (optionally only ``exchanges`` / ``symbols``), sorted by symbol then exchange."""
    from liqmap.data.store import Store

    with Store(db_path, read_only=True) as store:
        return jobs_from(store.symbols(), exchanges, symbols)


def jobs_from(
    frame: pd.DataFrame, exchanges: Sequence[str] | None = None, symbols: Sequence[str] | None = None
) -> list[ScanJob]:
    """The :class:`ScanJob` of each row of a store's ``symbols()`` frame, filtered and sorted."""
    if exchanges:
        frame = frame[frame["exchange"].isin([str(e).lower() for e in exchanges])]
    if symbols:
        frame = frame[frame["symbol"].isin([normalize_symbol(s) for s in symbols])]
    frame = frame.sort_values(["symbol", "exchange"])
    last_ms = frame["last_ms"].astype("int64").tolist()
    return [ScanJob(str(e), str(s), t) for e, s, t in zip(frame["exchange"], frame["symbol"], last_ms, strict=True)]


def scan_open_store(
    store: StoreReader,
    jobs: Sequence[ScanJob],
    settings: ScanSettings = ScanSettings(),
    *,
    model: str = "oi-delta",
    profile: str = "default",
    n_bins: int | None = None,
    tiers_from: str | None = "binance",
    sort: str = "symbol",
    descending: bool = False,
    now_ms: int | None = None,
) -> Scan:
    """Scan ``jobs`` serially on an open (read-only) store — the server's path, which owns its store access."""
    sort_rows([], sort)
    now = int(time.time() * MS_PER_SECOND) if now_ms is None else int(now_ms)
    t0 = time.perf_counter()
    out = [scan_series(store, job, settings, model, profile, n_bins, tiers_from, now) for job in jobs]
    return _assemble(out, settings, sort, descending, now, time.perf_counter() - t0, "serial")


def scan_chunk(
    jobs: Sequence[ScanJob],
    db_path: str,
    settings: ScanSettings,
    model: str,
    profile: str,
    n_bins: int | None,
    tiers_from: str | None,
    now_ms: int,
) -> list[ScanRow | ScanSkip]:
    """Scan some series with one read-only store connection (a Dask task; also the serial path)."""
    from liqmap.data.store import Store

    with Store(db_path, read_only=True) as store:
        return [scan_series(store, job, settings, model, profile, n_bins, tiers_from, now_ms) for job in jobs]


def scan_series(
    store: StoreReader,
    job: ScanJob,
    settings: ScanSettings,
    model: str,
    profile: str,
    n_bins: int | None,
    tiers_from: str | None,
    now_ms: int,
) -> ScanRow | ScanSkip:
    """Scan one series of an open store. Bad data or a missing tier table is a :class:`ScanSkip` with the
    message, so one series never sinks the whole scan."""
    from liqmap.analytics.report import build_map_report
    from liqmap.engine import run
    from liqmap.engine.options import engine_config
    from liqmap.margin import available_tiers

    try:
        start = job.last_bar_ms - round(settings.days * MS_PER_DAY)
        bars = store.query_bars(job.exchange, job.symbol, start, job.last_bar_ms)
        tables = store.tier_tables([job.exchange], job.symbol)
        config = engine_config(
            bars,
            profile=profile,
            n_bins=n_bins,
            tiers_from=tiers_from,
            tier_tables=tables,
            max_snapshots=SNAPSHOTS,
        )
        res = run(bars, model=model, config=config)
        report = build_map_report(res.liqmap(), bars, settings.report_settings(), profile=config.profile)
    except LiqmapError as exc:
        return ScanSkip(job.exchange, job.symbol, " ".join(str(exc).split()))
    if tables:
        tiers = "store"
    elif (job.exchange, job.symbol) in set(available_tiers()) or job.exchange == "sim":
        tiers = "bundled"
    else:
        tiers = f"{config.tier_exchange.get(job.exchange, job.exchange)} (lent)"
    return scan_row(
        report, settings, exchange=job.exchange, last_bar_ms=job.last_bar_ms, now_ms=now_ms, bars=len(bars), tiers=tiers
    )


def scan_store(
    db_path: str | Path,
    settings: ScanSettings = ScanSettings(),  # frozen: one shared default is safe
    *,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
    model: str = "oi-delta",
    profile: str = "default",
    n_bins: int | None = None,
    tiers_from: str | None = "binance",
    sort: str = "symbol",
    descending: bool = False,
    dask: bool | None = None,
    n_workers: int | None = None,
    client: Client | None = None,
    now_ms: int | None = None,
) -> Scan:
    """Scan every stored series (or those of ``exchanges`` / ``symbols``): serially for a few, on Dask for many
    (``dask=None``: more than :data:`DASK_MIN_SERIES`; ``True``/``False`` forces it; ``client`` reuses a
    running cluster). ``tiers_from`` lends that venue's table to venues with none (``None``: skip them)."""
    path = Path(db_path).expanduser().resolve()
    if not path.is_file():
        raise LiqmapError(f"store {path} does not exist; run `liqmap import`, `liqmap fetch` or `liqmap demo` first")
    jobs = scan_jobs(path, exchanges, symbols)
    if not jobs:
        raise LiqmapError(f"the store holds no bars for {exchanges or 'any exchange'} {symbols or ''}".strip())
    sort_rows([], sort)  # reject a bad sort column before any work
    now = int(time.time() * MS_PER_SECOND) if now_ms is None else int(now_ms)
    args = (str(path), settings, model, profile, n_bins, tiers_from, now)
    on_dask = client is not None or (dask if dask is not None else len(jobs) > DASK_MIN_SERIES)
    t0 = time.perf_counter()
    if not on_dask:
        out = scan_chunk(jobs, *args)
    elif client is not None:
        out = _gather(client, jobs, args)
    else:
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as own,
        ):
            out = _gather(own, jobs, args)
    return _assemble(out, settings, sort, descending, now, time.perf_counter() - t0, "dask" if on_dask else "serial")


def _assemble(
    out: list[ScanRow | ScanSkip],
    settings: ScanSettings,
    sort: str,
    descending: bool,
    now: int,
    secs: float,
    runner: str,
) -> Scan:
    rows = [r for r in out if isinstance(r, ScanRow)]
    return Scan(
        rows=sort_rows(rows, sort, descending),
        skipped=tuple(r for r in out if isinstance(r, ScanSkip)),
        settings=settings,
        sort=sort,
        descending=descending,
        now_ms=now,
        seconds=round(secs, 3),
        runner=runner,
    )


def _gather(client: Client, jobs: list[ScanJob], args: tuple) -> list[ScanRow | ScanSkip]:
    """Chunks of series (about four per worker, each task opening the store once), results in job order."""
    workers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
    size = max(1, -(-len(jobs) // (4 * workers)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    futures = client.map(scan_chunk, chunks, *[[a] * len(chunks) for a in args], pure=False)
    return [row for chunk in client.gather(futures) for row in chunk]
