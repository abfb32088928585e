"""Shared look of every liqmap chart: dark trading-terminal palette, $ formatting, colour scales."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

BG = "#0b0e11"
PANEL = "#131722"
GRID = "#2a2e39"
TEXT = "#d1d4dc"
MUTED = "#848e9c"
LONG = "#f6465d"  # long positions liquidate on a fall: red
SHORT = "#0ecb81"  # short positions liquidate on a rally: green
PRICE = "#f0b90b"
CANDLE_UP = "#26a69a"
CANDLE_DOWN = "#ef5350"
HEAT_PLOTLY = "Viridis"
HEAT_MPL = "viridis"
FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"

LOG_FLOOR_QUANTILE = 0.5  # log colour scale: cells below the median notional share the darkest colour
LOG_TOP_QUANTILE = 0.998  # ... and the top 0.2 % saturate, so a few extreme bins do not wash out the rest
LOG_EMPTY_DECADES = 1.0  # ... and cells this many decades below the floor show the background (residual dust)
_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


class ColorScale(StrEnum):
    """How heatmap notional maps to colour: ``log`` (default), ``quantile`` (rank) or ``linear``."""

    LOG = "log"
    QUANTILE = "quantile"
    LINEAR = "linear"


def fmt_usd(value: float) -> str:
    """Compact trader-style dollars: ``$641M``, ``$1.2B``, ``$12.5K``, ``$950``, ``-$3.4M``.

    >>> fmt_usd(1_234_000_000), fmt_usd(641_200_000), fmt_usd(0)
    ('$1.23B', '$641M', '$0')
    """
    if not np.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    for scale, unit in _UNITS:
        if v >= scale * 0.9995:
            x = v / scale
            digits = 0 if x >= 99.95 else 1 if x >= 9.995 else 2
            text = f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"
            return f"{sign}${text}{unit}"
    return f"{sign}${v:.0f}"


def fmt_price(value: float) -> str:
    """Price with thousands separators and a precision that suits its size: ``$94,120``, ``$3.52``."""
    v = float(value)
    if abs(v) >= 1000:
        return f"${v:,.0f}"
    if abs(v) >= 1:
        return f"${v:,.2f}"
    return f"${v:.4g}"


def mpl_text(text: str) -> str:
    """``text`` safe for matplotlib: dollar signs escaped so they do not start mathtext."""
    return text.replace("$", r"\$")


def fmt_utc(ms: int) -> str:
    """An epoch-millisecond time as ``YYYY-MM-DD HH:MM`` (UTC).

    >>> fmt_utc(1_772_704_800_000)
    '2026-03-05 10:00'
    """
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def fmt_pct(value: float) -> str:
    """Signed percentage with two decimals: ``+1.25%``."""
    return f"{value:+.2f}%"


def shades(base_hex: str, n: int) -> list[str]:
    """``n`` shades of one hue from a light tint to the full colour (for stacked layers of one side)."""
    rgb = np.array([int(base_hex[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    mixes = np.linspace(0.6, 0.0, n) if n > 1 else np.zeros(1)
    return ["#" + "".join(f"{round(x):02x}" for x in rgb + (255 - rgb) * m) for m in mixes]


def color_values(values: np.ndarray, scale: ColorScale) -> tuple[np.ndarray, list[float], list[str]]:
    """Map notional ``values`` to colour coordinates for ``scale``; zero cells become NaN (background), and so
    do cells over ``LOG_EMPTY_DECADES`` below the log scale's floor (what proportional closes leave of old books).

    Returns ``(z, tick_positions, tick_labels)`` where the ticks label the colour bar in dollars.
    """
    v = np.asarray(values, dtype=float)
    pos = v[v > 0]
    z = np.full(v.shape, np.nan)
    if pos.size == 0:
        return z, [], []
    if scale is ColorScale.LOG:
        hi = float(np.log10(np.quantile(pos, LOG_TOP_QUANTILE)))
        lo = max(float(np.log10(np.quantile(pos, LOG_FLOOR_QUANTILE))), hi - 3.0)
        z[v > 0] = np.clip(np.log10(pos), lo, hi)
        z[(v > 0) & (v < 10 ** (lo - LOG_EMPTY_DECADES))] = np.nan
        ticks = _log_ticks(lo, hi)
        return z, ticks, [fmt_usd(10**t) for t in ticks]
    if scale is ColorScale.QUANTILE:
        order = np.sort(pos)
        z[v > 0] = np.searchsorted(order, pos, side="right") / order.size
        qs = [0.2, 0.4, 0.6, 0.8, 1.0]
        return z, qs, [fmt_usd(float(np.quantile(order, q))) for q in qs]
    cap = float(np.quantile(pos, 0.99))
    z[v > 0] = np.minimum(pos, cap)
    ticks = list(np.linspace(0, cap, 5))
    return z, ticks, [fmt_usd(t) for t in ticks]


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Round-dollar colour-bar ticks ($1M, $2M, $5M, $10M, ...) between ``10**lo`` and ``10**hi``."""
    decades = range(int(np.floor(lo)), int(np.ceil(hi)) + 1)
    for mantissas in ((1.0,), (1.0, 3.0), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)):
        ticks = [np.log10(m * 10.0**d) for d in decades for m in mantissas]
        inside = [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]
        if len(inside) >= 3:
            return inside
    return list(np.linspace(lo, hi, 5))


