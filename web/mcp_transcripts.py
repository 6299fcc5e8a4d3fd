"""The MCP transcript tools: a conversation, thread or reply tree in order, as its `.md` twin renders it.

Long ones come in windows (`offset`, `cut`, `next_offset`) so one answer stays a readable size.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from archive import conversation_views
from web import urls
from web.mcp_results import Transcript
from web.mcp_tools import ArchiveReader, absolute, bounded, parse
from web.routes.conversations import build_conversation_markdown, build_conversation_page
from web.routes.threads import build_thread_markdown, build_thread_page

MAX_TRANSCRIPT_MESSAGES = 200
MAX_TRANSCRIPT_CHARS = 60_000


def _window(messages: list[dict[str, Any]], offset: int) -> list[dict[str, Any]]:
    """The messages from offset on, as many as fit the transcript bounds (at least one)."""
    out: list[dict[str, Any]] = []
    chars = 0
    for m in messages[offset : offset + MAX_TRANSCRIPT_MESSAGES]:
        chars += len(m["content"] or m["tombstone"] or "") + 200  # header line and link
        if out and chars > MAX_TRANSCRIPT_CHARS:
            break
        out.append(m)
    return out


def _transcript(
    kind: str, page: dict[str, Any], offset: int, shown: list[dict[str, Any]], md: str
) -> Transcript:
    total = len(page["messages"])
    cut = offset + len(shown) < total
    return Transcript(
        id=page["id"],
        kind=kind,
        title=page["title"],
        permalink=page["permalink"],
        message_count=total,
        offset=offset,
        shown=len(shown),
        cut=cut,
        next_offset=offset + len(shown) if cut else None,
        markdown=md,
    )


def _conversation_page(reader: ArchiveReader, conn: sqlite3.Connection, value: str | int) -> dict[str, Any]:
    """A conversation's page by its id, or by the id of any message in it."""
    cid = parse(value, "conversation")
    if not conversation_views.conversation_exists(conn, cid):
        cid = conversation_views.find_conversation_id(conn, cid) or cid
    page = build_conversation_page(conn, reader.settings, cid)
    page["permalink"] = absolute(reader, page["url"])
    return page


def get_conversation(reader: ArchiveReader, conversation_id: str | int, offset: int) -> Transcript:
    """A conversation's transcript in order (a window of it when long)."""
    with reader.conn() as conn:
        page = _conversation_page(reader, conn, conversation_id)
    bounded("offset", offset, 0, max(len(page["messages"]) - 1, 0))
    shown = _window(page["messages"], offset)
    md = build_conversation_markdown(reader.settings, {**page, "messages": shown})
    return _transcript("conversation", page, offset, shown, md)


def get_thread(reader: ArchiveReader, thread_id: str | int, offset: int) -> Transcript:
    """A thread or forum post (or the reply tree under a message) in order (a window of it when long)."""
    tid = parse(thread_id, "thread")
    with reader.conn() as conn:
        page = build_thread_page(conn, reader.settings, tid)
    page["permalink"] = absolute(reader, urls.thread_url(tid))
    bounded("offset", offset, 0, max(len(page["messages"]) - 1, 0))
    shown = _window(page["messages"], offset)
    md = build_thread_markdown(reader.settings, {**page, "messages": shown})
    return _transcript(page["kind"], page, offset, shown, md)


def conversation_markdown(reader: ArchiveReader, conversation_id: str) -> str:
    """A conversation as its `.md` twin renders it (the first window of a long one, saying so)."""
    with reader.conn() as conn:
        page = _conversation_page(reader, conn, conversation_id)
    shown = _window(page["messages"], 0)
    md = build_conversation_markdown(reader.settings, {**page, "messages": shown})
    if len(shown) < len(page["messages"]):
        rest = len(page["messages"]) - len(shown)
        md += f"\n*(cut: {rest} more messages; call get_conversation with offset={len(shown)})*\n"
    return md
