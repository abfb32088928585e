"""Lazy package exports (PEP 562): ``from liqmap.engine import run`` imports ``liqmap.engine.api`` (and
numba, pandas…) on first use, so importing a light submodule such as ``liqmap.engine.enums`` — as the CLI
does for its option types — does not pull the whole package in."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any


def attach(
    package: str, exports: Mapping[str, str], shadowed: tuple[str, ...] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose public ``exports`` map each name to its submodule.

    ``shadowed`` names are both an export and a submodule (``liqmap.analytics.imbalance``): importing the
    submodule would bind the module over the export, so the package keeps the export, as an eager
    ``from .imbalance import imbalance`` in its ``__init__`` would.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:  # noqa: N807
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*namespace, *exports})

    if shadowed:
        keep = frozenset(shadowed)

        class _Package(ModuleType):
            def __setattr__(self, name: str, value: Any) -> None:
                if name in keep and isinstance(value, ModuleType):
                    return  # the name resolves through __getattr__ to the export instead
                super().__setattr__(name, value)

        sys.modules[package].__class__ = _Package
    return __getattr__, __dir__
