"""``liqmap serve`` in a subprocess on a free 127.0.0.1 port, for the gallery scripts and the benchmarks (which
put ``scripts/`` on ``sys.path``): the one place that starts it and waits until it accepts connections."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    """A port no one listens on at 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(args: Sequence[object], log: Path, timeout_s: float = 120.0) -> tuple[subprocess.Popen[bytes], int]:
    """``liqmap serve ARGS --port P`` (this interpreter's ``liqmap``), its output to ``log``, once it accepts
    connections: ``(process, P)``. Raises RuntimeError with the log's tail if it exits or does not start."""
    port = free_port()
    cmd = [sys.executable, "-m", "liqmap", "serve", *map(str, args), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"liqmap serve exited: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"liqmap serve did not start within {timeout_s:g} s: {log.read_text()[-2000:]}")
