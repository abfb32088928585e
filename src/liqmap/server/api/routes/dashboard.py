"""The dashboard page at ``/``, its static files, and Plotly.js served from the installed package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(str(files("liqmap.server"))) / "static"
PLOTLY_JS = Path(str(files("plotly"))) / "package_data" / "plotly.min.js"
ASSETS = {"app.js": "text/javascript", "scan.js": "text/javascript", "style.css": "text/css"}
CACHE_DAY = {"Cache-Control": "public, max-age=86400"}


@router.get("/")
def index() -> FileResponse:
    """The single-page dashboard."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/scan")
def scan_page() -> FileResponse:
    """The screener page: ``/api/scan`` as a table whose rows link to each series' map."""
    return FileResponse(STATIC_DIR / "scan.html", media_type="text/html")


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    """Plotly.js from the installed ``plotly`` Python package (no CDN: works offline)."""
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=CACHE_DAY)


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    """One of the dashboard's own files (a fixed allow-list: no path is taken from the request)."""
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    return FileResponse(STATIC_DIR / name, media_type=ASSETS[name])
