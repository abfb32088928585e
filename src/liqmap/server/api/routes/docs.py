"""``/docs`` (Swagger UI) and ``/redoc`` with their assets served from the installed ``fastapi-offline``
package, so the API docs work offline (FastAPI's defaults load them from a CDN)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from liqmap.server.api.routes.dashboard import CACHE_DAY, file_response

router = APIRouter(include_in_schema=False)

ASSETS_DIR = Path(str(files("fastapi_offline"))) / "static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
ASSET_URL = "/docs/static/"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{ASSET_URL}swagger-ui-bundle.js",
        swagger_css_url=f"{ASSET_URL}swagger-ui.css",
        swagger_favicon_url=f"{ASSET_URL}favicon.png",
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over ``/openapi.json``."""
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{ASSET_URL}redoc.standalone.js",
        redoc_favicon_url=f"{ASSET_URL}favicon.png",
        with_google_fonts=False,
    )


@router.get(ASSET_URL + "{name}")
async def docs_asset(name: str) -> Response:
    """One of the docs pages' assets (a fixed allow-list: no path is taken from the request)."""
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=f"no docs asset {name!r}")
    return file_response(ASSETS_DIR / name, ASSETS[name], CACHE_DAY)
