"""GET /u/{user_id}: a person's messages, newest first, paged by id (+ .json twin)."""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from archive import UserNotFound, views
from web import pages, present, urls
from web.deps import ConnDep, SettingsDep
from web.errors import parse_id
from web.settings import Settings
from web.timeline import enrich

router = APIRouter()


def build_user_page(
    conn: sqlite3.Connection, settings: Settings, user_id: int, before: int | None, after: int | None = None
) -> dict[str, Any]:
    """A person (only as the archive knows them: pseudonyms stay pseudonyms) and a page of their messages,
    newest first: older than `before`, and with `after` only those newer than it (a window the pages keep:
    a static site split by period shows each period's messages in its own part)."""
    user = views.find_user(conn, user_id)
    if user is None:
        raise UserNotFound(user_id)
    rows = views.user_messages(conn, user_id, before=before, after=after, limit=settings.page_size)
    channels = views.find_channels(conn, {r["channel_id"] for r in rows})
    messages = enrich(conn, rows)
    for m in messages:
        c = channels.get(int(m["channel_id"]))
        m["channel"] = {
            "id": m["channel_id"],
            "name": c["name"] if c else None,
            "url": urls.channel_url(m["channel_id"]),
        }
    more = len(rows) == settings.page_size and bool(
        views.user_messages(conn, user_id, before=rows[-1]["id"], after=after, limit=1)
    )
    return {
        "user": {
            "id": str(user["id"]),
            "name": user["name"],
            "display_name": user["nickname"] or user["name"],
            "is_bot": bool(user["is_bot"]),
            "pseudonym": bool(user["pseudonym"]),
            "avatar_url": present.safe_url(user["avatar_url"]),
            "message_count": user["message_count"],
            "first_message": present.iso(user["first_ts"]),
            "last_message": present.iso(user["last_ts"]),
            "url": urls.user_url(user["id"]),
        },
        # Where they wrote is the person's summary, on their first page: it reads every message of theirs,
        # which every older page (a static copy renders them all) would otherwise read again.
        "channels": [
            {"id": str(c["id"]), "name": c["name"], "count": c["count"], "url": urls.channel_url(c["id"])}
            for c in (views.user_channels(conn, user_id) if before is None else [])
        ],
        "messages": messages,
        "before": str(before) if before is not None else None,
        "after": str(after) if after is not None else None,
        "older_url": urls.user_url(user_id, before=rows[-1]["id"], after=after) if more else None,
        "newest_url": urls.user_url(user_id, after=after) if before is not None else None,
    }


@router.get("/u/{user_id}.json", summary="A person's messages", tags=["pages"])
def user_json(
    conn: ConnDep,
    settings: SettingsDep,
    user_id: str,
    before: int | None = Query(None, description="Messages older than this id"),
    after: int | None = Query(None, description="Only messages newer than this id"),
) -> JSONResponse:
    """The same data as /u/{user_id}."""
    return pages.json(build_user_page(conn, settings, parse_id(user_id, "user"), before, after))


@router.get("/u/{user_id}", include_in_schema=False)
def user_html(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    user_id: str,
    before: int | None = None,
    after: int | None = None,
) -> HTMLResponse:
    """A person's page."""
    uid = parse_id(user_id, "user")
    page = build_user_page(conn, settings, uid, before, after)
    return pages.html(request, "user.html", page, canonical=urls.user_url(uid))
