"""Ground truth: the simulator's true outstanding liquidation notional per price bin, as a long table.

One row per (snapshot, bin) on a fixed absolute grid of width ``bin_usd``; each snapshot covers the same
number of bins centred on the price at the snapshot. ``long_usd``/``short_usd`` are the entry notional of
open long/short positions whose liquidation price (exact venue tiers, current margin after funding) lies
in the bin — the same quantity an engine heatmap estimates.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from liqmap.errors import DataValidationError

TRUTH_COLUMNS = ("timestamp", "price", "long_usd", "short_usd")


def truth_frame(
    long_usd: np.ndarray, short_usd: np.ndarray, k0: np.ndarray, bin_usd: float, times_ms: np.ndarray
) -> pd.DataFrame:
    """Long-format truth from the kernel's ``(snapshots, bins)`` arrays and each snapshot's first bin index."""
    _t, n = long_usd.shape
    centres = (k0[:, None] + np.arange(n)[None, :] + 0.5) * bin_usd
    return pd.DataFrame(
        {
            "timestamp": np.repeat(np.asarray(times_ms, dtype=np.int64), n),
            "price": centres.ravel(),
            "long_usd": long_usd.ravel(),
            "short_usd": short_usd.ravel(),
        }
    )


def truth_snapshots(truth: pd.DataFrame) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(timestamp_ms, bin_centres, long_usd, short_usd)`` per snapshot, after checking the table."""
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise DataValidationError(f"truth table lacks columns {missing}; expected {list(TRUTH_COLUMNS)}")
    if truth.empty:
        raise DataValidationError("truth table is empty: simulate at least one snapshot interval")
    values = truth[list(TRUTH_COLUMNS[1:])].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values[:, 1:] < 0):
        raise DataValidationError("truth table holds NaN, infinite or negative values")
    ts = truth["timestamp"].to_numpy(dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    if np.any(np.diff(ts[starts]) <= 0):
        raise DataValidationError("truth snapshots must be sorted by timestamp without repeats")
    for a, b in zip(starts, np.r_[starts[1:], len(ts)], strict=True):
        yield int(ts[a]), values[a:b, 0], values[a:b, 1], values[a:b, 2]
