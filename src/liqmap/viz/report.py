"""Map reports for people: rich console views of one :class:`~liqmap.analytics.report.MapReport`
(``liqmap map``, ``levels``, ``cascade``), and the demo report as Markdown (``report.md``) and console
tables, from the demo's typed map reports and the rest of the dict ``liqmap demo`` writes as
``report.json`` (data, engine, validation results as their ``to_dict()``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from liqmap.analytics.enums import Direction, ImpactKind
from liqmap.timeframes import MS_PER_DAY
from liqmap.viz._style import fmt_price, fmt_usd, fmt_utc
from liqmap.viz.terminal import map_renderable

if TYPE_CHECKING:
    from rich.console import RenderableType

    from liqmap.analytics.asymmetry import LiquidatedByMove, MoveToLiquidate
    from liqmap.analytics.imbalance import Imbalance
    from liqmap.analytics.levels import Cluster
    from liqmap.analytics.report import CascadeReport, ImpactInfo, MapReport
    from liqmap.engine.results import LiqMap

MAP_TITLES = {
    "binance": "Binance",
    "all": "Binance + Bybit + OKX (aggregated)",
    "lighter": "Lighter BTC/USDC (real open interest)",
}
VALIDATIONS = {"validation_real": "Real liquidations (OKX)", "validation_sim": "Simulated market"}
SCORE_COLUMNS = ("events", "top-decile capture", "median percentile", "hourly corr")
CASCADE_COLUMNS = ("shock", "rounds", "final price", "move", "liquidated", "amplification", "runaway")
STALE_DEPTH_HOURS = 24.0  # --impact book: warn when the order book is older than this at the map time


def _pct(value: float | None, digits: int = 2, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f}%" if signed else f"{value:.{digits}f}%"


def _num(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _when(ms: int) -> str:
    return f"{fmt_utc(ms)} UTC"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return out + ["| " + " | ".join(row) + " |" for row in rows]


def cluster_rows(clusters: Sequence[Cluster]) -> list[list[str]]:
    """Rows ``#, side, peak, band, notional, distance`` of a map report's clusters."""
    return [
        [
            str(c.rank),
            c.side.name.lower(),
            fmt_price(c.peak_price),
            f"{fmt_price(c.lo)} – {fmt_price(c.hi)}",
            fmt_usd(c.notional_usd),
            f"{'-' if c.distance_usd < 0 else '+'}{fmt_price(abs(c.distance_usd))} "
            f"({_pct(c.distance_pct, signed=True)})",
        ]
        for c in clusters
    ]


def imbalance_text(imb: Imbalance) -> str:
    """``within ±5%: shorts above $3.1B vs longs below $1.1B → ratio 2.89`` (with the report's note)."""
    window = f"±{imb.window_pct:g}%" if imb.window_pct is not None else "the window"
    text = (
        f"within {window} ({fmt_price(imb.lo)} – {fmt_price(imb.hi)}): shorts above "
        f"{fmt_usd(imb.short_above_usd)} vs longs below {fmt_usd(imb.long_below_usd)} → "
        f"short/long ratio {_num(imb.ratio)}"
    )
    return f"{text} ({imb.note})" if imb.note else text


def asymmetry_rows(moves: Sequence[MoveToLiquidate]) -> list[list[str]]:
    """Rows ``target, move up, move down`` (moves as $ and %; 'not reachable' when the side runs out)."""

    def move(usd: float | None, pct: float | None) -> str:
        return "not reachable" if usd is None else f"{fmt_price(usd)} ({_pct(pct)})"

    return [
        [fmt_usd(m.target_usd), move(m.move_up_usd, m.move_up_pct), move(m.move_down_usd, m.move_down_pct)]
        for m in moves
    ]


def cascade_rows(cascades: CascadeReport) -> list[list[str]]:
    """Rows ``shock, rounds, final price, move, liquidated, amplification, runaway`` of a report's up and
    down cascade runs."""
    return [
        [
            _pct(r.shock_pct, signed=True),
            str(len(r.rounds)),
            fmt_price(r.final_price),
            _pct(r.final_move_pct, signed=True),
            fmt_usd(r.total_liquidated_usd),
            _num(r.amplification, suffix="×"),
            "yes" if r.runaway else "no",
        ]
        for r in (cascades.up, cascades.down)
    ]


