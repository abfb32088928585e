"""Batch entry point: validate bars → run each exchange's book over one shared grid → wrap the results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqmap.engine import nb
from liqmap.engine._prep import bar_profiles, data_grid, snapshot_plan, split_bars
from liqmap.engine.config import EngineConfig
from liqmap.engine.enums import Model
from liqmap.engine.incremental import IncrementalEngine
from liqmap.engine.results import EVENT_COLUMNS, EngineResult, Heatmap
from liqmap.errors import LiqmapError


def run(
    bars: pd.DataFrame,
    model: str | Model = Model.OI_DELTA,
    config: EngineConfig | None = None,
    trades: pd.DataFrame | None = None,
    max_bins: int | None = None,
) -> EngineResult:
    """Estimate the liquidation heatmap, predicted liquidation events and final books from canonical bars.

    ``bars`` holds ONE symbol from one or more exchanges (liqmap.data.schemas.BARS); each exchange runs
    with its own tier table on one shared price grid and the layers are summed (kept per exchange too).
    ``trades`` (optional: ``timestamp`` UTC ms, ``price``, ``amount`` in base units, plus ``exchange`` when
    the bars hold several): a bar with trades opens its new positions in proportion to its traded notional
    per price bin instead of the entry distribution. ``max_bins`` refuses a ``bin_usd`` grid of more bins
    (the grid spans the data's range padded by ``range_pad_pct``) before any book runs.

    >>> import pandas as pd
    >>> bars = pd.DataFrame({"exchange": "binance", "symbol": "BTC/USDT:USDT",
    ...     "timestamp": [0, 60_000, 120_000], "open": [100.0, 100.0, 101.0], "high": [101.0, 102.0, 101.0],
    ...     "low": [99.0, 99.0, 60.0], "close": [100.0, 101.0, 80.0], "volume": 1.0,
    ...     "open_interest": [10.0, 12.0, 11.0]})
    >>> res = run(bars, config=EngineConfig(price_range=(50.0, 150.0), n_bins=100))
    >>> res.heatmap.long_usd.shape, round(float(res.heatmap.long_usd[-1].sum()), 6)
    ((3, 100), 1121.0)
    """
    cfg = EngineConfig() if config is None else config
    if not isinstance(cfg, EngineConfig):
        raise LiqmapError(f"config must be an EngineConfig, got {type(cfg).__name__}")
    mdl = Model.parse(model)
    symbol, arrays, warnings = split_bars(bars, mdl)
    grid = data_grid(arrays, cfg)
    if max_bins is not None and cfg.bin_usd is not None and len(grid) > max_bins:
        span_usd = float(grid[-1] - grid[0]) + cfg.bin_usd
        raise LiqmapError(
            f"bin_usd={cfg.bin_usd:g} gives {len(grid):,} bins over the padded price range "
            f"{grid[0] - cfg.bin_usd / 2:,.2f}–{grid[-1] + cfg.bin_usd / 2:,.2f} (cap {max_bins}); "
            f"use bin_usd ≥ {span_usd / max_bins:,.2f} or give bins instead"
        )
    profiles = bar_profiles(trades, symbol, arrays, grid, warnings)
    step_ms, times, rows = snapshot_plan(arrays, cfg)
    n_t, n_bins, n_lev = len(times), len(grid), len(cfg.leverages)
    keep = cfg.keep_leverage_layers and mdl != Model.UNIFORM
    engines: dict[str, IncrementalEngine] = {}
    layers: dict[str, tuple[np.ndarray, ...]] = {}
    closes: dict[str, np.ndarray] = {}
    for name, arr in arrays.items():
        eng = IncrementalEngine(name, symbol, mdl, cfg, price_bins=grid)
        lev_shape = (n_t, n_lev, n_bins) if keep else (n_t, 0, 0)
        filled = (np.zeros((n_t, n_bins)), np.zeros((n_t, n_bins)), np.zeros(lev_shape), np.zeros(lev_shape))
        eng.run_bars(arr, rows[name], filled, keep, profiles[name])
        hm: tuple[np.ndarray, ...] = filled
        snap = rows[name]
        close = np.full(n_t, np.nan)
        close[snap[snap >= 0]] = arr[snap >= 0, nb.B_CLOSE]
        idx = _ffill_index(snap, n_t)
        if not np.all(idx == np.arange(n_t)):
            hm = tuple(np.where((idx >= 0).reshape(-1, *([1] * (h.ndim - 1))), h[np.maximum(idx, 0)], 0.0) for h in hm)
            close = np.where(idx >= 0, close[np.maximum(idx, 0)], np.nan)
        engines[name], layers[name], closes[name] = eng, hm, close
        warnings.extend(eng.notes)
    close = np.nanmean(np.vstack(list(closes.values())), axis=0) if len(closes) > 1 else closes[next(iter(closes))]
    if mdl == Model.UNIFORM:
        band = cfg.uniform_band_pct / 100.0
        layers = {
            name: (*_uniform(h[0].sum(axis=1), h[1].sum(axis=1), closes[name], grid, band), h[2], h[3])
            for name, h in layers.items()
        }
    total = _sum_layers(list(layers.values()))
    heatmap = Heatmap(
        symbol=symbol,
        times_ms=times,
        price_bins=grid,
        long_usd=total[0],
        short_usd=total[1],
        close=close,
        leverages=cfg.leverages,
        long_by_leverage=total[2] if keep else None,
        short_by_leverage=total[3] if keep else None,
        by_exchange={name: (h[0], h[1]) for name, h in layers.items()},
        model=str(mdl),
        profile=cfg.profile,
    )
    if mdl == Model.UNIFORM:
        events = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(EVENT_COLUMNS, _EVENT_DTYPES, strict=True)})
    else:
        events = pd.concat([e.events() for e in engines.values()], ignore_index=True)
        events = events.sort_values("timestamp", kind="stable", ignore_index=True)
    accounting = pd.concat([e.accounting() for e in engines.values()], ignore_index=True)
    return EngineResult(
        heatmap=heatmap,
        events=events,
        grid=grid,
        model=str(mdl),
        config=cfg,
        engines=dict(engines),
        accounting=accounting,
        warnings=tuple(warnings),
        snapshot_every_ms=step_ms,
    )


_EVENT_DTYPES = ("int64", "object", "object", "float64", "float64", "float64")


def _ffill_index(snap: np.ndarray, n_t: int) -> np.ndarray:
    """For each heatmap row, the last row at or before it that this exchange wrote (−1: none yet)."""
    idx = np.full(n_t, -1, dtype=np.int64)
    written = snap[snap >= 0]
    idx[written] = written
    return np.maximum.accumulate(idx)


def _sum_layers(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    if len(parts) == 1:
        return parts[0]
    return tuple(np.sum([p[j] for p in parts], axis=0) for j in range(4))


def _uniform(
    long_total: np.ndarray, short_total: np.ndarray, close: np.ndarray, grid: np.ndarray, band: float
) -> tuple[np.ndarray, np.ndarray]:
    """Baseline: each row's long total spread uniformly over ``[p(1−band), p]``, shorts over ``[p, p(1+band)]``
    (bins weighted by their overlap with the band)."""
    width = float(grid[1] - grid[0])
    lo_edge, hi_edge = grid - width / 2, grid + width / 2
    p = np.nan_to_num(close, nan=float(grid[len(grid) // 2]))[:, None]

    def spread(a: np.ndarray, b: np.ndarray, total: np.ndarray) -> np.ndarray:
        overlap = np.clip(np.minimum(hi_edge, b) - np.maximum(lo_edge, a), 0.0, None)
        share = overlap / np.maximum(overlap.sum(axis=1, keepdims=True), 1e-300)
        return share * total[:, None]

    return spread(p * (1 - band), p, long_total), spread(p, p * (1 + band), short_total)
