"""The dashboard draws with liqmap.viz's look: app.js's categorical layer palette, long/short/price colours, candle
colours and short-bar hatching are those of liqmap.viz._style (as tests/viz checks app.js's HEAT scale)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from liqmap.viz import _style as st

APP_JS = Path(__file__).parents[2] / "src" / "liqmap" / "server" / "static" / "app.js"


def _const(name: str) -> str:
    m = re.search(rf"^const {name} = (.*?);$", APP_JS.read_text(), re.MULTILINE)
    assert m, f"app.js no longer defines const {name}"
    return m.group(1)


def test_layer_palette_is_viz_categorical():
    assert [c.lower() for c in json.loads(_const("CATEGORICAL"))] == [c.lower() for c in st.CATEGORICAL]


def test_side_and_price_colours_are_viz_ones():
    colours = dict(re.findall(r'(\w+): "(#[0-9a-fA-F]{6})"', _const("C")))
    assert colours["long"].lower() == st.LONG and colours["short"].lower() == st.SHORT
    assert colours["accent"].lower() == st.PRICE and colours["bg"].lower() == st.BG


def test_short_hatching_is_viz_pattern():
    pattern = dict(re.findall(r'(\w+): "?([^,"}]+)"?', _const("SHORT_PATTERN")))
    want = st.SHORT_PATTERN_PLOTLY
    assert pattern["shape"] == want["shape"] and pattern["fgcolor"].lower() == want["fgcolor"]
    assert pattern["fillmode"] == want["fillmode"]
    assert float(pattern["size"]) == want["size"] and float(pattern["solidity"]) == want["solidity"]


def test_candle_colours_are_viz_ones():
    colours = dict(re.findall(r'(\w+): "(#[0-9a-fA-F]{6})"', _const("CANDLE")))
    assert colours == {"up": st.CANDLE_UP, "down": st.CANDLE_DOWN}
