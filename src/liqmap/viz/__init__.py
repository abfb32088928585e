"""Charts and terminal views of liqmap results (renderers only: result objects in, figures/strings out).

Each chart draws with plotly (interactive, written as self-contained HTML with plotly.js inlined) or
matplotlib (PNG/SVG/PDF); :func:`save` picks the format from the file suffix and :func:`backend_for` tells
which backend a path needs::

    from liqmap.viz import backend_for, plot_heatmap, save
    save(plot_heatmap(hm, backend=backend_for("hm.png")), "hm.png")
"""

from liqmap.viz._io import Backend, backend_for, save
from liqmap.viz._layers import Stack
from liqmap.viz._style import ColorScale, fmt_price, fmt_usd
from liqmap.viz.cascade import plot_cascade
from liqmap.viz.heatmap import HeatSide, plot_heatmap
from liqmap.viz.liqmap_chart import plot_liqmap
from liqmap.viz.terminal import map_renderable, render_map_text

__all__ = [
    "Backend",
    "ColorScale",
    "HeatSide",
    "Stack",
    "backend_for",
    "fmt_price",
    "fmt_usd",
    "map_renderable",
    "plot_cascade",
    "plot_heatmap",
    "plot_liqmap",
    "render_map_text",
    "save",
]
