"""Charts render real data: files are valid HTML (plotly.js inlined) / PNG, and carry the fixture's numbers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from viz_helpers import (
    LEVERAGES,
    assert_offline_html,
    assert_png,
    bar_heights_px,
    cluster,
    decode,
    imbalance,
    mpl_bar_heights,
    mpl_drawn,
    mpl_legend_texts,
    mpl_tick_texts,
    plotly_payload,
)

from liqmap.engine.results import LiqMap
from liqmap.errors import LiqmapError
from liqmap.viz import Backend, backend_for, fmt_price, fmt_usd, plot_cascade, plot_heatmap, plot_liqmap, save
from liqmap.viz import _style as st
from liqmap.viz._style import ColorScale, color_values
from liqmap.viz.heatmap import HeatSide, _grid


def test_fmt_usd_matches_trader_notation():
    assert [fmt_usd(v) for v in (0, 950, 12_500, 641_200_000, 999_960_000, 1.2e9, 14e9, -3.4e6)] == [
        "$0", "$950", "$12.5K", "$641M", "$1B", "$1.2B", "$14B", "-$3.4M",
    ]  # fmt: skip
    assert fmt_price(94_120.4) == "$94,120" and fmt_price(3.5) == "$3.50"


def test_color_scales_hide_empty_cells_and_label_in_dollars():
    v = np.array([[0.0, 1e6, 1e7], [1e8, 0.0, 1e9]])
    z, _, labels = color_values(v, ColorScale.LOG)
    assert np.isnan(z[0, 0]) and np.isnan(z[1, 1])
    # colour spans the median ($55M) to the 99.8th percentile; smaller cells share the darkest colour, and
    # cells over a decade below that floor ($1M < $5.5M) are dust shown as background
    assert z[0, 2] == pytest.approx(np.log10(5.5e7))
    assert np.isnan(z[0, 1])
    assert z[1, 2] == pytest.approx(np.log10(np.quantile([1e6, 1e7, 1e8, 1e9], 0.998)))
    assert labels == ["$100M", "$200M", "$500M"]
    zq, _, _ = color_values(v, ColorScale.QUANTILE)
    assert list(zq[~np.isnan(zq)]) == [0.25, 0.5, 0.75, 1.0]


def test_backend_for_and_save_reject_mismatches(tmp_path, liqmap_snapshot):
    assert backend_for("a.HTML") is Backend.PLOTLY and backend_for("b.png") is Backend.MATPLOTLIB
    with pytest.raises(LiqmapError, match=r"use \.html or \.png"):
        backend_for("chart.jpg")
    fig = plot_liqmap(liqmap_snapshot)  # plotly
    with pytest.raises(LiqmapError, match="backend='matplotlib'"):
        save(fig, tmp_path / "x.png")


def test_heatmap_html_carries_every_bin_and_hover_dollars(tmp_path, heatmap):
    path = save(plot_heatmap(heatmap, window_pct=None), tmp_path / "sub" / "hm.html")
    assert_offline_html(path)
    data, layout = plotly_payload(path)
    heat = next(t for t in data if t["type"] == "heatmap")
    z = decode(heat["z"])
    assert z.shape == (len(heatmap.price_bins), len(heatmap.times_ms))  # 120 bins × 48 snapshots
    np.testing.assert_allclose(decode(heat["y"]), heatmap.price_bins)
    total = heatmap.long_usd + heatmap.short_usd
    t, j = np.unravel_index(np.argmax(total), total.shape)
    assert heat["text"][j][t] == fmt_usd(total[t, j])  # hover text is the bin's $ notional
    assert np.isnan(z[total.T == 0]).all() and np.isfinite(z[total.T > 0]).all()
    assert "$" in "".join(heat["colorbar"]["ticktext"])
    line = next(t for t in data if t["type"] == "scatter")
    np.testing.assert_allclose(decode(line["y"]), heatmap.close)
    assert "BTC/USDT:USDT liquidation heatmap" in layout["title"]["text"]


def test_heatmap_candles_and_side_selection(tmp_path, heatmap):
    bars = pd.DataFrame(
        {
            "exchange": "binance",
            "timestamp": heatmap.times_ms,
            "open": heatmap.close * 0.999,
            "high": heatmap.close * 1.003,
            "low": heatmap.close * 0.996,
            "close": heatmap.close,
        }
    )
    path = save(plot_heatmap(heatmap, bars=bars, side="short", window_pct=None), tmp_path / "hm.html")
    data, layout = plotly_payload(path)
    candles = next(t for t in data if t["type"] == "candlestick")
    assert len(decode(candles["close"])) == len(heatmap.times_ms)
    np.testing.assert_allclose(decode(candles["high"]), heatmap.close * 1.003)
    heat = next(t for t in data if t["type"] == "heatmap")
    i = np.argmax(heatmap.short_usd[-1])
    assert heat["text"][i][-1] == fmt_usd(heatmap.short_usd[-1, i])
    assert "shorts" in layout["title"]["text"]


def test_heatmap_display_reduction_conserves_notional(heatmap):
    g = _grid(heatmap, HeatSide.BOTH, None, max_times=10, max_bins=60)
    assert g.usd.shape == (60, 10)  # 120 bins merged by 2, 48 snapshots grouped by 5
    total = heatmap.long_usd + heatmap.short_usd
    np.testing.assert_allclose(g.usd[:, 0].sum(), total[:5].sum(axis=1).mean())
    assert g.bin_usd == pytest.approx(2 * heatmap.bin_usd)
    windowed = _grid(heatmap, HeatSide.LONG, 2.0, 600, 400)
    assert windowed.prices.min() >= heatmap.close.min() * 0.98 - 1e-9


def test_heatmap_png_is_a_real_image(tmp_path, heatmap):
    fig = mpl_drawn(plot_heatmap(heatmap, backend="matplotlib", scale="quantile", window_pct=None))
    (ax, cbar) = fig.axes
    mesh = ax.collections[0]
    total = (heatmap.long_usd + heatmap.short_usd).T
    assert mesh.get_array().shape == total.shape  # one cell per bin × snapshot
    assert mesh.get_array().mask[total == 0].all()  # empty cells show the background
    close = next(line for line in ax.get_lines() if line.get_label() == "close")
    np.testing.assert_allclose(close.get_ydata(), heatmap.close)  # the close line, as on the dashboard
    dates = mpl_tick_texts(ax.xaxis)  # 48 hourly snapshots from 2026-01-01: month names, UTC
    assert len(dates) >= 3 and all(re.fullmatch(r"Jan 0[1-3]( \d\d:\d\d)?", d) for d in dates), dates
    assert ax.get_xlabel() == "time (UTC) · 2026-01-01 → 2026-01-02"
    assert all(t.startswith("$") for t in mpl_tick_texts(ax.yaxis)) and all(
        t.startswith("$") and t[-1] in "0123456789KMBT" for t in mpl_tick_texts(cbar.yaxis)
    )
    assert ax.get_title(loc="left").startswith("BTC/USDT:USDT liquidation heatmap")
    rgb = assert_png(save(fig, tmp_path / "hm.png"), colours=(st.CLOSE_LINE, st.HEAT_STOPS[-1][1]))
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 500  # cells drawn along the colour scale, not flat


def test_liqmap_html_bars_curves_price_and_cluster_labels(tmp_path, liqmap_snapshot):
    lm = liqmap_snapshot
    i, j = int(np.argmax(lm.short_usd)), int(np.argmax(lm.long_usd))
    clusters = [
        cluster(1, "short", float(lm.price_bins[i]), 1.23e9, lm.price),
        cluster(2, "long", float(lm.price_bins[j]), 641e6, lm.price),
    ]
    imb = imbalance(10.0, 14e9, 1e9, lm.price)
    path = save(plot_liqmap(lm, clusters=clusters, imbalance=imb, window_pct=None), tmp_path / "map.html")
    assert_offline_html(path)
    data, layout = plotly_payload(path)
    bars = [t for t in data if t["type"] == "bar"]
    assert [b["name"] for b in bars] == [f"{s} {lev:g}x" for s in ("longs", "shorts") for lev in LEVERAGES]
    assert all(len(decode(b["x"])) == len(lm.price_bins) for b in bars)
    longs = sum(decode(b["y"]) for b in bars if b["name"].startswith("longs"))
    np.testing.assert_allclose(longs, lm.long_usd)
    cum = {t["name"]: decode(t["y"]) for t in data if t["type"] == "scatter"}
    below = lm.price_bins < lm.price
    np.testing.assert_allclose(cum["cumulative longs"][below], lm.long_cumulative_usd[below])
    assert np.isnan(cum["cumulative shorts"][below]).all()
    texts = [a["text"] for a in layout["annotations"]]
    assert "#1 $1.23B shorts" in texts and "#2 $641M longs" in texts
    assert f"price {fmt_price(lm.price)}" in texts
    assert "shorts above $14B vs longs below $1B (14.0:1 shorts)" in layout["title"]["text"]
    assert layout["shapes"][0]["x0"] == pytest.approx(lm.price)
    ticks = layout["yaxis2"]["ticktext"]  # cumulative axis in trader units ($1.5B), not SI ($1.5G)
    assert ticks[0] == "$0" and all(t.startswith("$") and not t.endswith("G") for t in ticks)
    label = next(a for a in layout["annotations"] if a["text"] == "#1 $1.23B shorts")
    assert label["x"] == pytest.approx(lm.price_bins[i]) and label["y"] == pytest.approx(
        lm.short_usd[i] + lm.long_usd[i]
    )


def test_liqmap_window_and_exchange_stack(tmp_path):
    bins = np.arange(900.0, 1100.0, 10.0)
    a, b = np.linspace(0, 1e6, 20), np.linspace(1e6, 0, 20)
    lm = LiqMap("BTC/USDT:USDT", 0, 1000.0, bins, a + b, a * 2, by_exchange={"binance": (a, a), "okx": (b, a)})
    fig = plot_liqmap(lm, window_pct=5.0)
    names = [t.name for t in fig.data if t.type == "bar"]
    assert names == ["longs binance", "longs okx", "shorts binance", "shorts okx"]
    assert len(fig.data[0].x) == 11  # $950 … $1,050
    with pytest.raises(LiqmapError, match="no per-leverage layers"):
        plot_liqmap(lm, stack="leverage")
    with pytest.raises(LiqmapError, match="widen window_pct"):
        plot_liqmap(lm, window_pct=0.1)


def test_liqmap_png_is_a_real_image(tmp_path, liqmap_snapshot):
    lm = liqmap_snapshot
    clusters = [cluster(1, "long", lm.price * 0.96, 2e8, lm.price)]
    fig = mpl_drawn(plot_liqmap(lm, clusters=clusters, backend="matplotlib", window_pct=None))
    ax, ax2 = fig.axes
    heights = mpl_bar_heights(ax)  # bar heights are the map's notionals, layer by layer
    names = [f"{s} {lev:g}x" for s in ("longs", "shorts") for lev in LEVERAGES]
    assert list(heights) == names
    for i, lev in enumerate(LEVERAGES):
        np.testing.assert_allclose(heights[f"longs {lev:g}x"], lm.long_by_leverage[i])
        np.testing.assert_allclose(heights[f"shorts {lev:g}x"], lm.short_by_leverage[i])
    legend = mpl_legend_texts(fig)  # every layer, empty ones too, and the cumulative curves
    assert sorted(legend) == sorted([*names, "cumulative longs", "cumulative shorts"])
    for axis in (ax.yaxis, ax2.yaxis):  # both money axes in trader units
        texts = mpl_tick_texts(axis)
        assert texts[0] == "$0" and all(re.fullmatch(r"\$\d+(\.\d+)?[KMBT]?", t) for t in texts), texts
    assert all(re.fullmatch(r"\$\d{2,3},\d{3}", t) for t in mpl_tick_texts(ax.xaxis))
    labels = [t.get_text().replace("\\$", "$") for t in ax.texts]
    assert "#1 $200M longs" in labels and f"price {fmt_price(lm.price)}" in " ".join(labels)
    assert ax.get_title(loc="left").startswith("BTC/USDT:USDT liquidation map")
    assert_png(save(fig, tmp_path / "m.png"), colours=(*st.CATEGORICAL[: len(LEVERAGES)], st.PRICE))


def test_cascade_html_and_png(tmp_path, cascade):
    path = save(plot_cascade(cascade), tmp_path / "cascade.html")
    assert_offline_html(path)
    data, layout = plotly_payload(path)
    price = next(t for t in data if t["type"] == "scatter")
    np.testing.assert_allclose(decode(price["y"]), [94_000, 95_000, 95_600, 96_050, 96_100])
    bars = next(t for t in data if t["type"] == "bar")
    np.testing.assert_allclose(decode(bars["y"]), [120e6, 310e6, 90e6, 4e6])
    assert bars["text"] == ["$120M", "$310M", "$90M", "$4M"]
    title = layout["title"]["text"]
    assert "$94,000 → $96,100 (+2.23%)" in title and "$524M liquidated" in title and "2.23×" in title
    fig = mpl_drawn(plot_cascade(cascade, backend="matplotlib"))
    ax_p, ax_l = fig.axes
    np.testing.assert_allclose(ax_p.get_lines()[0].get_ydata(), [94_000, 95_000, 95_600, 96_050, 96_100])
    np.testing.assert_allclose(next(iter(mpl_bar_heights(ax_l).values())), [120e6, 310e6, 90e6, 4e6])
    assert [t.get_text() for t in ax_l.texts if t.get_text().startswith("\\$")] == [
        "\\$120M", "\\$310M", "\\$90M", "\\$4M",
    ]  # fmt: skip
    assert all(re.fullmatch(r"\$\d+[KMB]?", t) for t in mpl_tick_texts(ax_l.yaxis))
    assert "shock" not in ax_p.get_title(loc="left") and "simulated" not in ax_p.get_title(loc="left")
    rgb = assert_png(save(fig, tmp_path / "cascade.png"), min_width=900, colours=(st.PRICE,))
    heights = bar_heights_px(rgb, st.SHORT)  # a rally liquidates shorts: green bars, as tall as their amounts
    assert len(heights) == 4
    np.testing.assert_allclose(heights, np.array([120, 310, 90, 4]) / 310 * max(heights), atol=2)


def test_cascade_rejects_objects_without_rounds():
    with pytest.raises(LiqmapError, match="start_price and rounds"):
        plot_cascade(object())


def test_liqmap_merges_bins_without_mixing_sides(liqmap_snapshot):
    from liqmap.viz._layers import display_map

    lm = liqmap_snapshot
    view = display_map(lm, None, max_bars=50)  # 120 bins → groups of 3 aligned on the price
    assert view.bin_usd == pytest.approx(3 * lm.bin_usd)
    first_above = int(np.searchsorted(lm.price_bins, lm.price))
    middle = np.abs(lm.price_bins[:, None] - view.price_bins).argmin(axis=0)  # a group's centre: its middle bin
    assert set((middle - 1 - first_above) % 3) == {0}  # group edges fall on the price
    below = lm.price_bins < view.price_bins[0] - 1.5 * lm.bin_usd
    dropped_long = lm.long_usd[below].sum() + lm.long_usd[lm.price_bins > view.price_bins[-1] + 1.5 * lm.bin_usd].sum()
    assert view.long_usd.sum() + dropped_long == pytest.approx(lm.long_usd.sum())
    assert view.long_by_leverage.shape == (len(LEVERAGES), len(view.price_bins))
    np.testing.assert_allclose(view.long_by_leverage.sum(axis=0), view.long_usd)
