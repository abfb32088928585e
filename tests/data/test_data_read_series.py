"""``read_bars(path, symbol, exchanges)``: from a canonical Parquet file only the asked series' rows are read
and validated; the result equals the whole file's validated rows of that series, errors still name the
file's rows."""

from __future__ import annotations

import pytest

from liqmap.cli._common import filter_rows
from liqmap.data.io import read_bars
from liqmap.data.sample import SAMPLE_DIR
from liqmap.data.schemas import required_columns
from liqmap.errors import DataValidationError

SERIES = [
    ("BTCUSDT", ["binance"]),
    ("btc/usdt:usdt", None),
    ("ETH/USDT:USDT", ["okx", "bybit"]),
    ("DOGEUSDT", ["binance"]),
    ("BTCUSDT", ["kraken"]),  # no such series: the whole file comes back, the caller finds no rows
]


@pytest.mark.parametrize(("symbol", "exchanges"), SERIES)
def test_narrowed_read_equals_the_whole_files_rows(symbol, exchanges):
    whole = filter_rows(read_bars(SAMPLE_DIR), exchanges, symbol, None, None)
    narrowed = read_bars(SAMPLE_DIR, symbol, exchanges)
    assert len(narrowed) <= len(read_bars(SAMPLE_DIR))
    got = filter_rows(narrowed, exchanges, symbol, None, None)
    assert got.equals(whole) and list(got.dtypes) == list(whole.dtypes)


def test_only_the_series_is_read_and_other_spellings_match(tmp_path):
    bars = read_bars(SAMPLE_DIR)
    bars = bars[bars["exchange"] == "binance"].reset_index(drop=True)[required_columns("bars")]  # no optional
    bars.loc[bars["symbol"] == "ETH/USDT:USDT", "symbol"] = "ETHUSDT"  # a venue spelling in the file
    path = tmp_path / "bars.parquet"
    bars.to_parquet(path, index=False)
    eth = read_bars(path, "ETH/USDT:USDT", ["binance"])
    assert set(eth["symbol"]) == {"ETH/USDT:USDT"} and len(eth) == (bars["symbol"] == "ETHUSDT").sum()
    assert eth.equals(filter_rows(read_bars(path), ["binance"], "ETH/USDT:USDT", None, None))


def test_bad_rows_elsewhere_do_not_block_a_series_and_its_own_name_file_rows(tmp_path):
    bars = read_bars(SAMPLE_DIR)
    bad = bars.copy()
    row = int(bad.index[(bad["symbol"] == "ETH/USDT:USDT") & (bad["exchange"] == "okx")][3])
    bad.loc[row, "high"] = bad.loc[row, "low"] / 2  # high < low in one OKX ETH bar
    path = tmp_path / "bars.parquet"
    bad.to_parquet(path, index=False)
    btc = read_bars(path, "BTCUSDT", ["binance"])
    assert btc.equals(filter_rows(bars, ["binance"], "BTCUSDT", None, None))
    for kwargs in ({}, {"symbol": "ETHUSDT", "exchanges": ["okx"]}):  # the whole file's row number
        with pytest.raises(DataValidationError, match=rf"high < low at row {row + 1}\b"):
            read_bars(path, **kwargs)
