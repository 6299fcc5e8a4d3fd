"""The viewer's one app factory: `create_app(settings)`; nothing is read at import time."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import archive
from archive import ArchiveError, ChannelNotFound, MessageNotFound, UserNotFound
from web import urls
from web.deps import ConnectionPool
from web.digest import DigestCache
from web.errors import NOT_FOUND_HINTS, MessageMoved, PageError
from web.head import HeadAsGet
from web.pages import THEME_COOKIE, THEMES, build_templates
from web.routes import channels, conversations, digest, feeds, home, media, messages, search, threads, users
from web.routes.docs import mount_docs
from web.search import SearchBackend
from web.settings import Settings

if TYPE_CHECKING:
    from web.mcp_server import HttpEndpoint

STATIC_DIR = Path(__file__).parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; font-src 'self';"
    " media-src 'self' https:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# /docs runs Swagger UI from the installed package; it sets style attributes, so it may use inline styles.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
MACHINE_SUFFIXES = (".json", ".md", ".bib", ".ris", ".atom")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """Adds the CSP and friends to every HTTP response that hasn't set its own CSP (media has a stricter one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path == "/docs" else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp.encode()))
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def wants_machine(request: Request) -> bool:
    """Whether an error should be JSON: a twin URL, or a client that asks only for JSON."""
    path = request.url.path
    # A citation URL with an unknown format (/m/1/cite.txt) is still an API call, not a page.
    if path.endswith(MACHINE_SUFFIXES) or path.startswith("/media/") or "/cite." in path:
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, status: int, title: str, detail: str) -> Response:
    """A helpful error: JSON `{"error", "detail", "status"}` for twins, an HTML page otherwise."""
    if wants_machine(request):
        return JSONResponse({"error": title, "detail": detail, "status": status}, status_code=status)
    templates = request.app.state.templates
    page = {"status": status, "title": title, "detail": detail, "path": request.url.path}
    theme = request.cookies.get(THEME_COOKIE)
    context = {"page": page, "theme": theme if theme in THEMES else "dark"}
    response: HTMLResponse = templates.TemplateResponse(request, "error.html", context, status_code=status)
    return response


def _register_errors(app: FastAPI) -> None:
    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return error_response(request, exc.status, exc.title, exc.detail)

    async def missing(request: Request, exc: Exception) -> Response:
        hint = NOT_FOUND_HINTS.get(type(exc), "")
        title = str(exc)
        return error_response(request, 404, title[:1].upper() + title[1:], hint)

    async def archive_error(request: Request, exc: Exception) -> Response:
        return error_response(request, 503, "The archive can't be read", str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return error_response(
                request,
                404,
                "Page not found",
                f"Nothing lives at {request.url.path}. Try the search or the channel list.",
            )
        return error_response(request, exc.status_code, "Request refused", str(exc.detail))

    async def bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}" for e in exc.errors()
        )
        return error_response(request, 400, "Bad request", problems)

    async def moved(request: Request, exc: Exception) -> Response:
        # A merged CSV/TXT record: every twin of its permalink (.json, .md, /cite.*) moves with it.
        assert isinstance(exc, MessageMoved)
        path = request.url.path.replace(f"/m/{exc.alias}", f"/m/{exc.message_id}", 1)
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(path + query, status_code=301)

    app.add_exception_handler(MessageMoved, moved)
    app.add_exception_handler(PageError, page_error)
    for cls in (MessageNotFound, ChannelNotFound, UserNotFound):
        app.add_exception_handler(cls, missing)
    app.add_exception_handler(ArchiveError, archive_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_request)


def _mcp_endpoint(settings: Settings, connections: ConnectionPool, backend: SearchBackend) -> HttpEndpoint:
    """The /mcp endpoint, reading through the same connection pool and index handle as the pages."""
    # Imported only when asked for: the MCP SDK takes about a second to import, which every worker
    # of a viewer without --mcp would pay for.
    from web.mcp_server import HttpEndpoint
    from web.mcp_tools import ArchiveReader

    return HttpEndpoint(ArchiveReader(settings, connections, backend))


def create_app(settings: Settings) -> FastAPI:
    """Build the viewer for one data dir: routes, templates, static files, error pages, security headers."""
    connections = ConnectionPool(settings.data_dir / archive.ARCHIVE_FILE)
    backend = SearchBackend(settings.data_dir)
    agents = _mcp_endpoint(settings, connections, backend) if settings.mcp else None
    app = FastAPI(
        title="Hallway",
        summary="A searchable, citable archive of DiscordChatExporter exports. Every HTML page has a .json twin.",
        version="1",
        docs_url=None,
        redoc_url=None,
        lifespan=agents.lifespan if agents else None,
    )
    app.state.settings = settings
    app.state.connections = connections
    app.state.templates = build_templates(settings)
    app.state.search = backend
    app.state.home_cache = {}
    app.state.digests = DigestCache()
    app.mount(urls.STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    mount_docs(app)
    # feeds first: /c/{id}.atom must not reach the page route /c/{channel_id}.
    for module in (feeds, digest, home, search, channels, messages, threads, conversations, users, media):
        app.include_router(module.router)
    if agents:
        app.router.routes.extend(agents.routes)
    _register_errors(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    return app


def create_app_from_env() -> FastAPI:
    """The uvicorn factory `hallway serve` starts in each worker: settings come from HALLWAY_SERVE_* variables."""
    return create_app(Settings.from_env(os.environ))
