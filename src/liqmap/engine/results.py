"""Engine results: :class:`LiqMap` (one instant), :class:`Heatmap` (time × price) and predicted events.

Plain frozen dataclasses over NumPy arrays, with ``to_frame()`` for pandas/Parquet export. Price bins are
ascending bin *centres* on a uniform grid of width ``bin_usd``; notional arrays hold the outstanding
position notional (USD, at entry) whose liquidation price falls in each bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from liqmap import CAVEAT

if TYPE_CHECKING:
    from liqmap.engine.config import EngineConfig

EVENT_COLUMNS = ("timestamp", "exchange", "side", "price", "leverage", "notional_usd")


@dataclass(frozen=True)
class LiqMap:
    """Long and short notional that would be force-liquidated per price bin at one instant (the positions
    whose liquidation price lies in the bin × the profile's liquidation share).

    ``long_by_leverage``/``short_by_leverage`` have shape ``(len(leverages), n_bins)``;
    ``by_exchange`` maps an exchange name to its ``(long_usd, short_usd)`` pair of ``(n_bins,)`` arrays.
    """

    symbol: str
    as_of_ms: int
    price: float
    price_bins: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    leverages: tuple[float, ...] = ()
    long_by_leverage: np.ndarray | None = None
    short_by_leverage: np.ndarray | None = None
    by_exchange: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    model: str = ""
    profile: str = ""  # the calibration profile of the assumptions (liqmap.engine.profiles)

    def __post_init__(self) -> None:
        n = len(self.price_bins)
        if n < 2 or np.any(np.diff(self.price_bins) <= 0):
            raise ValueError("price_bins must hold at least two strictly ascending bin centres")
        if self.long_usd.shape != (n,) or self.short_usd.shape != (n,):
            raise ValueError(f"long_usd and short_usd must have shape ({n},) like price_bins")
        if not np.isfinite(self.price) or self.price <= 0:
            raise ValueError(f"price must be a positive finite number, got {self.price!r}")

    @property
    def bin_usd(self) -> float:
        """Width of one price bin in USD."""
        return float(self.price_bins[1] - self.price_bins[0])

    @property
    def long_cumulative_usd(self) -> np.ndarray:
        """Long liquidation notional summed *downward* from price: entry ``i`` is the total liquidated if
        price falls to ``price_bins[i]``; zero at and above price."""
        below = np.where(self.price_bins < self.price, self.long_usd, 0.0)
        return np.cumsum(below[::-1])[::-1]

    @property
    def short_cumulative_usd(self) -> np.ndarray:
        """Short liquidation notional summed *upward* from price: entry ``i`` is the total liquidated if
        price rises to ``price_bins[i]``; zero at and below price."""
        above = np.where(self.price_bins > self.price, self.short_usd, 0.0)
        return np.cumsum(above)

    def to_frame(self, layers: bool = True) -> pd.DataFrame:
        """One row per bin: ``price, long_usd, short_usd, long_cumulative_usd, short_cumulative_usd`` plus,
        with ``layers``, the :func:`layer_columns` (``long_<lev>x``/``short_<lev>x``, ``<exchange>_long_usd``/
        ``<exchange>_short_usd``)."""
        out = pd.DataFrame(
            {
                "price": self.price_bins,
                "long_usd": self.long_usd,
                "short_usd": self.short_usd,
                "long_cumulative_usd": self.long_cumulative_usd,
                "short_cumulative_usd": self.short_cumulative_usd,
            }
        )
        if layers:
            for name, usd in layer_columns(self).items():
                out[name] = usd
        out.attrs.update(
            symbol=self.symbol, as_of_ms=self.as_of_ms, price=self.price, model=self.model, profile=self.profile,
            caveat=CAVEAT,
        )  # fmt: skip
        return out

    def to_dict(self, layers: bool = False) -> dict[str, Any]:
        """The one JSON shape of a map (``liqmap map --json``, ``GET /api/map``, ``/ws/map``): ``symbol,
        as_of_ms, price, model, profile, bin_usd``, the ascending ``price_bins`` with ``long_usd``/``short_usd``
        and ``long_cumulative_usd``/``short_cumulative_usd`` aligned on them (rounded to cents), the exact
        ``total_long_usd``/``total_short_usd``, ``by_exchange`` (``{name: {long_usd, short_usd}}`` per bin,
        filled when several exchanges are aggregated), ``leverages`` with ``long_by_leverage``/
        ``short_by_leverage`` (``[leverage][bin]``; empty unless ``layers`` and the map has them) and the caveat.
        """
        has_layers = layers and self.long_by_leverage is not None and self.short_by_leverage is not None
        return {
            "symbol": self.symbol,
            "as_of_ms": self.as_of_ms,
            "price": self.price,
            "model": self.model,
            "profile": self.profile,
            "bin_usd": self.bin_usd,
            "price_bins": self.price_bins.tolist(),
            "long_usd": cents(self.long_usd),
            "short_usd": cents(self.short_usd),
            "long_cumulative_usd": cents(self.long_cumulative_usd),
            "short_cumulative_usd": cents(self.short_cumulative_usd),
            "total_long_usd": float(self.long_usd.sum()),
            "total_short_usd": float(self.short_usd.sum()),
            "by_exchange": {
                name: {"long_usd": cents(lng), "short_usd": cents(sht)}
                for name, (lng, sht) in self.by_exchange.items()
                if len(self.by_exchange) > 1
            },
            "leverages": list(self.leverages) if has_layers else [],
            "long_by_leverage": cents(self.long_by_leverage) if has_layers else [],
            "short_by_leverage": cents(self.short_by_leverage) if has_layers else [],
            "caveat": CAVEAT,
        }


def cents(usd: np.ndarray | None) -> list[Any]:
    """USD amounts rounded to cents as (nested) lists: a third of the JSON size of full float precision."""
    return [] if usd is None else usd.round(2).tolist()


def layer_columns(result: LiqMap | Heatmap) -> dict[str, np.ndarray]:
    """The breakdown layers of a map or heatmap by column name: ``long_<lev>x``/``short_<lev>x`` per leverage
    (when kept) and ``<exchange>_long_usd``/``<exchange>_short_usd`` per exchange; each array has the shape of
    ``result.long_usd`` (bins, or times × bins)."""
    out: dict[str, np.ndarray] = {}
    if result.long_by_leverage is not None and result.short_by_leverage is not None:
        for i, lev in enumerate(result.leverages):
            out[f"long_{lev:g}x"] = result.long_by_leverage[..., i, :]
            out[f"short_{lev:g}x"] = result.short_by_leverage[..., i, :]
    for name, (lng, sht) in result.by_exchange.items():
        out[f"{name}_long_usd"], out[f"{name}_short_usd"] = lng, sht
    return out


@dataclass(frozen=True)
class Heatmap:
    """Notional that would be force-liquidated per (snapshot time, price bin) — see :class:`LiqMap`.

    ``long_usd``/``short_usd`` have shape ``(len(times_ms), len(price_bins))``; ``close`` is the reference
    price at each snapshot. Optional breakdowns: ``long_by_leverage``/``short_by_leverage`` with shape
    ``(T, len(leverages), n_bins)`` and ``by_exchange`` mapping a name to ``(long, short)`` ``(T, n_bins)``.
    """

    symbol: str
    times_ms: np.ndarray
    price_bins: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    close: np.ndarray
    leverages: tuple[float, ...] = ()
    long_by_leverage: np.ndarray | None = None
    short_by_leverage: np.ndarray | None = None
    by_exchange: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    model: str = ""
    profile: str = ""  # the calibration profile of the assumptions (liqmap.engine.profiles)

    def __post_init__(self) -> None:
        shape = (len(self.times_ms), len(self.price_bins))
        if self.long_usd.shape != shape or self.short_usd.shape != shape:
            raise ValueError(f"long_usd and short_usd must have shape {shape} (times × price bins)")
        if self.close.shape != (shape[0],):
            raise ValueError(f"close must have shape ({shape[0]},), one price per snapshot")

    @property
    def bin_usd(self) -> float:
        """Width of one price bin in USD."""
        return float(self.price_bins[1] - self.price_bins[0])

    def index_at(self, time_ms: int | None = None) -> int:
        """Index of the last snapshot at or before ``time_ms`` (default: the last snapshot)."""
        if time_ms is None:
            return len(self.times_ms) - 1
        i = int(np.searchsorted(self.times_ms, time_ms, side="right")) - 1
        if i < 0:
            raise ValueError(f"no snapshot at or before {time_ms}; the heatmap starts at {int(self.times_ms[0])}")
        return i

    def bins_within(self, pct: float) -> slice:
        """The price bins from ``pct`` % below the lowest close to ``pct`` % above the highest, as a slice of
        ``price_bins`` (ascending); every bin when fewer than two fall inside."""
        lo, hi = np.nanmin(self.close) * (1 - pct / 100), np.nanmax(self.close) * (1 + pct / 100)
        i0, i1 = int(np.searchsorted(self.price_bins, lo, "left")), int(np.searchsorted(self.price_bins, hi, "right"))
        return slice(i0, i1) if i1 - i0 >= 2 else slice(None)

    def at(self, time_ms: int | None = None) -> LiqMap:
        """The :class:`LiqMap` of the last snapshot at or before ``time_ms`` (default: the last one)."""
        i = self.index_at(time_ms)
        return LiqMap(
            symbol=self.symbol,
            as_of_ms=int(self.times_ms[i]),
            price=float(self.close[i]),
            price_bins=self.price_bins,
            long_usd=self.long_usd[i],
            short_usd=self.short_usd[i],
            leverages=self.leverages,
            long_by_leverage=None if self.long_by_leverage is None else self.long_by_leverage[i],
            short_by_leverage=None if self.short_by_leverage is None else self.short_by_leverage[i],
            by_exchange={k: (v[0][i], v[1][i]) for k, v in self.by_exchange.items()},
            model=self.model,
            profile=self.profile,
        )

    def to_frame(self, layers: bool = False) -> pd.DataFrame:
        """Long format: one row per (timestamp, price bin) with ``long_usd``, ``short_usd``, ``close`` and, with
        ``layers``, the :func:`layer_columns` (per leverage when kept, per exchange) that add up to them."""
        t, n = self.long_usd.shape
        out = pd.DataFrame(
            {
                "timestamp": np.repeat(self.times_ms, n),
                "price": np.tile(self.price_bins, t),
                "long_usd": self.long_usd.ravel(),
                "short_usd": self.short_usd.ravel(),
                "close": np.repeat(self.close, n),
            }
        )
        if layers:
            for name, usd in layer_columns(self).items():
                out[name] = usd.ravel()
        out.attrs.update(symbol=self.symbol, model=self.model, profile=self.profile, caveat=CAVEAT)
        return out


def _total(arrays: Sequence[np.ndarray]) -> np.ndarray:
    out = arrays[0].copy()
    for a in arrays[1:]:
        out += a
    return out


@dataclass(frozen=True)
class EngineResult:
    """What :func:`liqmap.engine.run` returns: the heatmap, predicted events, the grid and the final books.

    ``engines`` maps each exchange to its :class:`liqmap.engine.IncrementalEngine` at the last bar, so a
    live feed can continue exactly where the batch run stopped. ``accounting`` has one row per
    (exchange, side) with seeded/opened/closed/liquidated/decayed/alive USD; ``warnings`` lists every
    repair applied to the input (sorted rows, dropped duplicates, NaN OI, gaps, widened ranges).
    """

    heatmap: Heatmap
    events: pd.DataFrame
    grid: np.ndarray
    model: str
    config: EngineConfig
    engines: dict[str, Any]
    accounting: pd.DataFrame
    warnings: tuple[str, ...] = ()
    snapshot_every_ms: int = 0

    def liqmap(self, at_ms: int | None = None) -> LiqMap:
        """The :class:`LiqMap` at the last snapshot at or before ``at_ms`` (default: the last bar). The last
        bar's map comes from the final books and always carries per-leverage layers."""
        hm = self.heatmap
        i = hm.index_at(at_ms)
        if i < len(hm.times_ms) - 1 or self.model == "uniform":
            return hm.at(at_ms)
        venues = [eng.liqmap() for eng in self.engines.values()]
        return combine(venues, price=float(hm.close[i]), as_of_ms=int(hm.times_ms[i]))


def combine(maps: Sequence[LiqMap], *, price: float | None = None, as_of_ms: int | None = None) -> LiqMap:
    """One symbol's map across venues: the venues' maps (on one price grid) summed, per leverage too, each
    venue kept in ``by_exchange``; ``price`` defaults to the venues' mean, ``as_of_ms`` to the latest."""
    if not maps:
        raise ValueError("combine() needs at least one map")
    first = maps[0]
    if any(m.symbol != first.symbol or not np.array_equal(m.price_bins, first.price_bins) for m in maps):
        raise ValueError("combine() takes maps of one symbol on one price grid")
    layers = [
        (m.long_by_leverage, m.short_by_leverage)
        for m in maps
        if m.long_by_leverage is not None and m.short_by_leverage is not None and m.leverages == first.leverages
    ]
    layered = len(layers) == len(maps)
    return LiqMap(
        symbol=first.symbol,
        as_of_ms=max(m.as_of_ms for m in maps) if as_of_ms is None else as_of_ms,
        price=float(np.mean([m.price for m in maps])) if price is None else price,
        price_bins=first.price_bins,
        long_usd=_total([m.long_usd for m in maps]),
        short_usd=_total([m.short_usd for m in maps]),
        leverages=first.leverages if layered else (),
        long_by_leverage=_total([lng for lng, _ in layers]) if layered else None,
        short_by_leverage=_total([sht for _, sht in layers]) if layered else None,
        by_exchange={name: pair for m in maps for name, pair in m.by_exchange.items()},
        model=first.model,
        profile=first.profile,
    )


class EngineOutput(Protocol):
    """What the consumers of an engine run read (the server, validation): :class:`EngineResult` is one."""

    @property
    def heatmap(self) -> Heatmap: ...

    @property
    def events(self) -> pd.DataFrame: ...

    @property
    def config(self) -> EngineConfig: ...

    @property
    def warnings(self) -> tuple[str, ...]: ...

    def liqmap(self, at_ms: int | None = None) -> LiqMap: ...
