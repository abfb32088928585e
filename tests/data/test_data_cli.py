"""CLI: import in every supported layout, data info/gaps/export, fetch against the fake exchange."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqmap.cli import app, main
from liqmap.data.layouts import BINANCE_KLINE_COLUMNS, BINANCE_METRICS_COLUMNS
from liqmap.data.sample import SAMPLE_DIR, sample_bars, sample_liquidations
from liqmap.data.store import Store

runner = CliRunner()
H = 3_600_000


def _run(*args: str) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _binance_btc(n: int = 48) -> pd.DataFrame:
    b = sample_bars()
    return b[(b["exchange"] == "binance") & (b["symbol"] == "BTC/USDT:USDT")].head(n).reset_index(drop=True)


def _klines(bars: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "open_time": bars["timestamp"],
            "open": bars["open"],
            "high": bars["high"],
            "low": bars["low"],
            "close": bars["close"],
            "volume": bars["volume"],
            "close_time": bars["timestamp"] + H - 1,
            "quote_volume": bars["quote_volume"],
            "count": 1000,
            "taker_buy_volume": bars["volume"] * 0.4,
            "taker_buy_quote_volume": bars["quote_volume"] * 0.4,
            "ignore": 0,
        }
    )[list(BINANCE_KLINE_COLUMNS)]


@pytest.mark.parametrize("header", [True, False])
def test_import_binance_kline_csv(header, tmp_path, db_path):
    bars = _binance_btc()
    path = tmp_path / "BTCUSDT-1h-2025-12.csv"
    _klines(bars).to_csv(path, index=False, header=header)
    out = _run("import", "bars", path, "--exchange", "binance", "--symbol", "BTCUSDT", "--db", db_path)
    assert "wrote 48 bars rows (binance-klines layout; +48 new rows)" in out
    with Store(db_path, read_only=True) as s:
        got = s.query_bars("binance", "BTCUSDT")
    assert got["close"].tolist() == bars["close"].tolist()
    assert got["taker_buy_volume"].tolist() == pytest.approx((bars["volume"] * 0.4).tolist())
    out = _run("import", "bars", path, "--exchange", "binance", "--symbol", "BTCUSDT", "--db", db_path)
    assert "+0 new rows" in out


def test_import_binance_metrics_attaches_oi_and_ratio(tmp_path, db_path):
    bars = _binance_btc(12)
    kl = tmp_path / "k.csv"
    _klines(bars).to_csv(kl, index=False)
    _run("import", "bars", kl, "--exchange", "binance", "--symbol", "BTCUSDT", "--db", db_path)
    snap = bars["timestamp"] + H  # 5-minute metrics rows; keep the ones at each bar close
    metrics = pd.DataFrame(
        {
            "create_time": pd.to_datetime(snap, unit="ms").dt.strftime("%Y-%m-%d %H:%M:%S"),
            "symbol": "BTCUSDT",
            "sum_open_interest": 80_000.0 + bars.index,
            "sum_open_interest_value": (80_000.0 + bars.index) * bars["close"],
            "count_toptrader_long_short_ratio": 1.1,
            "sum_toptrader_long_short_ratio": 1.2,
            "count_long_short_ratio": 1.9,
            "sum_taker_long_short_vol_ratio": 0.9,
        }
    )[list(BINANCE_METRICS_COLUMNS)]
    path = tmp_path / "BTCUSDT-metrics-2025-12-05.csv"
    metrics.to_csv(path, index=False)
    out = _run("import", "bars", path, "--db", db_path)
    assert "updated 12 stored bars (binance-metrics layout" in out
    with Store(db_path, read_only=True) as s:
        got = s.query_bars("binance", "BTCUSDT")
    assert got["open_interest"].tolist() == (80_000.0 + bars.index).tolist()
    assert got["long_short_ratio"].tolist() == [1.9] * 12


def test_import_ccxt_ohlcv_json(tmp_path, db_path):
    bars = _binance_btc(5)
    rows = bars[["timestamp", "open", "high", "low", "close", "volume"]].values.tolist()
    rows = [[int(r[0]), *r[1:]] for r in rows]
    path = tmp_path / "ohlcv.json"
    path.write_text(json.dumps(rows))
    out = _run("import", "bars", path, "--exchange", "bybit", "--symbol", "BTC/USDT:USDT", "--db", db_path)
    assert "wrote 5 bars rows (ccxt-ohlcv layout" in out
    result = runner.invoke(app, ["import", "bars", str(path), "--db", str(db_path)])
    assert "carries no exchange/symbol: pass both" in str(result.exception)


def test_import_shared_data_layouts(tmp_path, db_path):
    b = sample_bars()
    b = b[b["symbol"] == "ETH/USDT:USDT"].groupby("exchange").head(30)
    candles = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(b["timestamp"], unit="ms", utc=True),
            "venue": b["exchange"],
            "coin": "ETH",
            "o": b["open"],
            "h": b["high"],
            "l": b["low"],
            "c": b["close"],
            "v": b["volume"],
        }
    )
    extra = candles.head(3).assign(venue="kraken")
    pd.concat([candles, extra]).to_parquet(tmp_path / "candles_1h.parquet")
    out = _run("import", "bars", tmp_path / "candles_1h.parquet", "--db", db_path)
    assert "wrote 90 bars rows (shared-candles layout" in out
    assert "note: skipped 3 rows of venues liqmap does not model: kraken" in out
    oi = pd.DataFrame(
        {
            "timestamp": candles["timestamp"] + pd.Timedelta(hours=1),
            "venue": candles["venue"],
            "coin": "ETH",
            "oi_usd": 1e9,
        }
    )
    oi.to_parquet(tmp_path / "open_interest_1h.parquet")
    out = _run("import", "bars", tmp_path / "open_interest_1h.parquet", "--db", db_path)
    assert "updated 90 stored bars (shared-oi layout" in out
    liq = sample_liquidations().head(10)
    okx = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(liq["timestamp"], unit="ms", utc=True),
            "venue": "okx",
            "coin": liq["symbol"].str.split("/").str[0],
            "side": liq["side"].map({"long": "sell", "short": "buy"}),
            "size_usd": liq["quantity"] / 0.01 * liq["price"],
            "price": liq["price"],
        }
    )
    okx.to_parquet(tmp_path / "okx_liquidations.parquet")
    out = _run("import", "liquidations", tmp_path / "okx_liquidations.parquet", "--db", db_path)
    assert "wrote 10 liquidations rows (okx-liquidations layout" in out
    with Store(db_path, read_only=True) as s:
        got = s.query_liquidations("okx", "BTC")
        assert (
            got["quantity"].round(10).tolist()
            == liq.sort_values(["timestamp", "side", "price", "quantity"])["quantity"].round(10).tolist()
        )
        assert s.query_bars("okx", "ETH")["open_interest_usd"].eq(1e9).all()


def test_data_info_gaps_export(tmp_path, db_path):
    _run("import", "bars", SAMPLE_DIR, "--db", db_path)
    _run("import", "liquidations", SAMPLE_DIR / "liquidations.parquet", "--db", db_path)
    info = json.loads(_run("data", "info", "--db", db_path, "--json"))
    assert info["rows"] == {"bars": 32516, "liquidations": 5816, "depth": 0, "tiers": 0, "liquidation_totals": 0}
    okx = [s for s in info["series"] if s["exchange"] == "okx" and s["kind"] == "bars"]
    assert [(s["symbol"], s["rows"], s["timeframe"], s["gaps"]) for s in okx] == [
        (f"{coin}/USDT:USDT", 2160, "1h", 0) for coin in ("BTC", "DOGE", "ETH", "HYPE", "SOL")
    ]
    table = _run("data", "info", "--db", db_path)
    assert "okx" in table and "2,160" in table
    assert "no gaps in stored bars" in _run("data", "gaps", "--db", db_path)
    out = _run(
        "data", "export", "bars", tmp_path / "okx.parquet", "--exchange", "okx", "--symbol", "BTC", "--db", db_path
    )
    assert "wrote 2,160 bars rows" in out
    assert len(pd.read_parquet(tmp_path / "okx.parquet")) == 2160


def test_data_info_with_a_one_bar_series(tmp_path, db_path):
    """A one-bar series has no timeframe: None in JSON and an empty cell, next to a series that has one."""
    _binance_btc(1).to_csv(tmp_path / "one.csv", index=False)
    _binance_btc(3).assign(exchange="okx").to_csv(tmp_path / "three.csv", index=False)
    _run("import", "bars", tmp_path / "one.csv", "--db", db_path)
    _run("import", "bars", tmp_path / "three.csv", "--db", db_path)
    info = json.loads(_run("data", "info", "--db", db_path, "--json"))
    assert [(s["exchange"], s["rows"], s["timeframe"]) for s in info["series"]] == [
        ("binance", 1, None),
        ("okx", 3, "1h"),
    ]
    assert "binance" in _run("data", "info", "--db", db_path)
    with Store(db_path, read_only=True) as store:
        assert store.symbols()["timeframe"].tolist() == [None, "1h"]


def test_fetch_command_with_progress(fake_exchange, db_path):
    out = _run(
        "fetch",
        "--exchange",
        "binance",
        "--symbol",
        "BTC/USDT:USDT",
        "--since",
        "2025-12-05",
        "--until",
        "2025-12-10",
        "--what",
        "ohlcv,funding",
        "--api-url",
        fake_exchange.url,
        "--db",
        db_path,
    )
    assert "ohlcv: 121 rows" in out and "funding: 121 rows" in out
    with Store(db_path, read_only=True) as s:
        assert s.query_bars("binance", "BTCUSDT")["funding_rate"].notna().all()


def _main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["liqmap", *map(str, args)])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code, capsys.readouterr().err


def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.csv"
    _klines(_binance_btc(3)).assign(low=-1.0).to_csv(bad, index=False)
    code, err = _main(
        monkeypatch,
        capsys,
        "import",
        "bars",
        bad,
        "--exchange",
        "binance",
        "--symbol",
        "BTCUSDT",
        "--db",
        tmp_path / "x.duckdb",
    )
    assert code == 2
    assert err.strip() == f"error: {bad}: bars: column 'low' must be > 0 at rows 1, 2, 3"
    code, err = _main(monkeypatch, capsys, "data", "info", "--db", tmp_path / "none.duckdb")
    assert code == 2 and "run `liqmap import KIND FILE` or `liqmap demo` first" in err
