"""Fidelity score on hand-built heatmaps and truth tables with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqmap.engine import Heatmap
from liqmap.errors import DataValidationError, LiqmapError
from liqmap.sim.score import fidelity_score

HOUR = 3_600_000
T0 = 1_767_225_600_000
CENTRES = np.arange(45_000.0, 75_000.0, 50.0) + 25.0  # 50-USD bins
PRICE = 60_000.0


def _masses(long: dict[float, float], short: dict[float, float]) -> tuple[np.ndarray, np.ndarray]:
    lg, sh = np.zeros(len(CENTRES)), np.zeros(len(CENTRES))
    for px, usd in long.items():
        lg[np.searchsorted(CENTRES, px)] += usd
    for px, usd in short.items():
        sh[np.searchsorted(CENTRES, px)] += usd
    return lg, sh


LONG = {57_025.0: 1e6, 55_025.0: 2e6}
SHORT = {63_025.0: 1.5e6}


def _truth(n_snap: int = 2) -> pd.DataFrame:
    lg, sh = _masses(LONG, SHORT)
    return pd.DataFrame(
        {
            "timestamp": np.repeat(T0 + HOUR * (1 + np.arange(n_snap)), len(CENTRES)),
            "price": np.tile(CENTRES, n_snap),
            "long_usd": np.tile(lg, n_snap),
            "short_usd": np.tile(sh, n_snap),
        }
    )


def _heatmap(long: np.ndarray, short: np.ndarray, n_snap: int = 2) -> Heatmap:
    # engine rows carry the open time of the bar they follow: truth time − 1 minute
    return Heatmap(
        symbol="BTC/USDT:USDT",
        times_ms=T0 + HOUR * (1 + np.arange(n_snap)) - 60_000,
        price_bins=CENTRES,
        long_usd=np.tile(long, (n_snap, 1)),
        short_usd=np.tile(short, (n_snap, 1)),
        close=np.full(n_snap, PRICE),
        model="test",
    )


def _liqs(hours: list[float]) -> pd.DataFrame:
    ts = (T0 + np.array(hours) * HOUR).astype(np.int64)
    return pd.DataFrame({"timestamp": ts, "notional_usd": 1e5 * np.arange(1, len(hours) + 1)})


REALIZED = _liqs([0.5, 0.6, 1.5, 2.5, 2.6, 2.7])


def test_perfect_estimate_scores_one_zero_one():
    lg, sh = _masses(LONG, SHORT)
    s = fidelity_score(_heatmap(lg, sh, 3), _truth(3), REALIZED, REALIZED)
    assert s.snapshots == 3 and s.empty_estimate == 0
    assert s.density_corr == pytest.approx(1.0)
    assert s.emd_pct == pytest.approx(0.0, abs=1e-12)
    assert s.top_decile_capture == pytest.approx(1.0)
    assert s.liq_volume_corr == pytest.approx(1.0)
    assert s.liq_volume_ratio == pytest.approx(1.0)
    assert (s.per_snapshot[["long_corr", "short_corr"]] > 1 - 1e-12).all().all()


def test_shifted_estimate_has_emd_of_the_shift():
    shift = 600.0  # 1 % of price, four 150-USD common bins
    lg, sh = _masses({k + shift: v for k, v in LONG.items()}, {k + shift: v for k, v in SHORT.items()})
    s = fidelity_score(_heatmap(lg, sh), _truth(), None, REALIZED)
    assert s.emd_pct == pytest.approx(1.0, rel=1e-9)
    assert s.density_corr < 0.05  # no overlap at all once shifted by four bins
    assert s.top_decile_capture < 0.5  # top cells are the shifted ones (boundary ties share the rest)
    assert s.liq_volume_corr is None  # no predicted events
    assert s.liq_volume_ratio == 0.0


def test_flat_estimate_captures_ten_percent_and_has_zero_correlation():
    flat = np.ones(len(CENTRES))
    s = fidelity_score(_heatmap(flat, flat), _truth(), None, REALIZED)
    assert s.density_corr == 0.0
    assert s.top_decile_capture == pytest.approx(0.1)
    # flat over ±15 % around 60k vs truth at 55k/57k/63k: mean distance computed by hand on the grid
    assert 2.0 < s.emd_pct < 6.0


def test_empty_estimate_scores_zero_and_is_left_out_of_emd():
    zero = np.zeros(len(CENTRES))
    s = fidelity_score(_heatmap(zero, zero), _truth(), None, REALIZED)
    assert s.density_corr == 0.0 and s.emd_pct is None and s.empty_estimate == 2
    assert s.top_decile_capture == pytest.approx(0.1)


def test_swapped_sides_are_penalised_by_correlation_not_by_emd():
    lg, sh = _masses(LONG, SHORT)
    s = fidelity_score(_heatmap(sh, lg), _truth(), None, REALIZED)
    assert s.density_corr < 0.0
    assert s.emd_pct == pytest.approx(0.0, abs=1e-12)  # EMD sees long+short on the price axis only
    # only boundary ties (empty cells, shared pro rata) can hold true mass
    assert s.top_decile_capture < 0.1


def test_window_excludes_mass_beyond_fifteen_percent():
    lg, sh = _masses(LONG, SHORT)
    far_l, far_s = _masses({46_025.0: 5e6}, {})  # 23 % below price: outside the ±15 % window
    s = fidelity_score(_heatmap(lg + far_l, sh + far_s), _truth(), None, REALIZED)
    assert s.density_corr == pytest.approx(1.0)
    assert s.per_snapshot["est_usd"].iloc[0] == pytest.approx(4.5e6)


def test_bad_truth_and_options_are_refused():
    lg, sh = _masses(LONG, SHORT)
    hm = _heatmap(lg, sh)
    with pytest.raises(DataValidationError, match="lacks columns"):
        fidelity_score(hm, _truth().drop(columns="short_usd"), None, REALIZED)
    bad = _truth()
    bad.loc[3, "long_usd"] = np.nan
    with pytest.raises(DataValidationError, match="NaN"):
        fidelity_score(hm, bad, None, REALIZED)
    with pytest.raises(LiqmapError, match="window_pct"):
        fidelity_score(hm, _truth(), None, REALIZED, window_pct=0)
    late = _truth().assign(timestamp=lambda d: d["timestamp"] - 10 * HOUR)
    with pytest.raises(LiqmapError, match="no truth snapshot"):
        fidelity_score(hm, late, None, REALIZED)
