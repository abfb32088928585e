"""``liqmap serve``: the web dashboard and HTTP API over the store (read-only); ``--live`` also streams."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from liqmap.cli._common import DbOpt
from liqmap.cli.live import (
    AlertCascadeOpt,
    AlertClusterOpt,
    AlertImbalanceOpt,
    AlertRealizedOpt,
    AlertsJsonlOpt,
    AlertsOpt,
    ApiUrlOpt,
    HistoryOpt,
    LiveBinsOpt,
    LiveExchangeOpt,
    LiveModelOpt,
    LiveProfileOpt,
    LiveSymbolOpt,
    NoBackfillOpt,
    OiPollOpt,
    StaleOpt,
    WebhookOpt,
    WsUrlOpt,
    alert_engine,
    live_settings,
    periodic_status,
)

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from liqmap.server.live import LiveFeed

LIMIT_CONCURRENCY = 200  # connections + tasks at once; beyond it uvicorn answers 503
KEEP_ALIVE_S = 5
WS_MAX_BYTES = 64 * 1024  # largest websocket message accepted (the client needs to send none)


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command("serve")(serve)


def uvicorn_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` with the server's limits (h11, so the header limit applies)."""
    import uvicorn

    from liqmap.server.http import HeadTimeoutH11Protocol
    from liqmap.server.security import MAX_HEADER_BYTES

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=HeadTimeoutH11Protocol,  # h11, and a request head must arrive within 5 s
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=LIMIT_CONCURRENCY,
        timeout_keep_alive=KEEP_ALIVE_S,
        ws_max_size=WS_MAX_BYTES,
        ws_per_message_deflate=False,  # compressing each client's copy of a pushed map doubled the fan-out time
        server_header=False,
        log_level="info",
    )


def serve(
    db: DbOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind; keep 127.0.0.1 unless you mean to expose it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    poll: Annotated[
        float, typer.Option("--poll", min=0.1, max=60.0, help="Seconds between checks for new bars.")
    ] = 1.0,
    cache_mb: Annotated[
        float, typer.Option("--cache-mb", min=1.0, max=65536.0, help="Memory all result caches may hold, MiB.")
    ] = 256.0,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="Another name the Host header may carry (repeatable); 127.0.0.1, localhost, ::1 and --host are.",
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option("--live", help="Also stream into the store (as `liqmap live`) and push the live maps."),
    ] = False,
    exchange: LiveExchangeOpt = None,
    symbol: LiveSymbolOpt = None,
    alerts: AlertsOpt = None,
    alert_cluster: AlertClusterOpt = None,
    alert_imbalance: AlertImbalanceOpt = None,
    alert_realized: AlertRealizedOpt = None,
    alert_cascade: AlertCascadeOpt = None,
    alerts_jsonl: AlertsJsonlOpt = None,
    webhook: WebhookOpt = None,
    history_minutes: HistoryOpt = 1440,
    stale_s: StaleOpt = 30.0,
    oi_poll_s: OiPollOpt = 60.0,
    model: LiveModelOpt = "oi-delta",
    profile: LiveProfileOpt = "default",
    bins: LiveBinsOpt = None,
    no_backfill: NoBackfillOpt = False,
    ws_url: WsUrlOpt = None,
    api_url: ApiUrlOpt = None,
) -> None:
    """Serve the dashboard at http://HOST:PORT/ and the JSON API under /api (docs at /docs); with --live,
    stream the venues as `liqmap live` does (same flags) and push the live maps and liquidations."""
    import uvicorn

    from liqmap.data.store import Store
    from liqmap.errors import LiqmapError
    from liqmap.server import create_app
    from liqmap.server.security import LOCAL_HOSTS

    flags = {"cluster": alert_cluster, "imbalance": alert_imbalance, "realized": alert_realized,
             "cascade": alert_cascade}  # fmt: skip
    feed: LiveFeed | None = None
    if live:
        from liqmap.server.live import LiveFeed

        settings = live_settings(
            exchange, symbol, db, ws_url, api_url, history_minutes=history_minutes, backfill=not no_backfill,
            stale_s=stale_s, oi_poll_s=oi_poll_s, model=model, profile=profile, n_bins=bins,
        )  # fmt: skip
        # the streams' status line on stderr every 30 s, as `liqmap live` prints it into a pipe or log
        feed = LiveFeed(settings, alert_engine(alerts, flags, alerts_jsonl, webhook, typer.echo), periodic_status())
        with Store(db):  # create the store now if needed, and fail with its message if it cannot be written
            pass
    else:
        if exchange or symbol or alerts or any(flags.values()) or ws_url or api_url:
            raise LiqmapError("--exchange, --symbol and the alert flags configure the live streams: add --live")
        with Store(db, read_only=True):  # fail now, with the store's message, if there is nothing to serve
            pass
    if host not in LOCAL_HOSTS:
        typer.echo(f"warning: binding to {host}: the API is reachable from other machines", err=True)
    hosts = (*LOCAL_HOSTS, host, *(allowed_host or ()))
    app = create_app(db, poll_interval_s=poll, cache_mb=cache_mb, allowed_hosts=hosts, live_feed=feed)
    uvicorn.Server(uvicorn_config(app, host, port)).run()
