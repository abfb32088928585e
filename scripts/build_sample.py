"""Rebuild the bundled real sample in src/liqmap/data/sample/ from ../shared/data (reproducible).

Run: ``.venv/bin/python scripts/build_sample.py [--shared /work/shared/data]``. Writes canonical Parquet
files; see src/liqmap/data/sample/PROVENANCE.md for what each holds and how it was derived.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd

from liqmap.data.io import write_table
from liqmap.data.layouts import Layout, okx_liquidations, to_canonical
from liqmap.data.sample import SAMPLE_DIR
from liqmap.data.transform import attach_fields
from liqmap.data.validate import validate, validate_fields

VENUES = ("binance", "bybit", "okx")
COINS = ("BTC", "ETH", "SOL", "DOGE", "HYPE")  # bars, funding and OI inputs; also the Hyperliquid calibration bars
LIGHTER_COINS = ("BTC", "ETH")
HOUR_MS = 3_600_000
START, END = pd.Timestamp("2025-12-05", tz="UTC"), pd.Timestamp("2026-03-06", tz="UTC")
LIGHTER_START = pd.Timestamp("2025-12-10 13:00", tz="UTC")  # Lighter's first hourly OI reading
LICENSES = ("group-m-finm33150-final.UNLICENSE", "nautilus_trader.LGPL-3.0.head")


def build(shared: Path, out: Path) -> None:
    """Write bars, lighter_bars, hyperliquid_bars, funding, liquidations, hyperliquid_liquidation_totals, depth,
    hyperliquid_oi and venue_oi_snapshots Parquet files."""
    market = shared / "market"
    all_candles = pd.read_parquet(market / "candles_1h.parquet")
    candles = all_candles[
        all_candles["venue"].isin(VENUES)
        & all_candles["coin"].isin(COINS)
        & (all_candles["timestamp"] >= START)
        & (all_candles["timestamp"] < END)
    ]
    all_funding = pd.read_parquet(market / "funding_rates.parquet")
    events = funding_events(all_funding[all_funding["venue"].isin(VENUES) & all_funding["coin"].isin(COINS)])
    events = events[
        (events["timestamp"] >= START.value // 1_000_000 - 8 * 3_600_000)
        & (events["timestamp"] < END.value // 1_000_000)
    ].reset_index(drop=True)
    bars = bars_with_funding(candles, events)
    write_table(events, out / "funding.parquet")

    all_oi = validate_fields(
        to_canonical(pd.read_parquet(market / "open_interest_1h.parquet"), Layout.SHARED_OPEN_INTEREST).frame
    )
    oi = all_oi[all_oi["symbol"].str.split("/").str[0].isin(COINS)]
    hyper = oi[oi["exchange"] == "hyperliquid"].reset_index(drop=True)
    snapshots = oi[oi["exchange"].isin(VENUES)].reset_index(drop=True)
    bars = attach_fields(bars, oi_proxy(hyper, snapshots))
    write_table(bars, out / "bars.parquet", "bars")
    write_table(hyper, out / "hyperliquid_oi.parquet")
    write_table(snapshots, out / "venue_oi_snapshots.parquet")
    write_table(lighter_bars(all_candles, all_funding, oi), out / "lighter_bars.parquet", "bars")
    write_table(hyperliquid_bars(all_candles, all_funding, all_oi), out / "hyperliquid_bars.parquet", "bars")

    liq = okx_liquidations(pd.read_parquet(shared / "liquidations" / "okx_liquidations_2026-03-04.parquet"))
    print("liquidations:", liq.note or "every coin has a contract value")
    write_table(liq.frame, out / "liquidations.parquet", "liquidations")
    totals = to_canonical(
        pd.read_parquet(shared / "liquidations" / "hyperliquid_daily_liquidations_sol_doge_hype.parquet"),
        Layout.SHARED_LIQUIDATION_TOTALS,
    ).frame
    write_table(totals, out / "hyperliquid_liquidation_totals.parquet", "liquidation_totals")

    book = shared / "orderbook"
    snapshot = pd.read_csv(book / "binance_usdm_btcusdt_depth_snapshot_2022-11-01.csv")
    book25 = pd.read_csv(book / "binance_usdm_btcusdt_book25_2020-09-01.csv")
    depth = pd.concat(
        [to_canonical(book25, Layout.TARDIS_BOOK).frame, to_canonical(snapshot, Layout.BINANCE_DEPTH).frame],
        ignore_index=True,
    )
    write_table(depth, out / "depth.parquet", "depth")

    lic = out / "licenses"
    lic.mkdir(exist_ok=True)
    for name in LICENSES:
        shutil.copyfile(shared / "licenses" / name, lic / name)


def funding_events(rows: pd.DataFrame) -> pd.DataFrame:
    """Shared funding rows → canonical, validated funding events."""
    return validate_fields(to_canonical(rows, Layout.SHARED_FUNDING).frame)


def bars_with_funding(candles: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Shared candles → canonical bars (quote volume approximated as volume × close: the source has none)
    with the funding ``events`` attached."""
    bars = validate("bars", to_canonical(candles, Layout.SHARED_CANDLES).frame)
    bars["quote_volume"] = bars["volume"] * bars["close"]
    return attach_fields(bars, events)


