"""Pages as the server renders them, produced in-process: the viewer's own app, routes and page builders.

The URL is the interface: a page is asked for by its server URL and comes back as the server's response.
Most are answered by calling the route's own function with the arguments FastAPI would give it (its
path and query parameters, the request, a pooled connection, the settings): the ASGI round trip around
it (middleware, routing, a hop to a worker thread) cost a tenth of a build. A URL whose route takes
something else (a list query, another dependency), whose arguments don't convert, whose route raises
(errors and redirects are the app's exception handlers' to answer) or returns a file goes through the
app over ASGI, as a request to the server would. Permalinks, a page per message, call the message page
builder directly, because one build then gives the page and its three citation files.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import sqlite3
import types
import typing
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import params
from fastapi.routing import APIRoute
from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Match

from web import cite, pages, urls
from web.app import create_app
from web.deps import get_conn, get_settings
from web.routes.home import cached_home, seed_home
from web.routes.messages import build_citation, build_message_page
from web.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
_FILENAME = re.compile(r'filename="([^"]+)"')
CITE_BUILDERS = {"bib": cite.build_bibtex, "json": cite.build_csl_json, "ris": cite.build_ris}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A server response: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def filename(self) -> str | None:
        """The file name from Content-Disposition, if any."""
        m = _FILENAME.search(self.headers.get("content-disposition", ""))
        return m.group(1) if m else None


class Renderer:
    """The viewer app for one data dir, called without a network; also the permalink fast path."""

    def __init__(self, settings: Settings, home: tuple[int, dict[str, Any]] | None = None) -> None:
        """`home`: the home page's data, already built for that archive generation (see `seed_home`)."""
        self.settings = settings
        self.app = create_app(settings)
        if home is not None:
            seed_home(self.app, *home)
        env = self.app.state.templates.env  # the site's own templates extend the viewer's base.html
        env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])
        self._request = Request(self._scope("/", b""))
        self._routes: list[tuple[Any, dict[str, tuple[str, Any, Any]] | None]] | None = None
        # Requests are served by one task that lives as long as the renderer: the app runs its sync
        # routes in a worker thread that lives as long as the task that started it (anyio), so a task
        # per request (`run_until_complete` of each) would start a thread per page.
        self._loop = asyncio.new_event_loop()
        self._inbox: asyncio.Queue[tuple[str, bytes, asyncio.Future[Rendered]]] = asyncio.Queue()
        self._server = self._loop.create_task(self._serve())

    def close(self) -> None:
        """Stop the serving task (and with it the app's worker thread), then the event loop."""
        self._server.cancel()
        self._loop.run_until_complete(asyncio.gather(self._server, return_exceptions=True))
        self._loop.close()

    async def _serve(self) -> None:
        while True:
            path, query, reply = await self._inbox.get()
            try:
                reply.set_result(await self._get(path, query))
            except Exception as e:  # raised again in `get`
                reply.set_exception(e)

    def _scope(self, path: str, query: bytes) -> dict[str, Any]:
        return {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
            "raw_path": path.encode(), "query_string": query, "root_path": "", "app": self.app,
            "headers": [(b"host", b"static.invalid"), (b"accept", b"text/html")],
            "server": ("static.invalid", 80), "client": ("127.0.0.1", 0),
        }  # fmt: skip

    def get(self, url: str) -> Rendered:
        """GET a site URL from the app (its route called directly where it can be, see the module)."""
        parts = urlsplit(url)
        direct = self._direct(parts.path, parts.query)
        return direct if direct is not None else self.get_asgi(url)

    def get_asgi(self, url: str) -> Rendered:
        """GET a site URL through the whole app, over ASGI."""
        parts = urlsplit(url)
        reply: asyncio.Future[Rendered] = self._loop.create_future()
        self._inbox.put_nowait((parts.path, parts.query.encode(), reply))
        return self._loop.run_until_complete(reply)

    def _direct(self, path: str, query: str) -> Rendered | None:
        """The route's function called in this thread, or None when the URL must go over ASGI."""
        if self._routes is None:  # (in the app's order: the first route that matches answers)
            flat = _flat_routes(self.app.router.routes)
            self._routes = [(r, _plan_call(r) if isinstance(r, APIRoute) else None) for r in flat or ()]
        scope = self._scope(path, query.encode())
        route, call = None, None
        for r, plan in self._routes:
            match, child = r.matches(scope)
            if match is Match.FULL:
                route, call = r, plan
                break
            if match is Match.PARTIAL:  # the path is this route's for another method: the app answers
                return None
        if route is None or call is None:
            return None
        scope.update(child)
        pairs = parse_qsl(query, keep_blank_values=True)
        given = dict(pairs)
        if len(given) != len(pairs):  # a parameter given twice: FastAPI's rules, not ours
            return None
        pool = self.app.state.connections
        conn = None
        kwargs: dict[str, Any] = {}
        try:
            for name, (kind, convert, default) in call.items():
                if kind == "request":
                    kwargs[name] = Request(scope)
                elif kind == "settings":
                    kwargs[name] = self.settings
                elif kind == "conn":
                    conn = kwargs[name] = pool.take()
                elif kind == "path":
                    kwargs[name] = convert(scope["path_params"][name])
                elif name in given:
                    if convert is None:
                        return None
                    kwargs[name] = convert(given[name])
                elif default is _REQUIRED:
                    return None
                else:
                    kwargs[name] = default
            response = route.endpoint(**kwargs)
        except Exception:  # a bad argument, or the route's own error: the app's handlers answer it
            return None
        finally:
            if conn is not None:
                pool.give(conn)
        if not isinstance(response, Response) or isinstance(response, FileResponse | StreamingResponse):
            return None
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in response.raw_headers}
        return Rendered(response.status_code, headers, bytes(response.body))

    async def _get(self, path: str, query: bytes) -> Rendered:
        start: dict[str, Any] = {}
        body: list[bytes] = []

        asked: list[bool] = []

        async def receive() -> MutableMapping[str, Any]:
            if asked:  # the request had no body; anything after it is the client leaving
                return {"type": "http.disconnect"}
            asked.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await self.app(self._scope(path, query), receive, send)
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
        return Rendered(start.get("status", 500), headers, b"".join(body))

    def message(
        self, conn: sqlite3.Connection, message_id: int, v: int | None = None, accessed: date | None = None
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        """A permalink page (HTML), its citation files by extension (none for a tombstone), and its data;
        citations say they were accessed on `accessed` (default today)."""
        page = build_message_page(conn, self.settings, message_id, v, accessed)
        response = pages.html(
            self._request, "message.html", page, canonical=urls.message_url(message_id, v=v)
        )
        files: dict[str, str] = {}
        if page["citation"] is not None:
            c = build_citation(self.settings, page, accessed)
            files = {ext: build(c) for ext, build in CITE_BUILDERS.items()}
        return bytes(response.body).decode(), files, page

    def home(self, conn: sqlite3.Connection) -> dict[str, Any]:
        """The home page's data, as the server's home page has it (built once per archive generation)."""
        return cached_home(self._request, conn)

    def template(self, name: str, page: dict[str, Any], **extra: Any) -> str:
        """Render one of the viewer's templates (or the site's own, which extend them) with a page."""
        templates = self.app.state.templates
        context = {"request": self._request, "page": page, "theme": "dark", **extra}
        return str(templates.env.get_template(name).render(context))


_REQUIRED = object()
_INT = re.compile(r"-?\d{1,20}")


def _int(text: str) -> int:
    """An integer parameter, only in the plain form (anything else goes to FastAPI to judge)."""
    if not _INT.fullmatch(text):
        raise ValueError(text)
    return int(text)


_SCALARS: dict[Any, Callable[[str], Any]] = {str: str, int: _int}


def _flat_routes(routes: list[Any]) -> list[Any] | None:
    """The app's routes in the order it tries them, a router included whole (FastAPI keeps one as a
    route of its own) opened in place; None when one is included with a prefix, dependencies or routes
    it tries last, which the direct calls don't follow (every URL then goes over ASGI)."""
    out: list[Any] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is None:
            out.append(route)
            continue
        context = getattr(route, "include_context", None)
        if context is None or context.prefix or context.dependencies:
            return None
        if getattr(included, "_low_priority_routes", None):
            return None
        inner = _flat_routes(included.routes)
        if inner is None:
            return None
        out += inner
    return out


def _plan_call(route: APIRoute) -> dict[str, tuple[str, Any, Any]] | None:
    """How to call a GET route's function directly: per parameter, what it is (`request`, `settings`,
    `conn`, `path` or `query`), how to convert its text and its default; None when it takes anything else
    (then its URLs go over ASGI)."""
    if "GET" not in (route.methods or ()) or inspect.iscoroutinefunction(route.endpoint):
        return None
    hints = typing.get_type_hints(route.endpoint, include_extras=True)
    plan: dict[str, tuple[str, Any, Any]] = {}
    for name, p in inspect.signature(route.endpoint).parameters.items():
        hint = hints.get(name)
        if hint is Request:
            plan[name] = ("request", None, None)
            continue
        if hint is not None and typing.get_origin(hint) is typing.Annotated:
            depends = [m for m in hint.__metadata__ if isinstance(m, params.Depends)]
            if not depends:
                return None
            dependency = depends[0].dependency
            if dependency is get_conn:
                plan[name] = ("conn", None, None)
            elif dependency is get_settings:
                plan[name] = ("settings", None, None)
            else:
                return None
            continue
        convert = _scalar(hint)
        if name in route.param_convertors:
            if convert is None:
                return None
            plan[name] = ("path", convert, None)
            continue
        default = p.default
        if isinstance(default, params.Query):
            if default.alias is not None and default.alias != name:
                return None
            if default.metadata:  # (bounds to check): called directly only when the URL doesn't give it
                convert = None
            default = default.default
        if isinstance(default, params.Param):  # (a header, a cookie…)
            return None
        if default is inspect.Parameter.empty or default is ...:
            if convert is None:
                return None
            default = _REQUIRED
        plan[name] = ("query", convert, default)  # (no converter: only its default is called directly)
    return plan


def _scalar(hint: Any) -> Callable[[str], Any] | None:
    """The converter of a str or int parameter (optional or not), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else None
    return _SCALARS.get(hint)
