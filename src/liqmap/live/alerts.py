"""Alert rules over the live maps, fired once per crossing with hysteresis, and their sinks.

Rules (a TOML file read with ``tomllib``, or ``liqmap live`` flags)::

    hysteresis_pct = 20            # re-arm only after the value moved back this far past the level (% of it)

    [[rule]]
    kind = "cluster"               # price within within_pct % of a cluster of at least min_usd
    within_pct = 1.0
    min_usd = 5e6

    [[rule]]
    kind = "imbalance"             # short:long ratio within ±window (the map report's) above / below a level
    above = 2.0                    # or: below = 0.5

    [[rule]]
    kind = "realized"              # realized liquidations of at least min_usd within minutes
    min_usd = 1e6
    minutes = 5

    [[rule]]
    kind = "cascade"               # the ±shock cascade's amplification (either way) above a level
    above = 1.5

    [sinks]
    jsonl = "alerts.jsonl"
    webhook = "http://127.0.0.1:9000/hook"

Evaluation is pure (:class:`Rule.value` reads numbers off a :class:`~liqmap.analytics.MapReport` or a window
of liquidations; :class:`Crossing` holds the armed/fired state); the sinks are thin. Each alert carries the
value, the level and the numbers behind it (the cluster, the two sides, the cascade run, the orders summed).
"""

from __future__ import annotations

import json
import logging
import threading
import tomllib
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liqmap.errors import LiqmapError
from liqmap.timeframes import MS_PER_MINUTE

log = logging.getLogger("liqmap.live")
KINDS = ("cluster", "imbalance", "realized", "cascade")


@dataclass(frozen=True)
class Rule:
    """One rule: ``kind``, its ``level`` and ``direction`` (``above``: fires when value ≥ level; ``below``:
    value ≤ level), and the kind's parameters (``min_usd``, ``minutes``)."""

    kind: str
    level: float
    direction: str = "above"
    min_usd: float = 0.0
    minutes: float = 0.0
    name: str = ""

    @property
    def label(self) -> str:
        return (
            self.name
            or {
                "cluster": f"price within {self.level:g}% of a cluster ≥ ${self.min_usd:,.0f}",
                "imbalance": f"short:long ratio {self.direction} {self.level:g}",
                "realized": f"realized liquidations ≥ ${self.level:,.0f} in {self.minutes:g} min",
                "cascade": f"cascade amplification ≥ {self.level:g}",
            }[self.kind]
        )


def _cluster_value(rule: Rule, report: Any) -> tuple[float | None, dict[str, Any]]:
    """Smallest |distance %| to a cluster of at least ``min_usd``."""
    best = None
    for c in report.clusters:
        if c.notional_usd >= rule.min_usd and (best is None or abs(c.distance_pct) < abs(best.distance_pct)):
            best = c
    if best is None:
        return None, {}
    return abs(best.distance_pct), {"cluster": best.to_dict()}


def _imbalance_value(rule: Rule, report: Any) -> tuple[float | None, dict[str, Any]]:
    imb = report.imbalance
    return imb.ratio, {
        "short_above_usd": imb.short_above_usd,
        "long_below_usd": imb.long_below_usd,
        "window_pct": imb.window_pct,
    }


def _cascade_value(rule: Rule, report: Any) -> tuple[float | None, dict[str, Any]]:
    up, down = report.cascades.up, report.cascades.down
    return max(up.amplification, down.amplification), {
        "up_amplification": up.amplification,
        "down_amplification": down.amplification,
        "shock_pct": report.settings.shock_pct,
    }


def realized_value(rule: Rule, window: Iterable[Any], now_ms: int) -> tuple[float, dict[str, Any]]:
    """Σ notional of the liquidations with ``now − minutes < timestamp ≤ now`` (any objects with
    ``timestamp``, ``side``, ``notional_usd``)."""
    lo = now_ms - rule.minutes * MS_PER_MINUTE
    inside = [x for x in window if lo < x.timestamp <= now_ms]
    long_usd = sum(x.notional_usd for x in inside if x.side == "long")
    short_usd = sum(x.notional_usd for x in inside if x.side == "short")
    return long_usd + short_usd, {"long_usd": long_usd, "short_usd": short_usd, "orders": len(inside)}


MAP_VALUES: dict[str, Callable[[Rule, Any], tuple[float | None, dict[str, Any]]]] = {
    "cluster": _cluster_value,
    "imbalance": _imbalance_value,
    "cascade": _cascade_value,
}


