"""Public simulator API: validate a :class:`SimConfig` → draw the population → run the kernel → wrap frames.

>>> from liqmap.sim import SimConfig, simulate
>>> res = simulate(SimConfig(seed=1, days=0.25, n_traders=200, warmup_days=0.0))
>>> len(res.bars), list(res.truth.columns)
(360, ['timestamp', 'price', 'long_usd', 'short_usd'])
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from liqmap.enums import Exchange
from liqmap.errors import LiqmapError
from liqmap.margin import get_tiers
from liqmap.sim import nb
from liqmap.sim.enums import N_PARAMS, BarCol, Counter, LiqCol, Param, Regime, TraderKind
from liqmap.sim.truth import truth_frame
from liqmap.timeframes import MS_PER_MINUTE

SYMBOL = "BTC/USDT:USDT"
LEVERAGES = (2.0, 3.0, 5.0, 10.0, 20.0, 25.0, 50.0, 75.0, 100.0)


@dataclass(frozen=True)
class RegimeParams:
    """Exogenous price process and crowd mood of one regime (daily figures are per 24 h)."""

    drift_daily: float  # log drift of the index per day
    sigma_daily: float  # exogenous log volatility per day
    jumps_per_day: float  # expected number of news jumps per day
    jump_mean: float  # mean absolute log size of a jump
    jump_sign: float  # −1 sell-offs, +1 rallies, 0 either
    long_bias: float  # probability that a noise trader opens long
    depth_vol_k: float  # how strongly the book thins when volatility rises
    leverage_probs: tuple[float, ...]  # over LEVERAGES


REGIMES: dict[Regime, RegimeParams] = {
    Regime.CALM: RegimeParams(
        0.0, 0.02, 0.0, 0.0, 0.0, 0.5, 0.5, (0.10, 0.08, 0.15, 0.25, 0.15, 0.10, 0.10, 0.04, 0.03)
    ),
    Regime.TREND: RegimeParams(
        0.03, 0.025, 1.0, 0.01, 1.0, 0.55, 0.5, (0.08, 0.07, 0.15, 0.25, 0.17, 0.10, 0.10, 0.05, 0.03)
    ),
    Regime.CRASH: RegimeParams(
        -0.02, 0.03, 3.0, 0.012, -1.0, 0.55, 1.5, (0.06, 0.06, 0.13, 0.25, 0.18, 0.10, 0.12, 0.06, 0.04)
    ),
}


@dataclass(frozen=True)
class SimConfig:
    """Everything that determines a run; equal configs give bit-identical results."""

    seed: int = 0
    days: float = 7.0
    regime: Regime | str = Regime.CALM
    n_traders: int = 2_000
    warmup_days: float = 1.0  # simulated before the first emitted bar so positions pre-exist
    start_price: float = 60_000.0
    start_ms: int = 1_767_225_600_000  # 2026-01-01 00:00 UTC, the first emitted bar
    substeps: int = 3  # sub-steps per 1-minute bar (price path inside the bar, cascade timing)
    depth_per_trader_usd: float = 10_000.0  # calm book depth within 1 % per side, per simulated trader
    depth_exponent: float = 0.75  # D(x) ∝ x^a, fitted to Binance BTCUSDT depth (docs/sim.md)
    kappa: float = 0.2
    beta: float = 0.5
    taker_fee: float = 0.0005
    maker_capital_share: float = 1.0  # makers' capital relative to all other traders' capital
    bin_usd: float = 50.0
    truth_window_pct: float = 40.0  # truth grid half-width around price, % of the start price
    truth_every_min: int = 60
    depth_every_min: int = 60
    depth_levels: int = 50
    depth_step_pct: float = 0.1
    max_rounds: int = 8
    max_move_pct: float = 2.0  # price band per clearing round
    exchange: str = Exchange.SIM.value
    symbol: str = SYMBOL

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "regime", Regime(str(self.regime).lower()))
        except ValueError:
            raise LiqmapError(
                f"unknown regime {self.regime!r}: use one of {', '.join(r.value for r in Regime)}"
            ) from None
        checks = (
            (isinstance(self.seed, int | np.integer) and self.seed >= 0, "seed must be a non-negative integer"),
            (0 < self.days <= 3650, f"days must lie in (0, 3650], got {self.days!r}"),
            (0 <= self.warmup_days <= 30, f"warmup_days must lie in [0, 30], got {self.warmup_days!r}"),
            (10 <= self.n_traders <= 10_000_000, f"n_traders must lie in [10, 1e7], got {self.n_traders!r}"),
            (self.start_price > 0 and math.isfinite(self.start_price), "start_price must be positive"),
            (self.substeps in (1, 2, 3, 4, 5, 6, 10, 12), "substeps must divide 60 (1–6, 10 or 12)"),
            (self.bin_usd > 0, "bin_usd must be positive"),
            (0 < self.truth_window_pct < 100, "truth_window_pct must lie in (0, 100)"),
            (self.truth_every_min >= 1 and self.depth_every_min >= 1, "snapshot intervals must be ≥ 1 minute"),
            (self.days * 1440 >= self.truth_every_min, "days must cover at least one truth snapshot"),
            (self.depth_per_trader_usd > 0 and 0 < self.depth_exponent <= 2, "depth parameters out of range"),
        )
        for ok, message in checks:
            if not ok:
                raise LiqmapError(message)

    @property
    def n_minutes(self) -> int:
        """Emitted one-minute bars."""
        return round(self.days * 1440)

    @property
    def warmup_minutes(self) -> int:
        """Simulated bars before the first emitted one (a whole number of truth intervals)."""
        return round(self.warmup_days * 1440 / self.truth_every_min) * self.truth_every_min


@dataclass(frozen=True)
class SimResult:
    """A finished run: canonical tables, ground truth and the diagnostics the tests check."""

    config: SimConfig
    bars: pd.DataFrame  # canonical BARS columns
    liquidations: pd.DataFrame  # canonical LIQUIDATIONS columns + trader_id, position_id, mark_price, ...
    depth: pd.DataFrame  # canonical DEPTH columns
    truth: pd.DataFrame  # timestamp, price (bin centre), long_usd, short_usd
    ledger: pd.DataFrame  # per-bar conservation ledger (see liqmap.sim.enums.BarCol)
    positions: pd.DataFrame  # open positions at the end
    counters: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Headline numbers of the run (JSON-ready)."""
        b, liq = self.bars, self.liquidations
        return {
            "regime": str(self.config.regime),
            "seed": self.config.seed,
            "days": self.config.days,
            "traders": self.config.n_traders,
            "bars": len(b),
            "open": float(b["open"].iloc[0]),
            "close": float(b["close"].iloc[-1]),
            "high": float(b["high"].max()),
            "low": float(b["low"].min()),
            "volume_usd": float(b["quote_volume"].sum()),
            "open_interest_usd": float(b["open_interest_usd"].iloc[-1]),
            "liquidations": len(liq),
            "liquidated_long_usd": float(liq.loc[liq["side"] == "long", "notional_usd"].sum()),
            "liquidated_short_usd": float(liq.loc[liq["side"] == "short", "notional_usd"].sum()),
            "positions_opened": self.counters["opened"],
            "insurance_fund_usd": float(self.ledger["insurance"].iloc[-1]),
        }


