"""Rebuild the bundled tier tables in src/liqmap/margin/tiers/ from ../shared/data and documented sources.

Run from the repo root: ``python scripts/build_tiers.py``. Each table records its origin and date.
"""

from __future__ import annotations

import json
from pathlib import Path

from liqmap.margin import tiers_from_ccxt

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "tiers"
OUT = ROOT / "src" / "liqmap" / "margin" / "tiers"

BINANCE_USDM = SHARED / "binance_usdm_leverage_tiers_2026-09.json"
BINANCE_SOURCE = (
    "Binance /fapi/v1/leverageBracket via ccxt fetch_leverage_tiers(), snapshot from freqtrade's "
    "binance_leverage_tiers.json (2026.9 release, GPL-3.0); shared/data/tiers/binance_usdm_leverage_tiers_2026-09.json"
)
# File-level origin/date (defaults for every table of the file, which may override them).
FILE_FIELDS = {"binance": {"valid_from": "2026-09", "source": BINANCE_SOURCE}}
# Written without indentation: the Binance file holds every USDⓈ-M symbol of the dump.
COMPACT = {"binance"}


def _number(x: float) -> int | float:
    """``300000.0`` → ``300000`` (same value, fewer bytes in the JSON)."""
    return int(x) if float(x).is_integer() else float(x)


def binance_tables() -> dict[str, dict]:
    """Every USDⓈ-M symbol of the 2026-09 dump (rows ``[floor, cap, max leverage, MMR, cum]``, parsed by
    :func:`liqmap.margin.tiers_from_ccxt`; origin/date in ``FILE_FIELDS``) and the COIN-M BTCUSD table."""
    raw = json.loads(BINANCE_USDM.read_text())
    tables: dict[str, dict] = {}
    for symbol in sorted(raw):
        t = tiers_from_ccxt("binance", symbol, raw[symbol])
        columns = (t.notional_floor, t.notional_cap, t.max_leverage, t.maintenance_margin_rate, t.maintenance_amount)
        tables[t.symbol] = {"tiers": [[_number(x) for x in row] for row in zip(*columns, strict=True)]}
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


# Bybit BTCUSDT risk limits (linear, isolated and cross): (risk limit value, max leverage, MMR, deduction).
# Source: Bybit "Margin data" page (pt-PT copy of /announcement-info/margin-parameters, undated; tier 2 matches
# a v5 /market/risk-limit test fixture of the 2024–25 era). Every deduction satisfies Bybit's recursion.
BYBIT_BTCUSDT = [
    (2_000_000, 100, 0.005, 0),
    (2_600_000, 90, 0.0056, 1_200),
    (3_200_000, 80, 0.0063, 3_020),
    (3_800_000, 75, 0.0067, 4_300),
    (4_400_000, 70, 0.0071, 5_820),
    (5_000_000, 65, 0.0077, 8_460),
    (5_600_000, 55, 0.0091, 15_460),
    (8_500_000, 50, 0.01, 20_500),
    (10_000_000, 45, 0.013, 46_000),
    (14_000_000, 40, 0.015, 66_000),
    (20_000_000, 35, 0.016, 80_000),
    (28_000_000, 30, 0.02, 160_000),
    (38_000_000, 25, 0.025, 300_000),
    (50_000_000, 20, 0.029, 452_000),
    (55_000_000, 19, 0.03, 502_000),
]


def bybit_tables() -> dict[str, dict]:
    rows, floor = [], 0
    for cap, lev, mmr, ded in BYBIT_BTCUSDT:
        rows.append([floor, cap, lev, mmr, ded])
        floor = cap
    return {
        "BTC/USDT:USDT": {
            "valid_from": "2024–2025 (undated page)",
            "source": "Bybit margin-parameters page (risk limits, BTCUSDT), first 15 of 20 tiers (to 55M USDT)",
            "tiers": rows,
        },
        "BTC/USD:BTC": {
            "valid_from": "2022-12-26 (docs example) / 2026-09 (fixture)",
            "source": "bybit-exchange/docs v5/market/risk-limit.mdx inverse BTCUSD example and a v5 fixture; "
            "partial: 2 tiers (coin)",
            "tiers": [[0, 150, 100, 0.005, 0.0], [150, 300, 66.67, 0.01, 0.75]],
        },
    }


