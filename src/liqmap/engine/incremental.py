"""The per-exchange book: :class:`IncrementalEngine` (live ``update(bar)``), also driven by the batch run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from liqmap.engine import nb
from liqmap.engine._prep import Profile, empty_profile, liquidation_tables, make_grid, split_trades, trade_profile
from liqmap.engine.config import EngineConfig
from liqmap.engine.enums import Model
from liqmap.engine.results import LiqMap
from liqmap.errors import DataValidationError, LiqmapError
from liqmap.symbols import normalize_symbol
from liqmap.timeframes import MS_PER_DAY

_BAR_KEYS = (
    "timestamp",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "taker_buy_volume",
    "open_interest",
    "mark_price",
)
_NAN = math.nan


def _allowed_mixes(
    levw: np.ndarray, leverages: tuple[float, ...], max_leverage: float
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The leverage mixes with no weight above the venue's ``max_leverage``: each row renormalised over the
    leverages it allows (a row left empty goes to the largest allowed leverage; with none allowed, to the
    smallest configured one, which is priced at the maximum)."""
    levs = np.asarray(leverages)
    allowed = levs <= max_leverage
    if allowed.all():
        return levw, ()
    out = np.where(allowed, levw, 0.0)
    fallback = int(np.argmax(np.where(allowed, levs, -1.0))) if allowed.any() else int(np.argmin(levs))
    for r in range(out.shape[0]):
        total = out[r].sum()
        if total > 0:
            out[r] /= total
        else:
            out[r, fallback] = 1.0
    above = ", ".join(f"{x:g}x" for x in levs[~allowed])
    return out, (f"leverages {above} exceed the venue's {max_leverage:g}x maximum; their weight goes to the others",)


class BarReport(NamedTuple):
    """What one :meth:`IncrementalEngine.update` did (USD notional at entry)."""

    timestamp: int
    liquidated_long_usd: float
    liquidated_short_usd: float
    alive_long_usd: float
    alive_short_usd: float


