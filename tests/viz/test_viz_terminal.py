"""The terminal map: rows of $ around price, price line, cluster markers, imbalance line."""

from __future__ import annotations

import pytest
from viz_helpers import cluster, imbalance

from liqmap import CAVEAT
from liqmap.errors import LiqmapError
from liqmap.viz import map_renderable, render_map_text

CLUSTERS = [cluster(1, "short", 1035.0, 5e6), cluster(2, "long", 965.0, 3e6)]
IMBALANCE = imbalance(5.0, 5e6, 2e6)


def test_rows_price_line_clusters_and_imbalance(simple_map):
    text = render_map_text(simple_map, CLUSTERS, IMBALANCE, rows=10, window_pct=5.0)
    lines = text.splitlines()
    price_at = next(i for i, line in enumerate(lines) if "$1,000 price" in line)
    above, below = lines[2:price_at], lines[price_at + 1 : price_at + 6]
    assert len(above) == 5 and len(below) == 5  # $10 rows: 5 above, 5 below
    assert [line.split()[0] for line in above + below] == [
        "$1,045", "$1,035", "$1,025", "$1,015", "$1,005", "$995.00", "$985.00", "$975.00", "$965.00", "$955.00",
    ]  # fmt: skip
    short_row = above[1]
    assert short_row.split()[-3:] == ["$5M", "$5M", "◀#1"]  # per row, cumulative, cluster marker
    assert short_row.count("█") == 44  # the largest row fills the bar width
    assert below[1].split()[-2:] == ["$1M", "$1M"]
    assert below[3].split()[-3:] == ["$3M", "$4M", "◀#2"]  # cumulative longs down to $960
    assert "█" not in below[0] and below[0].split()[-1] == "$0"
    assert "#1  shorts      $5M at     $1,035 (+3.50%)" in text
    assert "imbalance ±5%: shorts above $5M vs longs below $2M (2.5:1 shorts)" in text
    assert text.rstrip().endswith(CAVEAT)
    assert max(len(line) for line in lines[1:price_at]) <= 80


def test_rich_renderable_is_the_same_text_in_colour(simple_map):
    rich_text = map_renderable(simple_map, CLUSTERS, IMBALANCE, rows=10)
    plain = render_map_text(simple_map, CLUSTERS, IMBALANCE, rows=10)
    assert [line.rstrip() for line in rich_text.plain.splitlines()] == plain.splitlines()
    assert {"green", "red"} <= {str(span.style) for span in rich_text.spans}


def test_without_analytics_and_bad_sizes(simple_map):
    text = render_map_text(simple_map)
    assert "largest clusters" not in text and "imbalance" not in text and "$1,000 price" in text
    with pytest.raises(LiqmapError, match="rows ≥ 4"):
        render_map_text(simple_map, rows=2)


def test_rows_beyond_the_grid_say_so(simple_map):
    lines = render_map_text(simple_map, rows=8, window_pct=20.0).splitlines()
    beyond = [line for line in lines if "beyond the map's price grid" in line]
    assert [line.split()[0] for line in beyond] == ["$1,175", "$1,125", "$1,075", "$925.00", "$875.00", "$825.00"]
