"""Rebuild the bundled tier tables in src/liqmap/margin/tiers/ from ../shared/data and documented sources.

Run from the repo root: ``python scripts/build_tiers.py``. Each table records its origin and date.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "tiers"
OUT = ROOT / "src" / "liqmap" / "margin" / "tiers"

BINANCE_USDM = SHARED / "binance_usdm_leverage_tiers_2026-09.json"
BINANCE_SOURCE = (
    "Binance /fapi/v1/leverageBracket via ccxt fetch_leverage_tiers(), snapshot from freqtrade's "
    "binance_leverage_tiers.json (2026.9 release, GPL-3.0); shared/data/tiers/binance_usdm_leverage_tiers_2026-09.json"
)


def binance_tables() -> dict[str, dict]:
    raw = json.loads(BINANCE_USDM.read_text())
    tables: dict[str, dict] = {}
    for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT"):
        rows = [
            [t["info"]["notionalFloor"], t["info"]["notionalCap"], t["maxLeverage"], t["maintenanceMarginRate"],
             t["info"]["cum"]]
            for t in raw[symbol]
        ]
        tables[symbol] = {"valid_from": "2026-09", "source": BINANCE_SOURCE, "tiers": rows}
    # COIN-M BTCUSD perpetual: brackets in BTC. Floors and rates from ccxt's static test data
    # (ts/src/test/static/response/binance.json, options.leverageBrackets['BTC/USD:BTC']); the maintenance
    # amount follows Binance's published recursion (cum_n = floor_n·(mmr_n − mmr_{n−1}) + cum_{n−1}).
    floors = [0, 5, 10, 20, 50, 100, 200, 400, 1000, 1500]
    rates = [0.004, 0.005, 0.01, 0.025, 0.05, 0.10, 0.125, 0.15, 0.25, 0.50]
    max_lev = [125, 100, 50, 20, 10, 5, 4, 3, 2, 1]
    caps = [*floors[1:], 3000]
    tables["BTC/USD:BTC"] = {
        "valid_from": "unknown (ccxt static test snapshot)",
        "source": "ccxt ts/src/test/static/response/binance.json options.leverageBrackets['BTC/USD:BTC'] "
        "(floors, rates); max leverage per bracket and the last cap are assumptions [?]",
        "contract_size": 100.0,
        "tiers": [[f, c, m, r, None] for f, c, m, r in zip(floors, caps, max_lev, rates, strict=True)],
    }
    return tables


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for exchange, tables in (("binance", binance_tables()),):
        (OUT / f"{exchange}.json").write_text(json.dumps({"exchange": exchange, "tables": tables}, indent=1) + "\n")
        print(f"wrote {OUT / (exchange + '.json')}: {', '.join(tables)}")


if __name__ == "__main__":
    main()
