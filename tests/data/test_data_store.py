"""Store: idempotent upserts, round trips, resampling semantics, errors, gaps, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datafactories import MINUTE_MS, T0_MS, make_bars, make_tiers

from liqmap.data.sample import load_sample_into, sample_bars
from liqmap.data.store import Store
from liqmap.enums import Provenance
from liqmap.errors import DataValidationError, StoreError

HOUR_MS = 3_600_000


def _counts(store: Store) -> dict[str, int]:
    return store.info()["rows"]


def test_round_trip_import_export_import_is_identical(store, tmp_path):
    load_sample_into(store)
    first = {k: tmp_path / f"{k}.parquet" for k in ("bars", "liquidations", "depth")}
    for kind, path in first.items():
        store.export(kind, path)
    with Store(tmp_path / "second.duckdb") as second:
        for kind, path in first.items():
            second.import_file(path, kind)
        for kind, path in first.items():
            again = tmp_path / f"{kind}-again.parquet"
            second.export(kind, again)
            pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(again))
            assert path.read_bytes() == again.read_bytes()
        expected = {"bars": 32516, "liquidations": 5816, "depth": 600, "tiers": 0, "liquidation_totals": 0}
        assert _counts(second) == _counts(store) == expected


def test_reimport_changes_no_row_count(store, tmp_path):
    load_sample_into(store)
    before = _counts(store)
    store.export("bars", tmp_path / "bars.csv")
    store.import_file(tmp_path / "bars.csv")
    load_sample_into(store)
    assert _counts(store) == before


def test_upsert_replaces_values_on_the_key(store):
    bars = make_bars(5)
    store.upsert("bars", bars)
    changed = bars.assign(close=bars["close"] + 1.0, high=bars["high"] + 1.0)
    assert store.upsert("bars", changed.iloc[2:4]) == 2
    out = store.query_bars("binance", "BTCUSDT")
    assert len(out) == 5
    assert out["close"].tolist() == [90000.0, 90010.0, 90021.0, 90031.0, 90040.0]


def test_resample_1m_to_1h_has_correct_ohlc_volume_and_last_value_semantics(store):
    bars = make_bars(150)  # 2h30m of 1m bars from 00:00
    bars.loc[70, "quote_volume"] = np.nan  # one missing quote volume poisons only hour 1
    bars.loc[119, "open_interest"] = np.nan  # last OI of hour 1 missing: take the last non-null
    store.upsert("bars", bars)
    out = store.query_bars(["binance"], "BTC/USDT:USDT", timeframe="1h")
    assert out["timestamp"].tolist() == [T0_MS, T0_MS + HOUR_MS, T0_MS + 2 * HOUR_MS]
    h0 = bars.iloc[:60]
    assert out.loc[0, "open"] == h0["open"].iloc[0]
    assert out.loc[0, "high"] == h0["high"].max()
    assert out.loc[0, "low"] == h0["low"].min()
    assert out.loc[0, "close"] == h0["close"].iloc[-1]
    assert out.loc[0, "volume"] == pytest.approx(h0["volume"].sum())
    assert out.loc[0, "quote_volume"] == pytest.approx(h0["quote_volume"].sum())
    assert out.loc[0, "open_interest"] == h0["open_interest"].iloc[-1]
    assert np.isnan(out.loc[1, "quote_volume"])
    assert out.loc[1, "open_interest"] == bars.loc[118, "open_interest"]
    assert out.loc[2, "volume"] == pytest.approx(bars.iloc[120:]["volume"].sum())  # partial last bucket
    assert out["taker_buy_volume"].tolist() == pytest.approx(
        [bars["taker_buy_volume"].iloc[i : i + 60].sum() for i in (0, 60, 120)]
    )


def test_resample_range_keeps_whole_buckets(store):
    store.upsert("bars", make_bars(180))
    out = store.query_bars("binance", "BTCUSDT", T0_MS + HOUR_MS, T0_MS + 2 * HOUR_MS, timeframe="1h")
    assert out["timestamp"].tolist() == [T0_MS + HOUR_MS, T0_MS + 2 * HOUR_MS]
    assert out.loc[0, "open"] == make_bars(180)["open"].iloc[60]


def test_sample_daily_resample_matches_pandas(store):
    load_sample_into(store)
    daily = store.query_bars("binance", "BTCUSDT", timeframe="1d")
    hourly = sample_bars().query("exchange == 'binance' and symbol == 'BTC/USDT:USDT'")
    day = pd.to_datetime(hourly["timestamp"], unit="ms").dt.floor("D")
    expected = hourly.groupby(day).agg(open=("open", "first"), high=("high", "max"), close=("close", "last"))
    assert len(daily) == len(expected) == 91
    np.testing.assert_allclose(daily[["open", "high", "close"]].to_numpy(), expected.to_numpy())


def test_weekly_buckets_start_on_monday(store):
    store.upsert("bars", make_bars(24 * 14, step_ms=HOUR_MS))
    out = store.query_bars("binance", "BTCUSDT", timeframe="1w")
    assert {pd.Timestamp(t, unit="ms").day_name() for t in out["timestamp"]} == {"Monday"}


def test_resample_to_finer_timeframe_is_refused(store):
    store.upsert("bars", make_bars(5, step_ms=HOUR_MS))
    with pytest.raises(StoreError, match="cannot resample binance BTC/USDT:USDT 1h bars to 5m"):
        store.query_bars("binance", "BTCUSDT", timeframe="5m")
    with pytest.raises(StoreError, match="cannot read timeframe 'hourly'"):
        store.query_bars("binance", "BTCUSDT", timeframe="hourly")


def test_empty_query_names_what_is_stored(store):
    store.upsert("bars", make_bars(3))
    with pytest.raises(StoreError, match=r"no bars for okx ETH/USDT:USDT .* stored bars: binance BTC/USDT:USDT"):
        store.query_bars("okx", "ETH")
    with pytest.raises(StoreError, match="unknown exchange kraken"):
        store.query_bars("kraken", "BTC")
    with pytest.raises(StoreError, match="no liquidations for any exchange BTC/USDT:USDT"):
        store.query_liquidations(None, "BTC")


def test_a_failed_read_is_a_store_error(store):
    store.upsert("bars", make_bars(3))
    store._con.execute("DROP TABLE bars")  # a damaged store: DuckDB fails the query
    with pytest.raises(StoreError, match=r"cannot read store .*re-create it with `liqmap import`"):
        store.query_bars("binance", "BTC")
    with pytest.raises(StoreError, match="cannot read store"):
        store.last_timestamp("bars", "binance", "BTC")


def test_read_only_missing_store_says_what_to_run(tmp_path):
    with pytest.raises(StoreError, match=r"no liqmap store at .*run `liqmap import KIND FILE` or `liqmap demo`"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_default_path_honours_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LIQMAP_DB", str(tmp_path / "env.duckdb"))
    with Store() as s:
        s.upsert("bars", make_bars(2))
    with Store(read_only=True) as s:
        assert s.path == tmp_path / "env.duckdb" and len(s.query_bars(None, "BTCUSDT")) == 2
    assert (tmp_path / "env.duckdb").is_file()


def test_many_read_only_connections_share_the_file(db_path):
    with Store(db_path) as s:
        load_sample_into(s)
    readers = [Store(db_path, read_only=True) for _ in range(3)]
    try:
        assert [len(r.query_bars("bybit", "ETH")) for r in readers] == [2171] * 3
        with pytest.raises(StoreError, match="open read-only"):
            readers[0].upsert("bars", make_bars(2))
    finally:
        for r in readers:
            r.close()


def test_mixed_resolutions_are_refused(store):
    store.upsert("bars", make_bars(5))
    with pytest.raises(StoreError, match="holds 1m bars for binance BTC/USDT:USDT, the input has 1h bars"):
        store.upsert("bars", make_bars(5, step_ms=HOUR_MS, t0_ms=T0_MS + 10 * HOUR_MS))
    with pytest.raises(StoreError, match="offset from the stored 1m grid"):
        store.upsert("bars", make_bars(5, t0_ms=T0_MS + 30 * MINUTE_MS + 30_000))
    assert _counts(store)["bars"] == 5


def test_gaps_are_reported_not_filled(store):
    bars = make_bars(20).drop(index=[5, 6, 7, 12])
    store.upsert("bars", bars)
    gaps = store.gaps("binance", "BTCUSDT")
    assert gaps.to_dict("list") == {
        "from_ms": [T0_MS + 5 * MINUTE_MS, T0_MS + 12 * MINUTE_MS],
        "to_ms": [T0_MS + 7 * MINUTE_MS, T0_MS + 12 * MINUTE_MS],
        "missing_bars": [3, 1],
    }
    assert len(store.query_bars("binance", "BTCUSDT")) == 16
    info = store.info()
    assert info["series"][0]["gaps"] == 2


def test_sample_gaps_and_symbols(store):
    load_sample_into(store)
    sym = store.symbols()
    assert sym["timeframe"].unique().tolist() == ["1h"]
    # per exchange, symbols BTC, DOGE, ETH, HYPE, SOL (the shared candles' own spans; OKX starts 11-12 h later)
    assert sym["rows"].tolist() == [2171, 2172, 2171, 2172, 2172] * 2 + [2160] * 5
    assert store.last_timestamp("bars", "okx", "BTCUSDT") == 1772704800000  # 2026-03-05 10:00 UTC
    assert store.last_timestamp("bars", "okx", "SOLUSDT") == 1772708400000  # 2026-03-05 11:00 UTC
    assert store.last_timestamp("bars", "okx", "XRPUSDT") is None


def test_attach_open_interest_as_of_bar_close(store):
    bars = make_bars(6, step_ms=HOUR_MS).drop(columns=["open_interest", "open_interest_usd", "funding_rate"])
    store.upsert("bars", bars)
    fields = pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "timestamp": [T0_MS + HOUR_MS, T0_MS + 2 * HOUR_MS, T0_MS + 5 * HOUR_MS],
            "open_interest_usd": [1e9, 2e9, 5e9],
        }
    )
    assert store.attach(fields) == 5
    out = store.query_bars("binance", "BTCUSDT")
    # bar 0 closes at 1h → 1e9; bar 1 → 2e9; bar 2 → 2e9 carried (age 1h ≤ 1.5h); bar 3 (age 2h) → gap;
    # bar 4 closes at 5h → 5e9, bar 5 (closes 6h) carries it
    assert out["open_interest_usd"].tolist()[:3] == [1e9, 2e9, 2e9]
    assert np.isnan(out["open_interest_usd"].iloc[3])
    assert out["open_interest_usd"].tolist()[4:] == [5e9, 5e9]
    assert out["open_interest"].iloc[0] == pytest.approx(1e9 / bars["close"].iloc[0])
    with pytest.raises(StoreError, match="no stored bars for okx BTC/USDT:USDT"):
        store.attach(fields.assign(exchange="okx"))


def test_invalid_upsert_leaves_store_untouched(store):
    store.upsert("bars", make_bars(5))
    bad = make_bars(10, t0_ms=T0_MS + 5 * MINUTE_MS)
    bad.loc[7, "low"] = -1
    with pytest.raises(DataValidationError, match="row 8"):
        store.upsert("bars", bad)
    assert _counts(store)["bars"] == 5


_KILLED_CHILD = textwrap.dedent(
    """
    import sys, time, numpy as np, pandas as pd
    from liqmap.data.store import Store
    n, hold = int(sys.argv[2]), sys.argv[3] == "hold"
    ts = 1_767_225_600_000 + 10 * 60_000 + np.arange(n, dtype="int64") * 60_000
    c = np.full(n, 100.0)
    bars = pd.DataFrame({"exchange": "binance", "symbol": "BTC/USDT:USDT", "timestamp": ts, "open": c,
                         "high": c, "low": c, "close": c, "volume": c})
    original = Store._write

    def announce(self, kind, table):  # tell the parent where the transaction is
        print("writing", flush=True)
        original(self, kind, table)
        if hold:  # every row inserted, COMMIT not yet reached
            print("inserted", flush=True)
            time.sleep(60)

    Store._write = announce
    with Store(sys.argv[1]) as store:
        store.upsert("bars", bars)
    """
)
_N_KILLED = 300_000


@pytest.mark.parametrize("moment", ["before-commit", "mid-insert"])
def test_killed_import_leaves_the_store_before_or_after_never_between(moment, db_path):
    with Store(db_path) as s:
        s.upsert("bars", make_bars(10))
        expected = s.query_bars("binance", "BTCUSDT")
    hold = "hold" if moment == "before-commit" else "go"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, str(db_path), str(_N_KILLED), hold], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "writing"
    if moment == "before-commit":
        assert child.stdout.readline().strip() == "inserted"
    else:
        time.sleep(0.05)  # somewhere inside DELETE/INSERT/COMMIT of 300k rows (timing not guaranteed)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with Store(db_path) as s:
        rows = s.info()["rows"]["bars"]
        allowed = {10} if moment == "before-commit" else {10, 10 + _N_KILLED}
        assert rows in allowed
        pd.testing.assert_frame_equal(s.query_bars("binance", "BTCUSDT", end_ms=T0_MS + 9 * MINUTE_MS), expected)
        s.upsert("bars", make_bars(12))  # still writable
        # bars 10 and 11 are new, unless the killed import committed (then they replace its first two)
        assert s.info()["rows"]["bars"] == (12 if rows == 10 else rows)


def test_export_filters_and_formats(store, tmp_path):
    load_sample_into(store)
    n = store.export("liquidations", tmp_path / "btc.json", symbol="BTCUSDT")
    assert n == 1611
    assert len(pd.read_json(tmp_path / "btc.json")) == 1611
    assert store.export("bars", tmp_path / "okx.csv", exchange="okx") == 10800


def test_tiers_round_trip(store):
    tiers = make_tiers().assign(valid_from="2026-09-01", source="test")
    store.upsert("tiers", tiers)
    store.upsert("tiers", tiers)
    out = store.query_tiers("binance", "BTC/USDT:USDT")
    assert out["maintenance_amount"].tolist() == [0.0, 300.0]
    assert store.symbols("tiers")["rows"].tolist() == [2]


def test_db_path_is_a_path(db_path: Path):
    with Store(str(db_path)) as s:
        assert s.path == db_path


def test_attach_taker_flows_sums_complete_periods_only(store):
    bars = make_bars(4, step_ms=HOUR_MS).drop(columns=["taker_buy_volume"])
    store.upsert("bars", bars)
    five = 5 * MINUTE_MS
    ts = T0_MS + np.arange(48, dtype="int64") * five  # 4 hours of 5-minute periods
    flows = pd.DataFrame({"exchange": "binance", "symbol": "BTCUSDT", "timestamp": ts, "taker_buy_volume": 0.05})
    flows = flows.drop(index=[20])  # hour 1 misses one period
    flows.loc[flows["timestamp"] >= T0_MS + 3 * HOUR_MS, "taker_buy_volume"] = 1.0  # hour 3: 12 > volume 4
    assert store.attach(flows) == 2  # hours 0 and 2; hour 1 is incomplete, hour 3 exceeds its volume
    got = store.query_bars("binance", "BTCUSDT")["taker_buy_volume"].tolist()
    assert got[0] == pytest.approx(0.6) and got[2] == pytest.approx(0.6)
    assert np.isnan(got[1]) and np.isnan(got[3])
    hourly = flows.iloc[::12].assign(timestamp=T0_MS + np.arange(4) * 2 * HOUR_MS)
    with pytest.raises(DataValidationError, match="taker volume every 2h cannot be split into 1h bars"):
        store.attach(hourly)


_HOLDING_WRITER = textwrap.dedent(
    """
    import sys, time
    from liqmap.data.store import Store
    with Store(sys.argv[1]) as store:
        print("open", flush=True)
        time.sleep(60)
    """
)


def test_readers_in_other_processes_and_a_held_write_lock(db_path):
    with Store(db_path) as s:
        s.upsert("bars", make_bars(3))
    readers = [
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from liqmap.data.store import Store\n"
                "with Store(sys.argv[1], read_only=True) as s: print(len(s.query_bars(None, 'BTCUSDT')))",
                str(db_path),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert readers == ["3", "3"]
    writer = subprocess.Popen([sys.executable, "-c", _HOLDING_WRITER, str(db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match=r"cannot open store .*lock"):
            Store(db_path, read_only=True)
    finally:
        writer.kill()
        writer.wait()
    with Store(db_path, read_only=True) as s:
        assert len(s.query_bars("binance", "BTCUSDT")) == 3


def test_sample_loader_records_the_proxy_columns_and_counts_rows(store, tmp_path):
    load_sample_into(store)
    rec = store.provenance(["binance", "okx"], "BTCUSDT")
    assert rec[["exchange", "field", "provenance"]].values.tolist() == [
        [ex, field, prov]
        for ex in ("binance", "okx")
        for field, prov in (
            ("open_interest", "proxy"),
            ("open_interest_usd", "proxy"),
            ("quote_volume", "approximated"),
        )
    ]
    assert rec["note"].iloc[0].startswith("Hyperliquid's hourly OI path scaled to the venue's one real snapshot")
    assert (
        store.count("liquidations", ["okx"], "BTCUSDT") == 1611 and store.count("liquidations", ["binance"], "BTC") == 0
    )
    assert store.count("bars", ["okx"], "BTCUSDT", end_ms=1_764_932_400_000) == 1  # okx BTC opens 2025-12-05 11:00
    with pytest.raises(StoreError, match="bars have no column 'oi'; record the provenance of one of exchange, symbol"):
        store.record_provenance("binance", "BTCUSDT", "oi", Provenance.PROXY, "typo")


def test_a_store_made_before_provenance_was_recorded_reads_none(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        store.upsert("bars", make_bars(3))
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE bar_provenance")
    with Store(path, read_only=True) as old:
        assert old.provenance(["binance"], "BTCUSDT").empty
