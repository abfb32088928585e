"""``GET /api/scan``: the screener over every stored series (``liqmap scan --json``'s shape), cached per store
version like ``/api/symbols``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from liqmap.analytics.scan import SORT_COLUMNS, Scan, ScanSettings
from liqmap.engine.enums import Model
from liqmap.enums import Exchange
from liqmap.errors import LiqmapError, StoreError
from liqmap.server.api.models import ERROR_RESPONSES, json_model
from liqmap.server.api.params import MAX_BINS, MAX_DAYS, MIN_BINS
from liqmap.server.api.pipeline import cached_body
from liqmap.server.deps import ServerState, get_state
from liqmap.symbols import normalize_symbol

router = APIRouter(tags=["analytics"], responses=ERROR_RESPONSES)

MAX_SCAN_SERIES = 200  # series one request may scan (≈ 0.1 s each here); narrow with exchange= / symbol=
MAX_SYMBOLS = 50
DEFAULTS = ScanSettings()  # the screener's shared defaults (CLI and API)
if TYPE_CHECKING:  # derived at run time; a type checker sees a plain model
    ScanResponse = BaseModel
else:
    ScanResponse = json_model(Scan)  # the one JSON shape of a scan: Scan.to_dict()
SortColumn = Literal[SORT_COLUMNS]  # type: ignore[valid-type]


@router.get("/api/scan", response_model=ScanResponse, summary="Screener over every stored symbol × venue")
async def get_scan(
    state: Annotated[ServerState, Depends(get_state)],
    exchange: Annotated[
        list[Exchange] | None, Query(description="Only these exchanges (repeat); default every stored one.")
    ] = None,
    symbol: Annotated[
        list[Annotated[str, Query(max_length=40, pattern=r"^[A-Za-z0-9/:_\-]+$")]] | None,
        Query(description=f"Only these symbols (repeat, at most {MAX_SYMBOLS}); default every stored one."),
    ] = None,
    min_cluster_usd: Annotated[
        float, Query(allow_inf_nan=False, gt=0, le=1e12, description="Smallest cluster reported each side, USD.")
    ] = DEFAULTS.min_cluster_usd,
    window_pct: Annotated[
        float, Query(allow_inf_nan=False, gt=0, le=50, description="Imbalance window, ± % of price.")
    ] = DEFAULTS.window_pct,
    notional_usd: Annotated[
        float,
        Query(
            allow_inf_nan=False, gt=0, le=1e12, description="Notional whose liquidation the move columns measure, USD."
        ),
    ] = DEFAULTS.notional_usd,
    shock_pct: Annotated[
        float, Query(allow_inf_nan=False, ge=0.01, le=50, description="± shock of the cascade columns, %.")
    ] = DEFAULTS.shock_pct,
    days: Annotated[
        float, Query(allow_inf_nan=False, gt=0, le=MAX_DAYS, description="Bars read per series: the last N days.")
    ] = (DEFAULTS.days),
    model: Annotated[Model, Query(description="Engine model.")] = Model.OI_DELTA,
    bins: Annotated[int | None, Query(ge=MIN_BINS, le=MAX_BINS, description="Price bins (engine default).")] = None,
    sort: Annotated[SortColumn, Query(description="Row key to sort by.")] = "symbol",
    desc: Annotated[bool, Query(description="Sort descending (missing values last).")] = False,
) -> Response:
    """One row per stored (exchange, symbol): nearest cluster ≥ min_cluster_usd below and above price, the
    ±window_pct imbalance, the move needed to liquidate notional_usd each way, the ±shock_pct cascade
    amplification and the last bar's time and age. Venues without a tier table borrow Binance's."""
    if symbol and len(symbol) > MAX_SYMBOLS:
        raise LiqmapError(f"at most {MAX_SYMBOLS} symbols per scan, got {len(symbol)}")
    settings = ScanSettings(
        min_cluster_usd=min_cluster_usd,
        window_pct=window_pct,
        notional_usd=notional_usd,
        shock_pct=shock_pct,
        days=days,
    )
    exchanges = tuple(sorted({e.value for e in exchange or ()}))
    symbols = tuple(symbol or ())
    params = (settings, exchanges, symbols, model.value, bins, sort, desc)

    version = state.services.store_version()  # None: unknown, scan every time
    key = None if version is None else ("scan", version, params)
    body = await cached_body(state, key, lambda: build_scan(state, *params))
    return Response(content=body, media_type="application/json")


def build_scan(
    state: ServerState,
    settings: ScanSettings,
    exchanges: tuple[str, ...],
    symbols: tuple[str, ...],
    model: str,
    bins: int | None,
    sort: str,
    desc: bool,
) -> ScanResponse:
    """Scan the store serially (one engine slot for the whole scan) through the app's store access."""
    from liqmap.scan import jobs_from, scan_open_store

    with state.engine_slots, state.services.open_store() as store:
        stored = store.symbols()
        jobs = jobs_from(stored, exchanges, symbols)
        if not jobs:
            held = sorted(set(stored["symbol"].astype(str)))
            shown = ", ".join(held[:8]) + (f", … ({len(held)} symbols)" if len(held) > 8 else "")
            wanted = ", ".join(normalize_symbol(s) for s in symbols) or "any symbol"
            raise StoreError(
                f"the store holds no bars for {wanted} on {', '.join(exchanges) or 'any exchange'}; "
                f"stored: {shown or 'nothing'}; GET /api/symbols lists them all"
            )
        if len(jobs) > MAX_SCAN_SERIES:
            raise LiqmapError(
                f"{len(jobs)} series exceed the {MAX_SCAN_SERIES}-series cap of one scan; narrow it with exchange= "
                "or symbol= (or run `liqmap scan --dask`)"
            )
        result = scan_open_store(
            store, jobs, settings, model=model, n_bins=bins, tiers_from="binance", sort=sort, descending=desc
        )
    return ScanResponse(**result.to_dict())
