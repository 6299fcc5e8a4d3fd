"""GET /digest?since=…&until=…&in=…: what happened in a window of days (+ .json, .md), and /digest.atom weekly."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from web import pages
from web.deps import ConnDep, SettingsDep
from web.digest import DigestCache, DigestError, parse_day
from web.digest_text import build_digest_markdown
from web.errors import PageError
from web.feed_pages import FeedHtml, digest_feed
from web.feeds import render_atom
from web.routes.feeds import respond

router = APIRouter()
SINCE = Query(..., description="First day of the window, YYYY-MM-DD (UTC, inclusive)")
UNTIL = Query(None, description="Last day of the window, YYYY-MM-DD (UTC, inclusive); default today")
IN = Query(
    [], alias="in", description="A channel name or id (repeatable); its threads and forum posts come along"
)


def _digest(
    request: Request, conn: sqlite3.Connection, since: str, until: str | None, channels: list[str]
) -> dict[str, Any]:
    try:
        first = parse_day(since, "since")
        last = parse_day(until, "until") if until else None
        cache: DigestCache = request.app.state.digests
        return cache.get(conn, first, last, channels)
    except DigestError as e:
        raise PageError(400, "This digest can't be made", str(e)) from None


@router.get("/digest.json", summary="The digest of a window of days", tags=["digest"])
def digest_json(
    request: Request, conn: ConnDep, since: str = SINCE, until: str | None = UNTIL, in_: list[str] = IN
) -> Response:
    """Totals, every conversation of the window, and per channel the ranked conversations."""
    # orjson: a month of a big archive lists tens of thousands of conversations
    return Response(orjson.dumps(_digest(request, conn, since, until, in_)), media_type="application/json")


@router.get("/digest.md", summary="The digest as Markdown", tags=["digest"], response_class=PlainTextResponse)
def digest_md(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    since: str = SINCE,
    until: str | None = UNTIL,
    in_: list[str] = IN,
) -> Response:
    """The digest for people and language models."""
    return pages.markdown(build_digest_markdown(_digest(request, conn, since, until, in_), settings.base_url))


@router.get("/digest.atom", summary="The weekly digest as an Atom feed", tags=["feeds"],
            response_class=Response)  # fmt: skip
def digest_atom(request: Request, conn: ConnDep, settings: SettingsDep, in_: list[str] = IN) -> Response:
    """One entry per week, the last four weeks up to the newest message."""
    html = FeedHtml(request.app.state.templates.env)
    feed = digest_feed(conn, html, in_, settings.site_name, build=request.app.state.digests.get)
    return respond(request, settings, feed, render_atom(feed, settings.base_url))


@router.get("/digest", include_in_schema=False)
def digest_html(
    request: Request, conn: ConnDep, since: str = SINCE, until: str | None = UNTIL, in_: list[str] = IN
) -> HTMLResponse:
    """The digest page."""
    page = _digest(request, conn, since, until, in_)
    return pages.html(request, "digest.html", page, canonical=page["url"], feed_url=page["feed_url"],
                      feed_title="Weekly digest (Atom)")  # fmt: skip
