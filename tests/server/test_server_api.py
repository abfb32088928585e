"""HTTP API over the real sample store: values equal the engine's and the analytics', validation
messages, caching per (query, last bar), read-only behaviour."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from liqmap.analytics import ReportSettings, build_map_report
from liqmap.analytics.cascade import Direction, critical_shock_pct, simulate_cascade
from liqmap.analytics.impact import SqrtImpact
from liqmap.analytics.validation import validation_report
from liqmap.data.store import Store
from liqmap.engine.profiles import load_profile

DAY_MS = 86_400_000
BTC = "BTC/USDT:USDT"
LAST_MS = 1_772_704_800_000  # last sample bar: 2026-03-05 10:00 UTC


def test_symbols_lists_each_stored_series(client, sample_db):
    body = client.get("/api/symbols").json()
    rows = {(r["exchange"], r["symbol"]): r for r in body["symbols"]}
    coins = ("BTC", "ETH", "SOL", "DOGE", "HYPE")
    assert set(rows) == {(e, f"{c}/USDT:USDT") for e in ("binance", "bybit", "okx") for c in coins}
    assert rows[("binance", BTC)] == {
        "exchange": "binance",
        "symbol": BTC,
        "first_ms": 1_764_892_800_000,
        "last_ms": LAST_MS,
        "rows": 2171,
        "timeframe": "1h",
    }


def test_map_equals_engine_liqmap_for_same_query(client, expected):
    r = client.get("/api/map", params={"symbol": "BTCUSDT", "exchange": "binance", "days": 30, "bins": 500})
    assert r.status_code == 200, r.text
    body = r.json()
    bars, res = expected(["binance"], LAST_MS - 30 * DAY_MS, LAST_MS, bins=500)
    lm = res.liqmap()
    assert body["symbol"] == BTC and body["exchanges"] == ["binance"] and body["model"] == "oi-delta"
    assert body["start_ms"] == LAST_MS - 30 * DAY_MS and body["end_ms"] == LAST_MS == body["as_of_ms"]
    assert body["bars"] == len(bars) == 721
    assert body["price"] == float(bars["close"].iloc[-1]) == lm.price
    assert body["price_bins"] == lm.price_bins.tolist() and len(body["price_bins"]) == 500
    assert body["long_usd"] == lm.long_usd.round(2).tolist() and body["short_usd"] == lm.short_usd.round(2).tolist()
    assert body["long_cumulative_usd"] == lm.long_cumulative_usd.round(2).tolist()
    assert body["short_cumulative_usd"] == lm.short_cumulative_usd.round(2).tolist()
    assert body["by_exchange"] == {}  # one exchange: the total is its layer
    assert body["total_long_usd"] == pytest.approx(lm.long_usd.sum(), rel=1e-12)
    assert body["total_short_usd"] == pytest.approx(lm.short_usd.sum(), rel=1e-12)
    # calibrated amounts: what would be force-liquidated (the prior's whole book on the OI proxy was billions)
    assert body["profile"] == "default" and 1e6 < body["total_long_usd"] < 1e9
    assert "not where price must go" in body["caveat"]
    report = build_map_report(lm, bars, profile=res.config.profile, warnings=res.warnings).to_dict()
    assert {k: body[k] for k in report} == report  # the map report, with the shared defaults


def test_map_two_exchanges_and_leverage_layers(client, expected):
    params = [("exchange", "binance"), ("exchange", "bybit"), ("days", 10), ("layers", "true")]
    body = client.get("/api/map", params=params).json()
    _, res = expected(["binance", "bybit"], LAST_MS - 10 * DAY_MS, LAST_MS)
    lm = res.liqmap()
    assert body["exchanges"] == ["binance", "bybit"] and body["bars"] == 2 * 241
    assert set(body["by_exchange"]) == {"binance", "bybit"}
    both = np.add(body["by_exchange"]["binance"]["long_usd"], body["by_exchange"]["bybit"]["long_usd"])
    np.testing.assert_allclose(both, body["long_usd"], rtol=0, atol=0.011)
    assert body["leverages"] == list(load_profile().config().leverages)
    assert body["long_by_leverage"] == lm.long_by_leverage.round(2).tolist()
    np.testing.assert_allclose(np.sum(body["short_by_leverage"], axis=0), body["short_usd"], rtol=0, atol=0.04)


def test_map_at_earlier_time(client, expected):
    at = LAST_MS - 5 * DAY_MS
    body = client.get("/api/map", params={"days": 20, "at_ms": at + 1_000}).json()
    _, res = expected(["binance"], LAST_MS - 20 * DAY_MS, LAST_MS)
    assert body["as_of_ms"] == at
    assert body["long_usd"] == res.liqmap(at).long_usd.round(2).tolist()


def test_heatmap_thins_snapshots_and_keeps_close(client, expected):
    body = client.get("/api/heatmap", params={"days": 20, "bins": 100, "snapshots": 50}).json()
    assert len(body["times_ms"]) == 50 and len(body["price_bins"]) == 100
    assert np.shape(body["long_usd"]) == (50, 100) == np.shape(body["short_usd"])
    bars, res = expected(["binance"], LAST_MS - 20 * DAY_MS, LAST_MS, bins=100)
    closes = bars.set_index("timestamp")["close"]
    assert body["close"] == closes.loc[body["times_ms"]].tolist()
    assert body["times_ms"][0] == body["start_ms"] and body["times_ms"][-1] == LAST_MS
    i = int(np.searchsorted(res.heatmap.times_ms, body["times_ms"][7]))
    assert body["short_usd"][7] == res.heatmap.short_usd[i].round(2).tolist()


def test_heatmap_window_pct_keeps_the_bins_around_the_close_range(client, expected):
    params = {"days": 20, "bins": 400, "snapshots": 50}
    full = client.get("/api/heatmap", params=params).json()
    body = client.get("/api/heatmap", params={**params, "window_pct": 5}).json()
    _, res = expected(["binance"], LAST_MS - 20 * DAY_MS, LAST_MS, bins=400)
    lo, hi = res.heatmap.close.min() * 0.95, res.heatmap.close.max() * 1.05  # every snapshot's close, not only the 50
    inside = [i for i, p in enumerate(full["price_bins"]) if lo <= p <= hi]
    assert 2 <= len(inside) < 400 and body["price_bins"] == [full["price_bins"][i] for i in inside]
    assert body["long_usd"] == [[row[i] for i in inside] for row in full["long_usd"]]
    assert body["short_usd"] == [[row[i] for i in inside] for row in full["short_usd"]]
    assert {k: body[k] for k in ("times_ms", "close", "candles", "bin_usd")} == {
        k: full[k] for k in ("times_ms", "close", "candles", "bin_usd")
    }
    assert client.get("/api/heatmap", params={**params, "window_pct": 0}).status_code == 422


def test_heatmap_candles_cover_each_kept_column_venues_averaged(client, sample_db):
    params = [("exchange", "binance"), ("exchange", "okx"), ("days", 10), ("bins", 100), ("snapshots", 40)]
    body = client.get("/api/heatmap", params=params).json()
    with Store(sample_db, read_only=True) as store:
        bars = store.query_bars(["binance", "okx"], BTC, LAST_MS - 10 * DAY_MS, LAST_MS)
    mean = bars.groupby("timestamp")[["open", "high", "low", "close"]].mean()  # the two venues averaged per bar
    times = body["times_ms"]
    assert len(times) == 40 and set(body["candles"]) == {"open", "high", "low", "close"}
    for t, start in enumerate(times):  # column t: bars opening in [times[t], times[t + 1]), the last one from times[-1]
        end = times[t + 1] if t + 1 < len(times) else LAST_MS + 1
        col = mean[(mean.index >= start) & (mean.index < end)]
        assert len(col) >= 1
        want = [col["open"].iloc[0], col["high"].max(), col["low"].min(), col["close"].iloc[-1]]
        got = [body["candles"][k][t] for k in ("open", "high", "low", "close")]
        assert got == pytest.approx(want, rel=1e-12), t
    assert body["candles"]["close"][-1] == pytest.approx(body["close"][-1], rel=1e-12)  # the last bar's close


def test_inputs_say_which_are_real_proxy_or_missing_on_the_sample(client, sample_db):
    body = client.get("/api/map", params={"days": 90}).json()
    inputs = {i["input"]: i for i in body["inputs"]}
    assert list(inputs) == ["open_interest", "funding", "taker_volume", "mark_price", "liquidations", "tiers"]
    with Store(sample_db, read_only=True) as store:
        bars = store.query_bars("binance", BTC, LAST_MS - 90 * DAY_MS, LAST_MS)
    # counted from the bars: OI is null before Hyperliquid's first reading and through its 19-hour gap
    oi = inputs["open_interest"]
    assert oi["bars_with"] == int(bars["open_interest"].notna().sum()) < body["bars"] == len(bars)
    # known only from provenance: the sample loader recorded the OI as a proxy
    assert oi["state"] == "proxy" and oi["detail"].startswith("binance proxy: Hyperliquid's hourly OI path scaled")
    assert inputs["funding"] == {
        "input": "funding",
        "state": "real",
        "bars_with": body["bars"],
        "stored": None,
        "detail": "the venues' own rates; the engine does not read funding",
    }
    taker = inputs["taker_volume"]
    assert taker["state"] == "missing" and taker["bars_with"] == 0 and "close location" in taker["detail"]
    mark = inputs["mark_price"]  # the sample has none: liquidations trigger on the last price
    assert mark["state"] == "missing" and mark["bars_with"] == 0 and "last price" in mark["detail"]
    assert inputs["liquidations"]["state"] == "missing" and inputs["liquidations"]["stored"] == 0  # OKX's only
    assert (
        inputs["tiers"]["state"] == "real" and inputs["tiers"]["detail"] == "binance: bundled table, valid from 2026-09"
    )


def test_inputs_count_stored_liquidations_and_name_lent_tiers(client, sample_db):
    params = [
        ("symbol", "ETHUSDT"),
        ("exchange", "binance"),
        ("exchange", "okx"),
        ("days", 2),
        ("tiers_from", "binance"),
    ]
    body = client.get("/api/heatmap", params=[*params, ("bins", 100), ("snapshots", 10)]).json()
    inputs = {i["input"]: i for i in body["inputs"]}
    with Store(sample_db, read_only=True) as store:
        liqs = store.query_liquidations(["binance", "okx"], "ETH/USDT:USDT", LAST_MS - 2 * DAY_MS, LAST_MS)
    assert inputs["liquidations"]["state"] == "real" and inputs["liquidations"]["stored"] == len(liqs) > 0
    assert inputs["liquidations"]["detail"] == f"{len(liqs):,} realized liquidations stored in the window"
    assert inputs["tiers"]["state"] == "proxy"  # OKX bundles no ETH table: Binance's is lent
    assert inputs["tiers"]["detail"].startswith("binance: bundled table, valid from 2026-09; okx: lent by binance")
    assert inputs["open_interest"]["detail"].startswith("binance, okx proxy: ")


def test_inputs_without_recorded_provenance_are_the_venues_own(app_factory, tmp_path):
    from liqmap.data.sample import sample_bars

    db = tmp_path / "own.duckdb"
    with Store(db) as store:  # the same bars, imported without the sample loader's record
        store.upsert("bars", sample_bars().query("exchange == 'binance' and symbol == @BTC"))
        assert store.provenance(["binance"], BTC).empty
    client, _ = app_factory(db)
    inputs = {i["input"]: i for i in client.get("/api/map", params={"days": 10}).json()["inputs"]}
    assert inputs["open_interest"]["state"] == "real" and inputs["open_interest"]["detail"] == "the venues' own series"


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"bins": 5000}, 422, "less than or equal to 4000"),
        ({"bins": 3}, 422, "greater than or equal to 10"),
        ({"days": 400}, 422, "less than or equal to 366"),
        ({"days": 0}, 422, "greater than 0"),
        ({"exchange": "ftx"}, 422, "'binance', 'bybit'"),
        ({"model": "magic"}, 422, "'oi-delta', 'volume' or 'uniform'"),
        ({"symbol": "../etc/passwd"}, 422, "String should match pattern"),
        ({"symbol": "XRPUSDT"}, 404, "no bars stored for XRP/USDT:USDT on binance"),
        ({"exchange": "hyperliquid"}, 404, "no bars stored for BTC/USDT:USDT on hyperliquid"),
        ({"start_ms": 2, "end_ms": 1}, 422, "start_ms (2) must be before end_ms (1)"),
        ({"start_ms": 0}, 422, "exceeds the 366-day cap"),
        ({"end_ms": 1_000}, 404, "no bars for binance BTC/USDT:USDT"),
        ({"bin_usd": 0.5}, 422, "(cap 4000); use bin_usd ≥"),
        ({"at_ms": 5}, 422, "no snapshot at or before 5"),
        ({"days": "nan"}, 422, "days: Input should be a finite number"),
        ({"bin_usd": "inf"}, 422, "bin_usd: Input should be a finite number"),
        ({"exchange": [f"x{i}" for i in range(1000)]}, 422, "or 'sim' (1000 errors in all)"),
    ],
)
def test_bad_parameters_get_4xx_with_clear_message(client, params, status, message):
    r = client.get("/api/map", params=params)
    assert r.status_code == status, r.text
    assert message in r.text


def test_heatmap_cell_cap_rejects_before_computing(app_factory, sample_db):
    client, counted = app_factory(sample_db)
    r = client.get("/api/heatmap", params={"bins": 4000, "snapshots": 1000})
    assert r.status_code == 422 and "exceeds 1,000,000 cells" in r.json()["detail"]
    assert counted.runs == []


def test_results_cached_per_query_and_last_bar(app_factory, writable_db):
    client, counted = app_factory(writable_db)
    params = {"days": 5, "bins": 200}
    first = client.get("/api/map", params=params).json()
    assert client.get("/api/map", params=params).json() == first
    client.get("/api/levels", params=params)  # same engine run, another view of it
    assert counted.runs == [("oi-delta", 121)]
    client.get("/api/map", params={**params, "model": "volume"})
    assert counted.runs == [("oi-delta", 121), ("volume", 121)]
    assert len(client.app.state.liqmap.response_cache) == 3


def test_fast_path_serves_repeats_until_a_new_bar(app_factory, writable_db, add_bar):
    client, counted = app_factory(writable_db)
    state = client.app.state.liqmap
    state.watcher.interval_s = 60.0  # no re-probe during the repeats
    url = "/api/map?days=5&bins=200"
    first = client.get(url)
    for _ in range(5):
        again = client.get(url)
        assert again.content == first.content and again.headers["content-type"] == "application/json"
    assert state.raw_cache.hits == 5 and state.response_cache.hits == 0 and len(counted.runs) == 1
    add_bar(writable_db)
    state.watcher.interval_s = 0.0  # the next request re-probes and sees the new bar
    newer = client.get(url).json()
    assert newer["last_bar_ms"] == first.json()["last_bar_ms"] + 3_600_000 and len(counted.runs) == 2


def test_new_bar_changes_the_cache_key(app_factory, writable_db, add_bar):
    client, counted = app_factory(writable_db)
    params = {"days": 5, "bins": 200}
    first = client.get("/api/map", params=params).json()
    new_ms = add_bar(writable_db, close=99_999.0)
    time.sleep(0.06)  # > the test app's poll_interval_s
    second = client.get("/api/map", params=params).json()
    assert new_ms == first["as_of_ms"] + 3_600_000 == second["as_of_ms"] == second["last_bar_ms"]
    assert second["price"] == 99_999.0 and second["start_ms"] == first["start_ms"] + 3_600_000
    assert [m for m, _ in counted.runs] == ["oi-delta", "oi-delta"]


def test_levels_equal_analytics_report(client, expected):
    body = client.get("/api/levels", params={"days": 30, "top": 2, "window_pct": 8}).json()
    bars, res = expected(["binance"], LAST_MS - 30 * DAY_MS, LAST_MS)
    settings = ReportSettings(window_pct=8, top=2)
    report = build_map_report(res.liqmap(), bars, settings, profile=res.config.profile, warnings=res.warnings)
    report = report.to_dict()
    for key in ("clusters", "imbalance", "asymmetry", "by_move", "cascades", "settings", "profile", "warnings"):
        assert body[key] == report[key], key
    assert len(body["clusters"]) == 2 and body["imbalance"]["window_pct"] == 8 and len(body["asymmetry"]) == 3
    assert [m["move_pct"] for m in body["by_move"]] == [1, 2, 3, 5, 10]
    default = client.get("/api/levels", params={"days": 30}).json()  # the shared defaults: ±5 %, top 10
    assert default["imbalance"]["window_pct"] == 5.0 and default["settings"] == ReportSettings().to_dict()
    assert default["clusters"][:2] == body["clusters"]


def test_cascade_equals_simulation(client, expected):
    body = client.get("/api/cascade", params={"days": 30, "shock_pct": -3, "resilience": 0.2}).json()
    bars, res = expected(["binance"], LAST_MS - 30 * DAY_MS, LAST_MS)
    lm, impact = res.liqmap(), SqrtImpact.from_bars(bars)
    down, sim = body["cascades"]["down"], simulate_cascade(lm, -3, impact, resilience=0.2)
    assert body["settings"]["shock_pct"] == 3 and body["settings"]["resilience"] == 0.2
    assert down["shock_price"] == pytest.approx(lm.price * 0.97) and down["final_price"] == sim.final_price
    assert [r["liquidated_usd"] for r in down["rounds"]] == [r.liquidated_usd for r in sim.rounds]
    assert down["total_liquidated_usd"] == pytest.approx(sum(r["liquidated_usd"] for r in down["rounds"]))
    assert body["cascades"]["up"]["final_price"] == simulate_cascade(lm, 3, impact, resilience=0.2).final_price
    crit = critical_shock_pct(lm, impact, Direction.DOWN, resilience=0.2)
    assert body["cascades"]["critical_shock_down_pct"] == crit
    assert body["cascades"]["impact"]["sigma_daily"] == impact.sigma_daily
    for tiny in (0, 1e-254):
        r = client.get("/api/cascade", params={"shock_pct": tiny})
        assert r.status_code == 422 and "at least 0.01 % in size" in r.json()["detail"]
    assert client.get("/api/cascade", params={"shock_pct": 80}).status_code == 422
    assert client.get("/api/cascade").status_code == 422  # shock_pct is required


def test_validate_equals_analytics_on_stored_okx_liquidations(client, expected, sample_db):
    body = client.get("/api/validate", params={"exchange": "okx", "days": 3}).json()
    start = LAST_MS - 3 * DAY_MS
    outputs = {m: expected(["okx"], start, LAST_MS, model=m)[1] for m in ("oi-delta", "volume", "uniform")}
    bars = expected(["okx"], start, LAST_MS)[0]
    with Store(sample_db, read_only=True) as store:
        liqs = store.query_liquidations("okx", BTC, start, LAST_MS)
    report = validation_report(outputs, "oi-delta", bars, liqs)
    assert body["events"] == report["events"] > 500 and body["bars"] == len(bars) == 73
    for key in ("top_decile_capture", "lift_vs_volume", "lift_vs_uniform", "lift_vs_proximity", "liq_volume_corr"):
        assert body[key] == report[key], key
    assert set(body["scores"]) == {"oi-delta", "volume", "uniform", "proximity"}
    assert 0 <= body["top_decile_capture"] <= 1
    # how much, too: the API's amounts are the library's, per hour of OKX's 12.5 h of orders, profile named
    assert body["amounts"] == report["amounts"] and body["amounts"]["profile"] == "default"
    assert body["amounts"]["period_ms"] == 3_600_000 and body["amounts"]["model"]["long"]["realized_usd"] > 1e6
    r = client.get("/api/validate", params={"days": 2})
    assert r.status_code == 404 and "no liquidations for binance" in r.json()["detail"]


def test_store_locked_by_writer_gives_503(client, app_factory, writable_db):
    client, _ = app_factory(writable_db)
    with duckdb.connect(str(writable_db)):  # a writer in this process holds the file
        r = client.get("/api/symbols")
    assert r.status_code == 503 and "the store is busy" in r.json()["detail"]
    assert r.headers["retry-after"] == "1"
    assert client.get("/api/symbols").status_code == 200


def test_missing_store_is_404_and_never_created(app_factory, tmp_path):
    client, _ = app_factory(tmp_path / "none.duckdb")
    r = client.get("/api/map")
    assert r.status_code == 404 and "no liqmap store at" in r.json()["detail"]
    assert not (tmp_path / "none.duckdb").exists()


def test_openapi_documents_every_route(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/symbols", "/api/heatmap", "/api/map", "/api/levels", "/api/cascade", "/api/validate"):
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["$ref"].startswith("#/components/schemas/")
    bins = next(p for p in spec["paths"]["/api/map"]["get"]["parameters"] if p["name"] == "bins")
    assert bins["schema"]["maximum"] == 4000


def test_static_files_and_plotly_from_installed_package(client):
    import plotly

    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.content == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert client.get("/static/..%2Fdeps.py").status_code == 404
    assert client.get("/static/app.js").status_code == 200
    assert "<title>liqmap" in client.get("/").text


def test_bin_usd_sets_the_grid_width(client, sample_db):
    body = client.get("/api/map", params={"days": 30, "bin_usd": 100}).json()
    assert body["bin_usd"] == pytest.approx(100.0)
    assert np.allclose(np.diff(body["price_bins"]), 100.0)
    with Store(sample_db, read_only=True) as store:
        bars = store.query_bars("binance", BTC, LAST_MS - 30 * DAY_MS, LAST_MS)
    padded = bars["high"].max() * 1.3 - bars["low"].min() * 0.7  # the engine's default 30 % padding
    assert abs(len(body["price_bins"]) - padded / 100) <= 2


def test_tiers_from_lends_a_table_to_a_venue_without_one(client, sample_db):
    params = {"symbol": "ETHUSDT", "exchange": "bybit", "days": 10, "bins": 200}
    refused = client.get("/api/map", params=params)
    assert refused.status_code == 422 and "API: tiers_from=binance" in refused.json()["detail"]
    body = client.get("/api/map", params={**params, "tiers_from": "binance"}).json()
    from liqmap.engine import run
    from liqmap.engine.options import engine_config

    with Store(sample_db, read_only=True) as store:
        bars = store.query_bars(["bybit"], "ETH/USDT:USDT", body["start_ms"], body["end_ms"])
    res = run(bars, "oi-delta", engine_config(bars, n_bins=200, max_snapshots=1000, tiers_from="binance"))
    lm = res.liqmap()
    assert body["long_usd"] == lm.long_usd.round(2).tolist() and body["short_usd"] == lm.short_usd.round(2).tolist()
    assert body["total_long_usd"] > 1e5 and body["total_short_usd"] > 1e5  # Binance's table applied
