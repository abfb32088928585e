"""Shared look of every liqmap chart: dark trading-terminal palette, $ formatting, colour scales, the
categorical layer palette and the UTC date ticks — one definition for the plotly and matplotlib backends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from liqmap.enums import Exchange
from liqmap.timeframes import MS_PER_DAY, MS_PER_SECOND

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure
    from matplotlib.ticker import Formatter, FuncFormatter

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
# The dashboard's heatmap scale (src/liqmap/server/static/app.js `HEAT`, a magma-like ramp from the background
# to pale yellow), so exported charts and the dashboard look alike; tests/viz checks the two stay equal.
HEAT_STOPS: tuple[tuple[float, str], ...] = (
    (0.0, "#0e1117"),
    (0.08, "#2a0f5c"),
    (0.3, "#7b2382"),
    (0.55, "#d6456b"),
    (0.8, "#fb9b4f"),
    (1.0, "#fcfdbf"),
)
HEAT_PLOTLY = [[pos, color] for pos, color in HEAT_STOPS]
CLOSE_LINE = "#ffffff"  # the close drawn over the heatmap (as on the dashboard)
# Layers of a map (leverages, exchanges): Okabe–Ito's colour-blind-safe categorical palette, black replaced
# by light grey for the dark background, ordered so neighbouring layers of a stack differ most.
CATEGORICAL = ("#56b4e9", "#e69f00", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#bbbbbb")
SHORT_HATCH_MPL = "///"  # short layers are hatched in the background colour, long layers solid
SHORT_PATTERN_PLOTLY = {"shape": "/", "fgcolor": BG, "fillmode": "overlay", "size": 6, "solidity": 0.35}
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
    """Compact trader-style dollars: ``$641M``, ``$1.2B``, ``$12.5K``, ``$950``, ``-$3.4M`` — the one money
    format of every chart axis, label, hover and table (never SI ``G``/``n``/``µ``). Amounts that round to
    zero dollars, such as float noise of ``-1.8e-6``, print ``$0``.

    >>> fmt_usd(1_234_000_000), fmt_usd(641_200_000), fmt_usd(0), fmt_usd(-1.8e-6), fmt_usd(5.5e9)
    ('$1.23B', '$641M', '$0', '$0', '$5.5B')
    """
    if not np.isfinite(value):
        return "n/a"
    if abs(float(value)) < 0.5:
        return "$0"
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


def is_simulated(result: object) -> bool:
    """Whether a map or heatmap was computed from simulated bars: the engine keeps one layer per exchange
    and :mod:`liqmap.sim` labels its market ``sim`` (:attr:`liqmap.enums.Exchange.SIM`)."""
    return Exchange.SIM.value in (getattr(result, "by_exchange", None) or {})


def provenance_title(title: str, simulated: bool) -> str:
    """``title`` with ``· simulated data`` appended for simulated inputs (unless it already says so)."""
    return f"{title} · simulated data" if simulated and "simulated" not in title.lower() else title


def mpl_text(text: str) -> str:
    """``text`` safe for matplotlib: dollar signs escaped so they do not start mathtext."""
    return text.replace("$", r"\$")


def fmt_utc(ms: int) -> str:
    """An epoch-millisecond time as ``YYYY-MM-DD HH:MM`` (UTC).

    >>> fmt_utc(1_772_704_800_000)
    '2026-03-05 10:00'
    """
    return datetime.fromtimestamp(int(ms) / MS_PER_SECOND, tz=UTC).strftime("%Y-%m-%d %H:%M")


def fmt_pct(value: float) -> str:
    """Signed percentage with two decimals: ``+1.25%``."""
    return f"{value:+.2f}%"


def categorical(n: int) -> list[str]:
    """``n`` distinct layer colours from :data:`CATEGORICAL` (cycled past eight)."""
    return [CATEGORICAL[i % len(CATEGORICAL)] for i in range(n)]


def heat_cmap() -> Colormap:
    """The heatmap colour scale :data:`HEAT_STOPS` as a matplotlib colormap."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("liqmap_heat", list(HEAT_STOPS))