def simulate(config: SimConfig | None = None, **overrides: Any) -> SimResult:
    """Run the agent-based perpetual market described by ``config`` (plus keyword ``overrides``)."""
    cfg = replace(config or SimConfig(), **overrides) if overrides else (config or SimConfig())
    return _simulate_with(cfg, nb.simulate_nb)


def _simulate_with(cfg: SimConfig, kernel: Any) -> SimResult:
    """:func:`simulate` with an explicit kernel (the compiled one, or its Python twin in tests)."""
    rp = REGIMES[Regime(cfg.regime)]
    tiers = get_tiers(cfg.exchange, cfg.symbol)
    pop = _population(cfg, rp)
    total = cfg.warmup_minutes + cfg.n_minutes
    traders = nb.Traders(**{f: pop[f] for f in nb.Traders._fields})
    venue = nb.Tiers(
        tiers.notional_floor,
        tiers.maintenance_margin_rate,
        tiers.maintenance_amount,
        tiers.max_leverage,
        int(tiers.formula),
        int(tiers.basis),
        float(tiers.fee_rate),
    )
    bars, liqs, t_long, t_short, t_k0, counters = kernel(
        _params(cfg, rp), total, traders, venue, nb.seed_state(cfg.seed)
    )
    w = cfg.warmup_minutes
    ledger = _ledger(cfg, bars[w:])
    snap0 = w // cfg.truth_every_min
    truth = truth_frame(
        t_long[snap0:],
        t_short[snap0:],
        t_k0[snap0:],
        cfg.bin_usd,
        cfg.start_ms + (np.arange(snap0, len(t_k0)) + 1 - snap0) * cfg.truth_every_min * MS_PER_MINUTE,
    )
    return SimResult(
        config=cfg,
        bars=_bars_frame(cfg, ledger),
        liquidations=_liquidations_frame(cfg, liqs),
        depth=_depth_frame(cfg, ledger),
        truth=truth,
        ledger=ledger,
        positions=_positions_frame(pop),
        counters={c.name.lower(): int(counters[c]) for c in Counter if c != Counter.RNG_STATE}
        | {"liquidated_by_trader_total": int(pop["liq_count"].sum())},
    )


