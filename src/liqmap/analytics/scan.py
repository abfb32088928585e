"""The screener's rows: one line per (exchange, symbol) built from that series' map report, no I/O.

``liqmap scan`` and ``GET /api/scan`` run the engine and :func:`~liqmap.analytics.report.build_map_report` on
every stored series (the orchestration, which reads the store, is :mod:`liqmap.scan`) and turn each report into
a :class:`ScanRow` here: nothing is recomputed — the clusters, the imbalance, the move to liquidate a notional
and the ±shock cascades are the report's own numbers, so a row agrees with ``liqmap map`` / ``/api/map`` for the
same bars and settings.

>>> import numpy as np, pandas as pd
>>> from liqmap.analytics.report import build_map_report
>>> from liqmap.engine.results import LiqMap
>>> bins = np.arange(90.0, 111.0)
>>> lm = LiqMap("X/USDT:USDT", 0, 100.0, bins, np.where(bins == 95, 2e6, 0.0), np.where(bins == 104, 6e6, 0.0))
>>> bars = pd.DataFrame({"timestamp": [-2, -1, 0], "close": [99.0, 101.0, 100.0], "volume": [1e7] * 3})
>>> s = ScanSettings(min_cluster_usd=1e6, window_pct=10, notional_usd=1e6)
>>> r = scan_row(build_map_report(lm, bars, s.report_settings(), profile="prior"), s, exchange="binance",
...              last_bar_ms=0, now_ms=7_200_000, bars=3)
>>> r.above_peak, r.below_peak, r.imbalance_ratio, round(r.move_up_pct, 3), r.age_hours
(104.0, 95.0, 3.0, 3.167, 2.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from liqmap import CAVEAT
from liqmap.analytics.report import MapReport, ReportSettings
from liqmap.enums import Side
from liqmap.errors import LiqmapError
from liqmap.timeframes import MS_PER_HOUR

SCAN_TOP = 50  # clusters each report ranks: the nearest one above the threshold is looked for among these


@dataclass(frozen=True)
class ScanSettings:
    """The screener's choices, with the one set of defaults the CLI and the API share.

    ``min_cluster_usd``: smallest cluster reported each side; ``window_pct``: imbalance window (± %);
    ``notional_usd``: the notional whose liquidation the ``move_*_pct`` columns measure; ``shock_pct``: the
    ± shock of the cascade columns; ``days``: bars read per series (the last ``days`` before its last bar).
    """

    min_cluster_usd: float = 1e6
    window_pct: float = 5.0
    notional_usd: float = 1e6
    shock_pct: float = 1.0
    days: float = 90.0

    def __post_init__(self) -> None:
        for name in ("min_cluster_usd", "notional_usd", "days", "shock_pct"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise LiqmapError(f"scan {name} must be a positive finite number, got {value!r}")
        if not (math.isfinite(self.window_pct) and 0 < self.window_pct <= 50):
            raise LiqmapError(f"scan window_pct must lie in (0, 50], got {self.window_pct!r}")

    def report_settings(self) -> ReportSettings:
        """The map-report settings a scan row is read from (the shared defaults otherwise)."""
        return ReportSettings(
            window_pct=self.window_pct, top=SCAN_TOP, targets_usd=(self.notional_usd,), shock_pct=self.shock_pct
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ScanRow:
    """One series of the screener. Prices in USD, distances and moves in % of price (negative below it);
    ``None`` where nothing qualifies (no cluster ≥ the threshold on that side, a notional the side cannot
    reach, no longs in the window). ``tiers`` says which tier table the engine used."""

    exchange: str
    symbol: str
    price: float
    as_of_ms: int
    last_bar_ms: int
    age_hours: float
    bars: int
    below_peak: float | None
    below_usd: float | None
    below_pct: float | None
    above_peak: float | None
    above_usd: float | None
    above_pct: float | None
    short_above_usd: float
    long_below_usd: float
    imbalance_ratio: float | None
    move_up_pct: float | None
    move_down_pct: float | None
    cascade_up_amplification: float
    cascade_down_amplification: float
    cascade_up_runaway: bool
    cascade_down_runaway: bool
    model: str
    profile: str
    tiers: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the API's row shape)."""
        return asdict(self)


