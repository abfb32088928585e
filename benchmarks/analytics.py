"""Analytics figures: speed of every reading on a real-data map, cascades on that map, and validation on
the simulator (known truth) and on real OKX liquidations. Every number in docs/analytics.md comes from here.

    .venv/bin/python benchmarks/analytics.py [--profile default|prior|PATH] [--skip-sim] [--skip-real]
        [--engine KEY=VALUE ...]

``--profile`` is the calibration profile every run starts from (default: ``default``, what the CLI, API and
demo use); ``--engine`` overrides an :class:`~liqmap.engine.EngineConfig` field for the validation runs (an ablation),
e.g. ``--engine turnover_fraction=0``; values are read as JSON where they parse, else as text.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from liqmap.analytics import build_map_report, imbalance, key_levels, moves_to_liquidate
from liqmap.analytics.cascade import Direction, critical_shock_pct, simulate_cascade
from liqmap.analytics.impact import BookImpact, SqrtImpact
from liqmap.analytics.validation import validate
from liqmap.data.sample import sample_bars, sample_liquidations
from liqmap.engine import EngineConfig, run
from liqmap.engine.profiles import load_profile


def per_call_ms(fn: Any, repeat: int = 20) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def speed_and_cascades(out: dict[str, Any], profile: str) -> None:
    bars = sample_bars()
    bars = bars[(bars["exchange"] == "binance") & (bars["symbol"] == "BTC/USDT:USDT")].reset_index(drop=True)
    lm = run(bars, model="oi-delta", config=load_profile(profile).config()).liqmap()
    impact = SqrtImpact.from_bars(bars)
    print(
        f"map: binance BTC/USDT:USDT oi-delta, profile {profile}, {len(lm.price_bins)} bins of ${lm.bin_usd:,.2f}, "
        f"price {lm.price:,.2f}"
    )
    print(
        f"sqrt impact from the last 30 days: sigma_daily {impact.sigma_daily:.4f}, V_D ${impact.volume_daily_usd:,.0f}"
    )
    speed = {
        "key_levels_ms": per_call_ms(lambda: key_levels(lm)),
        "imbalance_ms": per_call_ms(lambda: imbalance(lm, window_pct=5)),
        "moves_to_liquidate_ms": per_call_ms(lambda: moves_to_liquidate(lm, [1e8, 1e9])),
        "map_report_ms": per_call_ms(lambda: build_map_report(lm, bars, profile=profile), repeat=3),
        "cascade_ms": per_call_ms(lambda: simulate_cascade(lm, -2.0, impact)),
        "critical_shock_both_ms": per_call_ms(
            lambda: [critical_shock_pct(lm, impact, d) for d in (Direction.UP, Direction.DOWN)], repeat=3
        ),
    }
    for k, v in speed.items():
        print(f"  {k:<24} {v:9.2f} ms")
    out["speed"] = speed
    out["map"] = {"price": lm.price, "bins": len(lm.price_bins), "bin_usd": lm.bin_usd}
    out["impact"] = {"sigma_daily": impact.sigma_daily, "volume_daily_usd": impact.volume_daily_usd}
    # Binance BTCUSDT bookDepth 2025-05-19 (exchange-mechanics.md §5), BTC → USD at an assumed $104k.
    book = BookImpact.from_levels(
        np.arange(1, 6),
        104_000 * np.array([2294, 3990, 5443, 7178, 7885]),
        104_000 * np.array([2097, 3485, 4814, 5700, 6492]),
    )
    rows = []
    print("cascades on that map (resilience 0):")
    for name, model in (("sqrt", impact), ("book", book)):
        for shock in (-5.0, -2.0, -1.0, 1.0, 2.0, 5.0):
            r = simulate_cascade(lm, shock, model)
            rows.append(
                {
                    "impact": name,
                    "shock_pct": shock,
                    "rounds": len(r.rounds),
                    "liquidated_usd": r.total_liquidated_usd,
                    "final_move_pct": r.final_move_pct,
                    "amplification": r.amplification,
                    "runaway": r.runaway,
                }
            )
            print(
                f"  {name:4} {shock:+5.1f}%: {len(r.rounds):2d} rounds, ${r.total_liquidated_usd / 1e6:9.1f}M, "
                f"final {r.final_move_pct:+7.3f}%, amplification {r.amplification:.3f}"
            )
        crit = {d.value: critical_shock_pct(lm, model, d) for d in Direction}
        print(f"  {name:4} critical shock: {crit}")
        out[f"critical_shock_{name}"] = crit
    out["cascades"] = rows


def validation_row(label: dict[str, Any], v: Any) -> dict[str, Any]:
    """One printed row of validation figures."""
    row = {
        **label,
        "events": v.events,
        "capture": {k: s.top_decile_capture for k, s in v.scores.items()},
        "median_percentile": {k: s.median_percentile for k, s in v.scores.items()},
        "log_score": {k: s.log_score for k, s in v.scores.items()},
        "lift_vs_volume": v.lift_vs_volume,
        "lift_vs_uniform": v.lift_vs_uniform,
        "lift_vs_proximity": v.lift_vs_proximity,
        "liq_volume_corr": v.liq_volume_corr,
        "chosen_mix": v.calibration["chosen"],
        "capture_default_mix": v.calibration["test_capture_default_mix"],
    }
    print(f"  {json.dumps(row)}")
    return row


def engine_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["turnover_fraction=0", ...]`` → ``{"turnover_fraction": 0, ...}`` (JSON values, else text)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in EngineConfig.__dataclass_fields__:
            raise SystemExit(f"--engine wants FIELD=VALUE with an EngineConfig field, got {pair!r}")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    return overrides


def sim_validation(out: dict[str, Any], profile: str, overrides: dict[str, Any]) -> None:
    from liqmap.sim import SimConfig, simulate

    print("validation on the simulator (2 days, 600 traders, 10 % window, train/test 50/50):")
    rows = []
    for regime, seed in (("crash", 1), ("calm", 2), ("trend", 3)):
        sim = simulate(SimConfig(seed=seed, days=2, n_traders=600, regime=regime))
        cfg = load_profile(profile).config(**overrides)
        row = validation_row({"regime": regime, "seed": seed}, validate(sim.bars, sim.liquidations, config=cfg))
        raw = validate(sim.bars, sim.liquidations, config=cfg, train_frac=0.0)  # default mix, every event
        row["uncalibrated_all_events_capture"] = {k: s.top_decile_capture for k, s in raw.scores.items()}
        print(f"    uncalibrated, all events: {json.dumps(row['uncalibrated_all_events_capture'])}")
        rows.append(row)
    out["sim_validation"] = rows


def real_validation(out: dict[str, Any], profile: str, overrides: dict[str, Any]) -> None:
    bars, liqs = sample_bars(), sample_liquidations()
    print("validation on real OKX liquidations (bundled sample, okx bars with proxy OI, 10 % window):")
    rows = []
    # OKX tiers are bundled for BTC only; ETH borrows Binance's (EngineConfig.tier_exchange).
    for sym, tier_exchange in (("BTC/USDT:USDT", {}), ("ETH/USDT:USDT", {"okx": "binance"})):
        cfg = load_profile(profile).config(**overrides, tier_exchange=tier_exchange)
        b = bars[(bars["exchange"] == "okx") & (bars["symbol"] == sym)].reset_index(drop=True)
        lq = liqs[(liqs["exchange"] == "okx") & (liqs["symbol"] == sym)].reset_index(drop=True)
        rows.append(validation_row({"symbol": sym}, validate(b, lq, "oi-delta", config=cfg)))
    out["real_validation"] = rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default", help="calibration profile the runs start from")
    ap.add_argument("--skip-sim", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--engine", action="append", default=[], metavar="KEY=VALUE", help="EngineConfig override")
    args = ap.parse_args()
    overrides = engine_overrides(args.engine)
    out: dict[str, Any] = {"profile": args.profile, "engine_overrides": overrides}
    speed_and_cascades(out, args.profile)
    if not args.skip_sim:
        sim_validation(out, args.profile, overrides)
    if not args.skip_real:
        real_validation(out, args.profile, overrides)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
