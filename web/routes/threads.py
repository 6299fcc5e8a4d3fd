"""GET /t/{id}: a Discord thread or forum post (by thread id), or the reply tree under a message (+ .json, .md)."""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from archive import views
from web import mdtext as md
from web import pages, present, reading, urls
from web.deps import ConnDep, SettingsDep
from web.errors import not_found, parse_id
from web.settings import Settings
from web.timeline import enrich, preview

router = APIRouter()
MAX_DEPTH = 8
MAX_MESSAGES = 2000


def reply_depths(rows: list[dict[str, Any]]) -> None:
    """Set each row's `depth` from its reply chain inside the list (replies to outside messages are depth 0)."""
    depth: dict[int, int] = {}
    for r in rows:
        parent = r.get("reply_to")
        r["depth"] = min(depth[parent] + 1, MAX_DEPTH) if parent in depth else 0
        depth[r["id"]] = r["depth"]


def tree_order(rows: list[dict[str, Any]], root: int) -> list[dict[str, Any]]:
    """Rows in depth-first order from the root (a reply follows the message it answers), oldest sibling first."""
    children: dict[int, list[dict[str, Any]]] = {}
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        if r["id"] != root and r.get("reply_to") in by_id:
            children.setdefault(r["reply_to"], []).append(r)
    out: list[dict[str, Any]] = []
    stack = [by_id[root]] if root in by_id else []
    while stack:
        r = stack.pop()
        r["depth"] = min(r["depth"], MAX_DEPTH)
        out.append(r)
        stack.extend(sorted(children.get(r["id"], []), key=lambda c: c["id"], reverse=True))
    return out


def build_thread_page(conn: sqlite3.Connection, settings: Settings, thread_id: int) -> dict[str, Any]:
    """A thread channel's whole conversation, or the reply tree rooted at a message."""
    channel = views.find_channel(conn, thread_id)
    if channel is not None and channel["is_thread"]:
        rows = views.thread_messages(conn, thread_id, limit=MAX_MESSAGES)
        reply_depths(rows)
        starter = views.find_message(conn, thread_id)
        starter_msg = None
        if starter is not None and starter["channel_id"] != thread_id:
            starter_msg = preview(starter, thread_id)
        return {
            "kind": "thread",
            "id": str(thread_id),
            "missing_thread": None,
            "title": channel["name"],
            "channel": present.channel(channel),
            "parent": {
                "id": str(channel["parent_id"]) if channel["parent_id"] else None,
                "name": channel["parent_name"],
                "url": urls.channel_url(channel["parent_id"]) if channel["parent_id"] else None,
            },
            "starter": starter_msg,
            "messages": enrich(conn, rows, threads=False),
            "message_count": len(rows),
            "discord_url": urls.discord_url(channel["guild_id"], thread_id),
        }
    root = views.find_message(conn, thread_id)
    if root is None and (found := reading.unarchived_thread(conn, thread_id)) is not None:
        notice, note = found  # neither the thread nor its starter was exported; its notice was
        channel = views.find_channel(conn, notice["channel_id"])
        return {
            "kind": "replies",
            "id": str(thread_id),
            "title": "A thread that was not exported",
            "missing_thread": note,
            "channel": present.channel(channel) if channel else None,
            "parent": None,
            "starter": None,
            "messages": enrich(conn, [notice], threads=False),
            "message_count": 1,
            "discord_url": urls.discord_url(channel["guild_id"] if channel else None, notice["channel_id"]),
        }
    if root is None:
        raise not_found(
            "thread or message",
            str(thread_id),
            "/t/ takes a thread or forum post id, or a message id to show the replies it received.",
        )
    rows = tree_order(views.reply_tree(conn, thread_id, limit=MAX_MESSAGES), thread_id)
    root_channel = views.find_channel(conn, root["channel_id"])
    missing = reading.missing_thread(conn, root)
    return {
        "kind": "replies",
        "id": str(thread_id),
        "title": "A thread that was not exported" if missing else "Replies to a message",
        "missing_thread": missing,
        "channel": present.channel(root_channel) if root_channel else None,
        "parent": None,
        "starter": None,
        "messages": enrich(conn, rows, threads=True),
        "message_count": len(rows),
        "discord_url": urls.discord_url(
            root_channel["guild_id"] if root_channel else None, root["channel_id"], thread_id
        ),
    }


def build_thread_markdown(settings: Settings, page: dict[str, Any]) -> str:
    """The `.md` twin: the thread (or reply tree) as a transcript in order, each reply saying what it answers.

    Everything from the export is escaped (web.mdtext): each body sits in a code fence, names on one line.
    """
    base = settings.base_url
    home = page["parent"]["name"] if page["parent"] else (page["channel"] or {}).get("name")
    where = f" in #{home}" if home else ""
    lines = [
        f"# {md.escape_heading(page['title'] + where)}",
        "",
        f"- {page['message_count']} messages",
        f"- Permalink: {md.autolink(urls.absolute(base, urls.thread_url(page['id'])))}",
    ]
    if page["starter"] and page["starter"]["url"]:
        lines.append(f"- Started from: {md.autolink(urls.absolute(base, page['starter']['url']))}")
    lines.append("")
    for m in page["messages"]:
        who = m["author"]["display_name"] if m["author"] else "Unknown author"
        reply = ""
        if m["reply_to"]:
            reply = f" · reply to {md.autolink(urls.absolute(base, urls.message_url(m['reply_to'])))}"
        if m["tombstone"]:
            text = f"*{md.escape_inline(m['tombstone'])}*"
        else:
            text = md.fenced(m["content"]) if m["content"] else "*(no text)*"
        lines += [
            f"**{md.escape_inline(who)}** · {m['timestamp']}{reply} · {md.autolink(urls.absolute(base, m['url']))}",
            "",
            text,
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


@router.get("/t/{thread_id}.md", summary="A thread, forum post or reply tree as a Markdown transcript",
            tags=["pages"], response_class=PlainTextResponse)  # fmt: skip
def thread_md(conn: ConnDep, settings: SettingsDep, thread_id: str) -> Response:
    """The thread as Markdown (for people and language models)."""
    page = build_thread_page(conn, settings, parse_id(thread_id, "thread"))
    return pages.markdown(build_thread_markdown(settings, page))


@router.get("/t/{thread_id}.json", summary="A thread, forum post or reply tree", tags=["pages"])
def thread_json(conn: ConnDep, settings: SettingsDep, thread_id: str) -> JSONResponse:
    """The same data as /t/{thread_id}."""
    return pages.json(build_thread_page(conn, settings, parse_id(thread_id, "thread")))


@router.get("/t/{thread_id}", include_in_schema=False)
def thread_html(request: Request, conn: ConnDep, settings: SettingsDep, thread_id: str) -> HTMLResponse:
    """A whole conversation, indented by replies."""
    tid = parse_id(thread_id, "thread")
    page = build_thread_page(conn, settings, tid)
    return pages.html(
        request, "thread.html", page, canonical=urls.thread_url(tid),
        feed_url=urls.feed_url("thread", tid), feed_title=f"New in {page['title']} (Atom)",
    )  # fmt: skip
