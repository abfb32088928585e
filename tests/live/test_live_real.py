"""Against the real venues' websockets (``pytest -m live``; off by default and in CI, which has no network)."""

from __future__ import annotations

import asyncio

import pytest

from liqmap.live.parsers import Bar, parser_for
from liqmap.live.streams import StreamState, read_stream, stream_specs

pytestmark = pytest.mark.live
BTC = "BTC/USDT:USDT"


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx"])
def test_a_real_stream_yields_btc_minute_bars(exchange):
    parser = parser_for(exchange, [BTC])
    spec = next(s for s in stream_specs(exchange, [BTC]) if s.name != "okx public")
    bars: list[Bar] = []

    async def main() -> None:
        stop = asyncio.Event()

        def on_frame(frame, _t):
            bars.extend(e for e in parser.parse(frame) if isinstance(e, Bar))
            if bars:
                stop.set()

        task = asyncio.create_task(read_stream(spec, on_frame, StreamState(), stop, stale_s=20))
        try:
            await asyncio.wait_for(stop.wait(), 30)
        finally:
            stop.set()
            await task

    asyncio.run(main())
    assert bars and bars[0].symbol == BTC and 1_000 < bars[0].close < 10_000_000
    assert parser.drops.total == 0, parser.drops.counts
