"""GET /c/{channel_id}: a channel's timeline, paged by id cursors, with a date jump (+ .json twin)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from archive import ChannelNotFound, conversation_views, views
from archive.names import normalize_name
from web import pages, present, reading, urls
from web.deps import ConnDep, SettingsDep
from web.errors import PageError, parse_id
from web.settings import Settings
from web.timeline import enrich

router = APIRouter()
CONVERSATION_QUERY = Query(
    None, ge=0, le=(1 << 63) - 1, description="Show only this conversation's messages in the channel"
)


def _day_start(date: str) -> int:
    try:
        dt = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise PageError(400, f"{date!r} is not a date", "Use the form YYYY-MM-DD, e.g. 2024-03-05.") from None
    return int(dt.timestamp() * 1000)


def build_channel_page(
    conn: sqlite3.Connection,
    settings: Settings,
    channel_id: int,
    *,
    before: int | None,
    after: int | None,
    around: int | None,
    date: str | None,
    conversation: int | None = None,
) -> dict[str, Any]:
    """One page of a channel: messages (with threads and reply previews), cursors, and its threads.

    With `conversation`, the page is that conversation's messages in this channel (all of them, no paging).
    """
    row = views.find_channel(conn, channel_id) or views.find_forum(conn, channel_id)
    if row is None:
        raise ChannelNotFound(channel_id)
    jump = None
    if date:
        start = _day_start(date)
        after, before, around = views.snowflake_at(start) - 1, None, None
    if conversation is not None:
        rows = conversation_views.conversation_messages(conn, conversation, channel_id=channel_id)
        has_older = has_newer = False
    elif date:
        rows, has_older, has_newer, jump = reading.date_jump(
            conn, channel_id, date, start, settings.page_size
        )
    else:
        rows, has_older, has_newer = views.channel_page(
            conn, channel_id, before=before, after=after, around=around, limit=settings.page_size
        )
    messages = enrich(conn, rows)
    first, last = (rows[0]["id"], rows[-1]["id"]) if rows else (None, None)
    oldest, newest = views.channel_span(conn, channel_id)
    threads = views.child_threads(conn, channel_id)
    children = [present.thread_summary(t) for t in threads]
    return {
        "channel": present.channel(row),
        "parent_url": urls.channel_url(row["parent_id"]) if row.get("parent_id") else None,
        "thread_url": urls.thread_url(channel_id) if row["is_thread"] else None,
        "messages": messages,
        "cursor": {"before": before, "after": after, "around": around, "date": date},
        # an empty day scrolls to the first message after it (the page also shows the ones before)
        "focus": str(around) if around is not None else reading.jump_focus(jump),
        "has_older": has_older,
        "has_newer": has_newer,
        "older_url": urls.channel_url(channel_id, before=first) if has_older and first else None,
        "newer_url": urls.channel_url(channel_id, after=last) if has_newer and last else None,
        "first_date": present.day(oldest) if oldest else None,
        "last_date": present.day(newest) if newest else None,
        "threads": children,
        # a forum (or a channel known only through its threads) lists its posts as its main content
        "posts": reading.forum_posts(conn, threads) if oldest is None and threads else [],
        "date_jump": jump,
        "discord_url": urls.discord_url(row["guild_id"], channel_id),
        "conversation": _conversation_filter(conn, channel_id, conversation, len(rows)),
        "search_filter": _search_filter(conn, channel_id, str(row["name"] or "")),
    }


def _search_filter(conn: sqlite3.Connection, channel_id: int, name: str) -> str:
    """The `in:` filter that finds this channel (and its threads) and nothing else: its name as people type it
    when no other channel shares that form, else its id."""
    typed = normalize_name(name)
    plain = typed and not any(c.isspace() or c in '"()' for c in typed)
    if plain and views.channels_named(conn, name) == [channel_id]:
        return f"in:{typed}"
    return f"in:{channel_id}"


def _conversation_filter(
    conn: sqlite3.Connection, channel_id: int, conversation: int | None, shown: int
) -> dict[str, Any] | None:
    """The `?conversation=` chip: which conversation is shown, how much of it is here, how to clear it."""
    if conversation is None:
        return None
    exists = conversation_views.conversation_exists(conn, conversation)
    return {
        "id": str(conversation),
        "exists": exists,
        "message_count": shown,
        "url": urls.conversation_url(conversation) if exists else None,
        "clear_url": urls.channel_url(channel_id),
    }


@router.get("/c/{channel_id}.json", summary="A channel timeline page", tags=["pages"])
def channel_json(
    conn: ConnDep,
    settings: SettingsDep,
    channel_id: str,
    before: int | None = Query(None, description="Messages older than this id"),
    after: int | None = Query(None, description="Messages newer than this id"),
    around: int | None = Query(None, description="A page centered on this id"),
    date: str | None = Query(None, description="Jump to the first message on or after YYYY-MM-DD (UTC)"),
    conversation: int | None = CONVERSATION_QUERY,
) -> JSONResponse:
    """The same data as /c/{channel_id}."""
    cid = parse_id(channel_id, "channel")
    return pages.json(
        build_channel_page(
            conn,
            settings,
            cid,
            before=before,
            after=after,
            around=around,
            date=date,
            conversation=conversation,
        )
    )


@router.get("/c/{channel_id}", include_in_schema=False)
def channel_html(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    channel_id: str,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
    date: str | None = None,
    conversation: int | None = CONVERSATION_QUERY,
) -> HTMLResponse:
    """A channel timeline."""
    cid = parse_id(channel_id, "channel")
    page = build_channel_page(
        conn, settings, cid, before=before, after=after, around=around, date=date, conversation=conversation
    )
    return pages.html(
        request, "channel.html", page, canonical=urls.channel_url(cid),
        feed_url=urls.feed_url("channel", cid), feed_title=f"New in #{page['channel']['name']} (Atom)",
    )  # fmt: skip
