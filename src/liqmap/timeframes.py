"""Time units, timeframe strings and bar steps — defined once for every layer (pure; no numpy at import).

Every timestamp and duration in liqmap is an integer count of UTC epoch **milliseconds**. This module holds
the unit constants, the one parser of duration strings (``'15m'``, ``'1h'``, ``'1w'``, ``'500ms'``), its
inverse :func:`format_ms`, and :func:`bar_step_ms`, the one rule for inferring a series' bar step.

>>> parse_duration_ms("4h"), format_ms(14_400_000), format_ms(90_000)
(14400000, '4h', '90s')
>>> bar_step_ms([0, 60_000, 120_000, 300_000, 360_000])  # a gap does not move the step
60000
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from liqmap.errors import LiqmapError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60 * MS_PER_SECOND
MS_PER_HOUR = 60 * MS_PER_MINUTE
MS_PER_DAY = 24 * MS_PER_HOUR
MS_PER_WEEK = 7 * MS_PER_DAY

UNITS_MS: dict[str, int] = {
    "w": MS_PER_WEEK,
    "d": MS_PER_DAY,
    "h": MS_PER_HOUR,
    "m": MS_PER_MINUTE,
    "min": MS_PER_MINUTE,
    "s": MS_PER_SECOND,
    "ms": 1,
}
"""Unit suffixes :func:`parse_duration_ms` reads (``m`` and ``min`` are minutes; a bare number is ms)."""

_FORMAT_UNITS = ("w", "d", "h", "m", "s")
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)?\s*", re.IGNORECASE)


def parse_duration_ms(
    text: str | None, name: str | None = None, *, noun: str = "duration", error: type[LiqmapError] = LiqmapError
) -> int:
    """A duration string → milliseconds: a positive number (decimals allowed) and a unit of
    :data:`UNITS_MS` (``'1m'``, ``'15m'``, ``'1h'``, ``'4h'``, ``'1d'``, ``'1w'``, ``'1.5h'``, ``'90s'``,
    ``'500ms'``; case and spaces ignored, except that ``'1M'`` is refused as an exchange's month; no unit
    means milliseconds).

    Bar timeframes, snapshot intervals and half-lives all use this grammar. Unreadable, missing, zero or
    sub-millisecond input raises ``error`` (a :class:`LiqmapError`): ``"<name>: cannot read <noun> '<text>':
    use e.g. …"`` (``name``, e.g. a CLI option, only when given).

    >>> parse_duration_ms("1w"), parse_duration_ms(" 15Min "), parse_duration_ms("2500")
    (604800000, 900000, 2500)
    """
    where = f"{name}: " if name else ""
    m = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if m and m.group(2) == "M":  # an exchange's month, not a minute
        raise error(f"{where}cannot read {noun} {text!r}: months have no fixed length; use e.g. 1w, 30d")
    ms = int(float(m.group(1)) * UNITS_MS[(m.group(2) or "ms").lower()]) if m else 0
    if ms < 1:
        raise error(f"{where}cannot read {noun} {text!r}: use e.g. 1m, 5m, 15m, 1h, 4h, 1d, 1w")
    return ms


def format_ms(ms: int) -> str:
    """A duration in milliseconds in its largest whole unit (w, d, h, m, s, else ms) — the inverse of
    :func:`parse_duration_ms` for whole units.

    >>> format_ms(604_800_000), format_ms(172_800_000), format_ms(60_000), format_ms(1_500)
    ('1w', '2d', '1m', '1500ms')
    """
    for unit in _FORMAT_UNITS:
        if ms % UNITS_MS[unit] == 0:
            return f"{ms // UNITS_MS[unit]}{unit}"
    return f"{ms}ms"


def bar_step_ms(timestamps: np.ndarray | pd.Series | Iterable[int]) -> int | None:
    """The bar step of one series (ms): the most frequent positive spacing between its timestamps, ties
    going to the smallest; ``None`` with fewer than two distinct timestamps.

    Order and repeats do not matter (the times are sorted and equal ones count once), and gaps do not move
    the step as long as regular spacings outnumber each gap length. Callers pick the fallback for ``None``.
    """
    import numpy as np  # here, not at import: the CLI imports this module and must stay light

    ts = _int64_times(np, timestamps)
    diffs = np.diff(ts)
    if ts.ndim != 1 or not (diffs.size and diffs.min() > 0):  # unless already sorted and distinct
        diffs = np.diff(np.sort(ts))
        diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return None
    smallest = diffs.min()
    if smallest == diffs.max():  # the common case: a regular series
        return int(smallest)
    if 2 * np.count_nonzero(diffs == smallest) > diffs.size:  # a gapped one: the smallest is a strict majority
        return int(smallest)
    values, counts = np.unique(diffs, return_counts=True)
    return int(values[np.argmax(counts)])


def _int64_times(np: Any, timestamps: Any) -> Any:
    """``timestamps`` as an int64 array: a 1-d integer array or Series, or a float one of finite values in
    range, is cast in place of NumPy's slow element-by-element conversion of a list, which other input
    (lists, iterators, object or datetime arrays) still goes through, with the same result or error."""
    if hasattr(timestamps, "dtype") and hasattr(timestamps, "__array__"):
        arr = np.asarray(timestamps)
        if arr.ndim == 1 and arr.dtype.kind == "i":
            return arr.astype(np.int64, copy=False)
        if arr.ndim == 1 and arr.dtype.kind == "f" and arr.size and -(2.0**63) <= arr.min() <= arr.max() < 2.0**63:
            return arr.astype(np.int64)  # truncates toward zero, like int(); NaN fails the range test
    return np.asarray(timestamps if not isinstance(timestamps, Iterable) else list(timestamps), dtype=np.int64)
