"""Liquidation map: bars per price bin (longs below, shorts above price), stacked by leverage or exchange,
cumulative curves on a second axis, current price marked, clusters annotated with their size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from liqmap import CAVEAT
from liqmap.engine.results import LiqMap
from liqmap.enums import Side
from liqmap.viz import _style as st
from liqmap.viz._io import Backend
from liqmap.viz._layers import (
    Layer,
    Stack,
    cluster_label,
    display_map,
    imbalance_line,
    label_rows,
    layers,
    ranked_clusters,
    resolve_stack,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from matplotlib.artist import Artist
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure

    from liqmap.analytics.imbalance import Imbalance
    from liqmap.analytics.levels import Cluster

_ROW_STEP = 0.1  # label rows are this fraction of the tallest bar apart


@dataclass(frozen=True)
class _Drawn:
    """Everything both backends draw, in display units."""

    lm: LiqMap  # windowed (and possibly merged) map
    layers: list[Layer]
    cum_long: np.ndarray  # NaN at/above price
    cum_short: np.ndarray  # NaN at/below price
    labels: list[Cluster]
    label_y: list[float]  # label heights (bar axis)
    top: float  # tallest stacked bar
    head: str
    sub: str | None

    def bar_top(self, price: float) -> float:
        """Height of the stacked bar nearest ``price``."""
        i = int(np.argmin(np.abs(self.lm.price_bins - price)))
        return float(sum(layer.usd[i] for layer in self.layers))

    @property
    def cum_max(self) -> float:
        """Largest cumulative value drawn (at least 1, so empty maps still get an axis)."""
        return max(float(np.nanmax(np.nan_to_num(np.r_[self.cum_long, self.cum_short]))), 1.0)

    @property
    def y_max(self) -> float:
        """Upper limit of the bar axis, leaving room for the labels and the price tag."""
        return max([self.top * 1.12, *(y + 0.16 * self.top for y in self.label_y)])


def plot_liqmap(
    lm: LiqMap,
    *,
    clusters: Sequence[Cluster] | None = None,
    imbalance: Imbalance | None = None,
    stack: Stack | str = Stack.AUTO,
    window_pct: float | None = 10.0,
    max_bars: int = 160,
    top_clusters: int = 6,
    backend: Backend | str = Backend.PLOTLY,
    title: str | None = None,
    simulated: bool | None = None,
) -> go.Figure | Figure:
    """Draw a liquidation map around ``lm.price``.

    Bars: notional whose liquidation price falls in each bin, longs (red) and shorts (green), stacked
    by leverage or exchange (``stack``); lines: cumulative longs liquidated on a fall and shorts on a
    rally (right axis). ``clusters`` (a :class:`~liqmap.analytics.report.MapReport`'s) are labelled
    ``#1 $1.2B shorts``: the ``top_clusters`` best ranked, every one of them (the window widens to take them
    in, so labels never skip a rank); ``imbalance`` (the report's) goes in the subtitle. ``window_pct`` limits the
    price axis to ±% around price (``None``: all bins); more than ``max_bars`` bins are merged.
    ``simulated`` (default: the map holds a ``sim`` exchange layer) adds "simulated data" to the title.

    >>> fig = plot_liqmap(lm, clusters=report.clusters, imbalance=report.imbalance)   # doctest: +SKIP
    """
    backend = Backend(backend)
    used = resolve_stack(lm, stack)
    ranked = ranked_clusters(clusters, top_clusters)
    view = display_map(lm, _window_with(lm, ranked, window_pct), max_bars)
    drawn_layers = layers(view, used)
    prices = view.price_bins
    half = view.bin_usd / 2
    labels = [c for c in ranked if prices[0] - half <= c.peak_price <= prices[-1] + half]
    top = max(float(np.sum([layer.usd for layer in drawn_layers], axis=0).max()), 1.0)
    rows = label_rows(labels, float(prices[-1] - prices[0]))
    drawn = _Drawn(
        lm=view,
        layers=drawn_layers,
        cum_long=np.where(prices < view.price, view.long_cumulative_usd, np.nan),
        cum_short=np.where(prices > view.price, view.short_cumulative_usd, np.nan),
        labels=labels,
        label_y=[top * (1.06 + _ROW_STEP * r) for r in rows],
        top=top,
        head=st.provenance_title(title or _headline(lm), st.is_simulated(lm) if simulated is None else simulated),
        sub=imbalance_line(imbalance),
    )
    return _plotly(drawn) if backend is Backend.PLOTLY else _mpl(drawn)


def _window_with(lm: LiqMap, ranked: Sequence[Cluster], window_pct: float | None) -> float | None:
    """``window_pct`` widened so every ranked cluster's peak lies inside with two bins to spare."""
    if window_pct is None or not ranked:
        return window_pct
    spare = 2 * lm.bin_usd
    needed = max(abs(c.peak_price - lm.price) + spare for c in ranked) / lm.price * 100
    return max(float(window_pct), needed)


def _headline(lm: LiqMap) -> str:
    when = pd.Timestamp(lm.as_of_ms, unit="ms").strftime("%Y-%m-%d %H:%M UTC")
    model = f" · model {lm.model}" if lm.model else ""
    profile = f" · profile {lm.profile}" if lm.profile else ""
    return f"{lm.symbol} liquidation map · {when} · price {st.fmt_price(lm.price)}{model}{profile}"


def _side_color(c: Cluster) -> str:
    return st.LONG if c.side is Side.LONG else st.SHORT


def _plotly(d: _Drawn) -> go.Figure:
    import plotly.graph_objects as go

    lm, prices = d.lm, d.lm.price_bins
    fmt = np.vectorize(st.fmt_usd, otypes=[object])
    fig = go.Figure()
    for layer in d.layers:
        fig.add_trace(
            go.Bar(
                x=prices,
                y=layer.usd,
                name=layer.name,
                marker={
                    "color": layer.color,
                    "line": {"width": 0},
                    **({"pattern": st.SHORT_PATTERN_PLOTLY} if layer.side is Side.SHORT else {}),
                },
                customdata=fmt(layer.usd),
                hovertemplate=f"{layer.name}<br>price %{{x:$,.2f}}<br><b>%{{customdata}}</b><extra></extra>",
            )
        )
    for name, cum, color in (("cumulative longs", d.cum_long, st.LONG), ("cumulative shorts", d.cum_short, st.SHORT)):
        fig.add_trace(
            go.Scatter(
                x=prices,
                y=cum,
                name=name,
                yaxis="y2",
                mode="lines",
                line={"color": color, "width": 2},
                customdata=fmt(np.nan_to_num(cum)),
                hovertemplate=f"{name} to %{{x:$,.2f}}: <b>%{{customdata}}</b><extra></extra>",
            )
        )
    annotations: list[dict[str, object]] = [
        {
            "x": c.peak_price,  # the arrow points at the cluster's bar ...
            "y": d.bar_top(c.peak_price),
            "ax": c.peak_price,  # ... from its label, placed on a row that keeps labels apart
            "ay": y,
            "axref": "x",
            "ayref": "y",
            "yanchor": "bottom",
            "text": cluster_label(c),
            "showarrow": True,
            "arrowhead": 0,
            "arrowcolor": st.MUTED,
            "font": {"color": _side_color(c), "size": 12},
            "bgcolor": st.PANEL,
            "bordercolor": st.GRID,
        }
        for c, y in zip(d.labels, d.label_y, strict=True)
    ]
    annotations += [
        {
            "x": lm.price,
            "y": 1.0,
            "yref": "paper",
            "text": f"price {st.fmt_price(lm.price)}",
            "showarrow": False,
            "font": {"color": st.PRICE},
            "yanchor": "bottom",
            "bgcolor": st.BG,
        },
        {
            "text": CAVEAT,
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": -0.13,
            "showarrow": False,
            "font": {"size": 10, "color": st.MUTED},
            "xanchor": "left",
        },
    ]
    title = d.head if d.sub is None else f"{d.head}<br><span style='font-size:12px;color:{st.MUTED}'>{d.sub}</span>"
    fig.update_layout(
        st.plotly_layout(
            title,
            barmode="stack",
            bargap=0.0,
            xaxis={
                "title": "liquidation price",
                "tickformat": st.plotly_price_tickformat(prices[0], prices[-1]),
                "gridcolor": st.GRID,
                "color": st.TEXT,
            },
            yaxis={
                "title": "liquidation notional per bin",
                "gridcolor": st.GRID,
                "color": st.TEXT,
                **st.usd_ticks(d.y_max),
            },
            yaxis2={
                "title": "cumulative",
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "color": st.TEXT,
                **st.usd_ticks(d.cum_max * 1.08),
            },
            legend={
                "orientation": "h",
                "y": -0.2,
                "x": 0.5,
                "xanchor": "center",
                "yanchor": "top",
                "traceorder": "normal",
            },
            shapes=[
                {
                    "type": "line",
                    "x0": lm.price,
                    "x1": lm.price,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"color": st.PRICE, "width": 1.5, "dash": "dash"},
                }
            ],
            annotations=annotations,
            margin={"l": 80, "r": 80, "t": 100, "b": 130},
        )
    )
    return fig