@dataclass
class Crossing:
    """Fire once when the value crosses the level; re-arm after it moved back past the hysteresis band:
    ``above`` re-arms below ``level × (1 − h)``, ``below`` above ``level × (1 + h)``. The cluster rule is a
    ``below`` rule on the distance."""

    level: float
    direction: str
    hysteresis: float
    armed: bool = True

    def update(self, value: float | None) -> bool:
        """Feed one value; True when this value fires."""
        if value is None:
            self.armed = True  # nothing to measure (no cluster, no longs): the condition has ended
            return False
        if self.direction == "above":
            hit, rearm = value >= self.level, value < self.level * (1 - self.hysteresis)
        else:
            hit, rearm = value <= self.level, value > self.level * (1 + self.hysteresis)
        if self.armed and hit:
            self.armed = False
            return True
        if not self.armed and rearm:
            self.armed = True
        return False


@dataclass(frozen=True)
class Alert:
    """One fired alert with the numbers behind it."""

    rule: str
    kind: str
    exchange: str
    symbol: str
    at_ms: int
    price: float | None
    value: float
    level: float
    numbers: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "exchange": self.exchange,
            "symbol": self.symbol,
            "at_ms": self.at_ms,
            "price": self.price,
            "value": self.value,
            "level": self.level,
            "numbers": dict(self.numbers),
        }

    def text(self) -> str:
        return f"ALERT {self.exchange} {self.symbol}: {self.rule} (value {self.value:,.4g}, level {self.level:,.4g})"


@dataclass
class Alerts:
    """Evaluate ``rules`` per (exchange, symbol) and hand fired alerts to ``sinks``."""

    rules: Sequence[Rule]
    sinks: Sequence[Callable[[Alert], None]] = ()
    hysteresis: float = 0.2
    fired: list[Alert] = field(default_factory=list)
    _state: dict[tuple[int, str, str], Crossing] = field(default_factory=dict)
    _liqs: dict[tuple[str, str], deque[Any]] = field(default_factory=dict)

    def _crossing(self, i: int, rule: Rule, exchange: str, symbol: str) -> Crossing:
        key = (i, exchange, symbol)
        if key not in self._state:
            self._state[key] = Crossing(rule.level, rule.direction, self.hysteresis)
        return self._state[key]

    def _emit(self, alert: Alert) -> None:
        self.fired.append(alert)
        for sink in self.sinks:
            try:
                sink(alert)
            except Exception as exc:  # a sink failing never stops the stream
                log.warning("alert sink %s failed: %s", getattr(sink, "__name__", sink), exc)

    def needs_report(self) -> bool:
        return any(r.kind in MAP_VALUES for r in self.rules)

    def evaluate_report(self, exchange: str, symbol: str, report: Any) -> list[Alert]:
        """The map rules on one map report."""
        out = []
        for i, rule in enumerate(self.rules):
            if rule.kind not in MAP_VALUES:
                continue
            value, numbers = MAP_VALUES[rule.kind](rule, report)
            if self._crossing(i, rule, exchange, symbol).update(value):
                assert value is not None
                alert = Alert(rule.label, rule.kind, exchange, symbol, report.as_of_ms, report.price, value, rule.level,
                              numbers)  # fmt: skip
                out.append(alert)
                self._emit(alert)
        return out

    def on_liquidation(self, liq: Any) -> list[Alert]:
        """Add one realized liquidation (``exchange, symbol, timestamp, side, notional_usd``); evaluate the
        realized rules at its time."""
        window = self._liqs.setdefault((liq.exchange, liq.symbol), deque())
        window.append(liq)
        longest = max((r.minutes for r in self.rules if r.kind == "realized"), default=0.0)
        while window and window[0].timestamp <= liq.timestamp - longest * MS_PER_MINUTE:
            window.popleft()
        out = []
        for i, rule in enumerate(self.rules):
            if rule.kind != "realized":
                continue
            value, numbers = realized_value(rule, window, liq.timestamp)
            if self._crossing(i, rule, liq.exchange, liq.symbol).update(value):
                alert = Alert(rule.label, rule.kind, liq.exchange, liq.symbol, liq.timestamp, liq.price, value,
                              rule.level, numbers | {"minutes": rule.minutes})  # fmt: skip
                out.append(alert)
                self._emit(alert)
        return out

    def on_map(self, series: Any, lm: Any) -> list[Alert]:
        """The runner's hook after each closed bar: build the map report of ``lm`` and evaluate it."""
        if not self.needs_report() or len(series.history) < 3:  # the report's impact model needs 3 bars
            return []
        import pandas as pd

        from liqmap.analytics import build_map_report

        bars = pd.DataFrame(list(series.history))
        report = build_map_report(lm, bars, profile=series.config.profile)
        return self.evaluate_report(series.exchange, series.symbol, report)


