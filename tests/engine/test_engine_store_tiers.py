"""Tier resolution for engine runs: the store's fetched table first, then the bundled one, then an error that
says how to fetch one (docs/margin.md, "Which tier table a map uses")."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from engine_bars import random_bars

from liqmap.cli import run as cli_run
from liqmap.cli._common import stored_tiers
from liqmap.data.store import Store
from liqmap.engine import EngineConfig, run
from liqmap.engine._prep import liquidation_tables, resolve_tiers
from liqmap.engine.options import engine_config
from liqmap.errors import UnknownSymbolError
from liqmap.margin import get_tiers, make_table

FOO = "FOO/USDT:USDT"  # no bundled table


def _store(tmp_path, bars: pd.DataFrame, *tables) -> str:
    db = tmp_path / "tiers.duckdb"
    with Store(db) as store:
        store.upsert("bars", bars)
        for t in tables:
            store.upsert("tiers", pd.DataFrame(t.to_records()))
    return str(db)


def _flat(exchange: str, symbol: str, mmr: float, max_lev: float = 100.0):
    return make_table(exchange, symbol, [(0.0, 1e12, max_lev, mmr, 0.0)], valid_from="2026-12-01", source="test")


def test_without_a_stored_or_bundled_table_the_error_names_the_fetch_command(tmp_path, capsys):
    db = _store(tmp_path, random_bars(n=300).assign(symbol=FOO))
    assert cli_run(["map", "--db", db, "--symbol", "FOOUSDT", "--json"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "no tier table for binance:FOO/USDT:USDT in the store or bundled" in err
    assert "`liqmap fetch --what tiers --exchange binance --symbol FOO/USDT:USDT`" in err
    with pytest.raises(UnknownSymbolError, match="liqmap fetch --what tiers --exchange binance --symbol FOO"):
        resolve_tiers("binance", FOO, EngineConfig())


def test_a_stored_table_makes_map_work_for_a_symbol_without_a_bundled_one(tmp_path, capsys):
    bars = random_bars(n=300).assign(symbol=FOO)
    stored = make_table("binance", FOO, [(0, 1e6, 50, 0.01, None), (1e6, 1e12, 20, 0.025, None)], source="test")
    db = _store(tmp_path, bars, stored)
    with Store(db, read_only=True) as store:
        back = store.tier_table("binance", "FOOUSDT")
        assert store.tier_table("bybit", FOO) is None
    assert back is not None and back.maintenance_amount.tolist() == pytest.approx([0.0, 15_000.0])  # 1M × 1.5 %
    assert back.max_leverage.tolist() == [50.0, 20.0] and "read from the store" in back.notes
    assert cli_run(["map", "--db", db, "--symbol", "FOOUSDT", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["symbol"] == FOO and report["price"] == pytest.approx(float(bars["close"].iloc[-1]))
    assert report["total_long_usd"] > 0 and report["total_short_usd"] > 0
    # the same map as the library given that table
    lib = run(bars, config=engine_config(bars, tier_tables=(stored,))).liqmap()
    assert report["total_long_usd"] == pytest.approx(float(lib.long_usd.sum()), rel=1e-12)


def test_a_stored_table_overrides_the_bundled_one(tmp_path, capsys):
    bars = random_bars(n=300)  # BTC/USDT:USDT on binance: bundled tier 1 is 0.4 %, 150x
    db = _store(tmp_path, bars, _flat("binance", "BTC/USDT:USDT", mmr=0.05))
    tables = stored_tiers(None, db, bars)
    assert len(tables) == 1 and float(tables[0].maintenance_margin_rate[0]) == 0.05
    assert stored_tiers(tmp_path, db, bars) == ()  # --input bars: no store to read tiers from
    cfg, bundled_cfg = engine_config(bars, tier_tables=tables), engine_config(bars)
    grid = np.array([90_000.0, 94_000.0, 98_000.0])
    k = cfg.leverages.index(10.0)
    lp, _, max_lev = liquidation_tables("binance", "BTC/USDT:USDT", grid, cfg)
    # 10x long: LP = E·(1 − 1/10)/(1 − 0.05) → 94,000 · 0.9 / 0.95 = 89,052.63; short E·1.1/1.05 = 98,476.19
    assert lp[0, k, 1] == pytest.approx(94_000 * 0.9 / 0.95, rel=1e-12) and round(lp[0, k, 1], 2) == 89_052.63
    assert lp[1, k, 1] == pytest.approx(94_000 * 1.1 / 1.05, rel=1e-12) and round(lp[1, k, 1], 2) == 98_476.19
    assert max_lev == 100.0
    bundled = get_tiers("binance", "BTCUSDT")
    assert float(bundled.maintenance_margin_rate[0]) == 0.004
    lp0, _, max0 = liquidation_tables("binance", "BTC/USDT:USDT", grid, bundled_cfg)
    assert lp0[0, k, 1] == pytest.approx(94_000 * 0.9 / 0.996, rel=1e-12) and max0 == 150.0
    # and the CLI's map changes accordingly
    assert cli_run(["map", "--db", db, "--symbol", "BTCUSDT", "--json"]) == 0
    with_store = json.loads(capsys.readouterr().out)
    lib_bundled = run(bars, config=engine_config(bars)).liqmap()
    lib_stored = run(bars, config=cfg).liqmap()
    assert with_store["total_long_usd"] == pytest.approx(float(lib_stored.long_usd.sum()), rel=1e-12)
    # the same notional sits elsewhere: each position dies at its stored-tier price, not the bundled one
    assert not np.allclose(lib_stored.long_usd, lib_bundled.long_usd, rtol=1e-3, atol=1.0)


def test_a_stored_table_is_lent_and_the_venue_own_stored_table_wins():
    eth = "ETH/USDT:USDT"  # OKX has no bundled ETH table
    bars = random_bars(n=200, exchange="okx").assign(symbol=eth)
    cfg = engine_config(bars, tiers_from="binance", tier_tables=(_flat("binance", eth, 0.02),))
    assert cfg.tier_exchange == {"okx": "binance"}
    lent = resolve_tiers("okx", eth, cfg)
    assert str(lent.exchange) == "okx" and float(lent.maintenance_margin_rate[0]) == 0.02
    own = engine_config(bars, tiers_from="binance", tier_tables=(_flat("okx", eth, 0.03),))
    assert own.tier_exchange == {}  # okx has a table of its own: nothing is lent
    assert float(resolve_tiers("okx", eth, own).maintenance_margin_rate[0]) == 0.03
