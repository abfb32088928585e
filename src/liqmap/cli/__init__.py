"""The ``liqmap`` command line: thin typer commands over the library.

Each command group lives in its own module exposing ``register(app)``; at module scope a command module
imports only typer, the standard library and light liqmap modules (enums, settings), and the libraries a
command needs inside the command, so ``liqmap --help`` and each command start fast
(tests/cli/test_cli_imports.py asserts it; ``benchmarks/cli.py`` times it). :func:`run` maps every failure to
one line on stderr and an exit code (docs/data.md, "Errors and exit codes"):

* ``2`` — bad input a user can fix: :class:`liqmap.errors.LiqmapError` and any ``ValueError`` from input
  checks, ``OSError`` on a user's path (missing, unreadable, unwritable, a corrupt archive), input nested or
  sized beyond what can be read (``RecursionError``, ``MemoryError``); also click's usage errors;
* ``70`` (``EX_SOFTWARE``) — anything else is a bug: the traceback goes to a file in the user log directory
  (``$LIQMAP_LOG_DIR`` overrides it) and the line says where;
* ``130`` — interrupted (Ctrl-C).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import typer

from liqmap.cli import analytics, calibrate, data, demo, engine, live, margin, scale, scan, serve, sim

app = typer.Typer(
    name="liqmap",
    help="Liquidation heatmaps and maps for crypto perpetual futures: exact margin rules, measured models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _module in (margin, data, engine, sim, analytics, calibrate, scale, scan, demo, serve, live):
    _module.register(app)

EXIT_BAD_INPUT = 2
EXIT_BUG = 70  # EX_SOFTWARE (sysexits.h): distinct from Python's own 1 and from bad input
EXIT_INTERRUPTED = 130
ENV_LOG_DIR = "LIQMAP_LOG_DIR"


def main() -> None:
    """Console-script entry point: :func:`run` with ``sys.argv``, exiting with its code."""
    sys.exit(run())


def run(argv: Sequence[str] | None = None) -> int:
    """Run the app on ``argv`` (default ``sys.argv[1:]``) and return the exit code; never raises."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="liqmap")
    except SystemExit as exc:  # typer/click exit: success, --help or a usage error (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ValueError as exc:  # LiqmapError and input checks from the core
        return _fail(str(exc), EXIT_BAD_INPUT)
    except OSError as exc:  # a user's path: missing, unreadable, unwritable, not a regular file
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}; check the path and its permissions", EXIT_BAD_INPUT)
    except RecursionError:
        return _fail("the input is nested too deeply to read; flatten it", EXIT_BAD_INPUT)
    except MemoryError:
        return _fail("not enough memory for this input; split it into smaller files", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception:
        return _fail(f"internal error (a bug): {_write_traceback(args)}", EXIT_BUG)
    return 0


def log_dir() -> Path:
    """Where crash reports go: ``$LIQMAP_LOG_DIR``, else the platform's user log directory for liqmap."""
    import platformdirs

    env = os.environ.get(ENV_LOG_DIR)
    return Path(env).expanduser() if env else Path(platformdirs.user_log_dir("liqmap"))


def _write_traceback(args: list[str]) -> str:
    """Write the command and the current exception's traceback to a new file; say where (or that it failed)."""
    text = traceback.format_exc()
    path = log_dir() / f"crash-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"liqmap {' '.join(args)}\n{text}")
    except OSError as exc:
        return f"the traceback could not be written to {path} ({exc.strerror}); rerun with {ENV_LOG_DIR}=DIR"
    return f"traceback written to {path}; please report it"


def _fail(message: str, code: int) -> int:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return code
