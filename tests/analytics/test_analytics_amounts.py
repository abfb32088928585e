"""Amounts: hand-computed per-period scores and anchors, the closed-form liquidation share, the grid fit,
the bundled profiles, and the shipped default's amounts on real data it was not fitted on (OKX BTC)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from liqmap.analytics import calibration as cal
from liqmap.analytics.amounts import anchors, per_period, realized_totals, score_amounts, scored_periods
from liqmap.analytics.validation import validate_amounts
from liqmap.engine import EngineConfig
from liqmap.engine.profiles import available_profiles, load_profile
from liqmap.errors import DataValidationError, LiqmapError

DAY = 86_400_000


def _table(real_long, pred_long, real_short=None, pred_short=None) -> pd.DataFrame:
    n = len(real_long)
    zeros = [0.0] * n
    return pd.DataFrame(
        {
            "timestamp": np.arange(n) * DAY,
            "long_usd": real_long,
            "short_usd": real_short or zeros,
            "pred_long_usd": pred_long,
            "pred_short_usd": pred_short or zeros,
        }
    )


def test_scores_hand_computed():
    s = score_amounts(_table([1e6, 2e6, 3e6], [3e6, 2e6, 1e6]), "long")
    assert s.ratio == 1.0 and s.spearman == pytest.approx(-1.0)
    floor = 0.01 * 6e6 / 3  # 1 % of the mean realized per day, both sides
    expected = np.mean([abs(math.log((p + floor) / (r + floor))) for p, r in ((3e6, 1e6), (2e6, 2e6), (1e6, 3e6))])
    assert s.log_error == pytest.approx(expected)
    flat = score_amounts(_table([1e6, 1e6, 1e6], [1e6, 2e6, 3e6]), "long")
    assert flat.spearman is None and flat.ratio == 2.0  # a constant series has no rank correlation


def test_events_and_totals_give_the_same_periods():
    events = pd.DataFrame(
        {"timestamp": [10, 20, DAY + 5], "side": ["long", "short", "long"], "notional_usd": [1.0, 2.0, 4.0]}
    )
    totals = realized_totals(events)
    assert totals.to_dict("list") == {"timestamp": [0, DAY], "long_usd": [1.0, 4.0], "short_usd": [2.0, 0.0]}
    assert realized_totals(totals).equals(totals)
    pred = pd.DataFrame({"timestamp": [DAY + 1], "side": ["short"], "notional_usd": [7.0]})
    t = per_period(pred, events)
    assert t["pred_short_usd"].tolist() == [0.0, 7.0] and t["pred_long_usd"].tolist() == [0.0, 0.0]
    with pytest.raises(DataValidationError, match="finite and ≥ 0"):
        realized_totals(totals.assign(long_usd=[-1.0, 0.0]))


def test_anchors_and_warmup_hand_computed():
    hours = np.arange(48) * 3_600_000
    price = np.where(hours < DAY, 100.0, 200.0)
    bars = pd.DataFrame(
        {"timestamp": hours, "open": price, "high": price * 1.1, "low": price * 0.8, "open_interest_usd": 1e6}
    )
    a = anchors(bars, np.array([0, DAY]))
    assert a["pred_long_usd"].tolist() == pytest.approx([0.2e6, 0.2e6])  # (open − low) / open × OI
    assert a["pred_short_usd"].tolist() == pytest.approx([0.1e6, 0.1e6])
    totals = pd.DataFrame({"timestamp": [0, DAY, 2 * DAY], "long_usd": 1.0, "short_usd": 1.0})
    assert scored_periods(totals, bars)["timestamp"].tolist() == [DAY]  # day 0 warms up, day 2 is not covered


def test_shares_are_pooled_and_capped():
    a = _table([1e6, 1e6], [4e6, 4e6], [1.0, 1.0], [1e6, 1e6])
    b = _table([3e6, 3e6], [4e6, 4e6], [0.0, 0.0], [0.0, 0.0])
    long_share, short_share = cal.fitted_shares([a, b])
    assert long_share == pytest.approx(8e6 / 16e6)  # Σ realized / Σ predicted over both series
    assert short_share == pytest.approx(cal.MIN_SHARE)  # 2 USD realized vs 2M predicted: floored, not zero
    assert cal.fitted_shares([_table([1.0], [0.5])]) == (1.0, 1.0)  # never above 1


def _candidate(k: float, tables: dict, venues: dict, location: dict | None = None) -> cal.Candidate:
    return cal.Candidate({"k": k}, EngineConfig(), tables, location or {}, tuple(tables), venues)


def test_fit_picks_the_candidate_whose_shape_matches_with_shares_per_venue():
    real = [1e6, 5e6, 2e6]
    venues = {"A": "hyperliquid", "B": "okx"}
    okx = _table(real, [x * 4 for x in real])
    good = _candidate(1.0, {"A": _table(real, [x * 10 for x in real]), "B": okx}, venues)
    bad = _candidate(2.0, {"A": _table(real, [5e6, 1e6, 2e6]), "B": okx}, venues)
    f = cal.fit([bad, good], ["A", "B"])
    assert f.params == {"k": 1.0} and f.objective < 1e-9
    assert f.liquidation_share["hyperliquid"][0] == pytest.approx(0.1)
    assert f.liquidation_share["okx"][0] == pytest.approx(0.25)
    # venues without realized amounts get the general venue's (OKX's) share; Hyperliquid keeps its own
    assert f.config.liquidation_share[0] == pytest.approx(0.25) and f.config.share_for("binance")[0] == 0.25
    assert f.config.share_for("hyperliquid")[0] == pytest.approx(0.1)
    # where the events happened counts too: a better location log score wins a tie on amounts
    tie = _candidate(3.0, good.tables, venues, {"B": 2.0})
    assert cal.fit([good, tie], ["A", "B"]).params == {"k": 3.0}
    with pytest.raises(LiqmapError, match="at least one"):
        cal.fit([], ["A"])


def test_profiles(tmp_path):
    assert available_profiles()[:2] == ["prior", "default"]
    assert load_profile("prior").config() == EngineConfig()
    default = load_profile()
    cfg = default.config(bin_usd=25.0)
    assert cfg.profile == "default" and cfg.bin_usd == 25.0 and cfg.n_bins is None
    fitted = {f"{v} {c}" for c in ("SOL", "DOGE", "HYPE") for v in ("hyperliquid", "okx")}
    assert set(default.fitted_on["series"]) == fitted
    assert {s["series"] for s in default.scores["asset_split"]} == fitted
    assert {s["series"] for s in default.scores["not_fitted"]} == {"okx BTC", "okx ETH"}
    assert 0 < cfg.liquidation_share[0] <= 1 and 0 < cfg.liquidation_share[1] <= 1
    assert set(cfg.venue_liquidation_share) == {"hyperliquid"}
    with pytest.raises(LiqmapError, match="unknown profile 'nope'"):
        load_profile("nope")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "version": 1, "description": "", "settings": {"warp": 9}}))
    with pytest.raises(LiqmapError, match=r"unknown setting\(s\) \['warp'\]"):
        load_profile(str(bad))


def test_default_profile_amounts_on_okx_btc_not_fitted():
    """Real OKX BTC liquidation orders (12.5 h, never fitted): the default profile's hourly totals are within
    2× of what OKX liquidated on both sides, where the prior predicted ~90× (longs) and ~29× (shorts)."""
    from liqmap.data.sample import sample_bars, sample_liquidations

    bars = sample_bars()
    bars = bars[(bars["exchange"] == "okx") & (bars["symbol"] == "BTC/USDT:USDT")]
    liq = sample_liquidations()
    liq = liq[liq["symbol"] == "BTC/USDT:USDT"]
    lend = {"tier_exchange": {"okx": "binance"}}  # as calibrated: OKX bundles BTC's tier 1 only
    default = validate_amounts(bars, liq, load_profile().config(**lend))
    prior = validate_amounts(bars, liq, load_profile("prior").config())
    assert default.profile == "default" and default.period_ms == 3_600_000 and default.periods == 13
    assert default.model["long"].realized_usd == pytest.approx(3_200_361.16, rel=1e-6)
    assert 0.5 < default.model["long"].ratio < 2.0 and 0.5 < default.model["short"].ratio < 2.0
    assert prior.model["long"].ratio > 50 and prior.model["short"].ratio > 20


def test_calibrate_refuses_an_unwritable_profile_path_before_fitting(tmp_path):
    from typer.testing import CliRunner

    from liqmap.cli import app

    blocker = tmp_path / "file"
    blocker.write_text("")
    res = CliRunner().invoke(app, ["calibrate", "--out", str(blocker / "p.json")])
    assert isinstance(res.exception, LiqmapError) and "cannot write there" in str(res.exception)
    assert blocker.read_text() == ""  # nothing written, nothing fitted
