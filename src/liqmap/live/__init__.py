"""Live: stream the venues' websockets, keep one incremental engine per venue and symbol, store and alert.

* :mod:`liqmap.live.parsers` — raw frames → canonical bars and liquidations (bad frames counted, dropped);
* :mod:`liqmap.live.streams` — each venue's endpoints and subscriptions, reconnecting with backoff;
* :mod:`liqmap.live.runner` — REST backfill, warm start, closed-bar updates, batched store writes, OI polls;
* :mod:`liqmap.live.alerts` — alert rules with hysteresis and their sinks (console, JSONL, webhook).

See docs/live.md.
"""