@dataclass(frozen=True)
class ScanSkip:
    """A stored series the scan could not map, and why (e.g. no tier table: the message says how to get one)."""

    exchange: str
    symbol: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Scan:
    """The screener's answer: rows sorted by ``sort`` (``descending`` or not; ``None`` values last), the
    series it skipped, the settings used, how long it took and where it ran."""

    rows: tuple[ScanRow, ...]
    skipped: tuple[ScanSkip, ...]
    settings: ScanSettings
    sort: str
    descending: bool
    now_ms: int
    seconds: float
    runner: str
    caveat: str = CAVEAT

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of a scan (``liqmap scan --json`` prints it, ``GET /api/scan`` serves it)."""
        return {
            "rows": [r.to_dict() for r in self.rows],
            "skipped": [s.to_dict() for s in self.skipped],
            "settings": self.settings.to_dict(),
            "sort": self.sort,
            "descending": self.descending,
            "now_ms": self.now_ms,
            "seconds": self.seconds,
            "runner": self.runner,
            "caveat": self.caveat,
        }


SORT_COLUMNS = tuple(f.name for f in fields(ScanRow))


def scan_row(
    report: MapReport,
    settings: ScanSettings,
    *,
    exchange: str,
    last_bar_ms: int,
    now_ms: int,
    bars: int,
    tiers: str = "",
) -> ScanRow:
    """The :class:`ScanRow` of one series' map report (built with ``settings.report_settings()``): the
    nearest cluster of at least ``min_cluster_usd`` below (longs) and above (shorts) price, the imbalance in
    the report's window, the move needed to liquidate ``notional_usd`` each way, the ±``shock_pct`` cascade
    amplifications and the data's age at ``now_ms``."""
    if report.settings.targets_usd != (settings.notional_usd,) or report.settings.window_pct != settings.window_pct:
        raise LiqmapError("scan_row needs the report built with ScanSettings.report_settings()")
    below = _nearest(report, Side.LONG, settings.min_cluster_usd)
    above = _nearest(report, Side.SHORT, settings.min_cluster_usd)
    move = report.asymmetry[0]
    up, down = report.cascades.up, report.cascades.down
    return ScanRow(
        exchange=str(exchange),
        symbol=report.symbol,
        price=report.price,
        as_of_ms=int(report.as_of_ms),
        last_bar_ms=int(last_bar_ms),
        age_hours=(int(now_ms) - int(last_bar_ms)) / MS_PER_HOUR,
        bars=int(bars),
        below_peak=None if below is None else below.peak_price,
        below_usd=None if below is None else below.notional_usd,
        below_pct=None if below is None else below.distance_pct,
        above_peak=None if above is None else above.peak_price,
        above_usd=None if above is None else above.notional_usd,
        above_pct=None if above is None else above.distance_pct,
        short_above_usd=report.imbalance.short_above_usd,
        long_below_usd=report.imbalance.long_below_usd,
        imbalance_ratio=report.imbalance.ratio,
        move_up_pct=move.move_up_pct,
        move_down_pct=None if move.move_down_pct is None else -move.move_down_pct,
        cascade_up_amplification=up.amplification,
        cascade_down_amplification=down.amplification,
        cascade_up_runaway=up.runaway,
        cascade_down_runaway=down.runaway,
        model=report.model,
        profile=report.profile,
        tiers=tiers,
    )


def sort_rows(rows: list[ScanRow], column: str = "symbol", descending: bool = False) -> tuple[ScanRow, ...]:
    """``rows`` ordered by ``column`` (a :class:`ScanRow` field), ties by symbol then exchange; ``None``
    values last either way. Signed columns sort by value (``below_pct`` is negative: ascending = farthest
    first), so sort ``abs``-like questions with the matching sign."""
    if column not in SORT_COLUMNS:
        raise LiqmapError(f"unknown sort column {column!r}; use one of {', '.join(SORT_COLUMNS)}")
    ties = sorted(rows, key=lambda r: (r.symbol, r.exchange))
    present = [r for r in ties if getattr(r, column) is not None]
    missing = [r for r in ties if getattr(r, column) is None]
    return tuple(sorted(present, key=lambda r: getattr(r, column), reverse=descending) + missing)


def _nearest(report: MapReport, side: Side, min_usd: float):  # -> Cluster | None
    found = [c for c in report.clusters if c.side == side and c.notional_usd >= min_usd]
    return min(found, key=lambda c: abs(c.distance_usd)) if found else None
