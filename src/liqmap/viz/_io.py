"""Backends and file output: interactive HTML (plotly, plotly.js inlined) or static images (matplotlib)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, cast

from liqmap.errors import LiqmapError

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from matplotlib.figure import Figure

_IMAGE_SUFFIXES = (".png", ".svg", ".pdf")


class Backend(StrEnum):
    """Which library draws a chart: ``plotly`` (interactive HTML) or ``matplotlib`` (PNG/SVG/PDF)."""

    PLOTLY = "plotly"
    MATPLOTLIB = "matplotlib"


def backend_for(path: str | Path) -> Backend:
    """The backend that writes ``path``: ``.html`` → plotly, ``.png``/``.svg``/``.pdf`` → matplotlib."""
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        return Backend.PLOTLY
    if suffix in _IMAGE_SUFFIXES:
        return Backend.MATPLOTLIB
    raise LiqmapError(f"{path}: cannot tell the chart format from {suffix or 'no suffix'!r}; use .html or .png")


def save(fig: go.Figure | Figure, path: str | Path) -> Path:
    """Write ``fig`` to ``path``: a plotly figure as self-contained HTML (plotly.js inlined, no CDN, works
    offline), a matplotlib figure as PNG/SVG/PDF. Creates parent directories; returns the path."""
    out = Path(path)
    backend = backend_for(out)
    is_plotly = hasattr(fig, "write_html")
    if is_plotly != (backend is Backend.PLOTLY):
        drawn = "plotly" if is_plotly else "matplotlib"
        raise LiqmapError(
            f"{out}: a {drawn} figure cannot be written as {out.suffix}; "
            f"draw it with backend='{backend.value}' (see liqmap.viz.backend_for)"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if is_plotly:
        cast("go.Figure", fig).write_html(out, include_plotlyjs=True, full_html=True, config={"displaylogo": False})
    else:
        fig.savefig(out, facecolor=fig.get_facecolor(), bbox_inches="tight")
    return out
