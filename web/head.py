"""HEAD answered like GET without a body, on every route (link checkers probe permalinks with HEAD).

FastAPI routes declare GET only, so HEAD got 405 and checkers reported permalinks as broken. This middleware
runs the GET and sends its status and headers (Content-Length included, as GET would) with an empty body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class HeadAsGet:
    """ASGI middleware: HEAD runs as GET; the body is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # /mcp streams (server-sent events) and speaks its own protocol: HEAD is not turned into a GET there.
        if (
            scope["type"] != "http"
            or scope.get("method") != "HEAD"
            or scope.get("path", "").startswith("/mcp")
        ):
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body":
                if finished or message.get("more_body", False):
                    return
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
