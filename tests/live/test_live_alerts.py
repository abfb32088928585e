"""Alert rules: hand-computed values, once per crossing with hysteresis, TOML/flags, the three sinks."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace as Ns

import pytest

from liqmap.errors import LiqmapError
from liqmap.live.alerts import (
    Alerts,
    Crossing,
    Rule,
    jsonl_sink,
    load_rules,
    parse_flag,
    realized_value,
    webhook_sink,
)
from liqmap.live.parsers import Liquidation

BTC = "BTC/USDT:USDT"


def report(ratio=2.5, clusters=(), up=1.2, down=1.1, price=60_000.0, at=0):
    imb = Ns(ratio=ratio, short_above_usd=5e6, long_below_usd=5e6 / ratio if ratio else 0.0, window_pct=5.0)
    return Ns(
        clusters=clusters, imbalance=imb, price=price, as_of_ms=at, settings=Ns(shock_pct=1.0),
        cascades=Ns(up=Ns(amplification=up), down=Ns(amplification=down)),
    )  # fmt: skip


def cluster(distance_pct, usd):
    return Ns(distance_pct=distance_pct, notional_usd=usd, to_dict=lambda: {"distance_pct": distance_pct, "usd": usd})


def test_crossing_fires_once_and_rearms_past_the_hysteresis_band():
    c = Crossing(2.0, "above", 0.2)  # re-arms below 1.6
    assert [c.update(v) for v in (1.0, 2.0, 2.5, 1.9, 1.7, 2.1, 1.59, 2.0)] == [
        False, True, False, False, False, False, False, True,
    ]  # fmt: skip
    b = Crossing(1.0, "below", 0.25)  # cluster distance: fires at ≤ 1 %, re-arms beyond 1.25 %
    assert [b.update(v) for v in (3.0, 0.9, 0.5, 1.2, 1.3, 0.99, None, 0.8)] == [
        False, True, False, False, False, True, False, True,
    ]  # fmt: skip


def test_cluster_rule_picks_the_nearest_large_cluster():
    a = Alerts([Rule("cluster", 1.0, "below", min_usd=5e6)])
    small_near, big_far, big_near = cluster(-0.3, 1e6), cluster(2.0, 9e6), cluster(-0.8, 6e6)
    assert a.evaluate_report("binance", BTC, report(clusters=(small_near, big_far))) == []
    (alert,) = a.evaluate_report("binance", BTC, report(clusters=(small_near, big_far, big_near)))
    assert alert.value == 0.8 and alert.level == 1.0 and alert.numbers["cluster"]["usd"] == 6e6
    assert a.evaluate_report("binance", BTC, report(clusters=(big_near,))) == []  # still inside: once


def test_imbalance_and_cascade_rules_carry_their_numbers():
    a = Alerts([Rule("imbalance", 2.0), Rule("cascade", 1.5)])
    (imb,) = a.evaluate_report("okx", BTC, report(ratio=2.5))
    assert imb.kind == "imbalance" and imb.value == 2.5
    assert imb.numbers == {"short_above_usd": 5e6, "long_below_usd": 2e6, "window_pct": 5.0}
    (casc,) = a.evaluate_report("okx", BTC, report(ratio=2.6, down=1.7))
    assert casc.value == 1.7 and casc.numbers["down_amplification"] == 1.7
    assert a.evaluate_report("bybit", BTC, report(ratio=1.0)) == []  # per venue: bybit's own state


def test_realized_window_sum_hand_computed():
    liqs = [Liquidation("binance", BTC, t, s, p, q) for t, s, p, q in [
        (0, "long", 60_000.0, 10.0),            # $600,000, drops out of a 5-min window at 300,000 ms
        (120_000, "short", 61_000.0, 5.0),      # $305,000
        (299_999, "long", 59_000.0, 2.0),       # $118,000
    ]]  # fmt: skip
    rule = Rule("realized", 1e6, minutes=5)
    assert realized_value(rule, liqs, 299_999)[0] == pytest.approx(1_023_000)
    value, numbers = realized_value(rule, liqs, 300_000)
    assert value == pytest.approx(423_000) and numbers == {"long_usd": 118_000, "short_usd": 305_000, "orders": 2}
    a = Alerts([Rule("realized", 1e6, min_usd=1e6, minutes=5)])
    fired = [a.on_liquidation(x) for x in liqs]
    assert [len(f) for f in fired] == [0, 0, 1] and fired[2][0].value == pytest.approx(1_023_000)


def test_toml_rules_and_flags(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        'hysteresis_pct = 10\n[[rule]]\nkind = "cluster"\nwithin_pct = 1.5\nmin_usd = 5e6\n'
        '[[rule]]\nkind = "imbalance"\nbelow = 0.5\n[[rule]]\nkind = "realized"\nmin_usd = 1e6\nminutes = 5\n'
        '[[rule]]\nkind = "cascade"\nabove = 1.5\n[sinks]\njsonl = "a.jsonl"\n'
    )
    rules, h, sinks = load_rules(path)
    assert h == 0.1 and sinks == {"jsonl": "a.jsonl"}
    assert rules == [
        Rule("cluster", 1.5, "below", min_usd=5e6), Rule("imbalance", 0.5, "below"),
        Rule("realized", 1e6, "above", min_usd=1e6, minutes=5), Rule("cascade", 1.5, "above"),
    ]  # fmt: skip
    assert parse_flag("cluster", "1%:5e6") == rules[0].__class__("cluster", 1.0, "below", min_usd=5e6)
    assert parse_flag("imbalance", "<0.5") == rules[1] and parse_flag("realized", "1e6:5") == rules[2]
    for kind, bad in [("cluster", "1"), ("imbalance", "x"), ("cascade", "-2")]:
        with pytest.raises(LiqmapError):
            parse_flag(kind, bad)
    path.write_text('[[rule]]\nkind = "imbalance"\n')
    with pytest.raises(LiqmapError, match="exactly one of above"):
        load_rules(path)


def test_jsonl_and_webhook_sinks(tmp_path):
    got: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        out = tmp_path / "alerts.jsonl"
        a = Alerts([Rule("imbalance", 2.0)], sinks=[jsonl_sink(out), webhook_sink(url, background=False)])
        a.evaluate_report("binance", BTC, report(ratio=3.0, at=123))
        dead = Alerts([Rule("imbalance", 2.0)], sinks=[webhook_sink("http://127.0.0.1:1/x", 0.5, background=False)])
        dead.evaluate_report("binance", BTC, report(ratio=3.0))  # logged, not raised
    finally:
        server.shutdown()
    (line,) = out.read_text().splitlines()
    assert json.loads(line) == got[0]
    assert got[0]["value"] == 3.0 and got[0]["at_ms"] == 123 and got[0]["numbers"]["long_below_usd"] == 5e6 / 3
