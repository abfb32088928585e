"""``liqmap.analytics.levels.find_peaks`` (kept so the CLI need not import ``scipy.signal``) returns exactly
``scipy.signal.find_peaks(x, prominence=p)[0]``: plateaus, ties, edges, zero-padded densities."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.signal import find_peaks as scipy_find_peaks

from liqmap.analytics.levels import find_peaks


def _cases(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for n in (0, 1, 2, 3, 5, 17, 60, 400):
        out += [
            rng.normal(size=n),
            rng.integers(0, 4, size=n).astype(float),  # plateaus and ties everywhere
            np.round(np.convolve(rng.exponential(size=n + 4), np.ones(3), "same")[:n], 1),
            np.pad(np.abs(rng.normal(size=n)) * (rng.random(n) < 0.3), 1),  # sparse, zero-padded
        ]
    return out


@pytest.mark.parametrize("seed", range(25))
def test_find_peaks_equals_scipy(seed):
    for x in _cases(seed):
        top = float(np.max(x, initial=0.0))
        for prominence in (0.0, 0.05 * top, 0.1, 0.5, top, 2.0):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scipy warns about peaks of prominence 0
                expected = scipy_find_peaks(x, prominence=prominence)[0]
            got = find_peaks(x, prominence)
            assert got.tolist() == expected.tolist(), (x.tolist(), prominence)


def test_find_peaks_on_the_sample_map_equals_scipy():
    from liqmap.analytics.levels import _smooth
    from liqmap.data.sample import sample_bars
    from liqmap.engine import run

    bars = sample_bars()
    bars = bars[(bars["exchange"] == "binance") & (bars["symbol"] == "BTC/USDT:USDT")].reset_index(drop=True)
    lm = run(bars).liqmap()
    for raw in (lm.long_usd, lm.short_usd):
        for sigma in (0.0, 0.5, 2.0, 6.0):
            padded = np.pad(_smooth(np.asarray(raw, dtype=float), sigma), 1)
            for frac in (0.0, 0.02, 0.1):
                p = frac * float(padded.max())
                assert find_peaks(padded, p).tolist() == scipy_find_peaks(padded, prominence=p)[0].tolist()