def score_rows(val: Mapping[str, Any]) -> list[list[str]]:
    """Rows ``model, events, capture, median percentile, hourly corr`` for the model and its baselines."""
    return [
        [
            name,
            str(s["events"]),
            _share(s["top_decile_capture"]),
            _num(s["median_percentile"], 1),
            _num(s["liq_volume_corr"]),
        ]
        for name, s in val["scores"].items()
    ]


def _critical(value: float | None, max_pct: float) -> str:
    return f"none up to {max_pct:g}%" if value is None else _pct(value, 3)


def critical_text(rep: MapReport) -> str:
    """``smallest runaway shock: up +0.240%, down none up to 10%`` of a map report."""
    cas, top = rep.cascades, rep.settings.max_shock_pct
    up, down = _critical(cas.critical_shock_up_pct, top), _critical(cas.critical_shock_down_pct, top)
    return f"smallest runaway shock: up {up}, down {down}"


def impact_text(impact: ImpactInfo) -> str:
    """One line naming the calibrated impact model and its parameters."""
    if impact.model is ImpactKind.SQRT:
        return (
            f"square-root impact calibrated on the mapped venues' bars: daily volatility "
            f"{_pct(None if impact.sigma_daily is None else 100 * impact.sigma_daily)}, "
            f"daily volume {fmt_usd(impact.volume_daily_usd or 0.0)}"
        )
    when = "n/a" if impact.depth_as_of_ms is None else _when(impact.depth_as_of_ms)
    return (
        f"order-book impact: snapshot of {when}, "
        f"{fmt_usd(impact.bid_depth_usd or 0.0)} bids within {_pct(impact.bid_depth_pct)}, "
        f"{fmt_usd(impact.ask_depth_usd or 0.0)} asks within {_pct(impact.ask_depth_pct)}"
    )


def report_markdown(
    report: Mapping[str, Any], maps: Mapping[str, MapReport], notes: Mapping[str, str] | None = None
) -> str:
    """The demo report as Markdown, embedding the demo's PNG charts: ``report`` is the demo's
    ``report.json`` dict (data, engine, validation), ``maps`` its map reports by key and ``notes`` a note per
    map key."""
    data = report["data"]
    lines = [
        f"# liqmap demo — {data['symbol']}",
        "",
        f"> {report['caveat']}",
        "",
        "## Data",
        "",
        f"- Store: `{data['store']}`; rows written: "
        + ", ".join(f"{k} {v:,}" for k, v in data["rows_written"].items()),
        f"- Bars used: {', '.join(f'{k} {v:,}' for k, v in data['bars'].items())} "
        f"(hourly, {data['start']} → {data['end']}{', quick slice' if data['quick'] else ''})",
        f"- Open interest: {data['open_interest_note']}",
        f"- Engine: `{report['engine']['model']}`, calibration profile `{report['engine']['profile']}` "
        "(amounts = notional that would be force-liquidated; docs/calibration.md), "
        f"${report['engine']['bin_usd']:g} price bins, {report['engine']['snapshots']:,} heatmap snapshots",
        "",
    ]
    for key, rep in maps.items():
        note = (notes or {}).get(key)
        lines += [
            f"## Liquidation map — {MAP_TITLES.get(key, key)}",
            "",
            f"As of {_when(rep.as_of_ms)}, price {fmt_price(rep.price)}.",
            "",
            *([f"Note: {note}", ""] if note else []),
            f"![liquidation map](liqmap_{key}.png)",
            "",
            "Key levels:",
            "",
            *_table(("#", "side", "peak", "band", "notional", "distance"), cluster_rows(rep.clusters)),
            "",
            f"Imbalance {imbalance_text(rep.imbalance)}.",
            "",
            "Asymmetry (move needed to liquidate a target notional):",
            "",
            *_table(("target", "move up (shorts)", "move down (longs)"), asymmetry_rows(rep.asymmetry)),
            "",
        ]
    if maps:
        lines += ["## Heatmap — Binance", "", "![liquidation heatmap](heatmap_binance.png)", ""]
    if "all" in maps:
        rep = maps["all"]
        lines += [
            "## Cascade (aggregated map)",
            "",
            f"{_sentence(impact_text(rep.cascades.impact))}.",
            "",
            *_table(CASCADE_COLUMNS, cascade_rows(rep.cascades)),
            "",
            f"{_sentence(critical_text(rep))}.",
            "",
            "![cascade up](cascade_up.png)",
            "",
        ]
    for key, title in VALIDATIONS.items():
        if key not in report:
            continue
        val = report[key]
        lines += [
            f"## Validation — {title}",
            "",
            f"What: {val['what']}",
            "",
            f"Scored on {val['events']:,} events (test span from {_when(val['split_ms'] or val['span_ms'][0])}): "
            f"top-decile capture {_share(val['top_decile_capture'])}, "
            f"lift vs volume {_num(val['lift_vs_volume'], suffix='×')}, "
            f"lift vs uniform {_num(val['lift_vs_uniform'], suffix='×')}, "
            f"lift vs proximity {_num(val.get('lift_vs_proximity'), suffix='×')}, "
            f"hourly correlation {_num(val['liq_volume_corr'])}.",
            "",
            *_table(("model", *SCORE_COLUMNS), score_rows(val)),
            "",
            *_amount_lines(val.get("amounts")),
        ]
    if report.get("notes"):
        lines += ["## Notes", "", *(f"- {n}" for n in report["notes"]), ""]
    return "\n".join(lines)