def _params(cfg: SimConfig, rp: RegimeParams) -> np.ndarray:
    p = np.zeros(N_PARAMS)
    sub_per_day = 1440 * cfg.substeps
    p[Param.START_PRICE] = cfg.start_price
    p[Param.SUBSTEPS] = cfg.substeps
    p[Param.DRIFT_SUB] = rp.drift_daily / sub_per_day
    p[Param.SIGMA_SUB] = rp.sigma_daily / math.sqrt(sub_per_day)
    p[Param.JUMP_PROB_SUB] = rp.jumps_per_day / sub_per_day
    p[Param.JUMP_MEAN] = rp.jump_mean
    p[Param.JUMP_SIGN] = rp.jump_sign
    p[Param.KAPPA] = cfg.kappa
    p[Param.BETA] = cfg.beta
    p[Param.DEPTH_1PCT] = cfg.depth_per_trader_usd * cfg.n_traders / cfg.start_price
    p[Param.DEPTH_EXPONENT] = cfg.depth_exponent
    p[Param.DEPTH_VOL_K] = rp.depth_vol_k
    p[Param.TAKER_FEE] = cfg.taker_fee
    p[Param.FUNDING_CAP] = 0.0075
    p[Param.INTEREST] = 0.0001
    p[Param.FUNDING_EVERY_MIN] = 480
    # funding at 00:00, 08:00 and 16:00 UTC of the emitted clock (the warm-up ends at 00:00)
    p[Param.FIRST_FUNDING_MIN] = (cfg.warmup_minutes % 480) or 480
    p[Param.LONG_BIAS] = rp.long_bias
    p[Param.TREND_THRESHOLD] = 0.002
    p[Param.MEANREV_THRESHOLD] = 0.004
    p[Param.BIN_USD] = cfg.bin_usd
    p[Param.TRUTH_HALF_BINS] = math.ceil(cfg.truth_window_pct / 100 * cfg.start_price / cfg.bin_usd)
    p[Param.TRUTH_EVERY_MIN] = cfg.truth_every_min
    p[Param.MAX_ROUNDS] = cfg.max_rounds
    p[Param.REFILL_SHARE] = 0.25
    p[Param.MAX_MOVE] = cfg.max_move_pct / 100
    p[Param.MARK_ALPHA] = 1.0 - math.exp(-60.0 / cfg.substeps / 30.0)  # ≈ 30-s moving average of the basis
    return p


