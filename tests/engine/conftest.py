"""Fixtures of the engine tests."""

from __future__ import annotations

import pandas as pd
import pytest
from engine_bars import random_bars


@pytest.fixture
def walk() -> pd.DataFrame:
    return random_bars()
