"""``liqmap liq-price`` and ``liqmap tiers``: exact liquidation prices and the tier tables behind them."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from liqmap.enums import MarginMode


def liq_price(
    exchange: Annotated[str, typer.Option(help="binance | bybit | okx")],
    symbol: Annotated[str, typer.Option(help="e.g. BTCUSDT, BTC/USDT:USDT, BTCUSD (inverse)")],
    side: Annotated[str, typer.Option(help="long | short")],
    entry: Annotated[float, typer.Option(help="Entry price (USD).")],
    leverage: Annotated[float, typer.Option(help="Leverage, e.g. 10.")],
    notional_usd: Annotated[
        float | None, typer.Option(help="Position value at entry (USD); default one coin (linear) or $100 (inverse).")
    ] = None,
    margin_mode: Annotated[MarginMode, typer.Option(help="isolated | cross")] = MarginMode.ISOLATED,
    wallet_usd: Annotated[float | None, typer.Option(help="Cross: wallet balance (USD).")] = None,
    other_maintenance_usd: Annotated[float, typer.Option(help="Cross: other positions' maintenance.")] = 0.0,
    other_pnl_usd: Annotated[float, typer.Option(help="Cross: other positions' unrealised PnL.")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Liquidation and bankruptcy price of one position under the exchange's real tiered margin rules."""
    from rich.console import Console
    from rich.table import Table

    from liqmap.margin import liquidation_price

    r = liquidation_price(
        exchange,
        symbol,
        side,
        entry=entry,
        leverage=leverage,
        notional_usd=notional_usd,
        margin_mode=margin_mode,
        wallet_usd=wallet_usd,
        other_maintenance_usd=other_maintenance_usd,
        other_unrealized_pnl_usd=other_pnl_usd,
    )
    if as_json:
        typer.echo(json.dumps(r.to_dict()))
        return
    table = Table(title=f"{r.exchange} {r.symbol} {r.side} {r.leverage:g}x @ {r.entry:,.2f} ({r.margin_mode})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("liquidation price (mark)", f"{r.liquidation_price:,.2f}  ({r.distance_pct:+.2f}%)")
    table.add_row("bankruptcy price", f"{r.bankruptcy_price:,.2f}")
    table.add_row("naive entry×(1∓1/L)", f"{r.naive_price:,.2f}  (off by {r.naive_price - r.liquidation_price:+,.2f})")
    table.add_row("tier / max leverage", f"{r.tier} / {r.tier_max_leverage:g}x")
    table.add_row("maintenance rate / amount", f"{r.maintenance_margin_rate:.4%} / {r.maintenance_amount:,.2f}")
    table.add_row("notional / margin", f"{r.notional_usd:,.2f} USD / {r.margin:,.6g}")
    Console().print(table)


def tiers(
    exchange: Annotated[str, typer.Option(help="binance | bybit | okx")],
    symbol: Annotated[str, typer.Option(help="e.g. BTCUSDT")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
) -> None:
    """Show a bundled maintenance-margin tier table with its origin and date."""
    from rich.console import Console
    from rich.table import Table

    from liqmap.margin import get_tiers

    t = get_tiers(exchange, symbol)
    rows = t.to_records()
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title=f"{t.exchange} {t.symbol} tiers ({t.valid_from})", caption=t.source)
    for col in ("tier", "floor", "cap", "max lev", "MMR", "maint. amount"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r["tier"]),
            f"{r['notional_floor']:,.0f}",
            f"{r['notional_cap']:,.0f}",
            f"{r['max_leverage']:g}x",
            f"{r['maintenance_margin_rate']:.3%}",
            f"{r['maintenance_amount']:,.2f}",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``liq-price`` and ``tiers``."""
    app.command("liq-price")(liq_price)
    app.command("tiers")(tiers)
