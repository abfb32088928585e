"""Engine configuration: one frozen dataclass, validated once at construction with fix-it messages."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from liqmap.engine.enums import ClosureRule, EntryDistribution
from liqmap.errors import LiqmapError
from liqmap.timeframes import MS_PER_DAY

DEFAULT_LEVERAGES = (5.0, 10.0, 20.0, 25.0, 50.0, 100.0)
# Takers (the aggressive side) skew to high leverage; makers/patient traders to low leverage. These are
# documented, uncalibrated assumptions (docs/engine.md); change them per venue or fit them to realised data.
DEFAULT_AGGRESSIVE_WEIGHTS = (0.05, 0.15, 0.20, 0.20, 0.20, 0.20)
DEFAULT_PASSIVE_WEIGHTS = (0.25, 0.35, 0.20, 0.10, 0.07, 0.03)
DEFAULT_N_BINS = 1_000


@dataclass(frozen=True)
class EngineConfig:
    """Every assumption of the engine, with documented defaults (see docs/engine.md).

    >>> EngineConfig().n_bins, EngineConfig().leverages[-1]
    (1000, 100.0)
    >>> EngineConfig(bin_usd=50.0).n_bins is None
    True
    """

    leverages: tuple[float, ...] = DEFAULT_LEVERAGES
    aggressive_weights: tuple[float, ...] = DEFAULT_AGGRESSIVE_WEIGHTS  # leverage mix of taker-opened positions
    passive_weights: tuple[float, ...] = DEFAULT_PASSIVE_WEIGHTS  # leverage mix of maker-opened positions
    position_notional_usd: float = 10_000.0  # representative position size used for the tier lookup
    n_bins: int | None = None  # bins (default 1,000 unless bin_usd); width rounded up to 1/2/2.5/5×10^k, edges aligned
    bin_usd: float | None = None  # bin width in USD (alternative to n_bins)
    price_range: tuple[float, float] | None = None  # grid edges; default: data range padded by range_pad_pct
    range_pad_pct: float = 30.0
    snapshot_every_ms: int | None = None  # heatmap time step; default: every bar, coarsened to ≤ max_snapshots
    max_snapshots: int = 10_000
    closure: ClosureRule = ClosureRule.PROPORTIONAL
    decay_half_life_ms: int | None = None  # oi-delta: none by default; volume: volume_half_life_ms if None
    entry_distribution: EntryDistribution = EntryDistribution.TRIANGULAR
    use_mark_price: bool = True  # shift the bar range by the mark-last basis at close when mark is known
    mark_path: bool = True  # with use_mark_price: trigger on the mark's close-to-close path when both are known
    keep_leverage_layers: bool = False  # per-leverage heatmap layers (memory × len(leverages))
    volume_fraction: float = 0.05  # volume model: share of each bar's quote volume opening new positions
    volume_half_life_ms: int = MS_PER_DAY  # volume model's default decay half-life
    seed: bool = True  # oi-delta: seed the first OI level as positions around the first close
    seed_spread_pct: float = 5.0  # seed entries: triangular over close × (1 ± spread)
    seed_survivors: bool = True  # seed only positions whose liquidation price the first bar did not reach
    turnover_fraction: float = 0.25  # oi-delta: share of (volume − |ΔOI|) × typical that changes hands per side
    uniform_band_pct: float = 15.0  # uniform baseline: longs over [p(1−band), p], shorts over [p, p(1+band)]
    leverage_tilt: tuple[float, float] = (0.0, 0.0)  # (long, short) γ: a side's mixes × leverage^γ, renormalised
    liquidation_share: tuple[float, float] = (1.0, 1.0)  # (long, short) share reaching LP that is force-liquidated
    venue_liquidation_share: dict[str, tuple[float, float]] = field(default_factory=dict, hash=False)  # per venue
    exit_hazard_per_day: float = 0.0  # early-exit rate of positions whose LP is within exit_zone_pct of price
    exit_zone_pct: float = 2.0  # hazard zone: the rate ramps from 0 at this distance to its full value at the LP
    tier_exchange: dict[str, str] = field(default_factory=dict, hash=False)  # e.g. {"okx": "binance"}
    # tables read by the caller (e.g. a store's fetched tiers), used before the bundled ones; matched on
    # (exchange, symbol); compared by identity only (TierTable holds arrays)
    tier_tables: tuple[Any, ...] = field(default=(), hash=False, compare=False)
    profile: str = "prior"  # name of the calibration profile these assumptions come from (liqmap.engine.profiles)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "closure", _parse_enum(ClosureRule, self.closure, "closure"))
        set_(self, "entry_distribution", _parse_enum(EntryDistribution, self.entry_distribution, "entry_distribution"))
        for name in ("leverages", "aggressive_weights", "passive_weights"):
            set_(self, name, tuple(float(x) for x in getattr(self, name)))
        self._check_leverage_mix()
        if self.n_bins is None and self.bin_usd is None:
            set_(self, "n_bins", DEFAULT_N_BINS)
        if self.n_bins is not None and self.bin_usd is not None:
            raise LiqmapError("give either n_bins or bin_usd, not both (e.g. EngineConfig(bin_usd=50))")
        if self.n_bins is not None and not (isinstance(self.n_bins, int) and 10 <= self.n_bins <= 200_000):
            raise LiqmapError(f"n_bins must be an integer in [10, 200000], got {self.n_bins!r}")
        _positive("bin_usd", self.bin_usd, allow_none=True)
        _positive("position_notional_usd", self.position_notional_usd)
        _positive("range_pad_pct", self.range_pad_pct, allow_zero=True)
        _positive("seed_spread_pct", self.seed_spread_pct, allow_zero=True)
        _positive("volume_fraction", self.volume_fraction)
        _positive("uniform_band_pct", self.uniform_band_pct)
        _positive("volume_half_life_ms", self.volume_half_life_ms)
        _positive("decay_half_life_ms", self.decay_half_life_ms, allow_none=True)
        _positive("snapshot_every_ms", self.snapshot_every_ms, allow_none=True)
        if not (isinstance(self.max_snapshots, int) and self.max_snapshots >= 1):
            raise LiqmapError(f"max_snapshots must be a positive integer, got {self.max_snapshots!r}")
        if self.price_range is not None:
            lo, hi = (float(x) for x in self.price_range)
            if not (0 < lo < hi and math.isfinite(hi)):
                raise LiqmapError(f"price_range must be (low, high) with 0 < low < high, got {self.price_range!r}")
            set_(self, "price_range", (lo, hi))
        if not (isinstance(self.turnover_fraction, int | float) and 0.0 <= self.turnover_fraction <= 1.0):
            raise LiqmapError(
                f"turnover_fraction must lie in [0, 1] (0 disables turnover), got {self.turnover_fraction!r}"
            )
        if self.uniform_band_pct >= 100 or self.seed_spread_pct >= 100:
            raise LiqmapError("uniform_band_pct and seed_spread_pct must be below 100 (prices stay positive)")
        for name, lo, hi in (("leverage_tilt", -10.0, 10.0), ("liquidation_share", 0.0, 1.0)):
            pair = tuple(float(x) for x in getattr(self, name))
            if len(pair) != 2 or not all(lo <= x <= hi for x in pair):
                raise LiqmapError(f"{name} must be a (long, short) pair of numbers in [{lo:g}, {hi:g}], got {pair}")
            set_(self, name, pair)
        venues = {}
        for venue, pair in dict(self.venue_liquidation_share).items():
            shares = tuple(float(x) for x in pair)
            if len(shares) != 2 or not all(0.0 <= x <= 1.0 for x in shares):
                raise LiqmapError(
                    f"venue_liquidation_share[{venue!r}] must be a (long, short) pair in [0, 1], got {pair}"
                )
            venues[str(venue).lower()] = shares
        set_(self, "venue_liquidation_share", venues)
        _positive("exit_hazard_per_day", self.exit_hazard_per_day, allow_zero=True)
        _positive("exit_zone_pct", self.exit_zone_pct)
        if self.exit_zone_pct >= 100:
            raise LiqmapError(f"exit_zone_pct must be below 100, got {self.exit_zone_pct!r}")
        set_(self, "tier_exchange", {str(k).lower(): str(v).lower() for k, v in dict(self.tier_exchange).items()})
        set_(self, "tier_tables", tuple(self.tier_tables or ()))
        for t in self.tier_tables:
            if not all(hasattr(t, a) for a in ("exchange", "symbol", "maintenance_margin_rate")):
                raise LiqmapError(f"tier_tables must hold liqmap.margin.TierTable objects, got {type(t).__name__}")

    def share_for(self, exchange: str) -> tuple[float, float]:
        """The ``(long, short)`` liquidation share of ``exchange``: its own if the profile has one, else the
        general ``liquidation_share``."""
        return self.venue_liquidation_share.get(exchange.lower(), self.liquidation_share)

    def side_mixes(self) -> tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]:
        """``((long aggressive, long passive), (short aggressive, short passive))`` leverage mixes: the base
        mixes multiplied by ``leverage ** leverage_tilt[side]`` and renormalised.

        >>> EngineConfig(leverages=(5.0, 10.0), aggressive_weights=(0.5, 0.5), passive_weights=(0.5, 0.5),
        ...              leverage_tilt=(1.0, 0.0)).side_mixes()[0][0]
        (0.3333333333333333, 0.6666666666666666)
        """
        out = []
        for gamma in self.leverage_tilt:
            tilt = [lev**gamma for lev in self.leverages]
            pair = []
            for w in (self.aggressive_weights, self.passive_weights):
                v = [a * t for a, t in zip(w, tilt, strict=True)]
                total = sum(v)
                pair.append(tuple(x / total for x in v) if total > 0 else w)
            out.append((pair[0], pair[1]))
        return tuple(out)

    def _check_leverage_mix(self) -> None:
        levs, agg, pas = self.leverages, self.aggressive_weights, self.passive_weights
        if not levs or len(agg) != len(levs) or len(pas) != len(levs):
            raise LiqmapError(
                f"leverages ({len(levs)}), aggressive_weights ({len(agg)}) and passive_weights ({len(pas)}) "
                "must be non-empty and of equal length"
            )
        if any(not (1.0 <= x <= 1000.0) for x in levs) or len(set(levs)) != len(levs):
            raise LiqmapError(f"leverages must be distinct values in [1, 1000], got {levs}")
        for name, w in (("aggressive_weights", agg), ("passive_weights", pas)):
            if any(not math.isfinite(x) or x < 0 for x in w) or not math.isclose(sum(w), 1.0, abs_tol=1e-9):
                raise LiqmapError(f"{name} must be non-negative and sum to 1, got {w} (sum {sum(w):g})")


def _parse_enum(enum: type[Any], value: Any, name: str) -> Any:
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        key = value.strip().upper().replace("-", "_")
        if key in enum.__members__:
            return enum[key]
    valid = ", ".join(m.name.lower().replace("_", "-") for m in enum)
    raise LiqmapError(f"unknown {name} {value!r}; choose one of {valid}")


def _positive(name: str, value: float | None, *, allow_none: bool = False, allow_zero: bool = False) -> None:
    if value is None and allow_none:
        return
    ok = isinstance(value, int | float) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = "≥ 0" if allow_zero else "> 0"
        raise LiqmapError(f"{name} must be a finite number {bound}, got {value!r}")