DATE_DAY = "%b %d"  # ticks a day or more apart: "Mar 05"
DATE_INTRADAY = "%b %d %H:%M"  # finer ticks: "Mar 05 12:00"


def date_tick_format(step_ms: float) -> str:
    """strftime format of time ticks ``step_ms`` apart: ``Mar 05`` from a day up, else ``Mar 05 12:00``."""
    return DATE_DAY if step_ms >= MS_PER_DAY * 0.999 else DATE_INTRADAY


def time_axis_title(start_ms: int, end_ms: int) -> str:
    """x-axis title of a time axis: ``time (UTC) · 2025-12-05 → 2026-03-05`` (the ticks omit the year)."""
    day = "%Y-%m-%d"
    first = datetime.fromtimestamp(int(start_ms) / MS_PER_SECOND, tz=UTC).strftime(day)
    last = datetime.fromtimestamp(int(end_ms) / MS_PER_SECOND, tz=UTC).strftime(day)
    return f"time (UTC) · {first}" + ("" if last == first else f" → {last}")


def plotly_date_axis() -> dict[str, object]:
    """Plotly x-axis tick formats matching :class:`UTCDateFormatter` (by tick spacing)."""
    return {
        "type": "date",
        "tickformatstops": [
            {"dtickrange": [None, MS_PER_DAY * 0.999], "value": DATE_INTRADAY},
            {"dtickrange": [MS_PER_DAY * 0.999, None], "value": DATE_DAY},
        ],
    }


def mpl_date_axis(ax: Axes) -> None:
    """Month-and-day UTC ticks on ``ax``'s x axis (values are matplotlib date numbers)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=5, maxticks=9, tz=UTC)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(utc_date_formatter())


def utc_date_formatter() -> Formatter:
    """A matplotlib date formatter: ``Mar 05`` when ticks are a day or more apart, else ``Mar 05 12:00``."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import Formatter

    class UTCDateFormatter(Formatter):
        def format_ticks(self, values: Sequence[float]) -> list[str]:
            step_days = float(np.min(np.diff(values))) if len(values) > 1 else 1.0
            fmt = date_tick_format(step_days * MS_PER_DAY)
            return [mdates.num2date(v, tz=UTC).strftime(fmt) for v in values]

        def __call__(self, x: float, pos: int | None = None) -> str:
            return mdates.num2date(x, tz=UTC).strftime(DATE_INTRADAY)

    return UTCDateFormatter()


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


def price_decimals(step: float) -> int:
    """Decimals that tell price ticks ``step`` apart: ``$2,000`` → 0, ``$0.5`` → 1, ``$0.005`` → 3.

    >>> price_decimals(2_000.0), price_decimals(0.5), price_decimals(0.005)
    (0, 1, 3)
    """
    if not (np.isfinite(step) and step > 0):
        return 0
    return int(min(8, max(0, -np.floor(np.log10(step) + 1e-9))))


def plotly_price_tickformat(lo: float, hi: float) -> str:
    """Plotly tick format of a price axis from ``lo`` to ``hi``: ``$,.0f`` for BTC, ``$,.3f`` for DOGE —
    the decimals of :func:`price_decimals` for ticks about a tenth of the span apart (as matplotlib's)."""
    return f"$,.{price_decimals((float(hi) - float(lo)) / 10)}f"


def price_formatter() -> Formatter:
    """A matplotlib tick formatter printing prices with the decimals the tick spacing needs
    (:func:`price_decimals`): ``$72,000``, ``$140.5``, ``$0.105``."""
    from matplotlib.ticker import Formatter

    class PriceFormatter(Formatter):
        def format_ticks(self, values: Sequence[float]) -> list[str]:
            steps = np.diff(np.asarray(values, dtype=float))
            d = price_decimals(float(np.min(np.abs(steps)))) if len(values) > 1 else 0
            return [f"-${abs(v):,.{d}f}" if v < 0 else f"${v:,.{d}f}" for v in values]

        def __call__(self, x: float, pos: int | None = None) -> str:
            return fmt_price(x)

    return PriceFormatter()
