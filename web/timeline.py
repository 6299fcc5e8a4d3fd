"""Lists of messages as every page shows them: details, reply previews, threads started, reply counts."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from archive import conversation_views, views
from web import present, urls
from web.markdown import UserRef, to_plain_text
from web.media import find_media_file

PREVIEW_CHARS = 140


def preview(
    row: dict[str, Any] | None, message_id: int, mentions: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """A one-line preview of a replied-to message (or a note that it isn't archived)."""
    if row is None:
        return {
            "id": str(message_id),
            "url": None,
            "author": None,
            "excerpt": None,
            "tombstone": "not in the archive",
        }
    notice = present.tombstone(row)
    users = {
        str(x["user_id"]): UserRef(str(x["user_id"]), x["name"], x.get("nickname"))
        for x in mentions
        if x.get("name")
    }
    text = "" if notice else to_plain_text(row.get("content") or "", users=users)
    if len(text) > PREVIEW_CHARS:
        text = text[: PREVIEW_CHARS - 1].rstrip() + "…"
    return {
        "id": str(row["id"]),
        "url": urls.message_url(row["id"]),
        "author": present.author(row),
        "excerpt": text,
        "tombstone": notice,
    }


def _mark_missing_files(
    conn: sqlite3.Connection, row: dict[str, Any], m: dict[str, Any], extras: dict[str, Any]
) -> None:
    """Local attachments whose file is not in the export folder say so and link the CDN (no broken image)."""
    stored = extras.get("attachments", [])
    for n, (public, a) in enumerate(zip(m["attachments"], stored, strict=False)):
        if public["local"] and find_media_file(conn, row["id"], "attachment", a["pos"]) is None:
            m["attachments"][n] = present.missing_file(public, row["channel_id"], a)


def enrich(
    conn: sqlite3.Connection, rows: Sequence[dict[str, Any]], *, threads: bool = True
) -> list[dict[str, Any]]:
    """Rows as public messages, each with `reply_preview`, `thread`, `reply_count` and its conversation."""
    ids = [r["id"] for r in rows]
    conversations = conversation_views.conversation_ids(conn, ids)
    sizes = conversation_views.conversation_sizes(conn, set(conversations.values()))
    extras = views.details(conn, ids)
    parents = views.find_messages(conn, {r["reply_to"] for r in rows if r.get("reply_to")})
    parent_mentions = views.details(conn, list(parents))
    started = views.threads_started(conn, rows) if threads else {}
    counts = views.reply_counts(conn, ids)
    out = []
    for r in rows:
        m = present.message(r, extras.get(r["id"]))
        _mark_missing_files(conn, r, m, extras.get(r["id"]) or {})
        m["reply_preview"] = (
            preview(
                parents.get(r["reply_to"]),
                r["reply_to"],
                parent_mentions.get(r["reply_to"], {}).get("mentions", []),
            )
            if r.get("reply_to")
            else None
        )
        thread = started.get(r["id"])
        m["thread"] = present.thread_summary(thread) if thread and thread["id"] != r["channel_id"] else None
        m["reply_count"] = counts.get(r["id"], 0)
        cid = conversations.get(r["id"])
        m["conversation_id"] = str(cid) if cid is not None else None
        m["conversation_url"] = urls.conversation_url(cid, focus=r["id"]) if cid is not None else None
        m["conversation_size"] = sizes.get(cid, 0) if cid is not None else 0
        if "depth" in r:
            m["depth"] = r["depth"]
        out.append(m)
    return out