def okx_tables() -> dict[str, dict]:
    # OKX BTC-USDT-SWAP: tier 1 only (0–1,000 contracts, ctVal 0.01 BTC ⇒ 0–10 BTC), mmr 0.4 %, 100x, from
    # OKX /api/v5/public/position-tiers as cached by a freqtrade-based script (2026-08-12). Taker fee 0.05 % [?]
    # is added to the maintenance rate, as OKX's margin ratio does. Larger positions use tier 1 (partial table).
    return {
        "BTC/USDT:USDT": {
            "valid_from": "2026-08-12",
            "source": "OKX /api/v5/public/position-tiers BTC-USDT tier 1 (partial); ctVal 0.01 BTC from OKX "
            "instruments (nautilus_trader test data)",
            "contract_size": 0.01,
            "fee_rate": 0.0005,
            "tiers": [[0.0, 10.0, 100, 0.004, 0.0]],
        }
    }


# Hyperliquid margin tables (USDC-settled linear perps): (lower bound in USDC notional, max leverage) per tier.
# Source: the "Margin tiers" docs page (mainnet tables) and `meta.marginTables` as the info API serves them
# (tables 56 BTC, 55 ETH, 54 SOL, 52 DOGE/HYPE, in a public `meta` fixture whose universe ends with assets
# listed in Jan 2026). MMR = 1/(2·max leverage) per tier; the deduction is left to make_table's recursion,
# which is the docs' maintenance_deduction definition.
HYPERLIQUID_TIERS = {
    "BTC/USDC:USDC": [(0, 40), (150_000_000, 20)],
    "ETH/USDC:USDC": [(0, 25), (100_000_000, 15)],
    "SOL/USDC:USDC": [(0, 20), (70_000_000, 10)],
    "DOGE/USDC:USDC": [(0, 10), (20_000_000, 5)],
    "HYPE/USDC:USDC": [(0, 10), (20_000_000, 5)],
}
HYPERLIQUID_NO_CAP = 1e12  # Hyperliquid has no position limit; placeholder cap of the top tier (USDC)
HYPERLIQUID_SOURCE = (
    "Hyperliquid docs: trading/margin-tiers (mainnet tables; MMR = half the initial margin at the tier's max "
    "leverage; maintenance_deduction recursion), trading/liquidations (liq_price formula, tier at the "
    "liquidation price, mark-price trigger), trading/contract-specifications; cross-checked with the info "
    "API meta.marginTables (ids 52-56) in public SDK fixtures"
)
HYPERLIQUID_NOTES = [
    "top tier has no cap on Hyperliquid (contract specs: position limit N/A); its cap of 1e12 USDC is a placeholder",
    "tables confirmed for Dec 2025 - Mar 2026 from an undated docs page and an API fixture of about Jan 2026; "
    "the dates on which Hyperliquid last changed them are not confirmed",
    "fees, funding and the backstop (2/3 of maintenance) are not in the liquidation price",
]


def hyperliquid_tables() -> dict[str, dict]:
    tables: dict[str, dict] = {}
    for symbol, tiers in HYPERLIQUID_TIERS.items():
        caps = [floor for floor, _ in tiers[1:]] + [HYPERLIQUID_NO_CAP]
        rows = [[floor, cap, lev, 1 / (2 * lev), None] for (floor, lev), cap in zip(tiers, caps, strict=True)]
        tables[symbol] = {
            "valid_from": "2025-12 – 2026-03 (docs page undated)",
            "source": HYPERLIQUID_SOURCE,
            "notes": HYPERLIQUID_NOTES,
            "tiers": rows,
        }
    return tables


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for exchange, tables in (
        ("binance", binance_tables()),
        ("bybit", bybit_tables()),
        ("okx", okx_tables()),
        ("hyperliquid", hyperliquid_tables()),
    ):
        data = {"exchange": exchange, **FILE_FIELDS.get(exchange, {}), "tables": tables}
        path = OUT / f"{exchange}.json"
        if exchange in COMPACT:
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        else:
            text = json.dumps(data, indent=1)
        path.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {path} ({path.stat().st_size:,} bytes): {len(tables)} tables")


if __name__ == "__main__":
    main()
