"""One switch for numba: ``LIQMAP_DISABLE_JIT=1`` runs every kernel as plain Python (for debugging and
for tests that check each ``*_nb`` kernel against its Python twin ``*_py``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from types import FunctionType, SimpleNamespace
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])

_NO_NRT: dict[str, Any] = {"_nrt": False}  # numba's (private) option: compile without reference counting
JIT_DISABLED = os.environ.get("LIQMAP_DISABLE_JIT", "") not in ("", "0")


def njit(func: F) -> F:
    """Compile ``func`` with ``numba.njit(cache=True)`` unless the JIT is disabled."""
    if JIT_DISABLED:
        return func
    return numba.njit(cache=True)(func)  # type: ignore[return-value]


def compile_twins(
    namespace: dict[str, Any], names: Iterable[str], inline: Iterable[str] = (), borrow: Iterable[str] = ()
) -> SimpleNamespace:
    """Compiled twins of the plain-Python kernels ``names`` found in a module's ``namespace``.

    Each twin is a copy of the function whose globals resolve its sibling kernels to their *compiled*
    versions, so the Python originals stay pure Python (the ``*_py`` twins) while the compiled ones call
    each other natively; being module-level functions, they hit numba's on-disk cache. Kernels in
    ``inline`` are inlined into their callers. Kernels in ``borrow`` are compiled without NRT reference
    counting (numba's ``_nrt=False``): they borrow their array arguments from the caller instead of
    incrementing and decrementing each array's reference count (two atomic operations per array and call —
    inlining does not avoid them, it assigns the arguments to new variables). Only for small leaf kernels
    that index arrays but never allocate, slice or return one, called from compiled kernels (which keep the
    arrays alive). Order ``names`` callees first.
    """
    env = dict(namespace)
    inline, borrow = set(inline), set(borrow)
    for name in names:
        f = namespace[name]
        twin = FunctionType(f.__code__, env, name, f.__defaults__)
        if JIT_DISABLED:
            env[name] = twin
        elif name in borrow:
            env[name] = numba.njit(cache=True, **_NO_NRT)(twin)
        elif name in inline:
            env[name] = numba.njit(cache=True, inline="always")(twin)
        else:
            env[name] = numba.njit(cache=True)(twin)
    return SimpleNamespace(**{name: env[name] for name in names})
