"""Atom feeds of pages: /c/{id}.atom, /t/{id}.atom, /conv/{id}.atom and /search.atom?q=… (newest first).

Registered before the page routers, whose `/c/{channel_id}` would otherwise take `123.atom` as an id.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

import archive
from web.deps import ConnDep, SettingsDep
from web.errors import PageError, parse_id
from web.feed_pages import FeedHtml, channel_feed, conversation_feed, search_feed, thread_feed
from web.feeds import Feed, feed_response, render_atom
from web.search import SearchUnavailable
from web.settings import Settings

router = APIRouter()


def archive_changed_ms(settings: Settings) -> int:
    """When the archive file last changed (a takedown or ingest), in Unix ms; 0 when unknown."""
    path = settings.data_dir / archive.ARCHIVE_FILE
    times = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            times.append(p.stat().st_mtime_ns // 1_000_000)
        except OSError:
            pass
    return max(times, default=0)


def respond(request: Request, settings: Settings, feed: Feed, body: bytes) -> Response:
    """The feed with caching headers: Last-Modified is its newest entry or the archive's last change."""
    newest = int(datetime.fromisoformat(feed.updated.replace("Z", "+00:00")).timestamp() * 1000)
    return feed_response(request, body, max(newest, archive_changed_ms(settings)))


def _html(request: Request) -> FeedHtml:
    return FeedHtml(request.app.state.templates.env)


@router.get("/c/{channel_id}.atom", summary="A channel's newest messages (a forum's newest posts)",
            tags=["feeds"], response_class=Response)  # fmt: skip
def channel_atom(request: Request, conn: ConnDep, settings: SettingsDep, channel_id: str) -> Response:
    """Atom feed of a channel."""
    feed = channel_feed(conn, _html(request), parse_id(channel_id, "channel"), settings.site_name)
    return respond(request, settings, feed, render_atom(feed, settings.base_url))


@router.get("/t/{thread_id}.atom", summary="A thread's or forum post's newest messages", tags=["feeds"],
            response_class=Response)  # fmt: skip
def thread_atom(request: Request, conn: ConnDep, settings: SettingsDep, thread_id: str) -> Response:
    """Atom feed of a thread, a forum post or a reply tree."""
    feed = thread_feed(conn, _html(request), parse_id(thread_id, "thread"), settings.site_name)
    return respond(request, settings, feed, render_atom(feed, settings.base_url))


@router.get("/conv/{conversation_id}.atom", summary="A conversation's newest messages", tags=["feeds"],
            response_class=Response)  # fmt: skip
def conversation_atom(
    request: Request, conn: ConnDep, settings: SettingsDep, conversation_id: str
) -> Response:
    """Atom feed of a conversation."""
    feed = conversation_feed(
        conn, _html(request), parse_id(conversation_id, "conversation"), settings.site_name
    )
    return respond(request, settings, feed, render_atom(feed, settings.base_url))


@router.get("/search.atom", summary="A saved search: the newest messages it finds", tags=["feeds"],
            response_class=Response)  # fmt: skip
def search_atom(
    request: Request, conn: ConnDep, settings: SettingsDep, q: str = Query("", description="Search query")
) -> Response:
    """Atom feed of a search (the same query language as /search)."""
    try:
        feed = search_feed(conn, _html(request), request.app.state.search, q, settings.site_name)
    except SearchUnavailable as e:
        raise PageError(503, "Search is unavailable right now", str(e)) from None
    return respond(request, settings, feed, render_atom(feed, settings.base_url))
