"""Fixtures for the robustness trials: a store holding the bundled sample and ``liqmap serve``'s app served
by uvicorn on loopback with the command's own limits, its log records kept for inspection."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from liqmap.cli.serve import uvicorn_config
from liqmap.data.sample import load_sample_into
from liqmap.data.store import Store
from liqmap.server import create_app


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the bundled sample (hourly BTC/ETH/SOL/DOGE/HYPE on binance, bybit, okx; OKX liquidations)."""
    path = tmp_path_factory.mktemp("robustness-server") / "sample.duckdb"
    with Store(path) as store:
        load_sample_into(store)
    return path


class Records(logging.Handler):
    """Keeps every log record of the server (uvicorn's and liqmap's)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class ServedApp:
    """``create_app`` served by uvicorn with :func:`liqmap.cli.serve.uvicorn_config` (h11, 16 KiB headers,
    200 connections, 64 KiB websocket messages) in a background thread on 127.0.0.1 and a free port."""

    def __init__(self, db: Path, **app_options: float) -> None:
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn_config(create_app(db, **app_options), "127.0.0.1", self.port)
        config.log_level = logging.WARNING
        self.log = Records()
        # uvicorn configures its loggers when the Config is built; listen after that
        self._loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.access", "liqmap")]
        for lg in self._loggers:
            lg.addHandler(self.log)
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
        for lg in self._loggers:
            lg.removeHandler(self.log)


@pytest.fixture(scope="module")
def served(sample_db: Path) -> Iterator[ServedApp]:
    """The app over the sample store, served on loopback for the module."""
    app = ServedApp(sample_db)
    yield app
    app.stop()