# -- sinks -----------------------------------------------------------------------------------------------------
def console_sink(echo: Callable[[str], None] = print) -> Callable[[Alert], None]:
    def console(alert: Alert) -> None:
        echo(alert.text())

    return console


def jsonl_sink(path: Path) -> Callable[[Alert], None]:
    """Append one JSON object per alert (flushed at once)."""
    path = Path(path)

    def jsonl(alert: Alert) -> None:
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(alert.to_dict()) + "\n")

    return jsonl


def webhook_sink(url: str, timeout_s: float = 5.0, background: bool = True) -> Callable[[Alert], None]:
    """POST each alert as JSON to ``url`` (on a daemon thread unless ``background`` is False); failures are
    logged, never raised into the stream."""
    if not url.startswith(("http://", "https://")):
        raise LiqmapError(f"webhook URL must start with http:// or https://, got {url!r}")

    def post(alert: Alert) -> None:
        req = urllib.request.Request(
            url, data=json.dumps(alert.to_dict()).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                resp.read()
        except Exception as exc:
            log.warning("webhook %s failed: %s", url, exc)

    def webhook(alert: Alert) -> None:
        if background:
            threading.Thread(target=post, args=(alert,), daemon=True).start()
        else:
            post(alert)

    return webhook


# -- configuration -------------------------------------------------------------------------------------------
def rule_from_dict(d: Mapping[str, Any]) -> Rule:
    """A :class:`Rule` from one ``[[rule]]`` table; errors name the field."""
    kind = str(d.get("kind", ""))
    if kind not in KINDS:
        raise LiqmapError(f"alert rule kind must be one of {', '.join(KINDS)}, got {kind!r}")

    def num(key: str, default: float | None = None) -> float:
        v = d.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
            raise LiqmapError(f"alert rule {kind!r}: {key} must be a positive number, got {v!r}")
        return float(v)

    name = str(d.get("name", ""))
    if kind == "cluster":
        return Rule(kind, num("within_pct"), "below", min_usd=num("min_usd"), name=name)
    if kind == "realized":
        return Rule(kind, num("min_usd"), "above", min_usd=num("min_usd"), minutes=num("minutes"), name=name)
    if ("above" in d) == ("below" in d):
        raise LiqmapError(f"alert rule {kind!r} needs exactly one of above = X or below = X")
    direction = "above" if "above" in d else "below"
    if kind == "cascade" and direction == "below":
        raise LiqmapError("alert rule 'cascade' takes above = X (an amplification, ≥ 1)")
    return Rule(kind, num(direction), direction, name=name)


def load_rules(path: Path) -> tuple[list[Rule], float, dict[str, str]]:
    """``(rules, hysteresis fraction, sinks)`` from a TOML file (see the module docstring)."""
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LiqmapError(f"{path}: not valid TOML ({exc})") from None
    rules = [rule_from_dict(r) for r in doc.get("rule", [])]
    h = doc.get("hysteresis_pct", 20)
    if isinstance(h, bool) or not isinstance(h, int | float) or not 0 <= h < 100:
        raise LiqmapError(f"{path}: hysteresis_pct must be in [0, 100), got {h!r}")
    sinks = {k: str(v) for k, v in doc.get("sinks", {}).items() if k in ("jsonl", "webhook")}
    return rules, h / 100.0, sinks


def parse_flag(kind: str, text: str) -> Rule:
    """A rule from a command-line flag: ``cluster`` ``PCT:USD``, ``imbalance`` ``RATIO`` (above) or
    ``<RATIO`` (below), ``realized`` ``USD:MINUTES``, ``cascade`` ``AMPLIFICATION``."""
    try:
        if kind == "cluster":
            pct, usd = text.split(":")
            return rule_from_dict({"kind": kind, "within_pct": float(pct.rstrip("%")), "min_usd": float(usd)})
        if kind == "realized":
            usd, minutes = text.split(":")
            return rule_from_dict({"kind": kind, "min_usd": float(usd), "minutes": float(minutes)})
        if kind == "imbalance" and text.startswith("<"):
            return rule_from_dict({"kind": kind, "below": float(text[1:])})
        return rule_from_dict({"kind": kind, "above": float(text.lstrip(">"))})
    except ValueError:
        raise LiqmapError(f"--alert-{kind} {text!r}: see liqmap live --help for the form") from None
