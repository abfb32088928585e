"""The bundled real sample: hourly BTC, ETH, SOL, DOGE and HYPE USDT-perpetual bars on Binance, Bybit and OKX
(volume in base units), OKX liquidations and a Binance depth snapshot, all from ``../shared/data`` (see
``PROVENANCE.md`` beside this file).

Caveat: the ``open_interest``/``open_interest_usd`` of the sample bars are a *proxy* — Hyperliquid's
hourly OI path scaled to each venue's one real OI snapshot (2026-03-07); :func:`hyperliquid_open_interest`
and :func:`venue_open_interest_snapshots` return the raw inputs. ``taker_buy_volume`` is null and
``quote_volume`` is approximated as ``volume × close``. :func:`lighter_bars` is the exception: Lighter
BTC/ETH bars whose OI is the venue's own real hourly history. :func:`hyperliquid_bars` and
:func:`hyperliquid_liquidation_totals` are a calibration pair: bars with Hyperliquid's real OI and funding (on
Binance prices, volume a proxy) and Hyperliquid's realized daily liquidations over the same weeks.

>>> bars = sample_bars()
>>> sorted(bars.groupby("exchange").size().to_dict().items())
[('binance', 10858), ('bybit', 10858), ('okx', 10800)]
>>> sorted(bars["symbol"].unique())
['BTC/USDT:USDT', 'DOGE/USDT:USDT', 'ETH/USDT:USDT', 'HYPE/USDT:USDT', 'SOL/USDT:USDT']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from liqmap.data.validate import validate, validate_fields
from liqmap.enums import Provenance

if TYPE_CHECKING:
    from liqmap.data.store import Store

SAMPLE_DIR = Path(__file__).resolve().parent
# what of the sample bars is not each venue's own series (PROVENANCE.md), as load_sample_into records it
SAMPLE_PROVENANCE = {
    "open_interest": (
        Provenance.PROXY,
        "Hyperliquid's hourly OI path scaled to the venue's one real snapshot (2026-03-07); "
        "see the sample's PROVENANCE.md",
    ),
    "open_interest_usd": (Provenance.PROXY, "as open_interest: Hyperliquid's OI path scaled to the venue"),
    "quote_volume": (Provenance.APPROXIMATED, "volume × close (the source has base volume only)"),
}


def sample_bars() -> pd.DataFrame:
    """Hourly canonical bars of BTC/ETH/SOL/DOGE/HYPE ``X/USDT:USDT`` on binance, bybit and okx, 2025-12-05 →
    2026-03-05 10:00 (BTC, ETH) / 11:00 UTC (SOL, DOGE, HYPE); OKX from 11:00/12:00 on 12-05. OI columns are a proxy
    (see module doc)."""
    return validate("bars", pd.read_parquet(SAMPLE_DIR / "bars.parquet"))


def lighter_bars() -> pd.DataFrame:
    """Hourly Lighter bars, BTC/USDC:USDC and ETH/USDC:USDC, 2025-12-10 13:00 → 2026-01-24 18:00 UTC, with REAL OI.

    Lighter's own hourly open interest and funding (gaps left null); Lighter's margin rules are not bundled,
    so engine runs borrow another venue's tiers (``EngineConfig(tier_exchange={"lighter": "binance"})``).
    """
    return validate("bars", pd.read_parquet(SAMPLE_DIR / "lighter_bars.parquet"))


def hyperliquid_bars() -> pd.DataFrame:
    """Hourly ``hyperliquid`` bars, BTC/ETH/SOL/DOGE/HYPE ``X/USDC:USDC``, 2025-12-07 10:00 → 2026-03-05 UTC.

    REAL: Hyperliquid's hourly open interest and funding; OHLC are Binance's (real, not Hyperliquid's prices).
    PROXY: ``volume`` = Binance volume × (Hyperliquid OI / Binance OI at the 2026-03-07 snapshot).
    """
    return validate("bars", pd.read_parquet(SAMPLE_DIR / "hyperliquid_bars.parquet"))


def hyperliquid_liquidation_totals() -> pd.DataFrame:
    """Hyperliquid's realized liquidations per UTC day (``liquidation_totals``): SOL, DOGE, HYPE, Dec 2025 – Jan 2026.

    An absent day is unknown, not zero.
    """
    return validate("liquidation_totals", pd.read_parquet(SAMPLE_DIR / "hyperliquid_liquidation_totals.parquet"))


def sample_funding() -> pd.DataFrame:
    """Raw funding events (``exchange, symbol, timestamp, funding_rate``) behind the bars' funding column: 8-hourly,
    except Binance and OKX HYPE (4-hourly)."""
    return validate_fields(pd.read_parquet(SAMPLE_DIR / "funding.parquet"))


def sample_liquidations() -> pd.DataFrame:
    """OKX liquidation orders 2026-03-04 11:13 → 2026-03-05 11:18 UTC (BTC, ETH, SOL, DOGE, HYPE; bankruptcy price)."""
    return validate("liquidations", pd.read_parquet(SAMPLE_DIR / "liquidations.parquet"))


def sample_depth() -> pd.DataFrame:
    """One Binance USDⓈ-M BTCUSDT order-book snapshot (2022-11-01, 100 levels)."""
    return validate("depth", pd.read_parquet(SAMPLE_DIR / "depth.parquet"))


def hyperliquid_open_interest() -> pd.DataFrame:
    """Raw Hyperliquid hourly OI (``exchange, symbol, timestamp, open_interest_usd``), BTC/ETH/SOL/DOGE/HYPE: the
    path the bars' OI proxy follows."""
    return validate_fields(pd.read_parquet(SAMPLE_DIR / "hyperliquid_oi.parquet"))


def venue_open_interest_snapshots() -> pd.DataFrame:
    """The single real OI snapshot (2026-03-07 10:49 UTC) per venue (binance, bybit, okx) and coin (BTC, ETH, SOL,
    DOGE, HYPE): the level the bars' OI proxy is scaled to."""
    return validate_fields(pd.read_parquet(SAMPLE_DIR / "venue_oi_snapshots.parquet"))


def load_sample_into(store: Store) -> dict[str, int]:
    """Upsert the sample bars, liquidations and depth into ``store`` and record which bar columns are a proxy
    or approximated (:data:`SAMPLE_PROVENANCE`, per series); returns rows written per table."""
    bars = sample_bars()
    written = {
        "bars": store.upsert("bars", bars),
        "liquidations": store.upsert("liquidations", sample_liquidations()),
        "depth": store.upsert("depth", sample_depth()),
    }
    for exchange, symbol in bars[["exchange", "symbol"]].drop_duplicates().itertuples(index=False):
        for field, (provenance, note) in SAMPLE_PROVENANCE.items():
            store.record_provenance(str(exchange), str(symbol), field, provenance, note)
    return written