class IncrementalEngine:
    """The position book of one exchange and symbol, advanced one bar at a time.

    Gives exactly (bit for bit) what :func:`liqmap.engine.run` gives on the same bars and grid: the batch
    run drives the same kernel. ``price_bins`` (bin centres) or ``config.price_range`` fixes the grid.

    >>> cfg = EngineConfig(price_range=(60_000.0, 130_000.0), n_bins=700)
    >>> eng = IncrementalEngine("binance", "BTCUSDT", config=cfg)
    >>> r = eng.update({"timestamp": 1767225600000, "open": 94000.0, "high": 94100.0, "low": 93900.0,
    ...                 "close": 94050.0, "volume": 10.0, "open_interest": 1000.0})
    >>> round(r.alive_long_usd / 1e6, 2), round(r.alive_short_usd / 1e6, 2)
    (94.05, 94.05)
    """

    def __init__(
        self,
        exchange: str,
        symbol: str,
        model: str | Model = Model.OI_DELTA,
        config: EngineConfig | None = None,
        price_bins: np.ndarray | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self.model = Model.parse(model)
        self.exchange = str(exchange).lower()
        self.symbol = normalize_symbol(symbol)
        if price_bins is None:
            if self.config.price_range is None:
                raise LiqmapError(
                    "IncrementalEngine needs a fixed grid: pass price_bins or "
                    "EngineConfig(price_range=(low, high)), e.g. ±30 % around the current price"
                )
            price_bins = make_grid(*self.config.price_range, self.config)
        grid = np.asarray(price_bins, dtype=np.float64)
        steps = np.diff(grid)
        if grid.ndim != 1 or len(grid) < 2 or not np.allclose(steps, steps[0], rtol=1e-9) or steps[0] <= 0:
            raise LiqmapError("price_bins must be ≥ 2 ascending, equally spaced bin centres")
        self.grid = grid
        self.lp_price, self.lp_bin, max_lev = liquidation_tables(self.exchange, self.symbol, grid, self.config)
        cfg, n_lev, n_bins = self.config, len(self.config.leverages), len(grid)
        (long_agg, long_pas), (short_agg, short_pas) = cfg.side_mixes()
        self.levw, self.notes = _allowed_mixes(
            np.array([long_agg, long_pas, short_agg, short_pas], dtype=np.float64), cfg.leverages, max_lev
        )
        self.notes = tuple(f"{self.exchange} {self.symbol}: {n}" for n in self.notes)
        half_life = cfg.decay_half_life_ms
        if self.model == Model.VOLUME and half_life is None:
            half_life = cfg.volume_half_life_ms
        params = np.zeros(nb.N_PARAMS)
        params[nb.P_MODEL] = nb.MODEL_VOLUME if self.model == Model.VOLUME else nb.MODEL_OI
        params[nb.P_CLOSURE] = int(cfg.closure)
        params[nb.P_ENTRY] = int(cfg.entry_distribution)
        params[nb.P_HALF_LIFE] = float(half_life or 0.0)
        params[nb.P_VOLFRAC] = cfg.volume_fraction
        params[nb.P_SEED] = float(cfg.seed)
        params[nb.P_SEED_SPREAD] = cfg.seed_spread_pct / 100.0
        params[nb.P_USE_MARK] = float(cfg.use_mark_price)
        params[nb.P_TURNOVER] = cfg.turnover_fraction
        params[nb.P_SEED_SURVIVE] = float(cfg.seed_survivors)
        params[nb.P_MARK_PATH] = float(cfg.mark_path)
        params[nb.P_LIQ_SHARE], params[nb.P_LIQ_SHARE + 1] = cfg.share_for(self.exchange)
        params[nb.P_HAZARD] = cfg.exit_hazard_per_day / MS_PER_DAY
        params[nb.P_ZONE] = cfg.exit_zone_pct / 100.0
        params[nb.P_BIN] = float(steps[0])
        params[nb.P_GRID_LO] = float(grid[0]) - params[nb.P_BIN] / 2
        self.params = params
        self.tables = nb.Tables(params, self.levw, self.lp_price, self.lp_bin)
        self.book = nb.new_book(n_lev, n_bins)
        self.raw, self.age, self.bounds, self.st, self.acct = self.book
        self._tab, self._book = tuple(self.tables), tuple(self.book)  # plain tuples: see nb.records
        self.max_events_per_bar = 2 * n_lev * n_bins
        self.ev_i = np.zeros((4 * self.max_events_per_bar, 4), dtype=np.int64)
        self.ev_usd = np.zeros(4 * self.max_events_per_bar)
        self.n_events = 0
        self.n_bars = 0
        self.repairs = 0
        self._bar = np.full(nb.N_BAR_FIELDS, _NAN)
        self._scratch = np.empty((4, n_lev))
        _, self._no_bin, self._no_w = empty_profile(1)

    # -- live --------------------------------------------------------------------------------------------
    def update(self, bar: Mapping[str, Any], trades: pd.DataFrame | None = None) -> BarReport:
        """Advance by one canonical bar (a dict or pandas Series with the BARS fields; nullable ones may be
        missing/None/NaN). Rejects out-of-order bars and bad prices with :class:`DataValidationError`.

        ``trades`` (optional): this bar's trades (``timestamp`` ≥ the bar's, ``price``, ``amount``; see
        :func:`liqmap.engine.run`); its new positions then enter in proportion to their notional per bin."""
        buf = self._bar
        get = bar.get
        for j, key in enumerate(_BAR_KEYS):
            v = get(key)
            buf[j] = _NAN if v is None else v
        if buf[nb.B_OI] != buf[nb.B_OI]:
            oi_usd = get("open_interest_usd")
            if oi_usd is not None:
                buf[nb.B_OI] = oi_usd / buf[nb.B_CLOSE]
        o, h, lo, c = buf[nb.B_OPEN], buf[nb.B_HIGH], buf[nb.B_LOW], buf[nb.B_CLOSE]
        if not (o > 0 and h > 0 and lo > 0 and c > 0 and buf[nb.B_VOL] >= 0):
            raise DataValidationError(
                f"{self.exchange}: bar at {get('timestamp')} needs positive open/high/low/close and volume ≥ 0"
            )
        if not buf[nb.B_TS] > self.st[nb.ST_PREV_TS] and self.n_bars:
            raise DataValidationError(
                f"{self.exchange}: bar at {int(buf[nb.B_TS])} is not after the previous bar "
                f"({int(self.st[nb.ST_PREV_TS])}); feed bars in time order, once each"
            )
        prof_bin, prof_w = (self._no_bin, self._no_w) if trades is None else self._bar_profile(trades)
        hi2, lo2 = max(o, h, lo, c), min(o, h, lo, c)
        if hi2 != h or lo2 != lo:
            buf[nb.B_HIGH], buf[nb.B_LOW] = hi2, lo2
            self.repairs += 1
        if self.ev_usd.shape[0] - self.n_events < self.max_events_per_bar:
            self._grow_events(self.n_events + self.max_events_per_bar)
        acct = self.acct
        liq_l, liq_s = acct[0, nb.A_LIQUIDATED], acct[1, nb.A_LIQUIDATED]
        self.n_events = nb.advance_nb(
            buf, *self._tab, *self._book, self.ev_i, self.ev_usd, self.n_events, self._scratch, prof_bin, prof_w
        )
        self.n_bars += 1
        st = self.st
        return BarReport(
            int(buf[nb.B_TS]),
            float(acct[0, nb.A_LIQUIDATED] - liq_l),
            float(acct[1, nb.A_LIQUIDATED] - liq_s),
            float(st[nb.ST_TOT] * st[nb.ST_SCALE]),
            float(st[nb.ST_TOT + 1] * st[nb.ST_SCALE + 1]),
        )

    def _bar_profile(self, trades: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(bin, notional_usd)`` of the current bar's trades; rejects trades that are not this bar's."""
        by_exchange, _ = split_trades(trades, self.symbol, [self.exchange])
        ts = self._bar[nb.B_TS]
        (_, bins, weight), outside = trade_profile(
            np.array([ts], dtype=np.int64), np.array([math.inf]), by_exchange[self.exchange], self.grid
        )
        foreign = len(trades) - len(by_exchange[self.exchange][0]) + outside
        if foreign:
            raise DataValidationError(
                f"{self.exchange}: {foreign} trade(s) are not this bar's (another exchange, or before its "
                f"timestamp {int(ts)}); pass update() only the bar's own trades"
            )
        return bins, weight

    # -- batch ---------------------------------------------------------------------------------------------
    def run_bars(
        self,
        bars: np.ndarray,
        snap_row: np.ndarray,
        hm: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        keep_lev: bool,
        profile: Profile | None = None,
    ) -> None:
        """Advance over validated bar rows (``(n, N_BAR_FIELDS)``), writing heatmap rows where
        ``snap_row ≥ 0`` into ``hm = (long, short, long_by_lev, short_by_lev)``; ``profile``: the bars'
        trade profile (CSR, from :func:`liqmap.engine._prep.bar_profiles`), None without trades."""
        i, n = 0, bars.shape[0]
        prof = empty_profile(n) if profile is None else profile
        while i < n:
            args = (self._tab, self._book, self.ev_i, self.ev_usd, self.n_events, hm, keep_lev)
            i, self.n_events = nb.run_nb(bars, i, snap_row, prof, *args, self.max_events_per_bar)
            if i < n:
                self._grow_events(2 * self.ev_usd.shape[0])
        self.n_bars += n

    def _grow_events(self, capacity: int) -> None:
        capacity = max(capacity, 2 * self.ev_usd.shape[0])
        ev_i = np.zeros((capacity, 4), dtype=np.int64)
        ev_usd = np.zeros(capacity)
        ev_i[: self.n_events] = self.ev_i[: self.n_events]
        ev_usd[: self.n_events] = self.ev_usd[: self.n_events]
        self.ev_i, self.ev_usd = ev_i, ev_usd

    # -- views ---------------------------------------------------------------------------------------------
    @property
    def alive_usd(self) -> tuple[float, float]:
        """Alive ``(long, short)`` notional in USD at entry."""
        st = self.st
        return float(st[nb.ST_TOT] * st[nb.ST_SCALE]), float(st[nb.ST_TOT + 1] * st[nb.ST_SCALE + 1])

    def project(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(long, short, long_by_lev, short_by_lev)``: notional that would be force-liquidated (alive × the
        side's liquidation share) per liquidation-price bin."""
        n_lev, n_bins = len(self.config.leverages), len(self.grid)
        out = (np.zeros(n_bins), np.zeros(n_bins), np.zeros((n_lev, n_bins)), np.zeros((n_lev, n_bins)))
        nb.project_nb(self.raw, self.bounds, self.st, self.params, self.lp_bin, *out, True)
        return out

    def liqmap(self, price: float | None = None) -> LiqMap:
        """The current :class:`LiqMap` (reference price: the last close unless ``price`` is given)."""
        if self.n_bars == 0:
            raise LiqmapError("no bars yet: call update(bar) first")
        lng, sht, lev_l, lev_s = self.project()
        return LiqMap(
            symbol=self.symbol,
            as_of_ms=int(self.st[nb.ST_PREV_TS]),
            price=float(price if price is not None else self.st[nb.ST_PREV_CLOSE]),
            price_bins=self.grid,
            long_usd=lng,
            short_usd=sht,
            leverages=self.config.leverages,
            long_by_leverage=lev_l,
            short_by_leverage=lev_s,
            by_exchange={self.exchange: (lng, sht)},
            model=str(self.model),
            profile=self.config.profile,
        )

    def events(self) -> pd.DataFrame:
        """Predicted liquidation events so far, aggregated per (bar, side, leverage, price bin)."""
        ev = self.ev_i[: self.n_events]
        return pd.DataFrame(
            {
                "timestamp": ev[:, nb.E_TS].copy(),
                "exchange": np.full(len(ev), self.exchange, dtype=object),
                "side": np.where(ev[:, nb.E_SIDE] > 0, "long", "short").astype(object),
                "price": self.grid[ev[:, nb.E_BIN]],
                "leverage": np.asarray(self.config.leverages)[ev[:, nb.E_LEV]],
                "notional_usd": self.ev_usd[: self.n_events].copy(),
            }
        )

    def accounting(self) -> pd.DataFrame:
        """Per side: seeded, opened, closed, liquidated, decayed, exited (before liquidation) and alive USD
        (alive = seeded + opened − closed − liquidated − decayed − exited, to rounding) and the number of
        bars whose OI was missing."""
        rows = []
        for s, side in enumerate(("long", "short")):
            a = self.acct[s]
            rows.append(
                {
                    "exchange": self.exchange,
                    "side": side,
                    "seeded_usd": float(a[nb.A_SEEDED]),
                    "opened_usd": float(a[nb.A_OPENED]),
                    "closed_usd": float(a[nb.A_CLOSED]),
                    "liquidated_usd": float(a[nb.A_LIQUIDATED]),
                    "decayed_usd": float(a[nb.A_DECAYED]),
                    "exited_usd": float(a[nb.A_EXITED]),
                    "alive_usd": self.alive_usd[s],
                    "nan_oi_bars": int(self.st[nb.ST_NAN_OI]),
                }
            )
        return pd.DataFrame(rows)

    @property
    def state_nbytes(self) -> int:
        """Bytes held by the book (O(bins × leverages)), excluding the event log."""
        arrays = (self.raw, self.age, self.bounds, self.st, self.acct, self.lp_price, self.lp_bin)
        return int(sum(a.nbytes for a in arrays))
