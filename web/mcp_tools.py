"""What the MCP tools answer, read through the viewer's own page builders (never SQL of their own).

Each function takes an `ArchiveReader` and plain arguments and returns a result model from
`web.mcp_results`; bad input raises `ToolInputError` with a one-line message for the agent. The same
withheld-aware read layer as every page is underneath, so nothing the policy withholds can come back.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import archive
from archive import ArchiveError, ChannelNotFound, MessageNotFound, UserNotFound
from web import cite, urls
from web.deps import ConnectionPool
from web.errors import NOT_FOUND_HINTS, MessageMoved, PageError, parse_id
from web.mcp_results import (
    Brief,
    CitationResult,
    Hit,
    MessageResult,
    Person,
    Place,
    Preview,
    Revision,
    SearchResult,
)
from web.routes.messages import build_citation, build_message_markdown, build_message_page
from web.search import (
    MAX_PAGE,
    MAX_QUERY_CHARS,
    NOTHING_MATCHED,
    SORTS,
    SearchBackend,
    SearchUnavailable,
    search_hits,
)
from web.settings import Settings

MAX_CONTEXT = 8  # messages on each side, as the permalink page shows
MAX_REPLIES = 25
CITE_FORMATS = tuple(cite.STYLES)
_MARK = re.compile(r"</?mark>")


class ToolInputError(Exception):
    """Input a tool can't answer (unknown id, unusable query, unknown format): the message says why."""


