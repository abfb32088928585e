"""Helpers shared by the chart and demo tests: read back the figure a written HTML file carries, check PNGs."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np

LEVERAGES = (10.0, 25.0, 50.0, 100.0)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def plotly_payload(path: Path) -> tuple[list[dict], dict]:
    """The ``data`` and ``layout`` passed to ``Plotly.newPlot`` in a written HTML file."""
    html = path.read_text()
    start = html.index("Plotly.newPlot(")
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


def assert_png(path, min_width=1000):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= min_width and height >= 500
    assert len(data) > 20_000  # a drawn chart, not an empty canvas
