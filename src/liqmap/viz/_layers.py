"""What the map charts and the terminal view draw: price window, stacked layers, cluster labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from liqmap.engine.results import LiqMap
from liqmap.enums import Side
from liqmap.errors import LiqmapError
from liqmap.viz import _style as st

if TYPE_CHECKING:
    from liqmap.analytics.imbalance import Imbalance
    from liqmap.analytics.levels import Cluster


class Stack(StrEnum):
    """How map bars are split: by ``leverage``, by ``exchange``, ``none``, or ``auto`` (first available)."""

    AUTO = "auto"
    LEVERAGE = "leverage"
    EXCHANGE = "exchange"
    NONE = "none"


@dataclass(frozen=True)
class Layer:
    """One stacked bar series: its legend name, side, colour and notional per drawn bin."""

    name: str
    side: Side
    color: str
    usd: np.ndarray


def display_map(lm: LiqMap, window_pct: float | None, max_bars: int) -> LiqMap:
    """``lm`` cut to ±``window_pct`` % around price (all bins when ``None``) and, when more than
    ``max_bars`` bins remain, merged ``k`` bins at a time (notional adds up) with group edges aligned on the
    price so no bar mixes bins from both sides of it; partial groups at the window edges are dropped."""
    if window_pct is not None and not window_pct > 0:
        raise LiqmapError(f"window_pct must be a positive percentage, got {window_pct!r}")
    if max_bars < 2:
        raise LiqmapError(f"max_bars must be at least 2, got {max_bars}")
    keep = np.ones(len(lm.price_bins), dtype=bool)
    if window_pct is not None:
        keep = np.abs(lm.price_bins / lm.price - 1) * 100 <= window_pct * (1 + 1e-9)
    idx = np.flatnonzero(keep)
    k = max(1, -(-len(idx) // max_bars))
    if k > 1:
        first = int(np.searchsorted(lm.price_bins[idx], lm.price))  # first bin at/above price
        idx = idx[first % k :]
        idx = idx[: len(idx) - len(idx) % k]
    if len(idx) < 2 * k:
        raise LiqmapError(
            f"only {len(idx)} price bin(s) lie within ±{window_pct}% of {st.fmt_price(lm.price)}; "
            "widen window_pct or use finer bins"
        )

    def cut(a: np.ndarray) -> np.ndarray:
        part = a[..., idx]
        return part.reshape(*part.shape[:-1], -1, k).sum(axis=-1)

    lev_l, lev_s = lm.long_by_leverage, lm.short_by_leverage
    return replace(
        lm,
        price_bins=lm.price_bins[idx].reshape(-1, k).mean(axis=1),
        long_usd=cut(lm.long_usd),
        short_usd=cut(lm.short_usd),
        long_by_leverage=None if lev_l is None else cut(lev_l),
        short_by_leverage=None if lev_s is None else cut(lev_s),
        by_exchange={name: (cut(a), cut(b)) for name, (a, b) in lm.by_exchange.items()},
    )


def resolve_stack(lm: LiqMap, stack: Stack | str) -> Stack:
    """The stacking actually used: ``auto`` picks leverage, then exchange, then none."""
    stack = Stack(stack)
    has_lev = lm.long_by_leverage is not None and lm.short_by_leverage is not None and len(lm.leverages) > 0
    if stack is Stack.AUTO:
        return Stack.LEVERAGE if has_lev else Stack.EXCHANGE if lm.by_exchange else Stack.NONE
    if stack is Stack.LEVERAGE and not has_lev:
        raise LiqmapError("this map has no per-leverage layers; use stack='exchange' or 'none'")
    if stack is Stack.EXCHANGE and not lm.by_exchange:
        raise LiqmapError("this map has no per-exchange layers; use stack='leverage' or 'none'")
    return stack


def layers(lm: LiqMap, stack: Stack) -> list[Layer]:
    """Long layers then short layers. Stacked by leverage or exchange, a layer's colour names its leverage
    or exchange (:data:`liqmap.viz._style.CATEGORICAL` in order of exchanges, and from the highest leverage
    down; the same colour on both sides, so "50x" reads alike below and above price); unstacked, longs are
    red and shorts green. Backends hatch the short layers."""
    if stack is Stack.LEVERAGE:
        assert lm.long_by_leverage is not None and lm.short_by_leverage is not None
        names = [f"{lev:g}x" for lev in lm.leverages]
        longs, shorts = list(lm.long_by_leverage), list(lm.short_by_leverage)
    elif stack is Stack.EXCHANGE:
        names = list(lm.by_exchange)
        longs = [lm.by_exchange[n][0] for n in names]
        shorts = [lm.by_exchange[n][1] for n in names]
    else:
        names, longs, shorts = [""], [lm.long_usd], [lm.short_usd]
    colors = st.categorical(len(names)) if stack is not Stack.NONE else None
    if colors and stack is Stack.LEVERAGE:  # from the highest leverage down: 100x keeps its colour
        colors = colors[::-1]
    out = []
    for side, arrays, base in ((Side.LONG, longs, st.LONG), (Side.SHORT, shorts, st.SHORT)):
        word = "longs" if side is Side.LONG else "shorts"
        for name, arr, color in zip(names, arrays, colors or [base], strict=True):
            out.append(Layer(f"{word} {name}".strip(), side, color, np.asarray(arr, dtype=float)))
    return out


def ranked_clusters(clusters: Sequence[Cluster] | None, top: int) -> list[Cluster]:
    """The ``top`` best ranked of a map report's ``clusters`` (``MapReport.clusters``), by rank."""
    return sorted(clusters or (), key=lambda c: c.rank)[:top]


def cluster_label(c: Cluster) -> str:
    """``#1 $1.2B shorts``."""
    return f"#{c.rank} {st.fmt_usd(c.notional_usd)} {'longs' if c.side is Side.LONG else 'shorts'}"


def imbalance_line(imbalance: Imbalance | None) -> str | None:
    """``±10%: shorts above $14B vs longs below $1B (14.0:1 shorts)`` of a map report's imbalance."""
    if imbalance is None:
        return None
    shorts, longs = imbalance.short_above_usd, imbalance.long_below_usd
    head = f"±{imbalance.window_pct:g}%: " if imbalance.window_pct is not None else ""
    if shorts > 0 and longs > 0:
        big, word = (shorts / longs, "shorts") if shorts >= longs else (longs / shorts, "longs")
        ratio = f"{big:.1f}:1 {word}"
    else:
        ratio = "one side empty"
    return f"{head}shorts above {st.fmt_usd(shorts)} vs longs below {st.fmt_usd(longs)} ({ratio})"


def label_rows(labels: Sequence[Cluster], x_span: float, char_frac: float = 0.0085) -> list[int]:
    """A row (0 = lowest) for each label so that labels in one row do not overlap horizontally; a label is
    about ``char_frac`` of the x axis wide per character. Labels are placed in the given (rank) order."""
    placed: list[list[tuple[float, float]]] = []
    rows = []
    for c in labels:
        half = len(cluster_label(c)) * char_frac * x_span / 2
        span = (c.peak_price - half, c.peak_price + half)
        for r, taken in enumerate(placed):
            if all(span[1] < a or span[0] > b for a, b in taken):
                taken.append(span)
                rows.append(r)
                break
        else:
            placed.append([span])
            rows.append(len(placed) - 1)
    return rows