@dataclass(frozen=True)
class ArchiveReader:
    """One data dir as the tools read it: settings, pooled read-only connections and the search index."""

    settings: Settings
    connections: ConnectionPool
    search: SearchBackend

    @classmethod
    def open(cls, settings: Settings) -> ArchiveReader:
        """A reader of settings.data_dir (connections open lazily, on the first call)."""
        pool = ConnectionPool(settings.data_dir / archive.ARCHIVE_FILE)
        return cls(settings, pool, SearchBackend(settings.data_dir))

    @contextmanager
    def conn(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection for one call; archive and page errors become ToolInputError."""
        try:
            conn = self.connections.take()
        except ArchiveError as e:
            raise ToolInputError(f"The archive can't be read: {e}") from None
        try:
            yield conn
        except PageError as e:
            raise ToolInputError(f"{e.title}. {e.detail}".strip().rstrip(".") + ".") from None
        except (MessageNotFound, ChannelNotFound, UserNotFound) as e:
            text = str(e)
            hint = NOT_FOUND_HINTS.get(type(e), "")
            raise ToolInputError(f"{text[:1].upper()}{text[1:]}. {hint}".strip()) from None
        except (ArchiveError, sqlite3.Error) as e:  # e.g. an archive written by a newer Hallway
            raise ToolInputError(f"The archive can't be read: {e}") from None
        finally:
            self.connections.give(conn)


def parse(value: str | int, what: str) -> int:
    """An id an agent passed (digits, as a string or a number), or ToolInputError saying what ids look like."""
    try:
        return parse_id(str(value).strip(), what)
    except PageError as e:
        raise ToolInputError(f"{e.title}: {e.detail}") from None


def _choices(values: tuple[str, ...]) -> str:
    return ", ".join(values[:-1]) + " or " + values[-1]


def bounded(name: str, value: int, low: int, high: int) -> int:
    """value when low <= value <= high, else ToolInputError naming the parameter and its range."""
    if not low <= value <= high:
        raise ToolInputError(f"{name} must be between {low} and {high}; got {value}.")
    return value


def _person(author: dict[str, Any] | None) -> Person | None:
    return Person(id=author["id"], name=author["display_name"]) if author else None


def absolute(reader: ArchiveReader, path: str) -> str:
    """A site path as a URL under the base URL."""
    return urls.absolute(reader.settings.base_url, path)


def _snippet(snippet: str) -> str:
    """The index's HTML snippet (escaped text, <mark> around matches) as plain text with **matches**."""
    return html.unescape(_MARK.sub("**", snippet))


def search(reader: ArchiveReader, query: str, sort: str, limit: int, offset: int) -> SearchResult:
    """Hits for a search-box query; hints say what was ignored, and why nothing matched."""
    q = query.strip()
    if not q:
        raise ToolInputError(
            'The query is empty: give words or filters, e.g. "rotary embeddings" from:alice.'
        )
    if len(q) > MAX_QUERY_CHARS:
        raise ToolInputError(
            f"The query is {len(q)} characters long; at most {MAX_QUERY_CHARS} are searched."
        )
    if sort not in SORTS:
        raise ToolInputError(f"Unknown sort {sort!r}: choose {_choices(SORTS)}.")
    page_size = reader.settings.search_page_size
    bounded("limit", limit, 1, page_size)
    bounded("offset", offset, 0, MAX_PAGE * page_size - limit)
    with reader.conn() as conn:
        try:
            result, hits = search_hits(reader.search, conn, q, sort=sort, limit=limit, offset=offset)
        except SearchUnavailable as e:
            raise ToolInputError(f"Search is unavailable right now: {e}") from None
    hints = list(result.hints)
    if not result.total:
        if hints and not result.filters and not _searchable(reader, q):
            raise ToolInputError("Nothing in this query could be searched: " + " ".join(hints))
        hints.append(NOTHING_MATCHED)
    cut = result.has_more and offset + limit < MAX_PAGE * page_size
    return SearchResult(
        query=q,
        sort=result.sort,
        offset=result.offset,
        limit=limit,
        total=result.total,
        hits=[
            Hit(
                id=h["id"],
                permalink=absolute(reader, h["url"]),
                author=Person(id=h["author"]["id"], name=h["author"]["display_name"]),
                channel=Place(id=h["channel"]["id"], name=h["channel"]["name"]),
                thread_id=h["thread_id"],
                timestamp=h["timestamp"],
                snippet=_snippet(h["snippet"]),
                tombstone=h["tombstone"],
                conversation_id=h["conversation_id"],
                reply_to=h["reply_to"],
            )
            for h in hits
        ],
        hints=hints,
        filters=[str(c) for c in result.filters],
        suggestion=result.suggestion,
        cut=cut,
        next_offset=result.offset + len(hits) if cut else None,
    )


def _searchable(reader: ArchiveReader, q: str) -> bool:
    """Whether the parser found words to search in q (False: everything typed was ignored)."""
    _searcher, builder = reader.search.index().searcher()
    return builder.parse(q).has_text


def _message_page(
    conn: sqlite3.Connection, settings: Settings, message_id: int, version: int | None = None
) -> dict[str, Any]:
    """The permalink page's data; an id merged into another message is followed, as its URLs redirect."""
    try:
        return build_message_page(conn, settings, message_id, version)
    except MessageMoved as moved:
        return build_message_page(conn, settings, moved.message_id, version)


def _brief(reader: ArchiveReader, m: dict[str, Any]) -> Brief:
    return Brief(
        id=m["id"],
        permalink=absolute(reader, m["url"]),
        author=_person(m["author"]),
        timestamp=m["timestamp"],
        content=m["content"],
        tombstone=m["tombstone"],
        reply_to=m["reply_to"],
        edited=bool(m.get("edited_timestamp")),
        attachments=[a["file_name"] for a in m["attachments"]],
    )


def get_message(
    reader: ArchiveReader, message_id: str | int, context: int, version: int | None
) -> MessageResult:
    """A message (at a revision), with the messages around it, what it replies to and its replies."""
    mid = parse(message_id, "message")
    bounded("context", context, 0, MAX_CONTEXT)
    settings = replace(reader.settings, context_size=context)
    with reader.conn() as conn:
        page = _message_page(conn, settings, mid, version)
    preview = page["reply_preview"]
    replies = page["replies"]
    channel = page["channel"]
    return MessageResult(
        id=page["id"],
        permalink=page["permalink"],
        author=_person(page["author"]),
        channel=Place(id=channel["id"], name=channel["name"]) if channel else None,
        guild=page["guild"]["name"],
        timestamp=page["timestamp"],
        edited_timestamp=page["edited_timestamp"],
        content=page["content"],
        tombstone=page["tombstone"],
        version=page["version"],
        versions=len(page["revisions"]),
        revisions=[
            Revision(
                n=r["n"],
                edited_timestamp=r["edited_timestamp"],
                current=r["current"],
                chars=len(r["content"]),
            )
            for r in page["revisions"]
        ],
        sha256=page["citation"]["sha256"] if page["citation"] else None,
        low_fidelity=page["low_fidelity"],
        pinned=page["pinned"],
        attachments=[a["file_name"] for a in page["attachments"]],
        embeds=[e["title"] for e in page["embeds"] if e["title"]],
        reactions=[f"{r['emoji']} {r['count']}" for r in page["reactions"]],
        thread=Place(id=page["thread"]["id"], name=page["thread"]["name"]) if page["thread"] else None,
        conversation_id=page["conversation_id"],
        reply_to=Preview(
            id=preview["id"],
            permalink=absolute(reader, preview["url"]) if preview["url"] else None,
            author=_person(preview["author"]),
            excerpt=preview["excerpt"],
            tombstone=preview["tombstone"],
        )
        if preview
        else None,
        replies=[_brief(reader, r) for r in replies[:MAX_REPLIES]],
        reply_count=len(replies),
        context_before=[_brief(reader, m) for m in page["context"]["before"]],
        context_after=[_brief(reader, m) for m in page["context"]["after"]],
        cut=len(replies) > MAX_REPLIES,
        markdown_uri=f"hallway://m/{page['id']}",
    )


def cite_message(
    reader: ArchiveReader, message_id: str | int, style: str, version: int | None
) -> CitationResult:
    """The citation of a message revision in one format, the same text as its cite.* route."""
    mid = parse(message_id, "message")
    if style not in cite.STYLES:
        raise ToolInputError(f"Unknown citation format {style!r}: choose {_choices(CITE_FORMATS)}.")
    with reader.conn() as conn:
        page = _message_page(conn, reader.settings, mid, version)
    if page["citation"] is None:
        raise ToolInputError(f"Message {mid} can't be cited: {page['tombstone']}")
    c = build_citation(reader.settings, page)
    return CitationResult(
        id=page["id"],
        format=style,
        version=c.version,
        versions=c.versions,
        sha256=c.sha256,
        permalink=c.permalink,
        text=cite.build(c, style),
    )


def message_markdown(reader: ArchiveReader, message_id: str) -> str:
    """A message as its `.md` twin renders it."""
    mid = parse(message_id, "message")
    with reader.conn() as conn:
        page = _message_page(conn, reader.settings, mid)
    return build_message_markdown(reader.settings, page)
