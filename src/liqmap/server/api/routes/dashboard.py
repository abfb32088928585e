"""The dashboard page at ``/``, its static files, and Plotly.js served from the installed package.

Files are answered from memory (read once per modification time), not from disk per request: under 50
clients ``FileResponse`` made ``/`` the slowest route (p50 188 ms against 25–33 ms for the API).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Response

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(str(files("liqmap.server"))) / "static"
PLOTLY_JS = Path(str(files("plotly"))) / "package_data" / "plotly.min.js"
ASSETS = {"app.js": "text/javascript", "scan.js": "text/javascript", "style.css": "text/css"}
CACHE_DAY = {"Cache-Control": "public, max-age=86400"}


@lru_cache(maxsize=32)
def _content(path: Path, mtime_ns: int) -> bytes:
    """The bytes of ``path`` as of ``mtime_ns`` (a changed file is read again)."""
    return path.read_bytes()


def file_response(path: Path, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """``path`` served from memory."""
    return Response(_content(path, path.stat().st_mtime_ns), media_type=media_type, headers=headers)


@router.get("/")
async def index() -> Response:
    """The single-page dashboard."""
    return file_response(STATIC_DIR / "index.html", "text/html")


@router.get("/scan")
async def scan_page() -> Response:
    """The screener page: ``/api/scan`` as a table whose rows link to each series' map."""
    return file_response(STATIC_DIR / "scan.html", "text/html")


@router.get("/static/plotly.min.js")
async def plotly_js() -> Response:
    """Plotly.js from the installed ``plotly`` Python package (no CDN: works offline)."""
    return file_response(PLOTLY_JS, "text/javascript", CACHE_DAY)


@router.get("/static/{name}")
async def asset(name: str) -> Response:
    """One of the dashboard's own files (a fixed allow-list: no path is taken from the request)."""
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    return file_response(STATIC_DIR / name, ASSETS[name])
