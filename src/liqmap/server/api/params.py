"""Validated query parameters shared by every map-like route (and the ``/ws/map`` websocket).

Bounds live in the OpenAPI schema (``ge``/``le``), so FastAPI rejects out-of-range values with 422 before
any work; cross-field rules (start before end, span cap, bin cap) are checked in
:mod:`liqmap.server.api.pipeline` and raise :class:`liqmap.errors.LiqmapError` → 422.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Query

from liqmap.analytics.report import ReportSettings
from liqmap.engine.config import DEFAULT_N_BINS
from liqmap.engine.enums import Model
from liqmap.enums import Exchange
from liqmap.errors import LiqmapError
from liqmap.symbols import normalize_symbol

MAX_TIME_MS = 4_102_444_800_000  # 2100-01-01 UTC
MAX_BINS = 4_000
MIN_BINS = 10
MAX_DAYS = 366.0
MAX_EXCHANGES = 5
MAX_LEVERAGE = 1_000.0
REPORT = ReportSettings()  # the shared analysis defaults (CLI, API, dashboard, demo)


@dataclass(frozen=True)
class SeriesQuery:
    """One validated request for a symbol's bars over a window, and the engine grid to use."""

    symbol: str
    exchanges: tuple[str, ...]
    model: Model
    start_ms: int | None
    end_ms: int | None
    days: float
    bins: int
    bin_usd: float | None
    tiers_from: str | None = None


async def series_query(
    symbol: Annotated[
        str,
        Query(
            min_length=1,
            max_length=40,
            pattern=r"^[A-Za-z0-9/:_\-]+$",
            description="Symbol in any common spelling: BTCUSDT, BTC-USDT-SWAP or BTC/USDT:USDT.",
        ),
    ] = "BTC/USDT:USDT",
    exchange: Annotated[
        list[Exchange] | None,
        Query(description="Exchange(s) to aggregate on one price grid; repeat the parameter (default binance)."),
    ] = None,
    model: Annotated[Model, Query(description="Engine model.")] = Model.OI_DELTA,
    start_ms: Annotated[
        int | None, Query(ge=0, le=MAX_TIME_MS, description="First bar, UTC epoch ms (default end − days).")
    ] = None,
    end_ms: Annotated[
        int | None, Query(ge=0, le=MAX_TIME_MS, description="Last bar, UTC epoch ms (default: last stored bar).")
    ] = None,
    days: Annotated[
        float,
        Query(allow_inf_nan=False, gt=0, le=MAX_DAYS, description="Window length in days when start_ms is not given."),
    ] = 30.0,
    bins: Annotated[
        int, Query(ge=MIN_BINS, le=MAX_BINS, description="Number of price bins (the engine default).")
    ] = DEFAULT_N_BINS,
    bin_usd: Annotated[
        float | None,
        Query(
            allow_inf_nan=False,
            ge=0.01,
            le=1e6,
            description=f"Price bin width in USD (overrides bins; at most {MAX_BINS} bins).",
        ),
    ] = None,
    tiers_from: Annotated[
        Exchange | None,
        Query(
            description="Lend this exchange's margin-tier table to the venues that have none for the symbol "
            "(stored or bundled), e.g. binance for Bybit's ETH on the bundled sample; default: none lent."
        ),
    ] = None,
) -> SeriesQuery:
    """FastAPI dependency: parse and validate the common series parameters (async: runs on the loop)."""
    exchanges = tuple(dict.fromkeys(e.value for e in (exchange or [Exchange.BINANCE])))
    if len(exchanges) > MAX_EXCHANGES:
        raise LiqmapError(f"at most {MAX_EXCHANGES} exchanges per request, got {len(exchanges)}")
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise LiqmapError(f"start_ms ({start_ms}) must be before end_ms ({end_ms})")
    return SeriesQuery(
        symbol=normalize_symbol(symbol),
        exchanges=exchanges,
        model=model,
        start_ms=start_ms,
        end_ms=end_ms,
        days=days,
        bins=bins,
        bin_usd=bin_usd,
        tiers_from=tiers_from.value if tiers_from is not None else None,
    )


@dataclass(frozen=True)
class LeverageRange:
    """Only the positions opened at a leverage in ``[lo, hi]`` (``None``: unbounded) drive the map."""

    lo: float | None = None
    hi: float | None = None

    def __contains__(self, leverage: float) -> bool:
        return (self.lo is None or leverage >= self.lo) and (self.hi is None or leverage <= self.hi)

    @property
    def label(self) -> str:
        """``50x–100x``, ``≥ 50x`` or ``≤ 10x``."""
        if self.lo is not None and self.hi is not None:
            return f"{self.lo:g}x–{self.hi:g}x"
        return f"≥ {self.lo:g}x" if self.lo is not None else f"≤ {self.hi:g}x"


async def leverage_range(
    min_leverage: Annotated[
        float | None,
        Query(
            allow_inf_nan=False,
            ge=1,
            le=MAX_LEVERAGE,
            description="Keep only the leverage layers ≥ this (e.g. 50); default all.",
        ),
    ] = None,
    max_leverage: Annotated[
        float | None,
        Query(
            allow_inf_nan=False,
            ge=1,
            le=MAX_LEVERAGE,
            description="Keep only the leverage layers ≤ this (e.g. 100); default all.",
        ),
    ] = None,
) -> LeverageRange | None:
    """FastAPI dependency: the leverage filter of the map, key levels, imbalance and cascades (``None``: none)."""
    if min_leverage is None and max_leverage is None:
        return None
    if min_leverage is not None and max_leverage is not None and min_leverage > max_leverage:
        raise LiqmapError(f"min_leverage ({min_leverage:g}) must not exceed max_leverage ({max_leverage:g})")
    return LeverageRange(min_leverage, max_leverage)


async def report_settings(
    window_pct: Annotated[
        float, Query(allow_inf_nan=False, gt=0, le=50, description="Imbalance window: ± this % around price.")
    ] = REPORT.window_pct,
    top: Annotated[int, Query(ge=1, le=50, description="Number of clusters returned.")] = REPORT.top,
) -> ReportSettings:
    """FastAPI dependency: the map report's settings (``ReportSettings`` defaults unless given)."""
    return replace(REPORT, window_pct=window_pct, top=top)