def _amount_lines(amounts: Mapping[str, Any] | None) -> list[str]:
    """How much: predicted vs realized per side beside the naive anchor (``AmountValidation.to_dict()``)."""
    if not amounts:
        return []
    unit = "day" if amounts["period_ms"] >= MS_PER_DAY else "hour"
    rows = [
        [
            side,
            fmt_usd(amounts["model"][side]["realized_usd"]),
            fmt_usd(amounts["model"][side]["predicted_usd"]),
            _num(amounts["model"][side]["ratio"]),
            _num(amounts["model"][side]["spearman"]),
            _num(amounts["anchor"][side]["ratio"]),
        ]
        for side in ("long", "short")
    ]
    head = ("side", "realized", "predicted", "predicted / realized", f"Spearman per {unit}", "anchor / realized")
    return [
        f"How much, over {amounts['periods']} {unit}s of the test span (profile `{amounts['profile']}`; anchor: "
        "drawdown × OI for longs, run-up × OI for shorts):",
        "",
        *_table(head, rows),
        "",
    ]


def by_move_rows(moves: Sequence[LiquidatedByMove]) -> list[list[str]]:
    """Rows ``move, up: shorts, down: longs, up/down`` of a map report's ``by_move`` (notional per ±Y %)."""
    return [
        [
            f"±{m.move_pct:g}%",
            fmt_usd(m.shorts_liquidated_usd),
            fmt_usd(m.longs_liquidated_usd),
            "n/a" if m.longs_liquidated_usd <= 0 else f"{m.shorts_liquidated_usd / m.longs_liquidated_usd:.2f}",
        ]
        for m in moves
    ]


def imbalance_layer_rows(imb: Imbalance) -> list[list[str]]:
    """Rows ``layer, name, shorts above, longs below, ratio`` of the imbalance split by leverage and exchange."""
    layers = [("leverage", f"{k:g}x", v) for k, v in imb.by_leverage.items()]
    layers += [("exchange", k, v) for k, v in imb.by_exchange.items()]
    return [
        [kind, key, fmt_usd(v.short_above_usd), fmt_usd(v.long_below_usd), _num(v.ratio)] for kind, key, v in layers
    ]


def _rich_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> RenderableType:
    from rich.table import Table

    t = Table(title=title, title_justify="left", header_style="bold")
    for h in headers:
        t.add_column(h, justify="right")
    for row in rows:
        t.add_row(*row)
    return t


