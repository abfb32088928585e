"""Liquidation heatmap: time × price, colour = outstanding liquidation notional, price overlaid."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from liqmap import CAVEAT
from liqmap.data.transform import candles
from liqmap.engine.results import Heatmap
from liqmap.errors import LiqmapError
from liqmap.timeframes import MS_PER_DAY, MS_PER_HOUR, bar_step_ms
from liqmap.viz import _style as st
from liqmap.viz._io import Backend

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


class HeatSide(StrEnum):
    """Which positions a heatmap colours: ``both`` (long + short), ``long`` or ``short``."""

    BOTH = "both"
    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True)
class _Grid:
    """The heatmap reduced to what is drawn: ``usd`` has shape (bins, times)."""

    times: pd.DatetimeIndex
    prices: np.ndarray
    usd: np.ndarray
    close: np.ndarray
    step_ms: float
    bin_usd: float


def _group_mean(a: np.ndarray, k: int, axis: int) -> np.ndarray:
    n = a.shape[axis]
    idx = np.arange(0, n, k)
    sums = np.add.reduceat(a, idx, axis=axis)
    counts = np.diff(np.append(idx, n))
    shape = [1] * a.ndim
    shape[axis] = len(idx)
    return sums / counts.reshape(shape)


def _grid(hm: Heatmap, side: HeatSide, window_pct: float | None, max_times: int, max_bins: int) -> _Grid:
    keep = slice(None) if window_pct is None else hm.bins_within(window_pct)
    long_usd, short_usd = hm.long_usd[:, keep], hm.short_usd[:, keep]
    usd = {HeatSide.BOTH: long_usd + short_usd, HeatSide.LONG: long_usd, HeatSide.SHORT: short_usd}[side]
    prices = np.asarray(hm.price_bins[keep], dtype=float)
    times_ms = np.asarray(hm.times_ms, dtype=np.int64)
    close = np.asarray(hm.close, dtype=float)
    kt = max(1, -(-len(times_ms) // max_times))
    if kt > 1:  # average the outstanding notional over each group of snapshots
        usd = _group_mean(usd, kt, axis=0)
        close = close[np.minimum(np.arange(0, len(times_ms), kt) + kt - 1, len(times_ms) - 1)]
        times_ms = times_ms[::kt]
    kp = max(1, -(-len(prices) // max_bins))
    bin_usd = hm.bin_usd * kp
    if kp > 1:  # merge adjacent price bins: notional adds up
        usd = _group_mean(usd, kp, axis=1) * kp
        prices = _group_mean(prices, kp, axis=0)
    step_ms = float(bar_step_ms(times_ms) or MS_PER_HOUR)
    return _Grid(pd.to_datetime(times_ms, unit="ms"), prices, usd.T, close, step_ms, bin_usd)


def _candles(bars: pd.DataFrame, grid: _Grid) -> pd.DataFrame:
    """:func:`liqmap.data.transform.candles` of the drawn time columns (each ``step_ms`` wide), with their
    ``time``; columns without a bar are left out."""
    times_ms = grid.times.as_unit("ms").asi8
    out = candles(bars, times_ms, int(times_ms[-1] + grid.step_ms))
    out["time"] = grid.times
    return out.dropna().reset_index(drop=True)


def _title(hm: Heatmap, side: HeatSide, title: str | None, simulated: bool | None) -> str:
    sim = st.is_simulated(hm) if simulated is None else simulated
    if title:
        return st.provenance_title(title, sim)
    what = {HeatSide.BOTH: "longs + shorts", HeatSide.LONG: "longs", HeatSide.SHORT: "shorts"}[side]
    model = f" · model {hm.model}" if hm.model else ""
    profile = f" · profile {hm.profile}" if hm.profile else ""
    return st.provenance_title(f"{hm.symbol} liquidation heatmap · {what}{model}{profile}", sim)


def plot_heatmap(
    hm: Heatmap,
    *,
    side: HeatSide | str = HeatSide.BOTH,
    bars: pd.DataFrame | None = None,
    scale: st.ColorScale | str = st.ColorScale.LOG,
    backend: Backend | str = Backend.PLOTLY,
    window_pct: float | None = 10.0,
    max_times: int = 600,
    max_bins: int = 400,
    title: str | None = None,
    simulated: bool | None = None,
) -> go.Figure | Figure:
    """Draw a liquidation heatmap: snapshot time on x (UTC), price on y, colour = outstanding notional on
    the dashboard's scale (:data:`liqmap.viz._style.HEAT_STOPS`), the heatmap's ``close`` as a white line.

    ``bars`` (canonical bars, optional) add candles under the close line: per drawn time column, venues
    averaged (:func:`liqmap.data.transform.candles`, the dashboard's candles too).
    ``scale`` is ``log`` (default), ``quantile`` or ``linear``; empty cells show the background.
    ``window_pct`` keeps price bins within that % of the close range (``None``: all bins); more than
    ``max_times`` snapshots or ``max_bins`` bins are merged for display (time: mean, price: sum).
    ``simulated`` (default: the heatmap holds a ``sim`` exchange layer) adds "simulated data" to the title.
    Returns a plotly figure (``backend='plotly'``) or a matplotlib figure (``'matplotlib'``); write
    either with :func:`liqmap.viz.save`.

    >>> fig = plot_heatmap(hm, scale="quantile")            # doctest: +SKIP
    >>> save(fig, "heatmap.html")                           # doctest: +SKIP
    """
    side, scale, backend = HeatSide(side), st.ColorScale(scale), Backend(backend)
    if max_times < 1 or max_bins < 2:
        raise LiqmapError("max_times must be ≥ 1 and max_bins ≥ 2")
    grid = _grid(hm, side, window_pct, max_times, max_bins)
    ohlc = None if bars is None or bars.empty else _candles(bars, grid)
    head = _title(hm, side, title, simulated)
    if backend is Backend.PLOTLY:
        return _plotly(grid, ohlc, scale, head, side)
    return _mpl(grid, ohlc, scale, head)


def _plotly(grid: _Grid, ohlc: pd.DataFrame | None, scale: st.ColorScale, head: str, side: HeatSide) -> go.Figure:
    import plotly.graph_objects as go

    z, ticks, labels = st.color_values(grid.usd, scale)
    text = np.vectorize(st.fmt_usd, otypes=[object])(grid.usd)
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=grid.times,
            y=grid.prices,
            z=z,
            text=text,
            name=f"{side.value} liquidations",
            colorscale=st.HEAT_PLOTLY,
            hoverongaps=False,
            hovertemplate="%{x|%Y-%m-%d %H:%M} UTC<br>price %{y:$,.2f}<br><b>%{text}</b> liquidates here"
            "<extra></extra>",
            colorbar={
                "title": {"text": "notional", "font": {"color": st.TEXT}},
                "tickvals": ticks,
                "ticktext": labels,
                "tickfont": {"color": st.TEXT},
                "outlinewidth": 0,
            },
        )
    )
    if ohlc is not None:
        fig.add_trace(
            go.Candlestick(
                x=ohlc["time"],
                open=ohlc["open"],
                high=ohlc["high"],
                low=ohlc["low"],
                close=ohlc["close"],
                name="price",
                increasing={"line": {"color": st.CANDLE_UP, "width": 1}, "fillcolor": st.CANDLE_UP},
                decreasing={"line": {"color": st.CANDLE_DOWN, "width": 1}, "fillcolor": st.CANDLE_DOWN},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=grid.times,
            y=grid.close,
            mode="lines",
            name="close",
            line={"color": st.CLOSE_LINE, "width": 1.3},
            hovertemplate="%{x|%Y-%m-%d %H:%M} UTC<br>close %{y:$,.2f}<extra></extra>",
        )
    )
    start_ms, end_ms = int(grid.times[0].value // 1_000_000), int(grid.times[-1].value // 1_000_000)
    fig.update_layout(
        st.plotly_layout(
            head,
            showlegend=False,
            yaxis={
                "gridcolor": st.GRID,
                "color": st.TEXT,
                "title": "price",
                "tickformat": st.plotly_price_tickformat(grid.prices[0], grid.prices[-1]),
            },
            xaxis={
                "gridcolor": st.GRID,
                "color": st.TEXT,
                "rangeslider": {"visible": False},
                "title": st.time_axis_title(start_ms, end_ms),
                **st.plotly_date_axis(),
            },
            annotations=[_caveat_annotation()],
            margin={"l": 80, "r": 30, "t": 60, "b": 80},
        )
    )
    return fig


def _caveat_annotation() -> dict[str, object]:
    return {
        "text": CAVEAT,
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "y": -0.1,
        "showarrow": False,
        "font": {"size": 10, "color": st.MUTED},
        "xanchor": "left",
    }


def _mpl(grid: _Grid, ohlc: pd.DataFrame | None, scale: st.ColorScale, head: str) -> Figure:
    import matplotlib.dates as mdates

    z, ticks, labels = st.color_values(grid.usd, scale)
    fig, (ax,) = st.mpl_figure(size=(14.0, 7.5))
    x = mdates.date2num(grid.times.to_pydatetime())
    step_days = grid.step_ms / MS_PER_DAY
    x_edges = np.append(x, x[-1] + step_days)
    half = grid.bin_usd / 2
    y_edges = np.append(grid.prices - half, grid.prices[-1] + half)
    mesh = ax.pcolormesh(
        x_edges, y_edges, np.ma.masked_invalid(z), cmap=st.heat_cmap(), shading="flat", rasterized=True
    )
    if ticks:
        mesh.set_clim(ticks[0], ticks[-1])
        cbar = fig.colorbar(mesh, ax=ax, pad=0.01, fraction=0.035)
        cbar.set_ticks(ticks, labels=labels)
        cbar.ax.tick_params(colors=st.TEXT, labelsize=9)
        cbar.outline.set_visible(False)
        cbar.set_label("outstanding liquidation notional", color=st.TEXT)
    if ohlc is not None:
        cx = mdates.date2num(ohlc["time"].dt.to_pydatetime()) + step_days / 2
        up = (ohlc["close"] >= ohlc["open"]).to_numpy()
        colors = [st.CANDLE_UP if u else st.CANDLE_DOWN for u in up]
        ax.vlines(cx, ohlc["low"], ohlc["high"], colors=colors, linewidth=0.8)
        body_lo = np.minimum(ohlc["open"], ohlc["close"])
        body_h = np.maximum(np.abs(ohlc["close"] - ohlc["open"]), grid.bin_usd * 0.05)
        ax.bar(cx, body_h, bottom=body_lo, width=step_days * 0.7, color=colors, linewidth=0)
    ax.plot(x + step_days / 2, grid.close, color=st.CLOSE_LINE, linewidth=1.2, label="close")
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    st.mpl_date_axis(ax)
    start_ms, end_ms = int(grid.times[0].value // 1_000_000), int(grid.times[-1].value // 1_000_000)
    ax.set_xlabel(st.time_axis_title(start_ms, end_ms), color=st.TEXT)
    ax.yaxis.set_major_formatter(st.price_formatter())
    ax.grid(False)
    ax.set_title(st.mpl_text(head), color=st.TEXT, loc="left", fontsize=13, fontweight="bold")
    fig.text(0.01, 0.005, CAVEAT, color=st.MUTED, fontsize=8)
    return fig
