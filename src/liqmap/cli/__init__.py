"""The ``liqmap`` command line: thin typer commands over the library.

Each command group lives in its own module exposing ``register(app)``; project errors
(:class:`liqmap.errors.LiqmapError`, any ``ValueError`` from input checks) become a one-line message on
stderr and exit code 2.
"""

from __future__ import annotations

import sys

import typer

from liqmap.cli import analytics, calibrate, data, demo, engine, margin, scale, serve, sim

app = typer.Typer(
    name="liqmap",
    help="Liquidation heatmaps and maps for crypto perpetual futures: exact margin rules, measured models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _module in (margin, data, engine, sim, analytics, calibrate, scale, demo, serve):
    _module.register(app)

EXIT_BAD_INPUT = 2


def main() -> None:
    """Console-script entry point: run the app, turning input errors into exit code 2."""
    try:
        app()
    except ValueError as exc:  # LiqmapError and input checks from the core
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
