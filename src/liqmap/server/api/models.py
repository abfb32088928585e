"""Response-model pieces shared by several routes, and the map report's response model, derived from the
analytics dataclasses (:func:`json_model`) so the API serves exactly ``MapReport.to_dict()``'s shape."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model

from liqmap import CAVEAT
from liqmap.analytics.report import MapReport
from liqmap.server.api.inputs import InputStatus
from liqmap.server.api.pipeline import Computed


class ErrorResponse(BaseModel):
    """Every error: one message saying what is wrong and how to fix it."""

    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "No stored data for the query (or no store at all)."},
    422: {"model": ErrorResponse, "description": "A parameter is out of range or inconsistent."},
    503: {"model": ErrorResponse, "description": "The store is locked by a writer; retry after Retry-After s."},
}


class SeriesInfo(BaseModel):
    """What a map-like response was computed from."""

    symbol: str = Field(description="ccxt unified symbol, e.g. BTC/USDT:USDT.")
    exchanges: list[str]
    model: str
    start_ms: int = Field(description="First bar of the window, UTC epoch ms.")
    end_ms: int = Field(description="Last bar of the window, UTC epoch ms.")
    last_bar_ms: int = Field(description="Last stored bar when this was computed (the cache key).")
    bars: int = Field(description="Bars the engine read.")
    warnings: list[str] = Field(description="Repairs the engine applied to the input (gaps, NaN OI, ...).")
    inputs: list[InputStatus] = Field(
        description="Which inputs are the venues' own, a proxy or missing: OI, funding, taker volume, realized "
        "liquidations, tier tables."
    )
    caveat: str = Field(default=CAVEAT, description="How to read a liquidation map.")


def series_info(c: Computed) -> dict[str, Any]:
    """The :class:`SeriesInfo` fields of a computed query."""
    return {
        "symbol": c.query.symbol,
        "exchanges": list(c.query.exchanges),
        "model": c.query.model.value,
        "start_ms": c.window.start_ms,
        "end_ms": c.window.end_ms,
        "last_bar_ms": c.window.last_bar_ms,
        "bars": len(c.bars),
        "warnings": list(c.output.warnings),
        "inputs": c.inputs,
    }


@functools.cache
def json_model(cls: type) -> type[BaseModel]:
    """The pydantic model of ``cls.to_dict()`` for an analytics dataclass, derived from its type hints: its
    fields (NumPy arrays, which ``to_dict`` omits, dropped) and properties, nested dataclasses as models,
    enums as their JSON strings (a ``str`` enum's value, else its lower-case name), sequences as lists and
    mappings keyed by strings. Unknown keys are rejected, so a change of the shape fails validation."""
    hints = typing.get_type_hints(cls)
    spec: dict[str, Any] = {
        f.name: (_json_type(hints[f.name]), ...) for f in dataclasses.fields(cls) if hints[f.name] is not np.ndarray
    }
    for name, attr in vars(cls).items():
        if isinstance(attr, property):
            spec[name] = (_json_type(typing.get_type_hints(attr.fget)["return"]), ...)
    return create_model(cls.__name__, __config__=ConfigDict(extra="forbid"), __doc__=cls.__doc__, **spec)


def _json_type(tp: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return json_model(tp)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return Literal[tuple(m.value if isinstance(m, str) else m.name.lower() for m in tp)]
    if origin in (list, tuple):
        return types.GenericAlias(list, (_json_type(args[0]),))
    if origin is dict:
        return types.GenericAlias(dict, (str, _json_type(args[1])))
    if origin in (Union, types.UnionType):
        return Union[tuple(_json_type(a) for a in args)]  # noqa: UP007 - built from a runtime tuple
    return tp


if TYPE_CHECKING:  # derived at run time; a type checker sees a plain model
    MapReportModel = BaseModel
else:
    MapReportModel = json_model(MapReport)  # the one JSON shape of a map report, as served by the API