def lighter_bars(candles: pd.DataFrame, funding: pd.DataFrame, oi: pd.DataFrame) -> pd.DataFrame:
    """Lighter BTC/ETH bars from its first OI reading to its last candle, with Lighter's own (real) OI and funding.

    Lighter is the one venue in the source with hourly candles *and* hourly OI; gaps in either stay gaps.
    """
    rows = candles[
        (candles["venue"] == "lighter") & candles["coin"].isin(LIGHTER_COINS) & (candles["timestamp"] >= LIGHTER_START)
    ]
    own = funding_events(funding[(funding["venue"] == "lighter") & funding["coin"].isin(LIGHTER_COINS)])
    lighter_oi = oi[(oi["exchange"] == "lighter") & oi["symbol"].str.split("/").str[0].isin(LIGHTER_COINS)]
    bars = attach_fields(bars_with_funding(rows, own), lighter_oi)
    for (_, symbol), part in bars.groupby(["exchange", "symbol"]):
        oi_n, funding_n = part["open_interest_usd"].notna().sum(), part["funding_rate"].notna().sum()
        print(f"lighter {symbol}: {len(part)} bars, OI in {oi_n}, funding in {funding_n}")
    return bars


def hyperliquid_bars(candles: pd.DataFrame, funding: pd.DataFrame, oi: pd.DataFrame) -> pd.DataFrame:
    """Hyperliquid calibration bars, BTC/ETH/SOL/DOGE/HYPE ``X/USDC:USDC``, over Hyperliquid's hourly OI span.

    The source has no Hyperliquid candles for the span, so OHLC are **Binance's** (real, but not Hyperliquid's
    prices) and ``volume = binance volume × ratio`` with ``ratio = hyperliquid OI / binance OI`` at Binance's one
    snapshot (Hyperliquid's reading at or before it) — a proxy. Open interest and funding are Hyperliquid's own
    (real), attached as for every sample: the reading at or before the bar close, carried at most 1.5 h.
    """
    hyper = oi[oi["exchange"] == "hyperliquid"]
    parts = []
    for coin in COINS:
        path = hyper[hyper["symbol"] == f"{coin}/USDC:USDC"]
        snap = oi[(oi["exchange"] == "binance") & (oi["symbol"] == f"{coin}/USDT:USDT")].iloc[0]
        anchor = reading_at(path, snap["timestamp"])
        ratio = anchor["open_interest_usd"] / snap["open_interest_usd"]
        at = pd.Timestamp(int(anchor["timestamp"]), unit="ms", tz="UTC")
        print(f"hyperliquid {coin}: volume ratio {ratio:.4f} = Hyperliquid OI at {at:%Y-%m-%d %H:%M} / Binance OI")
        first_close = pd.Timestamp(int(path["timestamp"].min()), unit="ms", tz="UTC")  # the first bar with OI
        rows = candles[
            (candles["venue"] == "binance")
            & (candles["coin"] == coin)
            & (candles["timestamp"] >= first_close - pd.Timedelta(HOUR_MS, "ms"))
        ]
        parts.append(rows.assign(venue="hyperliquid", v=rows["v"] * ratio))
    own = funding_events(funding[(funding["venue"] == "hyperliquid") & funding["coin"].isin(COINS)])
    bars = attach_fields(bars_with_funding(pd.concat(parts, ignore_index=True), own), hyper)
    for symbol, part in bars.groupby("symbol"):
        oi_n, funding_n = part["open_interest_usd"].notna().sum(), part["funding_rate"].notna().sum()
        print(f"hyperliquid {symbol}: {len(part)} bars, OI in {oi_n}, funding in {funding_n}")
    return bars


def reading_at(path: pd.DataFrame, timestamp: int) -> pd.Series:
    """The last row of a time-sorted series ``path`` at or before ``timestamp`` (ms)."""
    return path[path["timestamp"] <= timestamp].iloc[-1]


def oi_proxy(hyper: pd.DataFrame, snapshots: pd.DataFrame) -> pd.DataFrame:
    """Per venue/coin: Hyperliquid's hourly OI path scaled to end at the venue's real OI snapshot.

    ``proxy(t) = hl_oi_usd(t) × snapshot_usd / hl_oi_usd(last hour at or before the snapshot)``.
    """
    parts = []
    for snap in snapshots.itertuples(index=False):
        coin = snap.symbol.split("/")[0]
        path = hyper[hyper["symbol"] == f"{coin}/USDC:USDC"]
        anchor = reading_at(path, snap.timestamp)
        scale = snap.open_interest_usd / anchor["open_interest_usd"]
        print(f"OI proxy {snap.exchange} {snap.symbol}: scale {scale:.4f} (anchor {anchor['timestamp']})")
        parts.append(
            pd.DataFrame(
                {
                    "exchange": snap.exchange,
                    "symbol": snap.symbol,
                    "timestamp": path["timestamp"].to_numpy(),
                    "open_interest_usd": path["open_interest_usd"].to_numpy() * scale,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR)
    args = parser.parse_args()
    build(args.shared, args.out)
