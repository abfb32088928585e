"""Liquidation map: bars per price bin (longs below, shorts above price), stacked by leverage or exchange,
cumulative curves on a second axis, current price marked, clusters annotated with their size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from liqmap import CAVEAT
from liqmap.engine.results import LiqMap
from liqmap.enums import Side
from liqmap.viz import _style as st
from liqmap.viz._io import Backend
from liqmap.viz._layers import Cluster, Layer, Stack, imbalance_line, layers, parse_clusters, resolve_stack, window_mask

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


def _headline(lm: LiqMap, title: str | None) -> str:
    if title:
        return title
    when = pd.Timestamp(lm.as_of_ms, unit="ms").strftime("%Y-%m-%d %H:%M UTC")
    model = f" · model {lm.model}" if lm.model else ""
    return f"{lm.symbol} liquidation map · {when} · price {st.fmt_price(lm.price)}{model}"


def plot_liqmap(
    lm: LiqMap,
    *,
    clusters: Sequence[Mapping[str, Any] | object] | None = None,
    imbalance: Mapping[str, Any] | None = None,
    stack: Stack | str = Stack.AUTO,
    window_pct: float | None = 10.0,
    top_clusters: int = 6,
    backend: Backend | str = Backend.PLOTLY,
    title: str | None = None,
) -> go.Figure | Figure:
    """Draw a liquidation map around ``lm.price``.

    Bars: notional whose liquidation price falls in each bin, longs (red) and shorts (green), stacked
    by leverage or exchange (``stack``); lines: cumulative longs liquidated on a fall and shorts on a
    rally (right axis). ``clusters`` (from ``liqmap.analytics.report.map_report(lm)["clusters"]``: items
    with ``side, peak_price, notional_usd, rank``) are labelled ``#1 $1.2B shorts``; ``imbalance``
    (``window_pct, short_above_usd, long_below_usd``) goes in the subtitle. ``window_pct`` limits the
    price axis to ±% around price (``None``: all bins).

    >>> fig = plot_liqmap(lm, clusters=report["clusters"], backend="matplotlib")   # doctest: +SKIP
    """
    backend = Backend(backend)
    mask = window_mask(lm, window_pct)
    used = resolve_stack(lm, stack)
    drawn = layers(lm, used, mask)
    prices = lm.price_bins[mask]
    cum_long = np.where(prices < lm.price, lm.long_cumulative_usd[mask], np.nan)
    cum_short = np.where(prices > lm.price, lm.short_cumulative_usd[mask], np.nan)
    lo, hi = prices[0] - lm.bin_usd / 2, prices[-1] + lm.bin_usd / 2
    labels = [c for c in parse_clusters(clusters, top_clusters) if lo <= c.peak_price <= hi]
    sub = imbalance_line(imbalance)
    head = _headline(lm, title)
    args = (lm, prices, drawn, cum_long, cum_short, labels, head, sub)
    return _plotly(*args) if backend is Backend.PLOTLY else _mpl(*args)


def _bar_top(prices: np.ndarray, drawn: list[Layer], price: float) -> float:
    i = int(np.argmin(np.abs(prices - price)))
    return float(sum(layer.usd[i] for layer in drawn))


def _plotly(
    lm: LiqMap,
    prices: np.ndarray,
    drawn: list[Layer],
    cum_long: np.ndarray,
    cum_short: np.ndarray,
    labels: list[Cluster],
    head: str,
    sub: str | None,
) -> go.Figure:
    import plotly.graph_objects as go

    fmt = np.vectorize(st.fmt_usd, otypes=[object])
    fig = go.Figure()
    for layer in drawn:
        fig.add_trace(
            go.Bar(
                x=prices,
                y=layer.usd,
                name=layer.name,
                marker={"color": layer.color, "line": {"width": 0}},
                customdata=fmt(layer.usd),
                hovertemplate=f"{layer.name}<br>price %{{x:$,.2f}}<br><b>%{{customdata}}</b><extra></extra>",
            )
        )
    for name, cum, color in (("cumulative longs", cum_long, st.LONG), ("cumulative shorts", cum_short, st.SHORT)):
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
            "x": c.peak_price,
            "y": _bar_top(prices, drawn, c.peak_price),
            "text": c.label,
            "showarrow": True,
            "arrowhead": 2,
            "arrowcolor": st.TEXT,
            "ax": 0,
            "ay": -34 - 14 * (i % 3),
            "font": {"color": st.LONG if c.side is Side.LONG else st.SHORT, "size": 12},
            "bgcolor": "rgba(19,23,34,0.85)",
            "bordercolor": st.GRID,
        }
        for i, c in enumerate(labels)
    ]
    annotations.append(
        {
            "x": lm.price,
            "y": 1.0,
            "yref": "paper",
            "text": f"price {st.fmt_price(lm.price)}",
            "showarrow": False,
            "font": {"color": st.PRICE},
            "yanchor": "bottom",
            "bgcolor": st.BG,
        }
    )
    annotations.append(
        {
            "text": CAVEAT,
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": -0.13,
            "showarrow": False,
            "font": {"size": 10, "color": st.MUTED},
            "xanchor": "left",
        }
    )
    title = head if sub is None else f"{head}<br><span style='font-size:12px;color:{st.MUTED}'>{sub}</span>"
    fig.update_layout(
        st.plotly_layout(
            title,
            barmode="stack",
            bargap=0.08,
            xaxis={"title": "liquidation price", "tickformat": "$,.0f", "gridcolor": st.GRID, "color": st.TEXT},
            yaxis={
                "title": "liquidation notional per bin",
                "tickformat": "$.2s",
                "gridcolor": st.GRID,
                "color": st.TEXT,
            },
            yaxis2={
                "title": "cumulative",
                "overlaying": "y",
                "side": "right",
                "tickformat": "$.2s",
                "showgrid": False,
                "color": st.TEXT,
                "rangemode": "tozero",
            },
            legend={
                "orientation": "h",
                "y": 1.02,
                "x": 1,
                "xanchor": "right",
                "yanchor": "bottom",
                "font": {"color": st.TEXT},
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
            margin={"l": 80, "r": 80, "t": 110, "b": 80},
        )
    )
    return fig


def _mpl(
    lm: LiqMap,
    prices: np.ndarray,
    drawn: list[Layer],
    cum_long: np.ndarray,
    cum_short: np.ndarray,
    labels: list[Cluster],
    head: str,
    sub: str | None,
) -> Figure:
    fig, (ax,) = st.mpl_figure(size=(14.0, 7.0))
    bottom = np.zeros(len(prices))
    width = lm.bin_usd * 0.92
    for layer in drawn:
        if layer.usd.any():
            ax.bar(prices, layer.usd, width=width, bottom=bottom, color=layer.color, label=layer.name, linewidth=0)
        bottom = bottom + layer.usd
    ax2 = ax.twinx()
    ax2.plot(prices, cum_long, color=st.LONG, linewidth=2, label="cumulative longs")
    ax2.plot(prices, cum_short, color=st.SHORT, linewidth=2, label="cumulative shorts")
    ax2.fill_between(prices, np.nan_to_num(cum_long), color=st.LONG, alpha=0.07, linewidth=0)
    ax2.fill_between(prices, np.nan_to_num(cum_short), color=st.SHORT, alpha=0.07, linewidth=0)
    ax2.set_ylim(0, max(float(np.nanmax(np.nan_to_num(np.r_[cum_long, cum_short]))), 1.0) * 1.08)
    ax2.yaxis.set_major_formatter(st.usd_formatter())
    ax2.tick_params(colors=st.TEXT, labelsize=9)
    for spine in ax2.spines.values():
        spine.set_color(st.GRID)
    ax2.set_ylabel("cumulative liquidations", color=st.TEXT)
    top = max(float(bottom.max()), 1.0)
    ax.set_ylim(0, top * 1.3)
    ax.axvline(lm.price, color=st.PRICE, linestyle="--", linewidth=1.4, zorder=5)
    ax.text(
        lm.price,
        top * 1.27,
        st.mpl_text(f" price {st.fmt_price(lm.price)} "),
        color=st.PRICE,
        fontsize=10,
        va="top",
        ha="left",
        fontweight="bold",
        zorder=6,
        bbox={"fc": st.BG, "ec": st.PRICE, "pad": 2},
    )
    for i, c in enumerate(labels):
        y = _bar_top(prices, drawn, c.peak_price)
        ax.annotate(
            st.mpl_text(c.label),
            xy=(c.peak_price, y),
            xytext=(0, 18 + 13 * (i % 3)),
            textcoords="offset points",
            ha="center",
            fontsize=9.5,
            fontweight="bold",
            color=st.LONG if c.side is Side.LONG else st.SHORT,
            arrowprops={"arrowstyle": "-|>", "color": st.TEXT, "lw": 0.8},
            bbox={"boxstyle": "round,pad=0.25", "fc": st.PANEL, "ec": st.GRID},
            zorder=7,
        )
    ax.set_xlim(prices[0] - lm.bin_usd, prices[-1] + lm.bin_usd)
    ax.xaxis.set_major_formatter(st.price_formatter())
    ax.yaxis.set_major_formatter(st.usd_formatter())
    ax.set_ylabel("liquidation notional per bin", color=st.TEXT)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    fig.subplots_adjust(bottom=0.14)
    legend = fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.03),
        ncol=min(len(handles), 10),
        fontsize=8.5,
        frameon=False,
    )
    for text in legend.get_texts():
        text.set_color(st.TEXT)
    ax.set_title(st.mpl_text(head), color=st.TEXT, loc="left", fontsize=13, fontweight="bold", pad=22 if sub else 8)
    if sub:
        ax.text(0, 1.015, st.mpl_text(sub), transform=ax.transAxes, color=st.MUTED, fontsize=10.5)
    fig.text(0.01, 0.005, CAVEAT, color=st.MUTED, fontsize=8)
    return fig
