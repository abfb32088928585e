"""Dashboard load and redraw times in a real browser (Playwright driving Debian's /usr/bin/chromium).

Starts ``liqmap serve`` in a subprocess on 127.0.0.1 over a temporary store holding the bundled sample (or
``--db``) and measures, with the page's own clock (``performance.now()`` when each chart was drawn, which
``app.js`` records in ``window.liqmap.drawnAt``):

* **first map**: navigation start → the liquidation map drawn, ``--n`` times on a fresh browser context
  (empty HTTP cache: Plotly.js's 3.5 MB downloaded and parsed) and ``--n`` times on a page reload (Plotly.js
  from the browser cache). The very first load of a fresh server also runs the engine (bars, numba kernels,
  the 30-day run) and is printed apart as "cold server"; the goals are checked on the loads after it;
* **control change**: the control's event → the map drawn again, ``--n`` times per control, each time with
  a value not asked before (so the server computes it): the threshold slider (page only), the by-leverage
  toggle, the leverage filter, the time scrubber (the map at T) and the range (a new engine run, heatmap
  and map).

Prints min/median per measure and one "goal" line each: first map < 1.5 s, control change < 300 ms; and the
size of the page's ``/api/heatmap`` response (the bins it draws, ``window_pct``) beside the same query's for
every bin.

    .venv/bin/python benchmarks/dashboard.py            # n = 5
    .venv/bin/python benchmarks/dashboard.py --n 9 --db liqmap-demo/liqmap.duckdb
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from _serve import start_serve

from liqmap.data.sample import load_sample_into
from liqmap.data.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
FIRST_MAP_GOAL_MS = 1_500.0
CHANGE_GOAL_MS = 300.0


def first_map_ms(browser, url: str, reloads: int) -> tuple[float, list[float]]:
    """Navigation start → the map drawn: on a fresh context (empty HTTP cache: Plotly.js is downloaded and
    parsed), then on ``reloads`` reloads of the page (Plotly.js from the browser cache, as a returning user)."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    times = []
    for k in range(reloads + 1):
        page.goto(url) if k == 0 else page.reload()
        page.wait_for_function("() => window.liqmap && window.liqmap.renders.map >= 1", timeout=120_000)
        times.append(float(page.evaluate("window.liqmap.drawnAt.map")))
        page.wait_for_function("() => window.liqmap.cascade !== null && !window.liqmap.busy", timeout=120_000)
    ctx.close()
    return times[0], times[1:]


def change_ms(page, action: str, charts: tuple[str, ...] = ("map",)) -> float:
    """Run ``action`` (JS firing a control's event) and return the ms until every chart of ``charts`` is drawn
    again (the last of them)."""
    before = page.evaluate(f"{list(charts)}.map(c => window.liqmap.renders[c] || 0)")
    t0 = page.evaluate(f"(() => {{ const t = performance.now(); {action}; return t; }})()")
    page.wait_for_function(
        f"() => {list(charts)}.every((c, k) => (window.liqmap.renders[c] || 0) > {before}[k])", timeout=120_000
    )
    ms = page.evaluate(f"Math.max(...{list(charts)}.map(c => window.liqmap.drawnAt[c]))") - t0
    page.wait_for_function("() => !window.liqmap.busy", timeout=120_000)  # levels, cascade: settle first
    page.wait_for_timeout(150)
    return float(ms)


def set_value(element: str, value: object, event: str = "change") -> str:
    return (
        f"const e = document.getElementById('{element}'); e.value = {json.dumps(str(value))}; "
        f"e.dispatchEvent(new Event('{event}', {{bubbles: true}}))"
    )


def set_days(days: float) -> str:
    """The range select set to ``days`` (the page adds an option for a value it lacks, as brushing does)."""
    return f"setDays('{days:g}'); document.getElementById('days').dispatchEvent(new Event('change', {{bubbles: true}}))"


def toggle(element: str) -> str:
    return f"document.getElementById('{element}').click()"


