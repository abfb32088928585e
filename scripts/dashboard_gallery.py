"""Regenerate the dashboard screenshots ``docs/gallery/dashboard_*.png`` (shown in docs/server.md).

Loads the bundled sample into a temporary store, serves it with ``liqmap serve`` on 127.0.0.1 and drives
Debian's /usr/bin/chromium through Playwright (never a downloaded browser) at 1440 × 900 over a few shared
URLs — every control of the dashboard lives in its query string::

    .venv/bin/python scripts/dashboard_gallery.py            # → docs/gallery/dashboard_*.png
    .venv/bin/python scripts/dashboard_gallery.py --out DIR  # somewhere else
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _serve import start_serve

from liqmap.data.sample import load_sample_into
from liqmap.data.store import Store

GALLERY = Path(__file__).resolve().parents[1] / "docs" / "gallery"
CHROMIUM = "/usr/bin/chromium"
# name → (query string, what the shot shows, full page?)
SHOTS = {
    "dashboard_overview": ("?symbol=BTC/USDT:USDT&exchange=binance&days=30", "the default screen", False),
    "dashboard_full": ("?symbol=BTC/USDT:USDT&exchange=binance&days=30", "every panel", True),
    "dashboard_layers": (
        "?symbol=BTC/USDT:USDT&exchange=okx&days=14&layers=1&threshold=8",
        "by leverage, threshold 8 %, OKX's realized liquidations",
        False,
    ),
    "dashboard_exchanges": (
        "?symbol=BTC/USDT:USDT&exchange=binance&exchange=bybit&exchange=okx&days=30",
        "three venues, one colour each",
        False,
    ),
    "dashboard_filter": (
        "?symbol=BTC/USDT:USDT&exchange=binance&days=30&layers=1&lev_min=50&lev_max=100",
        "only the 50x–100x positions drive the map, levels, imbalance and cascade",
        False,
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GALLERY, help="where the PNGs go (default: docs/gallery/)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="liqmap-dashboard-") as tmp:
        db = Path(tmp) / "sample.duckdb"
        with Store(db) as store:
            load_sample_into(store)
        proc, port = start_serve(["--db", db], Path(tmp) / "serve.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                for name, (query, what, full) in SHOTS.items():
                    page.goto(f"http://127.0.0.1:{port}/{query}")
                    page.wait_for_function(
                        "() => window.liqmap && window.liqmap.cascade && window.liqmap.heatmap && !window.liqmap.busy",
                        timeout=180_000,
                    )
                    page.wait_for_timeout(300)  # Plotly's transitions
                    page.screenshot(path=str(args.out / f"{name}.png"), full_page=full)
                    print(args.out / f"{name}.png", "—", what)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
