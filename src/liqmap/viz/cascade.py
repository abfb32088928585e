"""Cascade chart: the price path round by round and the notional liquidated in each round."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from liqmap import CAVEAT
from liqmap.errors import LiqmapError
from liqmap.viz import _style as st
from liqmap.viz._io import Backend

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


def _path(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """Prices at rounds 0..n (round 0 = start) and notional liquidated in rounds 1..n."""
    try:
        rounds = list(result.rounds)
        prices = np.array([float(result.start_price)] + [float(r.price) for r in rounds])
        liquidated = np.array([float(r.liquidated_usd) for r in rounds])
    except AttributeError as exc:
        raise LiqmapError(
            f"plot_cascade needs start_price and rounds with price/liquidated_usd ({exc}); "
            "pass a liqmap.analytics cascade result"
        ) from None
    return prices, liquidated


def _headline(result: Any, prices: np.ndarray, liquidated: np.ndarray, title: str | None) -> tuple[str, str]:
    """Title (``Liquidation cascade · shock +1.00%``) and a subtitle with the path and outcome."""
    shock = getattr(result, "shock_pct", None)
    head = title or "Liquidation cascade" + ("" if shock is None else f" · shock {st.fmt_pct(float(shock))}")
    move_pct = (prices[-1] / prices[0] - 1) * 100
    total = getattr(result, "total_liquidated_usd", None)
    parts = [
        f"{st.fmt_price(prices[0])} → {st.fmt_price(prices[-1])} ({st.fmt_pct(move_pct)})",
        f"{st.fmt_usd(float(total) if total is not None else float(liquidated.sum()))} liquidated",
    ]
    amp = getattr(result, "amplification", None)
    if amp is not None and np.isfinite(float(amp)):
        parts.append(f"amplification {float(amp):.2f}×")
    return head, " · ".join(parts)


def plot_cascade(
    result: Any,
    *,
    backend: Backend | str = Backend.PLOTLY,
    title: str | None = None,
    simulated: bool | None = None,
) -> go.Figure | Figure:
    """Draw a cascade run: price after each round (top) and notional liquidated per round (bottom).

    ``result`` is any object with ``start_price`` and ``rounds`` (each with ``price`` and
    ``liquidated_usd``), e.g. the ``liqmap.analytics`` cascade result; ``shock_pct``,
    ``total_liquidated_usd`` and ``amplification`` are shown in the title when present. A cascade result
    does not know where its map came from: pass ``simulated=True`` for a map of simulated data (default: the
    result's own ``simulated`` attribute, else real) and the title says "simulated data".
    """
    backend = Backend(backend)
    prices, liquidated = _path(result)
    head, sub = _headline(result, prices, liquidated, title)
    head = st.provenance_title(head, bool(getattr(result, "simulated", False)) if simulated is None else simulated)
    rounds = np.arange(len(prices))
    up = prices[-1] >= prices[0]
    color = st.SHORT if up else st.LONG  # a rally liquidates shorts, a fall longs
    if backend is Backend.PLOTLY:
        return _plotly(rounds, prices, liquidated, head, sub, color)
    return _mpl(rounds, prices, liquidated, head, sub, color)


def _tick_labels(rounds: np.ndarray) -> list[str]:
    """``start`` for the pre-shock price, then the round numbers (round 1 = the shock's own round)."""
    return ["start", *(str(r) for r in rounds[1:])]


def _plotly(
    rounds: np.ndarray, prices: np.ndarray, liquidated: np.ndarray, head: str, sub: str, color: str
) -> go.Figure:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.06)
    fig.add_trace(
        go.Scatter(
            x=rounds,
            y=prices,
            mode="lines+markers",
            name="price",
            line={"color": st.PRICE, "width": 2},
            marker={"size": 7},
            customdata=[st.fmt_price(p) for p in prices],
            hovertemplate="round %{x}<br>price <b>%{customdata}</b><extra></extra>",
        ),
        row=1,
        col=1,
    )
    labels = [st.fmt_usd(v) for v in liquidated]
    fig.add_trace(
        go.Bar(
            x=rounds[1:],
            y=liquidated,
            name="liquidated",
            marker={"color": color},
            text=labels,
            textposition="outside",
            textfont={"color": st.TEXT},
            hovertemplate="round %{x}<br>liquidated <b>%{text}</b><extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.add_hline(y=prices[0], line={"color": st.MUTED, "dash": "dot", "width": 1}, row=1, col=1)
    fig.update_layout(
        st.plotly_layout(
            f"{head}<br><span style='font-size:12px;color:{st.MUTED}'>{sub}</span>",
            showlegend=False,
            margin={"l": 80, "r": 30, "t": 80, "b": 90},
            annotations=[
                {
                    "text": CAVEAT,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0,
                    "y": -0.14,
                    "showarrow": False,
                    "font": {"size": 10, "color": st.MUTED},
                    "xanchor": "left",
                }
            ],
        )
    )
    fig.update_xaxes(gridcolor=st.GRID, color=st.TEXT, tickvals=rounds, ticktext=_tick_labels(rounds))
    fig.update_xaxes(title="round", row=2, col=1)
    fig.update_yaxes(gridcolor=st.GRID, color=st.TEXT)
    fig.update_yaxes(title="price", tickformat=st.plotly_price_tickformat(prices.min(), prices.max()), row=1, col=1)
    fig.update_yaxes(title="liquidated", row=2, col=1, **st.usd_ticks(float(liquidated.max(initial=0.0)) * 1.25))
    return fig


def _mpl(rounds: np.ndarray, prices: np.ndarray, liquidated: np.ndarray, head: str, sub: str, color: str) -> Figure:
    fig, (ax_p, ax_l) = st.mpl_figure(2, height_ratios=(3, 2), size=(12.0, 7.0))
    ax_p.plot(rounds, prices, "-o", color=st.PRICE, linewidth=2, markersize=5)
    ax_p.axhline(prices[0], color=st.MUTED, linestyle=":", linewidth=1)
    ax_p.yaxis.set_major_formatter(st.price_formatter())
    ax_p.set_ylabel("price", color=st.TEXT)
    bars = ax_l.bar(rounds[1:], liquidated, color=color, width=0.6)
    ax_l.bar_label(bars, labels=[st.mpl_text(st.fmt_usd(v)) for v in liquidated], color=st.TEXT, fontsize=9, padding=2)
    top = float(liquidated.max(initial=0.0))
    if top > 0:
        ax_l.set_ylim(0, top * 1.25)
        ax_l.yaxis.set_major_formatter(st.usd_formatter())
    else:
        ax_l.set_ylim(0, 1)
        ax_l.set_yticks([0], labels=["$0"])
        ax_l.text(0.5, 0.5, "no liquidations reached", transform=ax_l.transAxes, color=st.MUTED, ha="center")
    ax_l.set_ylabel("liquidated", color=st.TEXT)
    ax_l.set_xlabel("round", color=st.TEXT)
    ax_l.set_xticks(rounds, labels=_tick_labels(rounds))
    ax_p.set_title(st.mpl_text(head), color=st.TEXT, loc="left", fontsize=12, fontweight="bold", pad=20)
    ax_p.text(0, 1.02, st.mpl_text(sub), transform=ax_p.transAxes, color=st.MUTED, fontsize=10.5)
    fig.text(0.01, 0.005, CAVEAT, color=st.MUTED, fontsize=8)
    return fig
