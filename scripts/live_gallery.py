"""Regenerate the screenshot sequence of the dashboard updating live, ``docs/gallery/live_*.png`` and
``live.gif`` (shown in docs/live.md), offline.

Starts the tests' local fake exchange (tests/live/fakews.py: a Binance websocket and REST fake on 127.0.0.1
replaying the recorded real BTCUSDT trades of 2024-08-08 as 1-minute bars, one forceOrder after each closed
bar), runs ``liqmap serve --live --exchange binance --symbol BTCUSDT`` against it (hidden ``--ws-url`` /
``--api-url`` flags) on a temporary store, opens the dashboard with Live ticked in Debian's /usr/bin/chromium
through Playwright (never a downloaded browser) and takes one screenshot per pushed bar, each once the page
shows that bar's heatmap column and its liquidation in the feed panel. A frame is the heatmap panel with the
feed panel under it (two element shots at a 1440 × 900 viewport, stacked with Pillow; without Pillow the heatmap
panel alone, and no GIF). The model is ``volume``: the REST fake has no open-interest history for these
minutes, so ``oi-delta`` would leave the warm-started columns blank::

    .venv/bin/python scripts/live_gallery.py                  # → docs/gallery/live_1.png … live_4.png, live.gif
    .venv/bin/python scripts/live_gallery.py --frames 6 --out DIR
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "live"))

from _serve import start_serve
from fakews import FIRST_MINUTE_MS, MINUTE_MS, FakeWs, Script, minute_bars, rest_exchange

GALLERY = Path(__file__).resolve().parents[1] / "docs" / "gallery"
CHROMIUM = "/usr/bin/chromium"
WIDTH = 1440  # the viewport of scripts/dashboard_gallery.py
MAX_HEIGHT = 900
FRAME_HEIGHT = 860  # the heatmap panel (~545 px) + the feed panel when its table is full (~310 px): every frame alike


def stored(port: int, deadline: float) -> None:
    """Wait until the store lists the series (the runner wrote its REST backfill)."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/symbols", timeout=5) as r:
                if "BTC/USDT:USDT" in r.read().decode():
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the warm start did not store BTC/USDT:USDT in time")


def shot(page: Any, index: int, out: Path) -> Path:
    """The heatmap panel with the feed panel under it (Pillow), else the heatmap panel alone."""
    path = out / f"live_{index}.png"
    heat = page.locator("section.panel:has(#heatmap)").screenshot()
    try:
        from PIL import Image
    except ImportError:
        path.write_bytes(heat)
        return path
    feed = page.locator("#feed-panel").screenshot()
    top, bottom = Image.open(io.BytesIO(heat)), Image.open(io.BytesIO(feed))
    frame = Image.new("RGB", (max(top.width, bottom.width), FRAME_HEIGHT), "#0b0e11")  # the page's background
    frame.paste(top, (0, 0))
    frame.paste(bottom, (0, top.height + 10))
    frame.save(path, optimize=True)
    return path


def gif(frames: list[Path], path: Path, ms: int) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False
    images = [Image.open(f).convert("RGB") for f in frames]
    # one shared palette keeps the heatmap's colours steady across frames
    pal = images[-1].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    quant = [im.quantize(palette=pal, dither=Image.Dither.NONE) for im in images]
    quant[0].save(path, save_all=True, append_images=quant[1:], duration=ms, loop=0, optimize=True)
    return True


# the page shows pushed bar ``n`` (its heatmap column) and that bar's liquidation in the feed panel (the fake
# sends one forceOrder 30 s into each closed bar), nothing is in flight
READY = """n => { const s = window.liqmap, hm = s.heatmap; if (!hm || s.busy || hm.times_ms.length < n) return false;
  const last = hm.times_ms[hm.times_ms.length - 1]; return (s.feed || []).some(o => o.t === last + 30000); }"""
SHOWN = "() => [window.liqmap.heatmap.times_ms.length, window.liqmap.feed.length, window.liqmap.liquidations.count]"


def serve_live(args: argparse.Namespace, ws: FakeWs, rest: Any, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``liqmap serve --live`` against the fakes, once it answers HTTP and has stored the warm-start history."""
    cmd = ["--live", "--exchange", "binance", "--symbol", "BTCUSDT", "--db", tmp / "live.duckdb",
           "--history-minutes", args.history, "--oi-poll-s", "1", "--model", args.model, "--bins", args.bins,
           "--ws-url", f"binance={ws.url}", "--api-url", f"binance={rest.url}"]  # fmt: skip
    proc, port = start_serve(cmd, tmp / "serve.log", timeout_s=180)
    stored(port, time.monotonic() + 180)
    return proc, port


def take_frames(args: argparse.Namespace, port: int, ws: FakeWs) -> list[Path]:
    """Open the dashboard (Live ticked) and take ``args.frames`` shots, one per pushed bar after it loaded."""
    from playwright.sync_api import sync_playwright

    query = f"symbol=BTC/USDT:USDT&exchange=binance&model={args.model}&days=1&bins={args.bins}&live=1"
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": WIDTH, "height": MAX_HEIGHT})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"http://127.0.0.1:{port}/?{query}")
        page.wait_for_function("() => window.liqmap.heatmap && !window.liqmap.busy", timeout=120_000)
        n0 = page.evaluate("window.liqmap.heatmap.times_ms.length")
        print(f"page loaded: {n0} snapshots, {ws.script.sent.get('binance', 0)} frames streamed so far")
        for k in range(1, args.frames + 1):
            page.wait_for_function(READY, arg=n0 + k, timeout=120_000)
            page.wait_for_timeout(150)  # Plotly's redraw
            before = page.evaluate(SHOWN)
            path = shot(page, k, args.out)
            late = "" if page.evaluate(SHOWN) == before else " (the next push arrived during the shot)"
            written.append(path)
            print(f"{path}: {before[0]} snapshots, {before[1]} feed rows, {before[2]} realized liquidations{late}")
        browser.close()
    if errors:
        print("page errors:", *errors, sep="\n  ")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GALLERY, help="where the images go (default: docs/gallery/)")
    parser.add_argument("--frames", type=int, default=4, help="screenshots, one per pushed bar (4)")
    parser.add_argument("--history", type=int, default=20, help="bars warm-started from the REST fake (20)")
    parser.add_argument("--frame-delay", type=float, default=1.0, help="seconds between the fake's frames (1.0)")
    parser.add_argument("--model", default="volume", help="engine model of the live map (volume)")
    parser.add_argument("--bins", type=int, default=250, help="price bins of the map and heatmap (250)")
    parser.add_argument("--gif-ms", type=int, default=1200, help="GIF: milliseconds per frame (1200)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    # the history, then enough streamed bars (3 frames each: forming, closed, forceOrder) for the page to load
    # mid-stream and take every shot after that
    bars = minute_bars(args.history + args.frames + 12, FIRST_MINUTE_MS - args.history * MINUTE_MS)
    rest = rest_exchange(bars).start()
    ws = FakeWs(Script(bars[args.history :], frame_delay_s=args.frame_delay, liquidation_every=1)).start()
    try:
        with tempfile.TemporaryDirectory(prefix="liqmap-live-gallery-") as tmp:
            proc, port = serve_live(args, ws, rest, Path(tmp))
            try:
                written = take_frames(args, port, ws)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    finally:
        ws.stop()
        rest.stop()
    if gif(written, args.out / "live.gif", args.gif_ms):
        print(args.out / "live.gif")


if __name__ == "__main__":
    main()
