"""The archive as a Model Context Protocol server: read-only tools and Markdown resources for agents.

`hallway mcp` runs it over stdio; `hallway serve --mcp` mounts it over streamable HTTP at /mcp beside
the viewer. Every tool answers through `web.mcp_tools` (the viewer's page builders), and bad input comes
back as a tool result with `isError` and a one-line message, never as a protocol error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import urlsplit

import orjson
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

from web import mcp_digest, mcp_tools, mcp_transcripts
from web.mcp_results import CitationResult, DigestResult, MessageResult, SearchResult, Transcript
from web.mcp_tools import ArchiveReader, ToolInputError
from web.search import SORTS
from web.settings import Settings

MCP_PATH = "/mcp"
INSTRUCTIONS = (
    "A read-only archive of a Discord community. `search` takes the search box's language (words, "
    '"phrases", from:NAME, in:CHANNEL, has:link, before:/after:/during:DATE, in:conversation:ID); '
    "`get_message` reads one hit with its context; `get_conversation` and `get_thread` give transcripts; "
    "`digest` tells what happened in a window of days; `cite` gives BibTeX, CSL-JSON, RIS or Markdown pinned to the revision and its SHA-256. "
    "Cite permalinks, not snippets. Withheld content is not in the archive."
)
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
MessageId = Annotated[str | int, Field(description="A message id (Discord snowflake, digits)")]
Version = Annotated[
    int | None, Field(description="Revision number: 1 is the original text; omit for the current one")
]
# The enums are advertised in the schema but checked by the tools, so a wrong value gets a one-line answer.
Sort = Annotated[
    str, Field(description="relevance, newest or oldest", json_schema_extra={"enum": list(SORTS)})
]
Format = Annotated[
    str,
    Field(
        description="bibtex, csl-json, ris or markdown",
        json_schema_extra={"enum": list(mcp_tools.CITE_FORMATS)},
    ),
]
# The SDK evaluates these annotations at module level (postponed evaluation), so they live here.
Query = Annotated[str, Field(description="Search-box text, e.g. 'rotary embeddings from:alice'")]
Limit = Annotated[
    int, Field(description="Hits to return, 1 to the viewer's search page size (25 by default)")
]
Context = Annotated[int, Field(description=f"Messages before and after it (0 to {mcp_tools.MAX_CONTEXT})")]
Offset = Annotated[int, Field(description="Messages to skip, from a previous result's next_offset")]


def _result(model: BaseModel, text: str | None = None) -> CallToolResult:
    """A tool result: the model as structured content, and text for agents that read text only."""
    data = model.model_dump(mode="json")
    body = text if text is not None else orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
    return CallToolResult(content=[TextContent(type="text", text=body)], structured_content=data)


def _answer(call: Callable[[], BaseModel], text: Callable[[Any], str] | None = None) -> CallToolResult:
    """Run a tool body; ToolInputError becomes an isError result carrying its message."""
    try:
        model = call()
    except ToolInputError as e:
        return CallToolResult(content=[TextContent(type="text", text=str(e))], is_error=True)
    return _result(model, text(model) if text else None)


def build_server(reader: ArchiveReader) -> MCPServer[Any]:
    """An MCP server over one archive: six tools and two resource templates."""
    server: MCPServer[Any] = MCPServer(
        "hallway", title="Hallway archive", instructions=INSTRUCTIONS, version="1", log_level="WARNING"
    )

    @server.tool(annotations=READ_ONLY)
    def search(
        query: Query,
        sort: Sort = "relevance",
        limit: Limit = 10,
        offset: Annotated[int, Field(description="Hits to skip, from a previous result's next_offset")] = 0,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Search messages with the search box's language; hits carry ids for get_message, cite and get_conversation."""
        return _answer(lambda: mcp_tools.search(reader, query, sort, limit, offset))

    @server.tool(annotations=READ_ONLY)
    def get_message(
        id: MessageId,
        context: Context = 3,
        version: Version = None,
    ) -> Annotated[CallToolResult, MessageResult]:
        """Read one message: its text, edit history, tombstone state, the messages around it, its reply target and replies."""
        return _answer(lambda: mcp_tools.get_message(reader, id, context, version))

    @server.tool(annotations=READ_ONLY)
    def get_conversation(
        id: Annotated[str | int, Field(description="A conversation id, or the id of any message in it")],
        offset: Offset = 0,
    ) -> Annotated[CallToolResult, Transcript]:
        """Read a whole conversation (untangled from its channel) in order, as a Markdown transcript."""
        return _answer(lambda: mcp_transcripts.get_conversation(reader, id, offset), lambda t: t.markdown)

    @server.tool(annotations=READ_ONLY)
    def get_thread(
        id: Annotated[
            str | int, Field(description="A thread or forum post id, or a message id for its reply tree")
        ],
        offset: Offset = 0,
    ) -> Annotated[CallToolResult, Transcript]:
        """Read a thread, forum post or the replies under a message in order, as a Markdown transcript."""
        return _answer(lambda: mcp_transcripts.get_thread(reader, id, offset), lambda t: t.markdown)

    @server.tool(annotations=READ_ONLY)
    def cite(
        id: MessageId,
        format: Format,
        version: Version = None,
    ) -> Annotated[CallToolResult, CitationResult]:
        """Cite a message revision (permalink pinned to it, SHA-256 of its text) in one format, as the cite.* files give it."""
        return _answer(lambda: mcp_tools.cite_message(reader, id, format, version), lambda c: c.text)

    @server.tool(annotations=READ_ONLY)
    def digest(
        since: Annotated[str, Field(description="First day of the window, YYYY-MM-DD (UTC, inclusive)")],
        until: Annotated[
            str | None, Field(description="Last day, YYYY-MM-DD (UTC, inclusive); omit for today")
        ] = None,
        channel: Annotated[
            str | list[str] | None,
            Field(description="A channel name or id, or several; its threads and forum posts come along"),
        ] = None,
    ) -> Annotated[CallToolResult, DigestResult]:
        """What happened in a window of days: per channel, the busiest conversations with their ids and links."""
        channels = [channel] if isinstance(channel, str) else list(channel or [])
        return _answer(lambda: mcp_digest.digest(reader, since, until, channels), lambda d: d.markdown)

    @server.resource(
        "hallway://m/{message_id}", mime_type="text/markdown", description="A message as Markdown"
    )
    def message_resource(message_id: str) -> str:
        """A message with its replies and citation, as its .md twin."""
        try:
            return mcp_tools.message_markdown(reader, message_id)
        except ToolInputError as e:
            raise ResourceNotFoundError(str(e)) from None

    @server.resource("hallway://conv/{conversation_id}", mime_type="text/markdown",
                     description="A conversation as a Markdown transcript")  # fmt: skip
    def conversation_resource(conversation_id: str) -> str:
        """A conversation as its .md twin."""
        try:
            return mcp_transcripts.conversation_markdown(reader, conversation_id)
        except ToolInputError as e:
            raise ResourceNotFoundError(str(e)) from None

    return server


def serve_stdio(settings: Settings) -> None:
    """Serve the archive over stdin/stdout until the client hangs up."""
    build_server(ArchiveReader.open(settings)).run("stdio")


def _security(base_url: str) -> TransportSecuritySettings:
    """Host/Origin checks against DNS rebinding: loopback names, and the public base URL's host."""
    public = urlsplit(base_url)
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", public.netloc]
    origins = [
        "http://127.0.0.1:*",
        "http://localhost:*",
        "http://[::1]:*",
        f"{public.scheme}://{public.netloc}",
    ]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


class HttpEndpoint:
    """The streamable HTTP endpoint for one app: its routes, and the lifespan that runs its sessions.

    Stateless and JSON-only (no server-sent events): every request stands alone, so it works the same
    behind `hallway serve --workers N`, where consecutive requests may reach different processes.
    """

    def __init__(self, reader: ArchiveReader) -> None:
        self.server = build_server(reader)
        app = self.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            json_response=True,
            stateless_http=True,
            transport_security=_security(reader.settings.base_url),
        )
        self.routes: list[BaseRoute] = list(app.routes)

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        """Run the session manager for as long as the app runs."""
        async with self.server.session_manager.run():
            yield