def _mpl(d: _Drawn) -> Figure:
    lm, prices = d.lm, d.lm.price_bins
    fig, (ax,) = st.mpl_figure(size=(14.0, 7.0))
    bottom = np.zeros(len(prices))
    bar_handles: dict[str, BarContainer] = {}
    for layer in d.layers:  # every layer, empty ones too, so the legend lists them all
        short = layer.side is Side.SHORT
        bar_handles[layer.name] = ax.bar(
            prices,
            layer.usd,
            width=lm.bin_usd,
            bottom=bottom,
            color=layer.color,
            label=layer.name,
            linewidth=0,
            edgecolor=st.BG if short else layer.color,
            hatch=st.SHORT_HATCH_MPL if short else None,
        )
        bottom = bottom + layer.usd
    ax2 = ax.twinx()
    for cum, color, name in ((d.cum_long, st.LONG, "cumulative longs"), (d.cum_short, st.SHORT, "cumulative shorts")):
        ax2.plot(prices, cum, color=color, linewidth=2, label=name)
        ax2.fill_between(prices, np.nan_to_num(cum), color=color, alpha=0.07, linewidth=0)
    ax2.set_ylim(0, d.cum_max * 1.08)
    ax2.yaxis.set_major_formatter(st.usd_formatter())
    ax2.tick_params(colors=st.TEXT, labelsize=9)
    for spine in ax2.spines.values():
        spine.set_color(st.GRID)
    ax2.set_ylabel("cumulative liquidations", color=st.TEXT)
    ax.set_ylim(0, d.y_max)
    ax.axvline(lm.price, color=st.PRICE, linestyle="--", linewidth=1.4, zorder=5)
    ax.text(
        lm.price,
        d.y_max * 0.985,
        st.mpl_text(f" price {st.fmt_price(lm.price)} "),
        color=st.PRICE,
        fontsize=10,
        va="top",
        ha="center",
        fontweight="bold",
        zorder=8,
        bbox={"fc": st.BG, "ec": st.PRICE, "pad": 2},
    )
    for c, y in zip(d.labels, d.label_y, strict=True):
        ax.annotate(
            st.mpl_text(cluster_label(c)),
            xy=(c.peak_price, d.bar_top(c.peak_price)),
            xytext=(c.peak_price, y),
            ha="center",
            va="bottom",
            fontsize=9.5,
            fontweight="bold",
            color=_side_color(c),
            arrowprops={"arrowstyle": "-", "color": st.MUTED, "lw": 0.8},
            bbox={"boxstyle": "round,pad=0.25", "fc": st.PANEL, "ec": st.GRID},
            zorder=7,
        )
    ax.set_xlim(prices[0] - lm.bin_usd, prices[-1] + lm.bin_usd)
    ax.xaxis.set_major_formatter(st.price_formatter())
    ax.yaxis.set_major_formatter(st.usd_formatter())
    ax.set_ylabel("liquidation notional per bin", color=st.TEXT)
    # legend: one column per layer, its long entry above its short one, then the cumulative curves
    longs = [layer.name for layer in d.layers if layer.side is Side.LONG]
    shorts = [layer.name for layer in d.layers if layer.side is Side.SHORT]
    handles: list[Artist | BarContainer] = [bar_handles[n] for pair in zip(longs, shorts, strict=True) for n in pair]
    handles += ax2.get_legend_handles_labels()[0]
    fig.subplots_adjust(bottom=0.14)
    legend = fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.03),
        ncol=len(longs) + 1,
        fontsize=8.5,
        frameon=False,
    )
    for text in legend.get_texts():
        text.set_color(st.TEXT)
    ax.set_title(st.mpl_text(d.head), color=st.TEXT, loc="left", fontsize=13, fontweight="bold", pad=22 if d.sub else 8)
    if d.sub:
        ax.text(0, 1.015, st.mpl_text(d.sub), transform=ax.transAxes, color=st.MUTED, fontsize=10.5)
    fig.text(0.01, 0.005, CAVEAT, color=st.MUTED, fontsize=8)
    return fig
