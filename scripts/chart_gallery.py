"""Regenerate the static chart gallery ``docs/gallery/*.png`` (shown in README.md and docs/viz.md).

Runs the full ``liqmap demo`` (not ``--quick``: the whole Dec 2025 → Mar 2026 sample) into a temporary
folder, with the demo's own store inside it, and copies the six PNG charts over the committed ones::

    .venv/bin/python scripts/chart_gallery.py            # → docs/gallery/
    .venv/bin/python scripts/chart_gallery.py --out DIR  # somewhere else
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from rich.console import Console

from liqmap.cli.demo import run_demo

CHARTS = ("heatmap_binance", "liqmap_all", "liqmap_binance", "liqmap_lighter", "cascade_up", "cascade_down")
GALLERY = Path(__file__).resolve().parents[1] / "docs" / "gallery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GALLERY, help="where the PNGs go (default: docs/gallery/)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="liqmap-gallery-") as tmp:
        run = run_demo(Path(tmp), console=Console(stderr=True))
        if run.notes:
            raise SystemExit(f"the demo skipped steps: {run.notes}")
        for stem in CHARTS:
            shutil.copyfile(Path(tmp) / f"{stem}.png", args.out / f"{stem}.png")
            print(args.out / f"{stem}.png")


if __name__ == "__main__":
    main()
