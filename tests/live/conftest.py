"""Fixtures for the live tests: the fake websocket exchange (fakews.py) and the fake REST exchange."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def make_ws():
    from fakews import FakeWs

    started = []

    def make(script):
        fake = FakeWs(script).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def make_rest():
    from fakews import rest_exchange

    started = []

    def make(bars):
        fake = rest_exchange(bars).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()
