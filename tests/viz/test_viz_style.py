"""One look for both backends: trader units, month-and-day UTC dates, the categorical layer palette, the
dashboard's heatmap scale, cluster labels without gaps, and "simulated" in the title of simulated data."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from viz_helpers import LEVERAGES, cluster, mpl_bar_heights, mpl_drawn, mpl_legend_texts, mpl_tick_texts

from liqmap.engine.results import LiqMap
from liqmap.viz import _style as st
from liqmap.viz import fmt_usd, plot_cascade, plot_heatmap, plot_liqmap

APP_JS = Path(__file__).parents[2] / "src" / "liqmap" / "server" / "static" / "app.js"
TRADER_USD = re.compile(r"-?\$\d+(\.\d+)?[KMBT]?")


@pytest.mark.parametrize(
    ("value", "text"),
    [(5.5e9, "$5.5B"), (930.0, "$930"), (930e-9, "$0"), (-1.8e-6, "$0"), (-0.4, "$0"), (-0.6, "-$1"), (0.0, "$0")],
)
def test_fmt_usd_never_prints_si_prefixes_or_float_noise(value, text):
    assert fmt_usd(value) == text


def test_plotly_money_axes_use_trader_units_even_for_noise():
    bins = np.arange(955.0, 1055.0, 10.0)
    short = np.zeros(10)
    short[-2] = 5.5e9
    long = np.full(10, -1.8e-6)  # float noise left by proportional closes: the curve reads $0, not -$1.8µ
    lm = LiqMap("BTC/USDT:USDT", 0, 1000.0, bins, long, short)
    layout = plot_liqmap(lm, window_pct=None).layout
    for axis in (layout.yaxis, layout.yaxis2):
        assert axis.ticktext[0] == "$0" and all(TRADER_USD.fullmatch(t) for t in axis.ticktext), axis.ticktext
    assert layout.yaxis2.ticktext[-1] == "$5B"  # not "$5G"
    fig = mpl_drawn(plot_liqmap(lm, window_pct=None, backend="matplotlib"))
    for ax in fig.axes:
        texts = mpl_tick_texts(ax.yaxis)
        assert texts[0] == "$0" and all(TRADER_USD.fullmatch(t) for t in texts), texts


def test_dates_carry_months_in_both_backends(heatmap):
    assert st.date_tick_format(86_400_000) == "%b %d" and st.date_tick_format(3_600_000) == "%b %d %H:%M"
    fig = plot_heatmap(heatmap)
    stops = {tuple(s.dtickrange): s.value for s in fig.layout.xaxis.tickformatstops}
    assert stops == {(None, 86_400_000 * 0.999): "%b %d %H:%M", (86_400_000 * 0.999, None): "%b %d"}
    assert fig.layout.xaxis.title.text == "time (UTC) · 2026-01-01 → 2026-01-02"
    week = replace(  # 48 snapshots 4 h apart: eight days, ticks a day or more apart read "Jan 03"
        heatmap, times_ms=1_767_225_600_000 + 4 * 3_600_000 * np.arange(len(heatmap.times_ms), dtype=np.int64)
    )
    ax = mpl_drawn(plot_heatmap(week, backend="matplotlib")).axes[0]
    texts = mpl_tick_texts(ax.xaxis)
    assert len(texts) >= 3 and all(re.fullmatch(r"Jan \d\d", t) for t in texts), texts


def test_heatmap_uses_the_dashboard_scale_in_both_backends(heatmap):
    m = re.search(r"const HEAT = (\[.*?\]);\n", APP_JS.read_text())
    assert m, "app.js no longer defines const HEAT"
    dashboard = json.loads(m.group(1))
    assert [[float(p), c.lower()] for p, c in dashboard] == [[p, c] for p, c in st.HEAT_PLOTLY]
    heat = next(t for t in plot_heatmap(heatmap).data if t.type == "heatmap")
    assert [[p, c] for p, c in heat.colorscale] == st.HEAT_PLOTLY
    mesh = plot_heatmap(heatmap, backend="matplotlib").axes[0].collections[0]
    cmap = mesh.get_cmap()
    from matplotlib.colors import to_rgb

    for pos, color in st.HEAT_STOPS:  # 256 levels: within one step of each stop
        np.testing.assert_allclose(cmap(pos)[:3], to_rgb(color), atol=2 / 255)
    # the close line is drawn with or without candles
    line = next(t for t in plot_heatmap(heatmap).data if t.type == "scatter")
    assert line.name == "close" and line.line.color == st.CLOSE_LINE


def test_leverage_layers_are_categorical_and_shorts_hatched(liqmap_snapshot):
    fig = plot_liqmap(liqmap_snapshot, window_pct=None)
    bars = [t for t in fig.data if t.type == "bar"]
    colors = {b.name: b.marker.color for b in bars}
    longs = [colors[f"longs {lev:g}x"] for lev in LEVERAGES]
    assert len(set(longs)) == len(LEVERAGES) and set(longs) <= set(st.CATEGORICAL)  # four distinct hues
    assert longs == [colors[f"shorts {lev:g}x"] for lev in LEVERAGES]  # one colour per leverage, both sides
    assert colors["longs 100x"] == st.CATEGORICAL[0]  # assigned from the highest leverage down
    assert all((b.marker.pattern.shape == "/") == b.name.startswith("shorts") for b in bars)
    ax = plot_liqmap(liqmap_snapshot, window_pct=None, backend="matplotlib").axes[0]
    mpl = {c.get_label(): c.patches[0] for c in ax.containers}
    from matplotlib.colors import to_hex

    assert [to_hex(mpl[f"longs {lev:g}x"].get_facecolor()) for lev in LEVERAGES] == longs
    assert all((p.get_hatch() == st.SHORT_HATCH_MPL) == name.startswith("shorts") for name, p in mpl.items())


def test_empty_layers_stay_in_the_png_legend(liqmap_snapshot):
    lm = liqmap_snapshot
    lev_l = lm.long_by_leverage.copy()
    lev_l[0] = 0.0  # no 10x longs at all: "longs 10x" must still be listed
    lm = replace(lm, long_by_leverage=lev_l, long_usd=lev_l.sum(axis=0))
    fig = plot_liqmap(lm, window_pct=None, backend="matplotlib")
    assert "longs 10x" in mpl_legend_texts(fig)
    assert not mpl_bar_heights(fig.axes[0])["longs 10x"].any()


def test_cluster_labels_never_skip_a_rank(liqmap_snapshot):
    lm = liqmap_snapshot
    far = float(lm.price_bins[-3])  # ~ +10 % from price: outside a ±3 % window
    assert far / lm.price - 1 > 0.05
    clusters = [
        cluster(1, "short", lm.price * 1.01, 3e8, lm.price),
        cluster(2, "short", far, 2e8, lm.price),
        cluster(3, "long", lm.price * 0.99, 1e8, lm.price),
    ]
    fig = plot_liqmap(lm, clusters=clusters, window_pct=3.0)
    labels = [a.text for a in fig.layout.annotations if a.text.startswith("#")]
    assert labels == ["#1 $300M shorts", "#2 $200M shorts", "#3 $100M longs"]
    assert max(fig.data[0].x) >= far  # the window widened to take in #2
    ax = plot_liqmap(lm, clusters=clusters, window_pct=3.0, backend="matplotlib").axes[0]
    mpl = [t.get_text().replace("\\$", "$") for t in ax.texts if t.get_text().startswith("#")]
    assert mpl == labels


def test_simulated_data_says_so_in_every_title(heatmap, cascade):
    sim = replace(heatmap, by_exchange={"sim": (heatmap.long_usd, heatmap.short_usd)})
    real = replace(heatmap, by_exchange={"binance": (heatmap.long_usd, heatmap.short_usd)})
    assert "simulated" in plot_heatmap(sim).layout.title.text
    assert "simulated" not in plot_heatmap(real).layout.title.text
    assert "simulated" in plot_heatmap(sim, backend="matplotlib").axes[0].get_title(loc="left")
    assert "simulated" in plot_liqmap(sim.at()).layout.title.text
    assert "simulated" in plot_liqmap(sim.at(), title="my map").layout.title.text  # a custom title too
    assert "simulated" in plot_liqmap(sim.at(), backend="matplotlib").axes[0].get_title(loc="left")
    assert "simulated" not in plot_liqmap(real.at(), backend="matplotlib").axes[0].get_title(loc="left")
    assert "simulated" in plot_liqmap(real.at(), simulated=True).layout.title.text
    assert "simulated" in plot_cascade(cascade, simulated=True).layout.title.text
    assert "simulated" in plot_cascade(cascade, backend="matplotlib", simulated=True).axes[0].get_title(loc="left")
    assert "simulated" not in plot_cascade(cascade).layout.title.text


def test_price_axes_keep_the_decimals_small_coins_need():
    bins = np.round(np.arange(0.090, 0.110, 0.0005), 6)  # a DOGE-like map around $0.10
    long = np.where(bins < 0.1, 1e5, 0.0)
    short = np.where(bins > 0.1, 2e5, 0.0)
    lm = LiqMap("DOGE/USDT:USDT", 0, 0.1, bins, long, short)
    assert plot_liqmap(lm).layout.xaxis.tickformat == "$,.3f"  # not "$,.0f": every tick read "$0"
    texts = mpl_tick_texts(mpl_drawn(plot_liqmap(lm, backend="matplotlib")).axes[0].xaxis)
    assert len(set(texts)) == len(texts) >= 3 and all(re.fullmatch(r"\$0\.\d{3}", t) for t in texts), texts
    assert st.plotly_price_tickformat(66_000, 80_000) == "$,.0f"
