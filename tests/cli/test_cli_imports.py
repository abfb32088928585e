"""The CLI starts fast: importing it, ``liqmap --help`` and every command's ``--help`` load no heavy library.

A speed budget a loaded CI machine cannot break: each check runs in a fresh interpreter and asserts which
modules got imported (``sys.modules``), not how long it took; ``benchmarks/cli.py`` measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# What a command imports when it runs, never at start-up (each costs 0.1-1.5 s to import).
HEAVY = (
    "pandas",
    "numpy",
    "numba",
    "duckdb",
    "pyarrow",
    "scipy",
    "plotly",
    "matplotlib",
    "dask",
    "distributed",
    "fastapi",
    "uvicorn",
    "ccxt",
)


def _heavy_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the heavy top-level packages it left in ``sys.modules``."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({list(HEAVY)!r}))))
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_cli_loads_no_heavy_library():
    assert _heavy_after("import liqmap.cli") == []


def test_help_of_the_app_and_of_every_command_loads_no_heavy_library():
    code = """
        import contextlib, io
        import typer
        from liqmap.cli import app, run

        group = typer.main.get_command(app)
        names = []
        for name, cmd in group.commands.items():
            names += [[name, sub] for sub in getattr(cmd, "commands", {})] or [[name]]
        with contextlib.redirect_stdout(io.StringIO()):
            codes = {" ".join(n): run([*n, "--help"]) for n in [[], *names]}
        assert set(codes.values()) == {0}, codes
        assert len(codes) > 15, codes
        """
    assert _heavy_after(code) == []


def test_light_modules_stay_light():
    """The modules the CLI's option types come from, and the package roots above them."""
    code = """
        import liqmap, liqmap.enums, liqmap.errors, liqmap.symbols
        import liqmap.engine.enums, liqmap.engine.profiles, liqmap.analytics.enums, liqmap.analytics.settings
        import liqmap.sim.enums, liqmap.data.kinds, liqmap.cli._common
        """
    assert _heavy_after(code) == []


def test_lazy_packages_export_the_same_objects():
    code = """
        import liqmap.analytics.imbalance as module_or_function  # the submodule first, as report.py does
        import liqmap.analytics, liqmap.engine, liqmap.sim
        from liqmap.analytics import imbalance, key_levels, ReportSettings
        from liqmap.analytics.report import ReportSettings as from_report
        from liqmap.data.kinds import TableKind
        from liqmap.data.schemas import TableKind as from_schemas
        from liqmap.engine import Model, run
        from liqmap.engine.api import run as api_run
        from liqmap.engine.enums import Model as enums_model

        assert callable(imbalance) and liqmap.analytics.imbalance is imbalance, imbalance
        assert ReportSettings is from_report and TableKind is from_schemas
        assert run is api_run and Model is enums_model
        for package in (liqmap.analytics, liqmap.engine, liqmap.sim):
            assert set(package.__all__) <= set(dir(package)), package
            assert all(getattr(package, name) is not None for name in package.__all__)
        try:
            liqmap.engine.no_such_name
        except AttributeError:
            pass
        else:
            raise AssertionError("liqmap.engine.no_such_name resolved")
        """
    _heavy_after(code)
