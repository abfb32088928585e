"""Calibration profiles: named, versioned sets of engine assumptions with what they were fitted on.

``prior`` is the engine's uncalibrated assumptions (:class:`EngineConfig`'s defaults). ``default`` is fitted
to realized liquidation amounts and timing (``liqmap calibrate``; :mod:`liqmap.analytics.calibration`) and
is what every surface — CLI, API, demo, dashboard — uses unless told otherwise; each output names it.
Profiles are package data (``liqmap/engine/profile_files/*.json``); a path to such a file works too.

>>> load_profile("prior").config().profile
'prior'
>>> load_profile("default").config(bin_usd=50.0).profile
'default'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from liqmap.engine.config import EngineConfig
from liqmap.errors import LiqmapError

PRIOR = "prior"
DEFAULT = "default"
# What a profile sets: the model's assumptions, not the grid, the time step or the tier lending of a run.
_RUN_OPTIONS: tuple[str, ...] = ("profile", "tier_exchange", "tier_tables", "n_bins", "bin_usd", "price_range")
_RUN_OPTIONS += ("range_pad_pct", "snapshot_every_ms", "max_snapshots", "keep_leverage_layers")
SETTINGS = tuple(f.name for f in fields(EngineConfig) if f.name not in _RUN_OPTIONS)


@dataclass(frozen=True)
class Profile:
    """A named set of EngineConfig settings with its provenance and scores."""

    name: str
    version: int
    description: str
    settings: dict[str, Any] = field(default_factory=dict)
    fitted_at: str = ""
    fitted_on: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)

    def config(self, **overrides: Any) -> EngineConfig:
        """The EngineConfig of this profile with ``overrides`` (``None`` values ignored) on top."""
        extra = {k: v for k, v in overrides.items() if v is not None}
        return EngineConfig(**{**self.settings, **extra, "profile": self.name})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the file format)."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "fitted_at": self.fitted_at,
            "fitted_on": self.fitted_on,
            "settings": self.settings,
            "scores": self.scores,
        }


def settings_of(config: EngineConfig) -> dict[str, Any]:
    """JSON-ready EngineConfig fields of ``config`` (enums as names, tuples as lists) for a profile file."""
    out: dict[str, Any] = {}
    for name in SETTINGS:
        v = getattr(config, name)
        out[name] = v.name.lower() if hasattr(v, "name") else list(v) if isinstance(v, tuple) else v
    return out


def available_profiles() -> list[str]:
    """Names of the bundled profiles (``prior`` first)."""
    files = resources.files("liqmap.engine") / "profile_files"
    return [PRIOR, *sorted(p.name[: -len(".json")] for p in files.iterdir() if p.name.endswith(".json"))]


def load_profile(name: str = DEFAULT) -> Profile:
    """The bundled profile ``name`` (``prior`` is EngineConfig's defaults), or a profile JSON file's path."""
    if name == PRIOR:
        return Profile(PRIOR, 1, "the engine's uncalibrated assumptions (EngineConfig defaults)")
    return _load(str(name))


@cache
def _load(name: str) -> Profile:
    path = Path(name)
    if path.suffix == ".json" and path.is_file():
        text = path.read_text()
    else:
        res = resources.files("liqmap.engine") / "profile_files" / f"{name}.json"
        if not res.is_file():
            raise LiqmapError(f"unknown profile {name!r}; bundled: {', '.join(available_profiles())} (or a .json path)")
        text = res.read_text()
    try:
        raw = json.loads(text)
        unknown = set(raw["settings"]) - set(SETTINGS)
        if unknown:
            raise LiqmapError(f"profile {name!r}: unknown setting(s) {sorted(unknown)}")
        profile = Profile(**raw)
        profile.config()  # validates every setting once, with EngineConfig's messages
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise LiqmapError(f"profile {name!r} is malformed ({exc}); rewrite it with `liqmap calibrate`") from None
    return profile
