"""Reading aids for the timeline pages: a date jump that says when a day is empty, a forum's posts as a list,
and threads that were started but never exported."""

from __future__ import annotations

import sqlite3
from typing import Any

from archive import digest_views, views
from web import present, urls

DAY_MS = 86_400_000
# A thread's ThreadCreated notice follows its starter message closely: look this far after it.
NOTICE_WINDOW_MS = 3_600_000


def date_jump(
    conn: sqlite3.Connection, channel_id: int, date: str, day_start_ms: int, limit: int
) -> tuple[list[dict[str, Any]], bool, bool, dict[str, Any]]:
    """The page for `?date=`: from the day's first message, or, when nobody wrote that day, the nearest
    messages on both sides, with a note saying so (and the days of those neighbours)."""
    cursor = views.snowflake_at(day_start_ms) - 1
    rows, has_older, has_newer = views.channel_page(conn, channel_id, after=cursor, limit=limit)
    if rows and rows[0]["ts"] < day_start_ms + DAY_MS:
        return rows, has_older, has_newer, {"date": date, "empty": False, "previous": None, "next": None}
    rows, has_older, has_newer = views.channel_page(conn, channel_id, around=cursor + 1, limit=limit)
    older = [r for r in rows if r["ts"] < day_start_ms]
    newer = [r for r in rows if r["ts"] >= day_start_ms]
    return rows, has_older, has_newer, {
        "date": date,
        "empty": True,
        "previous": _neighbour(older[-1]) if older else None,
        "next": _neighbour(newer[0]) if newer else None,
    }  # fmt: skip


def jump_focus(jump: dict[str, Any] | None) -> str | None:
    """The message a date jump to an empty day highlights: the first one after the day (else the last before)."""
    if not jump or not jump["empty"]:
        return None
    near = jump["next"] or jump["previous"]
    return str(near["id"]) if near else None


def _neighbour(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "date": present.day(row["ts"]), "url": urls.message_url(row["id"])}


def forum_posts(conn: sqlite3.Connection, threads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A forum's posts as its page lists them: title, author, replies, last activity, tags (newest first).

    DCE exports carry no forum tags, so `tags` stays empty until an export format has them.
    """
    firsts = digest_views.first_message_ids(conn, [t["id"] for t in threads])
    rows = views.find_messages(conn, firsts.values())
    out = []
    for t in threads:
        first = rows.get(firsts.get(t["id"], -1))
        out.append(
            {
                "id": str(t["id"]),
                "title": t["name"],
                "url": urls.thread_url(t["id"]),
                "author": present.author(first) if first else None,
                "started": present.iso(first["ts"]) if first else None,
                "replies": max(int(t.get("count") or 0) - 1, 0),
                "last_activity": present.iso(t.get("last_ts")),
                "tags": [],
                "feed_url": urls.feed_url("thread", t["id"]),
            }
        )
    return out


def missing_thread(conn: sqlite3.Connection, message: dict[str, Any]) -> dict[str, Any] | None:
    """The thread a message started when that thread is not in the archive (its export is missing), or None.

    Discord gives a thread the id of its starter message and posts a ThreadCreated notice right after it
    (reference.channelId = the thread); a notice pointing at an unknown channel is a thread never exported.
    """
    if message.get("ref_kind") == "thread" and message.get("ref_channel_id"):
        thread_id = int(message["ref_channel_id"])
    else:
        notice = digest_views.find_thread_notice(conn, int(message["id"]), window_ms=NOTICE_WINDOW_MS)
        if notice is None:
            return None
        thread_id = int(notice["ref_channel_id"])
    if views.find_channel(conn, thread_id) is not None:
        return None
    return missing_thread_notice(thread_id)


def unarchived_thread(
    conn: sqlite3.Connection, thread_id: int
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """For a /t/ id that is neither a thread nor a message: the ThreadCreated notice that names it (when the
    thread and its starter were both left out of the exports) and what to say, or None."""
    notice = digest_views.find_thread_notice(conn, thread_id, window_ms=NOTICE_WINDOW_MS)
    if notice is None or views.find_channel(conn, thread_id) is not None:
        return None
    return notice, missing_thread_notice(thread_id)


def missing_thread_notice(thread_id: int) -> dict[str, Any]:
    """What the pages say about a thread that was never exported."""
    return {
        "id": str(thread_id),
        "url": urls.thread_url(thread_id),
        "notice": "This message started a thread, but the thread was not exported, so its messages are not"
        " in the archive. Export it with DiscordChatExporter (the thread id is "
        f"{thread_id}) and ingest it.",
    }