def usd_ticks(vmax: float, n: int = 6) -> dict[str, object]:
    """Plotly axis settings with round ticks from 0 to ``vmax`` labelled ``$500M``, ``$1.5B`` (plotly's own
    SI format would print ``$1.5G``)."""
    from matplotlib.ticker import MaxNLocator

    if not vmax > 0:
        return {"tickvals": [0.0], "ticktext": ["$0"], "range": [0, 1]}
    ticks = [float(t) for t in MaxNLocator(n).tick_values(0.0, float(vmax)) if 0 <= t <= vmax * 1.0001]
    return {"tickvals": ticks, "ticktext": [fmt_usd(t) for t in ticks], "range": [0, float(vmax)]}


def plotly_layout(title: str, **extra: object) -> dict[str, object]:
    """Dark layout shared by the plotly figures."""
    axis = {"gridcolor": GRID, "zerolinecolor": GRID, "linecolor": GRID, "color": TEXT}
    layout: dict[str, object] = {
        "title": {"text": title, "x": 0.01, "font": {"size": 16, "color": TEXT}},
        "paper_bgcolor": BG,
        "plot_bgcolor": BG,
        "font": {"family": FONT, "color": TEXT, "size": 12},
        "xaxis": dict(axis),
        "yaxis": dict(axis),
        "hoverlabel": {"bgcolor": PANEL, "bordercolor": GRID, "font": {"color": TEXT}},
        "legend": {"bgcolor": "rgba(0,0,0,0)", "font": {"color": TEXT}},
        "margin": {"l": 70, "r": 30, "t": 60, "b": 50},
    }
    layout.update(extra)
    return layout


def mpl_style_axes(axes: Sequence[Axes]) -> None:
    """Apply the dark palette to matplotlib axes (face, spines, ticks, grid)."""
    for ax in axes:
        ax.set_facecolor(BG)
        for spine in ax.spines.values():
            spine.set_color(GRID)
        ax.tick_params(colors=TEXT, labelsize=9)
        ax.grid(color=GRID, linewidth=0.6, alpha=0.6)
        ax.set_axisbelow(True)


def mpl_figure(
    nrows: int = 1, height_ratios: Sequence[float] | None = None, size: tuple[float, float] = (13.0, 7.0)
) -> tuple[Figure, list[Axes]]:
    """A dark matplotlib figure (plain Agg canvas, no display needed) and its shared-x axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110, facecolor=BG)
    kw = {"height_ratios": list(height_ratios)} if height_ratios else {}
    axes = list(fig.subplots(nrows, 1, sharex=True, gridspec_kw=kw, squeeze=False)[:, 0])
    mpl_style_axes(axes)
    return fig, axes


def usd_formatter() -> FuncFormatter:
    """A matplotlib tick formatter printing compact dollars."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: fmt_usd(x))


def price_formatter() -> FuncFormatter:
    """A matplotlib tick formatter printing prices."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: fmt_price(x))
