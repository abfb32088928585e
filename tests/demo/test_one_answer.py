"""One analysis, many renderers: on the same data and instant, ``liqmap map --json``, ``GET /api/map`` and
the demo's ``report.json`` give exactly the same map report (levels, imbalance, asymmetry, moves,
cascades, calibration profile), and ``map --json`` prints exactly ``GET /api/map``'s JSON but for the
fields describing the query's window and the origin of its inputs."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liqmap.analytics import ReportSettings
from liqmap.cli import app
from liqmap.cli.demo import BIN_USD, VENUES
from liqmap.data.store import Store
from liqmap.engine.options import engine_config
from liqmap.server import create_app
from liqmap.server.api.models import MapReportModel

SYMBOL = "BTC/USDT:USDT"
SHARED = ("symbol", "as_of_ms", "price", "model", "profile", "settings", "clusters", "imbalance", "asymmetry")
SHARED += ("by_move", "cascades", "warnings", "caveat")
ROUTES = (("/api/map", []), ("/api/levels", []), ("/api/cascade", [("shock_pct", 1.0)]))
# API-only fields: the query's window, its inputs' origins (read from the store: recorded provenance, stored
# liquidations — `map --json` reports neither) and whether a live engine pushed it (with its last bar's candle)
QUERY_ONLY = {"exchanges", "start_ms", "end_ms", "last_bar_ms", "bars", "leverage_filter", "inputs", "live", "candle"}


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory):
    """The aggregated map's report from the demo (quick slice), and from the CLI and the API over the
    demo's store for the same slice and bin width."""
    root = tmp_path_factory.mktemp("one-answer")
    out, db = root / "out", root / "store.duckdb"
    res = CliRunner().invoke(app, ["demo", "--quick", "--out", str(out), "--db", str(db)])
    assert res.exit_code == 0, res.output
    demo = json.loads((out / "report.json").read_text())["maps"]["all"]
    with Store(db, read_only=True) as store:
        stamps = store.query_bars(list(VENUES), SYMBOL)["timestamp"]
    start, end = int(stamps.max()) - 7 * 86_400_000, int(stamps.max())  # the demo's quick slice
    venues = [a for v in VENUES for a in ("--exchange", v)]
    cli = CliRunner().invoke(
        app, ["map", "--db", str(db), *venues, "--symbol", SYMBOL, "--start", str(start), "--bin-usd", "50", "--json"]
    )
    assert cli.exit_code == 0, cli.output
    cascade = CliRunner().invoke(
        app, ["cascade", "--db", str(db), *venues, "--start", str(start), "--bin-usd", "50", "--shock", "+1%", "--json"]
    )
    assert cascade.exit_code == 0, cascade.output
    params = [("exchange", v) for v in VENUES] + [("start_ms", start), ("end_ms", end), ("bin_usd", BIN_USD)]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:  # a Host the app answers to
        api = [client.get(path, params=params + extra) for path, extra in ROUTES]
    assert all(r.status_code == 200 for r in api), [r.text for r in api]
    return demo, [json.loads(cli.stdout), json.loads(cascade.stdout), *(r.json() for r in api)], db


def test_cli_api_and_demo_give_one_answer(surfaces):
    demo, others, db = surfaces  # map --json, cascade --shock +1% --json, /api/map, /api/levels, /api/cascade
    for key in SHARED:
        for other in others:
            assert other[key] == demo[key], key
    with Store(db, read_only=True) as store:  # the profile every surface's engine_config picks by default
        profile = engine_config(store.query_bars(list(VENUES), SYMBOL)).profile
    assert demo["profile"] == profile and demo["settings"] == ReportSettings().to_dict()
    assert demo["settings"]["window_pct"] == 5.0 and demo["imbalance"]["window_pct"] == 5.0
    assert 0 < len(demo["clusters"]) <= 10 and {c["side"] for c in demo["clusters"]} == {"long", "short"}
    cas = demo["cascades"]
    assert cas["up"]["shock_pct"] == 1.0 and cas["down"]["shock_pct"] == -1.0
    assert cas["impact"]["model"] == "sqrt" and cas["impact"]["volume_daily_usd"] > 0


def test_map_json_is_the_api_json(surfaces):
    _, (cli, _, api, _, _), _ = surfaces
    assert set(api) - set(cli) == QUERY_ONLY and set(cli) <= set(api)
    assert cli == {k: api[k] for k in cli}  # the map's arrays and totals too: one serializer, LiqMap.to_dict
    assert len(cli["price_bins"]) == len(cli["long_usd"]) == len(cli["short_cumulative_usd"]) > 100


def test_the_api_model_is_the_report_shape(surfaces):
    demo, _, _ = surfaces
    report = {k: demo[k] for k in SHARED}
    assert MapReportModel.model_validate(report).model_dump(mode="json") == report
