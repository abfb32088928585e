"""Shared fixtures for the data-layer tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from liqmap.data.store import Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def store(db_path: Path):
    with Store(db_path) as s:
        yield s


@pytest.fixture
def fake_exchange():
    from fakeexchange import FakeExchange

    fake = FakeExchange().start()
    yield fake
    fake.stop()
