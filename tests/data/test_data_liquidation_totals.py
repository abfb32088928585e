"""The liquidation-totals table: the shared Hyperliquid layout, row-numbered validation, store and file round trip."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from liqmap.data.io import read_liquidation_totals, read_table, write_table
from liqmap.data.layouts import Layout, detect_layout, to_canonical
from liqmap.data.store import Store
from liqmap.data.validate import validate
from liqmap.errors import DataValidationError

DAY = 86_400_000


def _shared() -> pd.DataFrame:
    """Three rows in the layout of ``shared/data/liquidations/hyperliquid_daily_liquidations_sol_doge_hype``."""
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2025-12-07", "2025-12-08", "2025-12-10"], utc=True),
            "venue": "hyperliquid",
            "coin": "SOL",
            "total_usd": [10.0, 20.0, 30.0],
            "long_usd": [6.0, 20.0, 0.0],
            "short_usd": [4.0, 0.0, 30.0],
            "liq_count": [3, 5, 7],
        }
    )


def test_shared_layout_is_recognised_and_converted(tmp_path):
    src = tmp_path / "hl_daily.parquet"
    _shared().to_parquet(src)
    assert detect_layout(list(_shared().columns)) is Layout.SHARED_LIQUIDATION_TOTALS
    conv = read_table(src)
    assert (conv.kind, conv.layout) == ("liquidation_totals", Layout.SHARED_LIQUIDATION_TOTALS)
    f = conv.frame
    assert list(f.columns) == ["exchange", "symbol", "timestamp", "period_ms", "long_usd", "short_usd", "count"]
    assert f["symbol"].unique().tolist() == ["SOL/USDC:USDC"] and (f["period_ms"] == DAY).all()
    assert f["timestamp"].tolist() == [1765065600000, 1765152000000, 1765324800000]  # 12-09 absent: stays absent
    assert f["count"].dtype == "int64" and f["count"].tolist() == [3, 5, 7]
    out = write_table(f, tmp_path / "liquidation_totals.parquet", "liquidation_totals")
    pd.testing.assert_frame_equal(read_liquidation_totals(tmp_path), f)  # a directory stands for <kind>.parquet
    assert out.name == "liquidation_totals.parquet"


def test_store_upserts_totals_idempotently(store):
    assert store.upsert("liquidation_totals", _canonical()) == 3
    assert store.upsert("liquidation_totals", _canonical()) == 3
    assert store.info()["rows"]["liquidation_totals"] == 3


def test_a_store_older_than_the_table_still_opens_read_only(tmp_path):
    path = tmp_path / "old.duckdb"
    Store(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE liquidation_totals")  # as a store written before the table existed
    with Store(path, read_only=True) as old:
        assert old.info()["rows"] == {"bars": 0, "liquidations": 0, "depth": 0, "tiers": 0}
    with Store(path) as upgraded:  # a writable open creates the missing table
        assert upgraded.info()["rows"]["liquidation_totals"] == 0


def _canonical() -> pd.DataFrame:
    return validate("liquidation_totals", to_canonical(_shared(), Layout.SHARED_LIQUIDATION_TOTALS).frame)


def _with(row: int, col: str, value: object) -> pd.DataFrame:
    df = _canonical().copy()  # validated frames may share read-only buffers
    df[col] = df[col].astype("float64")
    df.loc[row, col] = value
    return df


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_with(1, "long_usd", -5.0), "column 'long_usd' is negative at row 2"),
        (_with(2, "short_usd", float("nan")), "column 'short_usd' is NaN/empty at row 3"),
        (_with(0, "period_ms", 0.0), "column 'period_ms' must be > 0 at row 1"),
        (_with(0, "count", 2.5), "column 'count' is not a whole number at row 1"),
        (_with(2, "count", -1.0), "column 'count' is negative at row 3"),
        (pd.concat([_canonical(), _canonical().iloc[[1]]], ignore_index=True), "duplicate rows for key"),
        (_canonical().drop(columns=["short_usd"]), "missing column(s) short_usd"),
    ],
    ids=["negative", "nan", "zero-period", "fractional-count", "negative-count", "duplicate", "missing"],
)
def test_bad_totals_name_the_rows(frame, message):
    with pytest.raises(DataValidationError, match="liquidation_totals: ") as err:
        validate("liquidation_totals", frame)
    assert message in str(err.value)


def test_duplicate_rows_are_numbered_and_counts_may_be_unknown():
    dup = pd.concat([_canonical(), _canonical().iloc[[1]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"\(exchange, symbol, timestamp\) at rows 2, 4"):
        validate("liquidation_totals", dup)
    ok = validate("liquidation_totals", _with(1, "count", float("nan")))
    assert str(ok["count"].dtype) == "Int64" and ok["count"].isna().tolist() == [False, True, False]


def test_bad_shared_file_fails_with_the_path(tmp_path):
    bad = _shared()
    bad.loc[1, "long_usd"] = -1.0
    bad.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(
        DataValidationError, match=r"bad.parquet: liquidation_totals: column 'long_usd' is negative at row 2"
    ):
        read_table(tmp_path / "bad.parquet")
