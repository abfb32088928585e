"""Helpers shared by the chart and demo tests: read back the figure a written HTML file carries, check PNGs."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np

from liqmap.analytics.imbalance import Imbalance
from liqmap.analytics.levels import Cluster
from liqmap.enums import Side

LEVERAGES = (10.0, 25.0, 50.0, 100.0)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def plotly_payload(path: Path) -> tuple[list[dict], dict]:
    """The ``data`` and ``layout`` passed to ``Plotly.newPlot`` in a written HTML file."""
    html = path.read_text()
    start = html.rindex("Plotly.newPlot(")  # the figure's call, after the inlined library
    dec = json.JSONDecoder()
    pos = html.index("[", start)
    data, end = dec.raw_decode(html, pos)
    layout, _ = dec.raw_decode(html, html.index("{", end))
    return data, layout


def decode(arr: object) -> np.ndarray:
    """A plotly JSON array (plain list or base64 typed array) as NumPy."""
    if isinstance(arr, dict) and "bdata" in arr:
        out = np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"]))
        shape = [int(s) for s in re.split(r",\s*", str(arr.get("shape", len(out))))]
        return out.reshape(shape)
    return np.asarray(arr)


def assert_offline_html(path):
    html = path.read_text()
    assert html.startswith("<html>") or html.lower().startswith("<!doctype html>")
    assert "plotly.js v" in html  # the library itself is inlined ...
    assert "<script src=" not in html.replace(" ", "")  # ... and nothing is fetched from a CDN
    assert path.stat().st_size > 3_000_000


def png_rgb(path: Path) -> np.ndarray:
    """The pixels of a PNG file, decoded, as a ``(height, width, 3)`` array of 0–255 integers."""
    import matplotlib.image as mpimg

    return np.round(mpimg.imread(path)[..., :3] * 255).astype(np.int16)


def colour_mask(rgb: np.ndarray, colour: str, tol: int = 3) -> np.ndarray:
    """Pixels of ``rgb`` within ``tol`` (per channel, 0–255) of the ``#rrggbb`` ``colour``."""
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return np.abs(rgb - target).max(axis=2) <= tol


def assert_png(path, min_width=1000, colours=()):
    """``path`` is a PNG of at least ``min_width`` × 500 pixels that decodes to a drawn chart: the chart
    background frames it (30–95 % of the pixels), and each of ``colours`` covers at least 200 pixels.
    Returns the decoded pixels (:func:`png_rgb`)."""
    from liqmap.viz._style import BG

    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= min_width and height >= 500
    rgb = png_rgb(path)
    assert rgb.shape == (height, width, 3)
    background = colour_mask(rgb, BG, tol=0).mean()
    assert 0.3 < background < 0.95, f"background covers {background:.0%} of the image"
    for colour in colours:
        assert colour_mask(rgb, colour).sum() >= 200, f"{colour} is (almost) absent from {path.name}"
    return rgb


def bar_heights_px(rgb: np.ndarray, colour: str) -> list[int]:
    """Heights in pixels of the solid bars of ``colour``, left to right: each run of image columns holding
    that colour is one bar, its height the most pixels of the colour in one of its columns."""
    per_column = colour_mask(rgb, colour).sum(axis=0)
    edges = np.flatnonzero(np.diff(np.r_[0, (per_column > 0).astype(int), 0]))
    return [int(per_column[a:b].max()) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def mpl_drawn(fig):
    """``fig`` drawn on an Agg canvas (tick labels are only final after a draw); returns ``fig``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig


def mpl_tick_texts(axis) -> list[str]:
    """The visible major tick labels of a drawn matplotlib ``axis`` (``ax.xaxis``, ``ax.yaxis``)."""
    lo, hi = sorted(axis.get_view_interval())
    ticks = axis.get_major_ticks()
    locs = axis.get_majorticklocs()
    return [t.label1.get_text() for t, v in zip(ticks, locs, strict=False) if lo <= v <= hi and t.label1.get_text()]


def mpl_bar_heights(ax) -> dict[str, np.ndarray]:
    """Bar heights per labelled bar series (``ax.bar(..., label=...)``) of a matplotlib axes."""
    return {c.get_label(): np.array([p.get_height() for p in c.patches]) for c in ax.containers}


def mpl_legend_texts(fig) -> list[str]:
    """Every entry of every legend of a matplotlib figure (figure legends and axes legends)."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def cluster(rank: int, side: str, peak_price: float, notional_usd: float, price: float = 1000.0) -> Cluster:
    """A map report cluster one $10 bin wide at ``peak_price`` (distance from ``price``)."""
    return Cluster(
        rank, Side.parse(side), peak_price - 5, peak_price + 5, peak_price, notional_usd, peak_price - price,
        (peak_price / price - 1) * 100,
    )  # fmt: skip


def imbalance(window_pct: float, short_above_usd: float, long_below_usd: float, price: float = 1000.0) -> Imbalance:
    """A map report imbalance within ±``window_pct`` of ``price``."""
    lo, hi = price * (1 - window_pct / 100), price * (1 + window_pct / 100)
    ratio = short_above_usd / long_below_usd if long_below_usd > 0 else None
    return Imbalance(price, lo, hi, window_pct, short_above_usd, long_below_usd, ratio, "")