def map_report_renderables(rep: MapReport, lm: LiqMap | None = None, width: int = 80) -> list[RenderableType]:
    """Rich view of one :class:`MapReport`: the terminal map of ``lm`` (when given), key levels, the
    imbalance line (and its split by leverage and exchange), the moves needed to liquidate each target, the
    notional per ±Y % move, the ± cascades and critical shocks, the caveat."""
    out: list[RenderableType] = []
    if lm is not None:
        out.append(map_renderable(lm, rep.clusters, rep.imbalance, width=max(40, min(100, width))))
    head = f"{rep.symbol} {rep.model} @ {_when(rep.as_of_ms)} — price {fmt_price(rep.price)}"
    out.append(
        _rich_table(
            f"key levels: {head}", ("#", "side", "peak", "band", "notional", "distance"), cluster_rows(rep.clusters)
        )
    )
    out.append(f"imbalance {imbalance_text(rep.imbalance)}")
    if layers := imbalance_layer_rows(rep.imbalance):
        window = f"±{rep.imbalance.window_pct:g}%" if rep.imbalance.window_pct is not None else "in the window"
        out.append(
            _rich_table(
                f"imbalance {window} by layer", ("layer", "", "shorts above", "longs below", "short/long"), layers
            )
        )
    out.append(
        _rich_table(
            "move needed to liquidate",
            ("target", "move up (shorts)", "move down (longs)"),
            asymmetry_rows(rep.asymmetry),
        )
    )
    if rep.by_move:
        out.append(
            _rich_table(
                "liquidated by a move of ±Y %",
                ("move", "up: shorts", "down: longs", "up/down"),
                by_move_rows(rep.by_move),
            )
        )
    out.append(
        _rich_table(
            f"cascades ±{rep.settings.shock_pct:g}% ({impact_text(rep.cascades.impact)})",
            CASCADE_COLUMNS,
            cascade_rows(rep.cascades),
        )
    )
    out.append(critical_text(rep))
    if lm is None:  # the terminal map already carries the caveat
        out.append(f"[dim]{rep.caveat}[/]")
    return out


def report_renderables(
    report: Mapping[str, Any], maps: Mapping[str, MapReport], lm: LiqMap | None = None, width: int = 84
) -> list[RenderableType]:
    """Rich console summary for a ``width``-column console of the demo (``report``: its ``report.json``
    dict; ``maps``: its map reports by key): the terminal map of ``lm`` (the aggregated map) and tables of
    levels, cascades and scores."""
    from rich.panel import Panel

    table = _rich_table
    out: list[RenderableType] = []
    rep = maps.get("all")
    if lm is not None and rep is not None:
        text = map_renderable(lm, rep.clusters, rep.imbalance, width=max(40, min(80, width - 4)))
        out.append(Panel(text, title="aggregated liquidation map", expand=False))
    for key, r in maps.items():
        out.append(
            table(
                f"key levels — {MAP_TITLES.get(key, key)}",
                ("#", "side", "peak", "band", "notional", "distance"),
                cluster_rows(r.clusters[:5]),
            )
        )
        out.append(f"imbalance {imbalance_text(r.imbalance)}")
    if rep is not None:
        out.append(
            table(
                "cascades — aggregated map",
                ("shock", "rounds", "final", "move", "liquidated", "amplif.", "runaway"),
                cascade_rows(rep.cascades),
            )
        )
    for key, title in VALIDATIONS.items():
        if key in report:
            out.append(table(f"validation — {title}", ("model", *SCORE_COLUMNS), score_rows(report[key])))
            out.append(f"[dim]{report[key]['what']}[/]")
    return out


def cascade_renderables(rep: MapReport, direction: Direction | str) -> list[RenderableType]:
    """Rich view of a map report's ``direction`` (``up``/``down``) cascade: its rounds, the outcome, the
    impact model (and a warning when the order book is over a day older than the map), the critical shocks."""
    run = rep.cascades.up if Direction(direction) is Direction.UP else rep.cascades.down
    impact = rep.cascades.impact
    title = f"Cascade {run.shock_pct:+g}% on {rep.symbol} {rep.model} @ {fmt_utc(rep.as_of_ms)} ({impact.model.value})"
    rows = [
        [
            str(r.index),
            f"{r.price:,.2f}",
            _pct(100 * (r.price - run.start_price) / run.start_price, signed=True),
            fmt_usd(r.liquidated_usd),
            r.side,
        ]
        for r in run.rounds
    ]
    out: list[RenderableType] = [_rich_table(title, ("round", "price", "move", "liquidated", "side"), rows)]
    out.append(
        f"start {run.start_price:,.2f} → final {run.final_price:,.2f} ({run.final_move_pct:+.2f}%), "
        f"liquidated {fmt_usd(run.total_liquidated_usd)}, amplification {run.amplification:.2f}"
        f"{' — RUNAWAY' if run.runaway else ''}{' (left the map)' if run.hit_edge else ''}"
    )
    out.append(impact_text(impact))
    age_h = impact.depth_age_hours
    if age_h is not None and age_h > STALE_DEPTH_HOURS and impact.depth_as_of_ms is not None:
        out.append(
            f"order book of {fmt_utc(impact.depth_as_of_ms)}, {age_h / 24:,.0f} days before the map: "
            "its depth may be far from today's liquidity"
        )
    out += [critical_text(rep), f"[dim]{rep.caveat}[/]"]
    return out
