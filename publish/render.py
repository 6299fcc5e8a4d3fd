"""Pages as the server renders them, produced in-process: the viewer's own app, routes and page builders.

Most pages go through the app over ASGI (the URL is the interface, so a route that changes its
parameters keeps working here). Permalinks, a page per message, call the message page builder
directly, because one build then gives the page and its three citation files.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.requests import Request

from web import cite, pages, urls
from web.app import create_app
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

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        env = self.app.state.templates.env  # the site's own templates extend the viewer's base.html
        env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])
        self._request = Request(self._scope("/", b""))
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
        """GET a site URL from the app."""
        parts = urlsplit(url)
        reply: asyncio.Future[Rendered] = self._loop.create_future()
        self._inbox.put_nowait((parts.path, parts.query.encode(), reply))
        return self._loop.run_until_complete(reply)

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

    def template(self, name: str, page: dict[str, Any], **extra: Any) -> str:
        """Render one of the viewer's templates (or the site's own, which extend them) with a page."""
        templates = self.app.state.templates
        context = {"request": self._request, "page": page, "theme": "dark", **extra}
        return str(templates.env.get_template(name).render(context))
