"""``liqmap scan`` over a store: rows equal the library's map report of each series, serial equals Dask, stored
tiers are used, bad series are skipped with the reason."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from liqmap.analytics.report import build_map_report
from liqmap.analytics.scan import ScanSettings, scan_row
from liqmap.cli import run as cli_run
from liqmap.data.sample import load_sample_into
from liqmap.data.store import Store
from liqmap.engine import run
from liqmap.engine.options import engine_config
from liqmap.errors import LiqmapError
from liqmap.margin import make_table
from liqmap.scan import scan_store
from liqmap.timeframes import MS_PER_DAY

NOW = 1_772_712_000_000  # 2026-03-05 12:00 UTC, two hours after the sample's last BTC bar


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "sample.duckdb"
    with Store(path) as store:
        load_sample_into(store)
    return str(path)


def _library_row(db: str, exchange: str, symbol: str, s: ScanSettings, tiers_from: str | None = "binance"):
    with Store(db, read_only=True) as store:
        bars = store.query_bars(exchange, symbol)
        tables = store.tier_tables([exchange], symbol)
    last = int(bars["timestamp"].max())
    bars = bars[bars["timestamp"] >= last - round(s.days * MS_PER_DAY)].reset_index(drop=True)
    cfg = engine_config(bars, tiers_from=tiers_from, tier_tables=tables)  # full heatmap history
    report = build_map_report(run(bars, config=cfg).liqmap(), bars, s.report_settings(), profile=cfg.profile)
    return scan_row(report, s, exchange=exchange, last_bar_ms=last, now_ms=NOW, bars=len(bars))


def test_rows_equal_the_map_report_of_each_series(sample_db):
    s = ScanSettings()
    scan = scan_store(sample_db, s, symbols=["BTCUSDT", "SOLUSDT"], dask=False, now_ms=NOW)
    assert scan.runner == "serial" and not scan.skipped
    assert [(r.exchange, r.symbol) for r in scan.rows] == [
        ("binance", "BTC/USDT:USDT"),
        ("bybit", "BTC/USDT:USDT"),
        ("okx", "BTC/USDT:USDT"),
        ("binance", "SOL/USDT:USDT"),
        ("bybit", "SOL/USDT:USDT"),
        ("okx", "SOL/USDT:USDT"),
    ]
    btc = scan.rows[0]
    want = _library_row(sample_db, "binance", "BTC/USDT:USDT", s)
    assert btc.to_dict() == {**want.to_dict(), "tiers": "bundled"}
    assert btc.price == 73_399.9 and btc.bars == 2_161 and btc.age_hours == 2.0
    assert btc.last_bar_ms == 1_772_704_800_000  # 2026-03-05 10:00 UTC
    lent = "binance (lent)"  # Bybit and OKX have no bundled SOL table
    assert [r.tiers for r in scan.rows] == ["bundled", "bundled", "bundled", "bundled", lent, lent]
    sol_bybit = scan.rows[4]
    assert sol_bybit.to_dict() == {
        **_library_row(sample_db, "bybit", "SOL/USDT:USDT", s).to_dict(),
        "tiers": "binance (lent)",
    }


def test_dask_equals_serial_and_sorting(sample_db):
    kw = {"symbols": ["BTCUSDT", "ETHUSDT"], "now_ms": NOW, "sort": "above_pct", "descending": True}
    serial = scan_store(sample_db, dask=False, **kw)
    parallel = scan_store(sample_db, dask=True, n_workers=2, **kw)
    assert parallel.runner == "dask" and serial.runner == "serial"
    assert [r.to_dict() for r in parallel.rows] == [r.to_dict() for r in serial.rows]
    pcts = [r.above_pct for r in serial.rows]
    assert pcts == sorted(pcts, reverse=True) and len(pcts) == 6


def test_cli_json_is_the_scan_shape_and_table_view(sample_db, capsys):
    args = ["scan", "--db", sample_db, "--symbol", "BTCUSDT", "--exchange", "binance", "--serial"]
    assert cli_run([*args, "--json", "--min-cluster-usd", "5e6", "--notional-usd", "2e6"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"rows", "skipped", "settings", "sort", "descending", "now_ms", "seconds", "runner", "caveat"}
    assert out["settings"] == {
        "min_cluster_usd": 5e6,
        "window_pct": 5.0,
        "notional_usd": 2e6,
        "shock_pct": 1.0,
        "days": 90.0,
    }
    row = out["rows"][0]
    want = _library_row(sample_db, "binance", "BTC/USDT:USDT", ScanSettings(min_cluster_usd=5e6, notional_usd=2e6))
    assert row == {**want.to_dict(), "age_hours": row["age_hours"], "tiers": "bundled"}
    assert row["above_usd"] >= 5e6 and (row["below_usd"] is None or row["below_usd"] >= 5e6)
    assert cli_run(args) == 0
    text = capsys.readouterr().out
    assert "BTCUSDT" in text and "$73,400" in text and "liquidation scan: 1 series (serial" in text
    assert cli_run([*args, "--sort", "nope"]) == 2
    assert "unknown sort column 'nope'" in capsys.readouterr().err


def test_stored_tiers_are_used_and_series_without_any_are_skipped(tmp_path):
    db = tmp_path / "foo.duckdb"
    with Store(db) as store:
        load_sample_into(store)
        btc = store.query_bars("binance", "BTCUSDT")
        foo = btc.assign(symbol="FOO/USDT:USDT", exchange="gate")
        store.upsert("bars", foo)
        store.upsert("bars", btc.assign(symbol="BAR/USDT:USDT"))
        table = make_table("gate", "FOO/USDT:USDT", [(0.0, 1e12, 100.0, 0.05, 0.0)], source="test")
        store.upsert("tiers", pd.DataFrame(table.to_records()))
    scan = scan_store(db, symbols=["FOOUSDT", "BARUSDT"], tiers_from=None, now_ms=NOW)
    assert [(r.exchange, r.symbol, r.tiers) for r in scan.rows] == [("gate", "FOO/USDT:USDT", "store")]
    assert [(k.exchange, k.symbol) for k in scan.skipped] == [("binance", "BAR/USDT:USDT")]
    assert "`liqmap fetch --what tiers --exchange binance --symbol BAR/USDT:USDT`" in scan.skipped[0].reason
    # with the stored 5 % rate the map differs from Binance's bundled BTC tiers on the same bars
    btc_row = scan_store(db, symbols=["BTCUSDT"], exchanges=["binance"], now_ms=NOW).rows[0]
    assert scan.rows[0].price == btc_row.price and scan.rows[0].below_usd != btc_row.below_usd
    with pytest.raises(LiqmapError, match="the store holds no bars"):
        scan_store(db, symbols=["NOPEUSDT"])
    # liqmap batch reads the same stored table: its job list accepts FOO on gate, and the task maps it
    from liqmap.cli.scale import _jobs
    from liqmap.engine import EngineConfig
    from liqmap.scale import run_series

    jobs = _jobs(db, ["FOOUSDT"], None, None, None, EngineConfig(), None, False)
    assert [(j.symbol, j.exchanges, j.config) for j in jobs] == [("FOO/USDT:USDT", ("gate",), None)]
    res = run_series(jobs[0], str(db), "oi-delta", None, False)
    assert res.bars == len(foo) and res.liqmap.long_usd.sum() > 0
    with pytest.raises(LiqmapError, match="fetch one with `liqmap fetch --what tiers --exchange binance --symbol BAR"):
        _jobs(db, ["BARUSDT"], None, None, None, EngineConfig(), None, False)