def _population(cfg: SimConfig, rp: RegimeParams) -> dict[str, np.ndarray]:
    """Draw the heterogeneous trader population from ``numpy.random.Generator(seed)``."""
    rng = np.random.default_rng(cfg.seed)
    n = cfg.n_traders
    n_mm = max(2, n // 200)
    kind = rng.choice(
        np.array([TraderKind.NOISE, TraderKind.TREND, TraderKind.MEANREV], dtype=np.int64),
        size=n,
        p=[0.5, 0.25, 0.25],
    )
    kind[:n_mm] = TraderKind.MAKER
    cap0 = np.clip(rng.lognormal(math.log(10_000.0), 1.0, n), 500.0, 250_000.0)
    takers = kind != TraderKind.MAKER
    # makers' capitals differ (±50 %) so no two of them ever hold identical positions (distinct event keys)
    desk = rng.uniform(0.5, 1.5, n_mm)
    cap0[~takers] = cfg.maker_capital_share * cap0[takers].sum() * desk / desk.sum()
    hold_min = np.select([kind == TraderKind.TREND, kind == TraderKind.MEANREV], [720.0, 120.0], 240.0) * rng.lognormal(
        0.0, 0.5, n
    )
    has_sl = rng.random(n) < 0.45
    has_tp = rng.random(n) < 0.40
    hold_sub = hold_min * cfg.substeps
    return {
        "kind": kind,
        "cap0": cap0,
        "lev_pref": np.where(takers, rng.choice(np.array(LEVERAGES), size=n, p=rp.leverage_probs), 2.0),
        "frac": rng.uniform(0.05, 0.4, n),
        "sl_pct": np.where(has_sl, rng.uniform(0.01, 0.05, n), 0.0),
        "tp_pct": np.where(has_tp, rng.uniform(0.01, 0.08, n), 0.0),
        "hold_sub": hold_sub,
        "wallet": cap0.copy(),
        "pos": np.zeros(n),
        "entry": np.zeros(n),
        "margin": np.zeros(n),
        "lev": np.ones(n),
        "lp": np.zeros(n),
        "sl": np.full(n, np.nan),
        "tp": np.full(n, np.nan),
        "next_t": (rng.random(n) * hold_sub).astype(np.int64),
        "pos_id": np.full(n, -1, dtype=np.int64),
        "liq_count": np.zeros(n, dtype=np.int64),
    }


def _ledger(cfg: SimConfig, bars: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame(bars, columns=[c.name.lower() for c in BarCol])
    out.insert(0, "timestamp", cfg.start_ms + np.arange(len(out), dtype=np.int64) * MS_PER_MINUTE)
    return out


def _bars_frame(cfg: SimConfig, ledger: pd.DataFrame) -> pd.DataFrame:
    n = len(ledger)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ledger["n_short"] > 0, ledger["n_long"] / ledger["n_short"], np.nan)
    return pd.DataFrame(
        {
            "exchange": np.full(n, cfg.exchange, dtype=object),
            "symbol": np.full(n, cfg.symbol, dtype=object),
            "timestamp": ledger["timestamp"].to_numpy(),
            "open": ledger["open"].to_numpy(),
            "high": ledger["high"].to_numpy(),
            "low": ledger["low"].to_numpy(),
            "close": ledger["close"].to_numpy(),
            "volume": ledger["volume"].to_numpy(),
            "quote_volume": ledger["quote_volume"].to_numpy(),
            "taker_buy_volume": ledger["taker_buy"].to_numpy(),
            "open_interest": ledger["long_qty"].to_numpy(),
            "open_interest_usd": (ledger["long_qty"] * ledger["mark"]).to_numpy(),
            "funding_rate": ledger["funding_rate"].to_numpy(),
            "mark_price": ledger["mark"].to_numpy(),
            "long_short_ratio": ratio,
        }
    )


def _liquidations_frame(cfg: SimConfig, liqs: np.ndarray) -> pd.DataFrame:
    step_ms = MS_PER_MINUTE // cfg.substeps
    first = cfg.warmup_minutes * cfg.substeps
    liqs = liqs[liqs[:, LiqCol.SUBSTEP] >= first]
    n = len(liqs)
    side = np.where(liqs[:, LiqCol.SIDE] > 0, "long", "short").astype(object)
    qty = liqs[:, LiqCol.QUANTITY]
    return pd.DataFrame(
        {
            "exchange": np.full(n, cfg.exchange, dtype=object),
            "symbol": np.full(n, cfg.symbol, dtype=object),
            "timestamp": cfg.start_ms + (liqs[:, LiqCol.SUBSTEP].astype(np.int64) - first) * step_ms,
            "side": side,
            "price": liqs[:, LiqCol.PRICE],
            "quantity": qty,
            "notional_usd": qty * liqs[:, LiqCol.PRICE],
            "trader_id": liqs[:, LiqCol.TRADER].astype(np.int64),
            "position_id": liqs[:, LiqCol.POSITION].astype(np.int64),
            "mark_price": liqs[:, LiqCol.MARK],
            "liquidation_price": liqs[:, LiqCol.LIQ_PRICE],
            "to_insurance_usd": liqs[:, LiqCol.TO_INSURANCE],
        }
    )


def _depth_frame(cfg: SimConfig, ledger: pd.DataFrame) -> pd.DataFrame:
    """Book snapshots at bar close every ``depth_every_min``: the power-law depth curve in discrete levels."""
    snaps = ledger.iloc[cfg.depth_every_min - 1 :: cfg.depth_every_min]
    x = np.arange(1, cfg.depth_levels + 1) * cfg.depth_step_pct  # distance from price, %
    cum = x**cfg.depth_exponent
    level = np.diff(np.concatenate([[0.0], cum]))  # share of D(1 %) per level
    k, t = len(x), len(snaps)
    close = np.repeat(snaps["close"].to_numpy(), k)
    size = np.outer(snaps["depth_1pct"].to_numpy(), level).ravel()
    ts = np.repeat(snaps["timestamp"].to_numpy() + MS_PER_MINUTE, k)
    xx = np.tile(x / 100, t)
    frames = [
        pd.DataFrame({"timestamp": ts, "side": "bid", "price": close * (1 - xx), "size": size}),
        pd.DataFrame({"timestamp": ts, "side": "ask", "price": close * (1 + xx), "size": size}),
    ]
    out = pd.concat(frames, ignore_index=True).sort_values(["timestamp", "side", "price"], ignore_index=True)
    out.insert(0, "symbol", cfg.symbol)
    out.insert(0, "exchange", cfg.exchange)
    return out


def _positions_frame(pop: dict[str, np.ndarray]) -> pd.DataFrame:
    open_ = pop["pos"] != 0.0
    idx = np.flatnonzero(open_)
    return pd.DataFrame(
        {
            "trader_id": idx,
            "kind": [TraderKind(k).name.lower() for k in pop["kind"][idx]],
            "position_id": pop["pos_id"][idx],
            "side": np.where(pop["pos"][idx] > 0, 1, -1),
            "quantity": np.abs(pop["pos"][idx]),
            "entry": pop["entry"][idx],
            "margin": np.where(pop["kind"][idx] == TraderKind.MAKER, pop["wallet"][idx], pop["margin"][idx]),
            "leverage": pop["lev"][idx],
            "liquidation_price": pop["lp"][idx],
        }
    )


def config_dict(cfg: SimConfig) -> dict[str, Any]:
    """JSON-ready config (regime as its string value)."""
    out = asdict(cfg)
    out["regime"] = str(cfg.regime)
    return out
