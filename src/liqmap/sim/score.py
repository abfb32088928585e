"""Fidelity score: how well an engine heatmap recovers the simulator's known liquidation map.

For every truth snapshot (state at the close of the bar that ends at ``timestamp``) the engine row for the
same bar is taken (``heatmap.index_at(timestamp − bar_ms)``: engine rows are labelled with the bar's open
time). Both maps are re-binned by overlap (mass uniform inside a source bin) onto one common grid covering
``price × (1 ± window_pct)`` with bins of ``max(bin_pct % of price, engine bin, truth bin)``, and scored on
the *densities* (each map divided by its own total in the window, long and short together):

* ``density_corr`` — Pearson correlation of the two densities over the stacked (long bins, short bins)
  vector, so a map that puts longs where the shorts are is penalised. A constant or empty estimate scores 0.
* ``emd_pct`` — earth-mover's (Wasserstein-1) distance between the long+short densities along the price
  axis (:func:`scipy.stats.wasserstein_distance` on bin centres weighted by density), in % of price. An
  empty estimate has no distance and is left out of the mean (counted in ``empty_estimate``).
* ``top_decile_capture`` — share of the true notional inside the estimate's densest 10 % of (side, bin)
  cells; ties at the boundary count by their expected share under random tie-breaking, so a flat estimate
  captures 10 %.
* ``liq_volume_corr`` — Pearson correlation of predicted (engine events) and realised (simulated
  liquidations) notional per UTC hour from the hour of the first heatmap row to the end of the last bar
  (:func:`liqmap.analytics.validation.hourly_corr`); ``None`` when a series is constant (the ``uniform``
  baseline predicts no events) or spans fewer than 3 hours. ``liq_volume_ratio`` (not a headline) is the
  predicted total over the realised total in the same span: 1 means the right amount is predicted.

Headline numbers are means over snapshots whose truth holds notional inside the window; ``per_snapshot`` also
holds each side's own correlation (``long_corr``, ``short_corr``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from liqmap import CAVEAT
from liqmap.analytics.validation import hourly_corr
from liqmap.engine import EngineConfig, Heatmap, run
from liqmap.errors import LiqmapError
from liqmap.sim.truth import truth_snapshots
from liqmap.timeframes import MS_PER_HOUR, MS_PER_MINUTE, bar_step_ms

MODELS = ("oi-delta", "volume", "uniform")


@dataclass(frozen=True)
class FidelityScore:
    """Scores of one model against the ground truth (means over snapshots) plus per-snapshot details."""

    model: str
    density_corr: float
    emd_pct: float | None
    top_decile_capture: float
    liq_volume_corr: float | None
    liq_volume_ratio: float | None
    snapshots: int
    empty_estimate: int
    window_pct: float
    per_snapshot: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready headline scores (per-snapshot table omitted) with the caveat."""
        return {
            "model": self.model,
            "density_corr": self.density_corr,
            "emd_pct": self.emd_pct,
            "top_decile_capture": self.top_decile_capture,
            "liq_volume_corr": self.liq_volume_corr,
            "liq_volume_ratio": self.liq_volume_ratio,
            "snapshots": self.snapshots,
            "empty_estimate": self.empty_estimate,
            "window_pct": self.window_pct,
            "caveat": CAVEAT,
        }


def fidelity_score(
    heatmap: Heatmap,
    truth: pd.DataFrame,
    predicted_events: pd.DataFrame | None,
    realized: pd.DataFrame,
    *,
    window_pct: float = 15.0,
    bin_pct: float = 0.25,
    bar_ms: int = MS_PER_MINUTE,
) -> FidelityScore:
    """Score ``heatmap`` (and its predicted events) against the simulator's ``truth`` and ``realized``
    liquidations. See the module docstring for each metric."""
    if not (0 < window_pct < 100) or not (0 < bin_pct < window_pct):
        raise LiqmapError("window_pct must lie in (0, 100) and bin_pct in (0, window_pct)")
    rows = []
    truth_bin = None
    for ts, centres, t_long, t_short in truth_snapshots(truth):
        if truth_bin is None:
            truth_bin = float(centres[1] - centres[0]) if len(centres) > 1 else heatmap.bin_usd
        if ts - bar_ms < heatmap.times_ms[0]:
            continue
        i = heatmap.index_at(ts - bar_ms)
        price = float(heatmap.close[i])
        if not np.isfinite(price) or price <= 0:
            continue
        width = max(price * bin_pct / 100, heatmap.bin_usd, truth_bin)
        half = int(np.ceil(price * window_pct / 100 / width))
        edges = price + width * np.arange(-half, half + 1)
        true_cells = np.concatenate(
            [_rebin(centres, t_long, truth_bin, edges), _rebin(centres, t_short, truth_bin, edges)]
        )
        est_cells = np.concatenate(
            [
                _rebin(heatmap.price_bins, heatmap.long_usd[i], heatmap.bin_usd, edges),
                _rebin(heatmap.price_bins, heatmap.short_usd[i], heatmap.bin_usd, edges),
            ]
        )
        if true_cells.sum() <= 0:
            continue
        rows.append(_snapshot_scores(ts, price, edges, true_cells, est_cells))
    if not rows:
        raise LiqmapError(
            "no truth snapshot overlaps the heatmap with notional inside the window; "
            "simulate longer or widen window_pct"
        )
    per = pd.DataFrame(rows)
    emd = per["emd_pct"].dropna()
    start = int(heatmap.times_ms[0]) // MS_PER_HOUR * MS_PER_HOUR
    end = int(heatmap.times_ms[-1]) + bar_ms
    events = predicted_events if predicted_events is not None else realized.iloc[:0]
    return FidelityScore(
        model=heatmap.model,
        density_corr=float(per["density_corr"].mean()),
        emd_pct=None if emd.empty else float(emd.mean()),
        top_decile_capture=float(per["top_decile_capture"].mean()),
        liq_volume_corr=hourly_corr(events, realized, start, end),
        liq_volume_ratio=_volume_ratio(events, realized, start, end),
        snapshots=len(per),
        empty_estimate=int(per["emd_pct"].isna().sum()),
        window_pct=window_pct,
        per_snapshot=per,
    )


