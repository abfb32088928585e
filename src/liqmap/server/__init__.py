"""liqmap's web dashboard and HTTP/websocket API over the embedded store (read-only).

Start it with ``liqmap serve`` or build the app yourself with :func:`create_app` (see docs/server.md).
"""

from liqmap.server.app import create_app

__all__ = ["create_app"]
