"""GET /docs: the API explorer (Swagger UI) served from the installed swagger-ui-bundle, never from a CDN.

An air-gapped lab server has no CDN: the page must work offline, with a pinned version and no inline script
(the bootstrap is /static/docs.js, so the docs keep a strict `script-src 'self'`).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from web import urls

DOCS_ASSETS = "/docs/assets"
router = APIRouter()
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hallway API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{static}/docs.js"></script>
</body>
</html>
"""


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """The API explorer page."""
    return HTMLResponse(_PAGE.format(assets=DOCS_ASSETS, static=urls.STATIC_PREFIX))


def mount_docs(app: FastAPI) -> None:
    """The explorer's page and its assets (the FastAPI app must be built with docs_url=None)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    app.include_router(router)
