"""One switch for numba: ``LIQMAP_DISABLE_JIT=1`` runs every kernel as plain Python (for debugging and
for tests that check each ``*_nb`` kernel against its Python twin ``*_py``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])

JIT_DISABLED = os.environ.get("LIQMAP_DISABLE_JIT", "") not in ("", "0")


def njit(func: F) -> F:
    """Compile ``func`` with ``numba.njit(cache=True)`` unless the JIT is disabled."""
    if JIT_DISABLED:
        return func
    return numba.njit(cache=True)(func)  # type: ignore[return-value]
