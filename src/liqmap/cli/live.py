"""``liqmap live``: stream the venues' websockets into the store and one incremental map per venue + symbol."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqmap.cli._common import DbOpt

if TYPE_CHECKING:
    from liqmap.live.alerts import Alerts
    from liqmap.live.runner import LiveSettings

LIVE_VENUES = ("binance", "bybit", "okx")
STATUS_EVERY_S = 30.0


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for v in values or []:
        venue, sep, url = v.partition("=")
        if not sep or venue not in LIVE_VENUES or not url:
            raise typer.BadParameter(f"{option} takes EXCHANGE=URL with EXCHANGE one of {', '.join(LIVE_VENUES)}")
        out[venue] = url
    return out


LiveExchangeOpt = Annotated[
    list[str] | None, typer.Option("--exchange", help="binance | bybit | okx (repeat); default: all three.")
]
LiveSymbolOpt = Annotated[
    list[str] | None, typer.Option("--symbol", help="Symbol(s), e.g. BTCUSDT (repeat); default BTCUSDT.")
]
AlertsOpt = Annotated[Path | None, typer.Option("--alerts", help="Alert rules (TOML; see docs/live.md).")]
AlertClusterOpt = Annotated[
    list[str] | None, typer.Option("--alert-cluster", help="PCT:USD — price within PCT % of a cluster ≥ USD.")
]
AlertImbalanceOpt = Annotated[
    list[str] | None, typer.Option("--alert-imbalance", help="RATIO (above) or <RATIO (below), short:long.")
]
AlertRealizedOpt = Annotated[
    list[str] | None, typer.Option("--alert-realized", help="USD:MINUTES — realized liquidations ≥ USD.")
]
AlertCascadeOpt = Annotated[
    list[str] | None, typer.Option("--alert-cascade", help="AMPLIFICATION — ±1 % cascade amplification above.")
]
AlertsJsonlOpt = Annotated[Path | None, typer.Option("--alerts-jsonl", help="Append alerts to this JSONL.")]
WebhookOpt = Annotated[str | None, typer.Option("--webhook", help="POST each alert as JSON to this URL.")]
HistoryOpt = Annotated[
    int, typer.Option("--history-minutes", min=1, help="1-minute bars backfilled/warm-started (1440).")
]
StaleOpt = Annotated[float, typer.Option("--stale-s", min=0.1, help="Reconnect after this long without a message.")]
OiPollOpt = Annotated[float, typer.Option("--oi-poll-s", min=0, help="Open-interest REST poll period; 0 turns it off.")]
LiveModelOpt = Annotated[str, typer.Option("--model", help="Engine model: oi-delta | volume | uniform.")]
LiveProfileOpt = Annotated[str, typer.Option("--profile", help="Calibration profile: default | prior | PATH.json.")]
LiveBinsOpt = Annotated[int | None, typer.Option("--bins", min=10, help="Price bins (engine default).")]
NoBackfillOpt = Annotated[bool, typer.Option("--no-backfill", help="Do not fetch missing bars over REST.")]
WsUrlOpt = Annotated[
    list[str] | None, typer.Option("--ws-url", hidden=True, help="EXCHANGE=URL: websocket base (tests).")
]
ApiUrlOpt = Annotated[list[str] | None, typer.Option("--api-url", hidden=True, help="EXCHANGE=URL: REST base (tests).")]


def live_settings(
    exchange: list[str] | None,
    symbol: list[str] | None,
    db: Path | None,
    ws_url: list[str] | None,
    api_url: list[str] | None,
    **kw: Any,
) -> LiveSettings:
    """The :class:`LiveSettings` of the shared flags (``kw``: its other fields); unknown venues refused."""
    from liqmap.errors import LiqmapError
    from liqmap.live.runner import LiveSettings

    venues = tuple(dict.fromkeys(e.strip().lower() for e in (exchange or LIVE_VENUES)))
    bad = [v for v in venues if v not in LIVE_VENUES]
    if bad:
        raise LiqmapError(f"no live streams for {', '.join(bad)}: use {', '.join(LIVE_VENUES)}")
    return LiveSettings(
        exchanges=venues,
        symbols=tuple(symbol or ["BTCUSDT"]),
        db=db,
        ws_urls=_pairs(ws_url, "--ws-url"),
        api_urls=_pairs(api_url, "--api-url"),
        **kw,
    )


def alert_engine(
    alerts: Path | None,
    flags: dict[str, list[str] | None],
    alerts_jsonl: Path | None,
    webhook: str | None,
    echo: Callable[[str], None],
) -> Alerts | None:
    """The alert rules of ``--alerts`` and the ``--alert-KIND`` ``flags`` with their sinks (console via
    ``echo``, JSONL, webhook); None when there is no rule."""
    from liqmap.live import alerts as al

    rules, hysteresis, sinks = ([], 0.2, {}) if alerts is None else al.load_rules(alerts)
    for kind, values in flags.items():
        rules += [al.parse_flag(kind, v) for v in values or []]
    if not rules:
        return None
    sink_fns = [al.console_sink(echo)]
    jsonl = alerts_jsonl or (Path(sinks["jsonl"]) if "jsonl" in sinks else None)
    if jsonl is not None:
        sink_fns.append(al.jsonl_sink(jsonl))
    hook = webhook or sinks.get("webhook")
    if hook:
        sink_fns.append(al.webhook_sink(hook))
    return al.Alerts(rules, sink_fns, hysteresis)


def periodic_status(every_s: float = STATUS_EVERY_S) -> Callable[[str], None]:
    """A runner status callback printing the line to stderr at most once per ``every_s`` (pipes, logs)."""
    import sys
    import time

    last = [-math.inf]

    def status(line: str) -> None:
        if time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            print(line, file=sys.stderr, flush=True)

    return status


def live(
    exchange: LiveExchangeOpt = None,
    symbol: LiveSymbolOpt = None,
    db: DbOpt = None,
    alerts: AlertsOpt = None,
    alert_cluster: AlertClusterOpt = None,
    alert_imbalance: AlertImbalanceOpt = None,
    alert_realized: AlertRealizedOpt = None,
    alert_cascade: AlertCascadeOpt = None,
    alerts_jsonl: AlertsJsonlOpt = None,
    webhook: WebhookOpt = None,
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", min=0.1, help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
    history_minutes: HistoryOpt = 1440,
    stale_s: StaleOpt = 30.0,
    oi_poll_s: OiPollOpt = 60.0,
    model: LiveModelOpt = "oi-delta",
    profile: LiveProfileOpt = "default",
    bins: LiveBinsOpt = None,
    no_backfill: NoBackfillOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No status line.")] = False,
    ws_url: WsUrlOpt = None,
    api_url: ApiUrlOpt = None,
) -> None:
    """Stream 1-minute bars and realized liquidations; backfill, store, update the maps, alert. Needs network."""
    import asyncio

    from rich.console import Console

    from liqmap.live.runner import LiveRunner

    settings = live_settings(
        exchange, symbol, db, ws_url, api_url, history_minutes=history_minutes, backfill=not no_backfill,
        stale_s=stale_s, oi_poll_s=oi_poll_s, model=model, profile=profile, n_bins=bins, duration_s=duration_s,
    )  # fmt: skip
    err = Console(stderr=True)
    out = Console()
    flags = {"cluster": alert_cluster, "imbalance": alert_imbalance, "realized": alert_realized,
             "cascade": alert_cascade}  # fmt: skip
    engine = alert_engine(
        alerts, flags, alerts_jsonl, webhook, lambda s: out.print(s, markup=False, highlight=False, soft_wrap=True)
    )
    if quiet:
        runner = LiveRunner(settings, alerts=engine)
        asyncio.run(runner.run())
    elif err.is_terminal:
        from rich.live import Live
        from rich.text import Text

        with Live(Text(""), console=err, refresh_per_second=2, transient=False) as view:
            runner = LiveRunner(settings, alerts=engine, status=lambda line: view.update(Text(line)))
            asyncio.run(runner.run())
    else:  # a pipe or a log file: one status line every 30 s
        runner = LiveRunner(settings, alerts=engine, status=periodic_status())
        asyncio.run(runner.run())
    typer.echo(runner.status_line())


def register(app: typer.Typer) -> None:
    """Add ``live``."""
    app.command("live")(live)