def controls(n: int) -> dict[str, tuple[Callable[[int], str], tuple[str, ...]]]:
    """Each measured control: the JS that changes it to its i-th (never repeated) value, the charts it redraws."""
    levels = [2, 3, 5, 10, 20, 25, 50, 100]
    days = [7, 14, 60, 90, 3, 45, 21, 10, 5, 4, 6]
    return {
        "threshold (page only)": (lambda i: set_value("threshold", (i % 10) * 4 + 2, "input"), ("map", "heatmap")),
        "by-leverage toggle": (lambda i: toggle("layers"), ("map",)),
        "leverage filter (min)": (lambda i: set_value("lev-min", levels[i % len(levels)]), ("map",)),
        "time scrubber (map at T)": (lambda i: set_value("at", 380 - 23 * i), ("map",)),
        "range: map (engine run)": (lambda i: set_days(days[i % len(days)]), ("map",)),
        "range: map + heatmap": (lambda i: set_days(days[(i + 5) % len(days)]), ("map", "heatmap")),
    }


HEATMAP_PAYLOAD_JS = """async () => {
  const e = performance.getEntriesByType("resource").filter((r) => r.name.includes("/api/heatmap")).pop();
  const every = new URL(e.name);
  every.searchParams.delete("window_pct");
  const all = await (await fetch(every)).text();
  const hm = window.liqmap.heatmap;
  return { bytes: e.decodedBodySize, bins: hm.price_bins.length, snapshots: hm.times_ms.length,
           every_bytes: all.length, every_bins: JSON.parse(all).price_bins.length };
}"""


def summary(label: str, values: list[float]) -> str:
    return f"  {label:<30} min {min(values):7.0f} ms   median {statistics.median(values):7.0f} ms   (n={len(values)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5, help="measurements per item (default 5)")
    ap.add_argument("--db", type=Path, help="store to serve (default: a temporary one with the bundled sample)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "sample.duckdb"
            with Store(db) as store:
                load_sample_into(store)
        proc, port = start_serve(["--db", db], Path(tmp) / "serve.log")
        url = f"http://127.0.0.1:{port}/"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                cold, _ = first_map_ms(browser, url, 0)  # the server's first request: engine run, numba, bars
                fresh = [first_map_ms(browser, url, 0)[0] for _ in range(args.n)]
                _, warm = first_map_ms(browser, url, args.n)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(url)
                page.wait_for_function("() => window.liqmap.cascade !== null && !window.liqmap.busy", timeout=120_000)
                payload = page.evaluate(HEATMAP_PAYLOAD_JS)  # the page's /api/heatmap, and the query for every bin
                changes: dict[str, list[float]] = {}
                for name, (action, charts) in controls(args.n).items():
                    changes[name] = [change_ms(page, action(i), charts) for i in range(args.n)]
                    if name.startswith("leverage"):
                        page.evaluate(set_value("lev-min", ""))
                    if name.startswith("time"):
                        page.evaluate("document.getElementById('at-latest').click()")
                    page.wait_for_timeout(300)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)

    print(f"dashboard in Debian chromium (Playwright), BTC/USDT:USDT binance 30 days 1,000 bins, n = {args.n}")
    print(f"  {'first map, cold server':<30} {cold:7.0f} ms   (engine run, numba kernels, bars)")
    print(summary("first map, empty browser cache", fresh))
    print(summary("first map, page reload", warm))
    for name, values in changes.items():
        print(summary(name, values))
    every = f"without window_pct {payload['every_bytes'] / 1e6:.2f} MB, {payload['every_bins']} bins"
    shape = f"{payload['snapshots']} snapshots × {payload['bins']} bins"
    print(f"  {'heatmap response':<30} {payload['bytes'] / 1e6:7.2f} MB  ({shape}; {every})")
    for label, values in (("empty browser cache", fresh), ("page reload", warm)):
        ok = statistics.median(values) < FIRST_MAP_GOAL_MS
        print(f"goal first map < {FIRST_MAP_GOAL_MS:,.0f} ms, {label}: {'met' if ok else 'not met'}")
    for name, values in changes.items():
        ok = statistics.median(values) < CHANGE_GOAL_MS
        print(f"goal control change < {CHANGE_GOAL_MS:.0f} ms, {name}: {'met' if ok else 'not met'}")
    print(
        json.dumps(
            {
                "first_map_cold_ms": round(cold),
                "first_map_empty_cache_ms": {"min": round(min(fresh)), "median": round(statistics.median(fresh))},
                "first_map_reload_ms": {"min": round(min(warm)), "median": round(statistics.median(warm))},
                "changes_ms": {
                    k: {"min": round(min(v)), "median": round(statistics.median(v))} for k, v in changes.items()
                },
                "heatmap_response": payload,
            }
        )
    )


if __name__ == "__main__":
    main()
