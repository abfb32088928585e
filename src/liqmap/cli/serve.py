"""``liqmap serve``: the web dashboard and HTTP API over the store (read-only)."""

from __future__ import annotations

from typing import Annotated

import typer

from liqmap.cli._common import DbOpt


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command("serve")(serve)


def serve(
    db: DbOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind; keep 127.0.0.1 unless you mean to expose it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    poll: Annotated[
        float, typer.Option("--poll", min=0.1, max=60.0, help="Seconds between checks for new bars.")
    ] = 1.0,
) -> None:
    """Serve the dashboard at http://HOST:PORT/ and the JSON API under /api (docs at /docs)."""
    import uvicorn

    from liqmap.data.store import Store
    from liqmap.server import create_app

    with Store(db, read_only=True):  # fail now, with the store's message, if there is nothing to serve
        pass
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: binding to {host}: the API is reachable from other machines", err=True)
    uvicorn.run(create_app(db, poll_interval_s=poll), host=host, port=port, log_level="info")
