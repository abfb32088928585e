"""Terminal view of a liquidation map (no browser): shorts above price, longs below, clusters, imbalance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from liqmap import CAVEAT
from liqmap.engine.results import LiqMap
from liqmap.enums import Side
from liqmap.errors import LiqmapError
from liqmap.viz import _style as st
from liqmap.viz._layers import imbalance_line, ranked_clusters

if TYPE_CHECKING:
    from rich.text import Text

    from liqmap.analytics.imbalance import Imbalance
    from liqmap.analytics.levels import Cluster

Segment = tuple[str, str]  # (text, rich style)
_EIGHTHS = " ▏▎▍▌▋▊▉█"
_LABEL_W, _VALUE_W, _CUM_W, _MARK_W = 10, 8, 9, 4
_STYLE = {Side.SHORT: "green", Side.LONG: "red"}


def _bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``width`` cells scaled to ``top`` with eighth-cell resolution."""
    eighths = 0 if top <= 0 else round(value / top * width * 8)
    full, rest = divmod(min(eighths, width * 8), 8)
    return ("█" * full + (_EIGHTHS[rest] if rest else "")).ljust(width)


def _rows(lm: LiqMap, window_pct: float, half: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Row height and notional per row: shorts in rows 0..half-1 going up, longs going down from price."""
    step = max(lm.price * window_pct / 100 / half, lm.bin_usd)
    dist = lm.price_bins - lm.price
    up = np.floor(dist / step).astype(np.int64)
    down = np.floor(-dist / step).astype(np.int64)
    shorts = np.bincount(up[(dist > 0) & (up < half)], weights=lm.short_usd[(dist > 0) & (up < half)], minlength=half)
    longs = np.bincount(
        down[(dist < 0) & (down < half)], weights=lm.long_usd[(dist < 0) & (down < half)], minlength=half
    )
    return step, shorts, longs


def _lines(
    lm: LiqMap,
    clusters: Sequence[Cluster] | None,
    imbalance: Imbalance | None,
    width: int,
    rows: int,
    window_pct: float,
    top_clusters: int,
) -> list[list[Segment]]:
    if rows < 4 or width < 40:
        raise LiqmapError(f"terminal map needs rows ≥ 4 and width ≥ 40 (got rows={rows}, width={width})")
    if not window_pct > 0:
        raise LiqmapError(f"window_pct must be a positive percentage, got {window_pct!r}")
    half = rows // 2
    step, shorts, longs = _rows(lm, window_pct, half)
    bar_w = width - (_LABEL_W + 2 + 1 + _VALUE_W + 1 + _CUM_W + 1 + _MARK_W)
    top = float(max(shorts.max(), longs.max()))
    picked = ranked_clusters(clusters, top_clusters)
    when = pd.Timestamp(lm.as_of_ms, unit="ms").strftime("%Y-%m-%d %H:%M UTC")
    model = f" · {lm.model}" if lm.model else ""
    profile = f" · profile {lm.profile}" if lm.profile else ""
    out: list[list[Segment]] = [
        [(f"{lm.symbol} liquidation map · {when}{model}{profile}", "bold")],
        [
            (
                f"{'price':>{_LABEL_W}}  {'shorts ▲ above / longs ▼ below':<{bar_w}} {'per row':>{_VALUE_W}} "
                f"{'cumul.':>{_CUM_W}}",
                "dim",
            )
        ],
    ]

    def row(k: int, side: Side, values: np.ndarray) -> list[Segment]:
        sign = 1 if side is Side.SHORT else -1
        lo, hi = sorted((lm.price + sign * k * step, lm.price + sign * (k + 1) * step))
        marks = [c for c in picked if c.side is side and lo <= c.peak_price < hi]
        mark = f"◀#{marks[0].rank}" if marks else ""
        cum = float(values[: k + 1].sum())
        half_bin = lm.bin_usd / 2
        if hi <= lm.price_bins[0] - half_bin or lo >= lm.price_bins[-1] + half_bin:
            return [(f"{st.fmt_price((lo + hi) / 2):>{_LABEL_W}} ┊ beyond the map's price grid", "dim")]
        return [
            (f"{st.fmt_price((lo + hi) / 2):>{_LABEL_W}} │", "dim"),
            (_bar(float(values[k]), top, bar_w), _STYLE[side]),
            (f" {st.fmt_usd(values[k]) if values[k] > 0 else '':>{_VALUE_W}} {st.fmt_usd(cum):>{_CUM_W}} ", ""),
            (f"{mark:<{_MARK_W}}", "bold yellow"),
        ]

    out += [row(k, Side.SHORT, shorts) for k in reversed(range(half))]
    price_text = f" {st.fmt_price(lm.price)} price "
    out.append([(f"{'─' * (_LABEL_W - 1)}{price_text}".ljust(width - _MARK_W, "─"), "bold yellow")])
    out += [row(k, Side.LONG, longs) for k in range(half)]
    out.append([(f"rows of {st.fmt_price(step)} · window ±{window_pct:g}% · bars scaled to {st.fmt_usd(top)}", "dim")])
    out += _cluster_lines(lm, picked)
    line = imbalance_line(imbalance)
    if line:
        out.append([("imbalance ", "bold"), (line, "")])
    out.append([(CAVEAT, "dim italic")])
    return out


def _cluster_lines(lm: LiqMap, picked: list[Cluster]) -> list[list[Segment]]:
    if not picked:
        return []
    lines: list[list[Segment]] = [[("largest clusters", "bold")]]
    for c in picked:
        move = (c.peak_price / lm.price - 1) * 100
        word = "shorts" if c.side is Side.SHORT else "longs "
        lines.append(
            [
                (f"  #{c.rank:<2} ", "bold yellow"),
                (f"{word} ", _STYLE[c.side]),
                (f"{st.fmt_usd(c.notional_usd):>8} at {st.fmt_price(c.peak_price):>10} ({st.fmt_pct(move)})", ""),
            ]
        )
    return lines


def render_map_text(
    lm: LiqMap,
    clusters: Sequence[Cluster] | None = None,
    imbalance: Imbalance | None = None,
    *,
    width: int = 80,
    rows: int = 24,
    window_pct: float = 5.0,
    top_clusters: int = 5,
) -> str:
    """A plain-text bar chart of ``lm`` within ±``window_pct`` % of price: ``rows`` price rows (shorts
    above the price line, longs below, per-row and cumulative $), then the largest ``clusters`` and the
    ``imbalance`` line (a :class:`~liqmap.analytics.report.MapReport`'s), then the caveat.

    >>> print(render_map_text(lm, report.clusters, report.imbalance))   # doctest: +SKIP
    """
    lines = _lines(lm, clusters, imbalance, width, rows, window_pct, top_clusters)
    return "\n".join("".join(text for text, _ in line).rstrip() for line in lines)


def map_renderable(
    lm: LiqMap,
    clusters: Sequence[Cluster] | None = None,
    imbalance: Imbalance | None = None,
    *,
    width: int = 80,
    rows: int = 24,
    window_pct: float = 5.0,
    top_clusters: int = 5,
) -> Text:
    """The same view as :func:`render_map_text`, coloured for ``rich`` (shorts green, longs red)."""
    from rich.text import Text

    out = Text()
    for i, line in enumerate(_lines(lm, clusters, imbalance, width, rows, window_pct, top_clusters)):
        if i:
            out.append("\n")
        for text, style in line:
            out.append(text, style=style or None)
    out.rstrip()
    return out
