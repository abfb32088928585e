"""liqmap.timeframes: the one set of time-unit constants, duration parser, formatter and bar-step rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqmap.data.connectors.base import ConnectorError
from liqmap.errors import LiqmapError, StoreError
from liqmap.timeframes import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    MS_PER_SECOND,
    MS_PER_WEEK,
    bar_step_ms,
    format_ms,
    parse_duration_ms,
)


def test_unit_constants():
    assert (MS_PER_SECOND, MS_PER_MINUTE, MS_PER_HOUR, MS_PER_DAY, MS_PER_WEEK) == (
        1_000,
        60_000,
        3_600_000,
        86_400_000,
        604_800_000,
    )


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1m", 60_000),
        ("3m", 180_000),
        ("5m", 300_000),
        ("15m", 900_000),
        ("30m", 1_800_000),
        ("1h", 3_600_000),
        ("2h", 7_200_000),
        ("4h", 14_400_000),
        ("6h", 21_600_000),
        ("8h", 28_800_000),
        ("12h", 43_200_000),
        ("1d", 86_400_000),
        ("3d", 259_200_000),
        ("1w", 604_800_000),
        ("2w", 1_209_600_000),
        ("90s", 90_000),
        ("1s", 1_000),
        ("500ms", 500),
        ("2500", 2_500),
        ("15min", 900_000),
        ("1.5h", 5_400_000),
        ("0.5d", 43_200_000),
        (" 1H ", 3_600_000),
        ("4 h", 14_400_000),
        ("1D", 86_400_000),
        ("1W", 604_800_000),
    ],
)
def test_parse_every_supported_duration(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["hourly", "", "h", "1y", "-1h", "0m", "0", "0.1ms", "1 h 2", "1hh", "1,5h"])
def test_parse_refuses_bad_durations_naming_the_value(text):
    with pytest.raises(LiqmapError, match=rf"^cannot read duration {text!r}: use e\.g\. 1m, 5m, 15m, 1h"):
        parse_duration_ms(text)


def test_parse_refuses_none_and_non_strings():
    with pytest.raises(LiqmapError, match="cannot read duration None"):
        parse_duration_ms(None)
    with pytest.raises(LiqmapError, match="cannot read duration 60"):
        parse_duration_ms(60)  # type: ignore[arg-type]


def test_parse_refuses_a_month():
    with pytest.raises(LiqmapError, match="cannot read timeframe '1M': months have no fixed length"):
        parse_duration_ms("1M", noun="timeframe")


def test_parse_names_the_option_and_raises_the_callers_error():
    with pytest.raises(LiqmapError, match=r"^--every: cannot read duration 'soon'"):
        parse_duration_ms("soon", "--every")
    with pytest.raises(StoreError, match=r"^cannot read timeframe 'hourly'"):
        parse_duration_ms("hourly", noun="timeframe", error=StoreError)
    with pytest.raises(ConnectorError, match=r"^cannot read timeframe None"):
        parse_duration_ms(None, noun="timeframe", error=ConnectorError)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (1, "1ms"),
        (1_500, "1500ms"),
        (1_000, "1s"),
        (90_000, "90s"),
        (60_000, "1m"),
        (900_000, "15m"),
        (5_400_000, "90m"),
        (3_600_000, "1h"),
        (14_400_000, "4h"),
        (86_400_000, "1d"),
        (172_800_000, "2d"),
        (604_800_000, "1w"),
        (1_209_600_000, "2w"),
    ],
)
def test_format_ms_uses_the_largest_whole_unit(ms, text):
    assert format_ms(ms) == text
    assert parse_duration_ms(text) == ms  # round trip


def test_bar_step_regular():
    assert bar_step_ms(np.arange(10, dtype=np.int64) * MS_PER_HOUR) == MS_PER_HOUR
    assert bar_step_ms(pd.Series([0, 60_000, 120_000])) == 60_000
    assert bar_step_ms([5, 10]) == 5


def test_bar_step_gapped_keeps_the_grid_step():
    ts = [0, 60_000, 120_000, 180_000, 600_000, 660_000, 720_000, 1_800_000]
    assert bar_step_ms(ts) == 60_000


def test_bar_step_unsorted_and_duplicates():
    assert bar_step_ms([180_000, 0, 120_000, 60_000]) == 60_000
    assert bar_step_ms([0, 0, 60_000, 60_000, 120_000, 120_000, 180_000]) == 60_000


def test_bar_step_ties_go_to_the_smallest():
    assert bar_step_ms([0, 60_000, 180_000, 240_000, 360_000]) == 60_000  # 60 s twice, 120 s twice
    assert bar_step_ms([0, 3_600_000, 10_800_000]) == 3_600_000  # each spacing once


def test_bar_step_needs_two_distinct_times():
    assert bar_step_ms([]) is None
    assert bar_step_ms([1_700_000_000_000]) is None
    assert bar_step_ms([7, 7, 7]) is None
