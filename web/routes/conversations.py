"""GET /conv/{conversation_id}: one conversation top to bottom, with how each message was linked (+ .json, .md).

`?min_confidence=0.5` hides messages whose place in the conversation was inferred with less confidence
(the weakest link on their chain up to the conversation's start; replies and threads count as certain).
The default, 0, shows every member; uncertain ones (below `UNCERTAIN`) are dimmed.
"""

from __future__ import annotations

import sqlite3
from itertools import pairwise
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from archive import conversation_views, views
from web import mdtext as md
from web import pages, present, urls
from web.deps import ConnDep, SettingsDep
from web.errors import PageError, parse_id
from web.settings import Settings
from web.timeline import enrich

router = APIRouter()
UNCERTAIN = 0.5  # members below this are dimmed, and the "confident only" toggle hides them
MIN_CONFIDENCE = Query(
    0.0,
    ge=0.0,
    le=1.0,
    description="Hide messages whose inferred place in the conversation is less certain than this (0 to 1);"
    " 0 shows all",
)


def _link(row: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """How a message joined its conversation, in data and in words."""
    parent_id = row["parent_id"]
    parent = by_id.get(parent_id) if parent_id is not None else None
    who = present.author(parent) if parent else None
    name = who["display_name"] if who else ("a message not in the archive" if parent is None else "someone")
    if parent_id is None:
        kind, label = "start", "starts the conversation"
    elif row["explicit"] and row.get("reply_to") == parent_id:
        kind, label = "reply", f"linked by reply to {name}"
    elif row["explicit"]:
        kind, label = "thread", "linked by thread"
    else:
        kind, label = "inferred", f"likely reply to {name} ({round(row['confidence'] * 100)}%)"
    return {
        "kind": kind,
        "label": label,
        "parent_id": str(parent_id) if parent_id is not None else None,
        "parent_url": urls.message_url(parent_id) if parent is not None else None,
        "confidence": row["confidence"],
        "explicit": bool(row["explicit"]),
        "membership": row["membership"],
        "uncertain": row["membership"] < UNCERTAIN,
        "repeat": False,  # said already by the line before (same author, same run): shown once
    }


def _not_found(conn: sqlite3.Connection, conversation_id: int) -> PageError:
    if not conversation_views.has_links(conn):
        hint = "This archive was made before conversations existed: run `hallway ingest` once to link it."
    else:
        hint = (
            "A conversation is named after its first message, or a thread or forum post. "
            "Open a message and follow “Show this conversation”."
        )
    return PageError(404, f"No conversation {conversation_id} in this archive", hint)


def _mark_repeated_links(messages: list[dict[str, Any]]) -> None:
    """In a run of lines one author wrote together (grouped as on the timeline), a line's link is said once:
    a line that only continues the one before it (linked to it, or linked the same way) gets `repeat`."""
    for day in pages.group_messages(messages):
        for group in day["groups"]:
            run = group["messages"]
            for before, m in pairwise(run):
                link, prev = m["link"], before["link"]
                m["link"]["repeat"] = link["parent_id"] == before["id"] or (
                    link["kind"] == prev["kind"] and link["parent_id"] == prev["parent_id"]
                )
            run[0]["link"]["repeat"] = False


def build_conversation_page(
    conn: sqlite3.Connection, settings: Settings, conversation_id: int, *, min_confidence: float = 0.0
) -> dict[str, Any]:
    """A conversation's data: summary, channels, participants, and its messages with their links."""
    summary = conversation_views.find_conversation(conn, conversation_id)
    if summary is None:
        raise _not_found(conn, conversation_id)
    rows = conversation_views.conversation_messages(conn, conversation_id)
    by_id = {r["id"]: r for r in rows}
    kept = [r for r in rows if r["membership"] >= min_confidence]
    messages = enrich(conn, kept)
    for m, r in zip(messages, kept, strict=True):
        m["link"] = _link(r, by_id)
    _mark_repeated_links(messages)
    channels = [
        {**present.channel(c), "message_count": c["count"],
         "timeline_url": urls.channel_url(c["id"], conversation=conversation_id)}
        for c in summary["channels"]
    ]  # fmt: skip
    people = [{**(present.author(p) or {}), "message_count": p["count"]} for p in summary["participants"]]
    first = summary["first_id"]
    first_channel = by_id[first]["channel_id"] if first in by_id else summary["channels"][0]["id"]
    thread = views.find_channel(conn, conversation_id)
    title = thread["name"] if thread and thread["is_thread"] else None
    if title is None:
        home = summary["channels"][0]
        title = f"Conversation in #{home['name']}"
    return {
        "id": str(conversation_id),
        "url": urls.conversation_url(conversation_id),
        "title": title,
        "thread_url": urls.thread_url(conversation_id) if thread and thread["is_thread"] else None,
        "root": {
            "id": str(conversation_id),
            "in_archive": bool(summary["root_in_archive"]),
            "url": urls.message_url(conversation_id) if summary["root_in_archive"] else None,
        },
        "start": present.iso(summary["first_ts"]),
        "end": present.iso(summary["last_ts"]),
        "message_count": summary["message_count"],
        "shown_count": len(messages),
        "hidden_count": len(rows) - len(kept),
        "truncated": summary["message_count"] > len(rows),
        "min_confidence": min_confidence,
        "uncertain_below": UNCERTAIN,
        "channels": channels,
        "participants": people,
        "messages": messages,
        "context_url": urls.channel_url(first_channel, around=first),
        "search_url": urls.conversation_search_url(conversation_id),
        "search_query": f"in:conversation:{conversation_id}",
        "all_url": urls.conversation_url(conversation_id),
        "confident_url": urls.conversation_url(conversation_id, min_confidence=UNCERTAIN),
    }


def build_conversation_markdown(settings: Settings, page: dict[str, Any]) -> str:
    """The `.md` twin: the conversation as a transcript, each line with how it was linked.

    Everything from the export is escaped (web.mdtext): each body sits in a code fence, names on one line.
    """
    base = settings.base_url
    people = ", ".join(md.escape_inline(p["display_name"]) for p in page["participants"]) or "nobody known"
    lines = [
        f"# {md.escape_heading(page['title'])}",
        "",
        f"- {page['message_count']} messages, {page['start']} – {page['end']}",
        f"- Participants: {people}",
        f"- Permalink: {md.autolink(urls.absolute(base, page['url']))}",
    ]
    if page["hidden_count"]:
        lines.append(
            f"- {page['hidden_count']} less certain messages hidden (min_confidence={page['min_confidence']})"
        )
    lines.append("")
    for m in page["messages"]:
        who = m["author"]["display_name"] if m["author"] else "Unknown author"
        if m["tombstone"]:
            text = f"*{md.escape_inline(m['tombstone'])}*"
        else:
            text = md.fenced(m["content"]) if m["content"] else "*(no text)*"
        lines += [
            f"**{md.escape_inline(who)}** · {m['timestamp']} · {md.escape_inline(m['link']['label'])} · "
            f"{md.autolink(urls.absolute(base, m['url']))}",
            "",
            text,
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def _conversation_or_redirect(conn: sqlite3.Connection, value: str, fmt: str) -> int | Response:
    """The conversation id from the URL; a message id that is not one redirects to its conversation."""
    cid = parse_id(value, "conversation")
    if conversation_views.conversation_exists(conn, cid):
        return cid
    owner = conversation_views.find_conversation_id(conn, cid)
    if owner is not None:
        return RedirectResponse(urls.conversation_url(owner, focus=cid, fmt=fmt), status_code=307)
    raise _not_found(conn, cid)


@router.get("/conv/{conversation_id}.json", summary="A conversation and how each message was linked",
            tags=["pages"])  # fmt: skip
def conversation_json(
    conn: ConnDep, settings: SettingsDep, conversation_id: str, min_confidence: float = MIN_CONFIDENCE
) -> Response:
    """The same data as /conv/{conversation_id}."""
    cid = _conversation_or_redirect(conn, conversation_id, ".json")
    if isinstance(cid, Response):
        return cid
    page = build_conversation_page(conn, settings, cid, min_confidence=min_confidence)
    response: JSONResponse = pages.json(page)
    return response


@router.get("/conv/{conversation_id}.md", summary="A conversation as a Markdown transcript", tags=["pages"],
            response_class=PlainTextResponse)  # fmt: skip
def conversation_md(
    conn: ConnDep, settings: SettingsDep, conversation_id: str, min_confidence: float = MIN_CONFIDENCE
) -> Response:
    """The conversation as Markdown (for people and language models)."""
    cid = _conversation_or_redirect(conn, conversation_id, ".md")
    if isinstance(cid, Response):
        return cid
    page = build_conversation_page(conn, settings, cid, min_confidence=min_confidence)
    return pages.markdown(build_conversation_markdown(settings, page))


@router.get("/conv/{conversation_id}", include_in_schema=False)
def conversation_html(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    conversation_id: str,
    min_confidence: float = MIN_CONFIDENCE,
) -> Response:
    """A conversation, top to bottom."""
    cid = _conversation_or_redirect(conn, conversation_id, "")
    if isinstance(cid, Response):
        return cid
    page = build_conversation_page(conn, settings, cid, min_confidence=min_confidence)
    response: HTMLResponse = pages.html(
        request, "conversation.html", page, canonical=urls.conversation_url(cid),
        feed_url=urls.feed_url("conversation", cid), feed_title="New in this conversation (Atom)",
    )  # fmt: skip
    return response
