"""Project exceptions (all ``ValueError`` subclasses, so callers may catch either) and a message helper."""

from __future__ import annotations


class LiqmapError(ValueError):
    """Base class for every error liqmap raises on bad input; the message says how to fix it."""


class UnknownSymbolError(LiqmapError):
    """An exchange/symbol pair liqmap has no rules or data for."""


class DataValidationError(LiqmapError):
    """A table or file that breaks the canonical schema (the message names rows and columns)."""


class StoreError(LiqmapError):
    """A store operation that cannot be carried out (missing table, bad path, empty query)."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when the message is empty), for one-line errors."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
