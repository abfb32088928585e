"""Fixtures for the server tests: a tmp DuckDB store loaded with the bundled real sample, apps over it
(real engine and analytics; engine runs counted), and Debian chromium for the browser tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from liqmap.data.sample import load_sample_into
from liqmap.data.store import Store
from liqmap.errors import StoreError
from liqmap.server import create_app
from liqmap.server.deps import Services, default_services

BTC = "BTC/USDT:USDT"
HOUR_MS = 3_600_000
LOCAL_URL = "http://127.0.0.1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the bundled sample (hourly BTC/ETH/SOL/DOGE/HYPE on binance, bybit, okx; OKX liquidations)."""
    path = tmp_path_factory.mktemp("server") / "sample.duckdb"
    with Store(path) as store:
        load_sample_into(store)
    return path


@pytest.fixture
def writable_db(sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of the sample store that a test may write to."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(sample_db, path)
    return path


def next_bar(db: Path, exchange: str = "binance", symbol: str = BTC, close: float = 99_999.0) -> int:
    """Upsert one more hourly bar after the last stored one (retrying while the server reads); its time."""
    for _ in range(100):
        try:
            with Store(db) as store:
                last = store.query_bars(exchange, symbol).tail(1).copy()
                last["timestamp"] += HOUR_MS
                last[["open", "high", "low", "close", "mark_price"]] = close
                store.upsert("bars", last)
                return int(last["timestamp"].iloc[0])
        except (StoreError, duckdb.Error):  # the app holds a read-only connection this instant
            time.sleep(0.02)
    raise AssertionError("could not write to the store")


@pytest.fixture
def add_bar() -> Callable[..., int]:
    """:func:`next_bar`: append one hourly bar to a store the test owns."""
    return next_bar


@dataclass
class Counted:
    """Services whose engine runs are recorded as (model, n_bars)."""

    services: Services
    runs: list[tuple[str, int]]


def counted_services(db: Path) -> Counted:
    base = default_services(db)
    runs: list[tuple[str, int]] = []

    def run_engine(bars: pd.DataFrame, model: str, *args):
        runs.append((model, len(bars)))
        return base.run_engine(bars, model, *args)

    return Counted(replace(base, run_engine=run_engine), runs)


@pytest.fixture
def app_factory() -> Callable[..., tuple[TestClient, Counted]]:
    """Build ``(TestClient, Counted)`` for a store path; clients are closed after the test."""
    clients: list[TestClient] = []

    def make(db: Path, **services: Callable) -> tuple[TestClient, Counted]:
        counted = counted_services(db)
        counted.services = replace(counted.services, **services)
        app = create_app(db, services=counted.services, poll_interval_s=0.05)
        client = TestClient(app, base_url=LOCAL_URL)  # the Host header must be one the app answers to
        clients.append(client.__enter__())
        return client, counted

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(app_factory, sample_db: Path) -> TestClient:
    return app_factory(sample_db)[0]


@pytest.fixture
def expected(sample_db: Path):
    """The bars and engine result for a query, computed directly (not through the server)."""
    from liqmap.engine import run
    from liqmap.engine.options import engine_config

    def compute(exchanges: list[str], start_ms: int, end_ms: int, model: str = "oi-delta", bins: int = 1000):
        with Store(sample_db, read_only=True) as store:
            bars = store.query_bars(exchanges, BTC, start_ms, end_ms)
        return bars, run(bars, model, engine_config(bars, n_bins=bins, max_snapshots=1000))

    return compute


class LiveServer:
    """The app served by uvicorn in a background thread on 127.0.0.1 and a free port."""

    def __init__(self, db: Path, **app_options: float) -> None:
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(create_app(db, **app_options), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 20 s")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(sample_db: Path) -> Iterator[LiveServer]:
    """The app over the sample store, served on loopback for the whole session."""
    server = LiveServer(sample_db)
    yield server
    server.stop()


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    """Start a :class:`LiveServer` over a given store (``poll_interval_s`` passed on); stopped after the test."""
    servers: list[LiveServer] = []

    def start(db: Path, **app_options: float) -> LiveServer:
        servers.append(LiveServer(db, **app_options))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if shutil.which("apt-get") is None:
        pytest.skip("no /usr/bin/chromium and no apt-get to install Debian's chromium package")
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True)
        done = subprocess.run(install, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"apt-get could not install chromium: {done.stderr.strip()[-300:]}")


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (installed with apt when missing; never downloaded)."""
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