def score_models(
    bars: pd.DataFrame,
    truth: pd.DataFrame,
    liquidations: pd.DataFrame,
    models: Iterable[str] = MODELS,
    config: EngineConfig | None = None,
    **kwargs: Any,
) -> dict[str, FidelityScore]:
    """Run the engine with each of ``models`` on simulated ``bars`` and score it against the truth.

    Without ``config`` the engine snapshots once per truth interval (exactly at the truth's times).
    ``kwargs`` go to :func:`fidelity_score`.
    """
    if config is None:
        times = np.unique(truth["timestamp"].to_numpy(np.int64))
        step = bar_step_ms(times) or MS_PER_HOUR
        config = EngineConfig(snapshot_every_ms=step)
    out = {}
    for model in models:
        res = run(bars, model=model, config=config)
        out[str(res.model)] = fidelity_score(res.heatmap, truth, res.events, liquidations, **kwargs)
    return out


def _volume_ratio(predicted: pd.DataFrame, realized: pd.DataFrame, start_ms: int, end_ms: int) -> float | None:
    """Predicted over realised liquidated notional in ``[start_ms, end_ms)`` (``None`` if nothing was realised)."""
    totals = [
        float(f.loc[(f["timestamp"] >= start_ms) & (f["timestamp"] < end_ms), "notional_usd"].sum())
        for f in (predicted, realized)
    ]
    return None if totals[1] <= 0 else totals[0] / totals[1]


def _rebin(centres: np.ndarray, values: np.ndarray, width: float, edges: np.ndarray) -> np.ndarray:
    """Mass per target bin (``edges``) of source bins (``centres`` ± width/2), mass uniform inside each."""
    src_edges = np.concatenate([centres - width / 2, [centres[-1] + width / 2]])
    cum = np.concatenate([[0.0], np.cumsum(values)])
    at = np.interp(edges, src_edges, cum, left=0.0, right=cum[-1])
    return np.diff(at)


def _snapshot_scores(
    ts: int, price: float, edges: np.ndarray, true_cells: np.ndarray, est_cells: np.ndarray
) -> dict[str, float]:
    from scipy.stats import wasserstein_distance  # scipy loads slowly: only when scoring

    n = len(edges) - 1
    total_true, total_est = float(true_cells.sum()), float(est_cells.sum())
    p_true = true_cells / total_true
    row = {"timestamp": ts, "price": price, "true_usd": total_true, "est_usd": total_est}
    if total_est <= 0:
        capture = _top_decile(est_cells, p_true)
        return row | {
            "density_corr": 0.0,
            "emd_pct": np.nan,
            "top_decile_capture": capture,
            "long_corr": 0.0,
            "short_corr": 0.0,
        }
    p_est = est_cells / total_est
    centres = (edges[:-1] + edges[1:]) / 2
    emd = wasserstein_distance(centres, centres, p_est[:n] + p_est[n:], p_true[:n] + p_true[n:])
    return row | {
        "density_corr": _corr(p_est, p_true),
        "emd_pct": float(emd / price * 100),
        "top_decile_capture": _top_decile(p_est, p_true),
        "long_corr": _corr(p_est[:n], p_true[:n]),
        "short_corr": _corr(p_est[n:], p_true[n:]),
    }


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; 0 when either side is constant (no information), as for an empty estimate."""
    return 0.0 if np.ptp(a) == 0 or np.ptp(b) == 0 else float(np.corrcoef(a, b)[0, 1])


def _top_decile(estimate: np.ndarray, p_true: np.ndarray) -> float:
    """Share of ``p_true`` (sums to 1) in the top 10 % cells of ``estimate``; boundary ties pro rata."""
    k = max(1, round(0.1 * len(estimate)))
    boundary = np.sort(estimate)[::-1][k - 1]
    above = estimate > boundary
    ties = estimate == boundary
    share = (k - int(above.sum())) / int(ties.sum())
    return float(p_true[above].sum() + share * p_true[ties].sum())
