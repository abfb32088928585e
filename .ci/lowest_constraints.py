"""Print a pip constraints file pinning every ``>=`` bound of pyproject.toml (dependencies and extras).

``make test-lowest`` installs with it, so the declared lower bounds are what gets tested.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_PIN = re.compile(r"^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def lowest_pins(pyproject: Path) -> list[str]:
    """``name==version`` for each requirement of ``pyproject`` declared as ``name>=version``."""
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    return [f"{m[1]}=={m[2]}" for r in requirements if (m := _PIN.match(r))]


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.stdout.write("\n".join(lowest_pins(root / "pyproject.toml")) + "\n")
