"""The leverage filter of /api/map, /api/levels and /api/cascade (min_leverage/max_leverage): the map keeps only
those engine layers, its totals are their sums, and every figure of the map report is built from them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from liqmap.analytics import build_map_report

LAST_MS = 1_772_704_800_000
QUERY = {"symbol": "BTCUSDT", "days": 30, "bins": 1000}


def test_filtered_map_is_the_sum_of_its_leverage_layers(client, expected):
    full = client.get("/api/map", params={**QUERY, "layers": "true"}).json()
    got = client.get("/api/map", params={**QUERY, "min_leverage": 50, "max_leverage": 100, "layers": "true"}).json()
    keep = [k for k, lev in enumerate(full["leverages"]) if 50 <= lev <= 100]
    assert [full["leverages"][k] for k in keep] == got["leverages"] == [50.0, 100.0]
    assert got["leverage_filter"] == "50x–100x"
    longs = np.array(full["long_by_leverage"])[keep]
    shorts = np.array(full["short_by_leverage"])[keep]
    np.testing.assert_allclose(got["long_usd"], longs.sum(axis=0), atol=0.02)
    np.testing.assert_allclose(got["short_usd"], shorts.sum(axis=0), atol=0.02)
    assert got["total_long_usd"] == pytest.approx(longs.sum(), abs=1.0)
    assert got["total_short_usd"] == pytest.approx(shorts.sum(), abs=1.0)
    assert 0 < got["total_long_usd"] < full["total_long_usd"]
    assert got["long_by_leverage"] == [full["long_by_leverage"][k] for k in keep]

    # the map report is the one built from the filtered map (direct engine + analytics call)
    bars, res = expected(["binance"], LAST_MS - 30 * 86_400_000, LAST_MS)
    lm = res.liqmap()
    idx = [k for k, lev in enumerate(lm.leverages) if 50 <= lev <= 100]
    flm = replace(
        lm,
        long_usd=lm.long_by_leverage[idx].sum(axis=0),
        short_usd=lm.short_by_leverage[idx].sum(axis=0),
        leverages=tuple(lm.leverages[k] for k in idx),
        long_by_leverage=lm.long_by_leverage[idx],
        short_by_leverage=lm.short_by_leverage[idx],
        by_exchange={},
    )
    rep = build_map_report(flm, bars, profile=res.config.profile, warnings=res.warnings).to_dict()
    assert got["clusters"] == rep["clusters"] and got["imbalance"] == rep["imbalance"]
    assert got["cascades"] == rep["cascades"] and set(got["imbalance"]["by_leverage"]) == {"50x", "100x"}


def test_levels_and_cascade_take_the_filter(client):
    params = {**QUERY, "min_leverage": 50}
    m = client.get("/api/map", params=params).json()
    lv = client.get("/api/levels", params=params).json()
    cs = client.get("/api/cascade", params={**params, "shock_pct": 2}).json()
    assert m["leverage_filter"] == lv["leverage_filter"] == cs["leverage_filter"] == "≥ 50x"
    assert lv["clusters"] == m["clusters"] and lv["imbalance"] == m["imbalance"]
    assert cs["cascades"]["up"]["shock_pct"] == 2
    unfiltered = client.get("/api/levels", params=QUERY).json()
    assert unfiltered["leverage_filter"] == "" and unfiltered["imbalance"] != lv["imbalance"]
    low = client.get("/api/levels", params={**QUERY, "max_leverage": 10}).json()
    assert low["leverage_filter"] == "≤ 10x" and set(low["imbalance"]["by_leverage"]) == {"2x", "3x", "5x", "10x"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_leverage": 100, "max_leverage": 50}, "min_leverage (100) must not exceed max_leverage (50)"),
        ({"min_leverage": 200}, "no leverage layer lies in ≥ 200x; the profile's are 2x, 3x, 5x, 10x, 20x, 25x"),
        ({"min_leverage": 50, "at_ms": LAST_MS - 86_400_000}, "the leverage filter needs the per-leverage layers"),
        ({"min_leverage": 50, "model": "uniform"}, "the leverage filter needs the per-leverage layers"),
        ({"max_leverage": 0.5}, "max_leverage: Input should be greater than or equal to 1"),
    ],
)
def test_bad_leverage_filters_are_422_with_the_fix(client, params, message):
    r = client.get("/api/map", params={**QUERY, **params})
    assert r.status_code == 422 and message in r.json()["detail"]
