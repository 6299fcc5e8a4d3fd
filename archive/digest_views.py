"""Read-only queries over a window of time (digests, feeds), and a few lookups the reading aids need.

A window is `[lo_ms, hi_ms)` in Unix ms, optionally limited to some channels. Only live messages count
(not deleted, not withheld by policy), exactly the messages the search index holds, so a digest's totals
equal what a search with the same dates counts. Message ids are snowflakes whose creation time is the
message's timestamp, so the window is first narrowed on the primary key (with a day of slack for stored
timestamps that drift from their id) and then filtered on `ts` itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from typing import Any

from archive.conversation_views import has_links
from archive.views import _MESSAGE_COLUMNS, _MESSAGE_FROM, MAX_ID, Row, _in, _one, _rows, snowflake_at

LIVE = "m.deleted = 0 AND m.redacted IS NULL"
SLACK_MS = 86_400_000
NEWS_TYPES = ("GuildNews", "GuildAnnouncement")


def _window(lo_ms: int, hi_ms: int, channel_ids: Collection[int] | None) -> tuple[str, list[Any]]:
    """The WHERE clause (over `messages m`) of a window's live messages, and its arguments."""
    # ids from URLs' dates: kept inside SQLite's integer range (a window far in the future is just empty)
    lo_id = min(snowflake_at(max(lo_ms - SLACK_MS, 0)), MAX_ID)
    hi_id = min(snowflake_at(hi_ms + SLACK_MS), MAX_ID)
    sql = f"m.id >= ? AND m.id < ? AND m.ts >= ? AND m.ts < ? AND {LIVE}"
    args: list[Any] = [lo_id, hi_id, lo_ms, hi_ms]
    if channel_ids is not None:
        sql += " AND m.channel_id IN (SELECT value FROM json_each(?))"
        args.append(_in(channel_ids))
    return sql, args


def _iso(ms_sql: str) -> str:
    """SQL formatting Unix ms as ISO-8601 UTC like `archive.normalize.iso_utc` (done by SQLite: a digest formats
    tens of thousands)."""
    return f"strftime('%Y-%m-%dT%H:%M:%S', {ms_sql} / 1000, 'unixepoch') || printf('.%03dZ', {ms_sql} % 1000)"


def _conversation_sql(conn: sqlite3.Connection) -> tuple[str, str]:
    """The conversation of `m` and the join that provides it (a message without a link is its own)."""
    if has_links(conn):
        return "coalesce(l.conversation_id, m.id)", " LEFT JOIN links l ON l.message_id = m.id"
    return "m.id", ""


def window_activity(
    conn: sqlite3.Connection, lo_ms: int, hi_ms: int, channel_ids: Collection[int] | None = None
) -> tuple[list[Row], dict[int, tuple[int, int, int]]]:
    """Every conversation with a live message in the window, and each one's standout message.

    Conversations carry `id`, `messages`, `participants`, `reactions`, `first_id`, `last_id`, `first_ts`,
    `last_ts` (and both as ISO-8601 `start`, `end`) and `channel_id` (where most of its window messages are; the earliest on a tie). Standouts
    map a conversation to its most-replied or most-reacted window message as (message id, replies sent
    inside the window, reactions); a conversation whose messages got neither has none.
    """
    where, args = _window(lo_ms, hi_ms, channel_ids)
    conv, join = _conversation_sql(conn)
    rows = _rows(
        conn.execute(
            f"SELECT {conv} AS id, count(*) AS messages, count(DISTINCT m.author_id) AS participants,"
            " coalesce(sum(m.reaction_count), 0) AS reactions, min(m.id) AS first_id, max(m.id) AS last_id,"
            f" min(m.ts) AS first_ts, max(m.ts) AS last_ts, {_iso('min(m.ts)')} AS start,"
            f" {_iso('max(m.ts)')} AS end, max(m.channel_id) AS channel_id,"
            f" count(DISTINCT m.channel_id) AS spread FROM messages m{join} WHERE {where} GROUP BY 1",
            args,
        )
    )
    # Rare: a conversation in several channels (a thread and the message that started it).
    spread = [r["id"] for r in rows if r.pop("spread") > 1]
    if spread:
        home: dict[int, tuple[int, int, int]] = {}  # conversation -> (count, -first id, channel)
        for cid, channel_id, count, first in conn.execute(
            f"SELECT {conv}, m.channel_id, count(*), min(m.id) FROM messages m{join} WHERE {where}"
            f" AND {conv} IN (SELECT value FROM json_each(?)) GROUP BY 1, 2",
            [*args, _in(spread)],
        ):
            best = home.get(cid)
            if best is None or (count, -first) > best[:2]:
                home[cid] = (count, -first, channel_id)
        for r in rows:
            if r["id"] in home:
                r["channel_id"] = home[r["id"]][2]
    return rows, _standouts(conn, where, args, conv, join)


def _standouts(
    conn: sqlite3.Connection, where: str, args: list[Any], conv: str, join: str
) -> dict[int, tuple[int, int, int]]:
    """Per conversation, the window message with the most replies (sent inside the window) plus reactions."""
    replies: dict[int, int] = {}
    reacted: dict[int, int] = {}
    owner: dict[int, int] = {}
    for mid, cid, reply_to, count in conn.execute(
        f"SELECT m.id, {conv}, m.reply_to, m.reaction_count FROM messages m{join}"
        f" WHERE {where} AND (m.reply_to IS NOT NULL OR m.reaction_count > 0)",
        args,
    ):
        owner[mid] = cid
        if count:
            reacted[mid] = count
        if reply_to is not None:
            replies[reply_to] = replies.get(reply_to, 0) + 1
    # a replied-to message without replies or reactions of its own is not in `owner` yet
    plain = [mid for mid in replies if mid not in owner]
    if plain:
        cur = conn.execute(
            f"SELECT m.id, {conv} FROM messages m{join} WHERE {where} AND m.id IN (SELECT value FROM json_each(?))",
            [*args, _in(plain)],
        )
        owner.update({int(mid): int(cid) for mid, cid in cur.fetchall()})
    best: dict[int, tuple[int, int, int]] = {}
    for mid in sorted((set(reacted) | set(replies)) & set(owner)):
        cid = owner[mid]
        entry = (mid, replies.get(mid, 0), reacted.get(mid, 0))
        held = best.get(cid)
        if held is None or entry[1] + entry[2] > held[1] + held[2]:
            best[cid] = entry
    return best


def first_live_messages(conn: sqlite3.Connection, conversation_ids: Iterable[int]) -> dict[int, int]:
    """The first live message id of each conversation (its opening message), by conversation id."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}
    out: dict[int, int] = {}
    if has_links(conn):
        cur = conn.execute(
            "SELECT c.value, (SELECT l.message_id FROM links l JOIN messages m ON m.id = l.message_id"
            f" WHERE l.conversation_id = c.value AND {LIVE} ORDER BY l.message_id LIMIT 1)"
            " FROM json_each(?) c",
            (_in(ids),),
        )
        out = {int(cid): int(mid) for cid, mid in cur.fetchall() if mid is not None}
    # A message that has no link row stands for itself.
    rest = [i for i in ids if i not in out]
    if rest:
        cur = conn.execute(
            f"SELECT m.id FROM messages m WHERE m.id IN (SELECT value FROM json_each(?)) AND {LIVE}",
            (_in(rest),),
        )
        out.update({int(r[0]): int(r[0]) for r in cur.fetchall()})
    return out


def window_pinned(
    conn: sqlite3.Connection,
    lo_ms: int,
    hi_ms: int,
    channel_ids: Collection[int] | None = None,
    *,
    limit: int = 50,
) -> list[Row]:
    """Live messages pinned in the window (a pin notice in the window), or posted in it and pinned, oldest first."""
    where, args = _window(lo_ms, hi_ms, channel_ids)
    cur = conn.execute(
        f"SELECT m.id FROM messages m WHERE {where} AND m.pinned = 1"
        f" UNION SELECT m.ref_message_id FROM messages m WHERE {where} AND m.ref_kind = 'pin'"
        " AND m.ref_message_id IS NOT NULL",
        args + args,
    )
    ids = [int(r[0]) for r in cur.fetchall()]
    return _rows(
        conn.execute(
            f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.id IN (SELECT value FROM json_each(?)) AND {LIVE}"
            " ORDER BY m.id LIMIT ?",
            (_in(ids), limit),
        )
    )


def window_channel_messages(
    conn: sqlite3.Connection, lo_ms: int, hi_ms: int, channel_ids: Collection[int], *, limit: int = 50
) -> list[Row]:
    """Live messages of some channels in the window (e.g. announcement posts), newest first."""
    where, args = _window(lo_ms, hi_ms, channel_ids)
    return _rows(
        conn.execute(f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE {where} ORDER BY m.id DESC LIMIT ?",
                     (*args, limit))
    )  # fmt: skip


def first_message_ids(conn: sqlite3.Connection, channel_ids: Iterable[int]) -> dict[int, int]:
    """The first live message id of each channel (a thread's or forum post's opening), by channel id."""
    cur = conn.execute(
        "SELECT c.value, (SELECT m.id FROM messages m WHERE m.channel_id = c.value"
        f" AND {LIVE} ORDER BY m.id LIMIT 1) FROM json_each(?) c",
        (_in(channel_ids),),
    )
    return {int(cid): int(mid) for cid, mid in cur.fetchall() if mid is not None}


def find_channels_by_name(conn: sqlite3.Connection, name: str) -> list[Row]:
    """Channels (not threads) whose name is `name` (case-insensitive, a leading # ignored), oldest first."""
    wanted = name.strip().lstrip("#")
    return _rows(
        conn.execute(
            "SELECT id, name, type, is_thread FROM channels WHERE lower(name) = lower(?) ORDER BY is_thread, id",
            (wanted,),
        )
    )


def thread_ids_under(conn: sqlite3.Connection, channel_ids: Iterable[int]) -> list[int]:
    """The threads and forum posts whose parent is one of these channels."""
    cur = conn.execute(
        "SELECT id FROM channels WHERE is_thread = 1 AND parent_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (_in(channel_ids),),
    )
    return [int(r[0]) for r in cur.fetchall()]


def newest_ts(conn: sqlite3.Connection, channel_ids: Collection[int] | None = None) -> int | None:
    """The timestamp of the newest message (of some channels), found through the id indexes."""
    if channel_ids is None:
        row = conn.execute("SELECT ts FROM messages ORDER BY id DESC LIMIT 1").fetchone()
        return int(row[0]) if row else None
    cur = conn.execute(
        "SELECT (SELECT ts FROM messages WHERE channel_id = c.value ORDER BY id DESC LIMIT 1) FROM json_each(?) c",
        (_in(channel_ids),),
    )
    found = [int(r[0]) for r in cur.fetchall() if r[0] is not None]
    return max(found, default=None)


def find_thread_notice(conn: sqlite3.Connection, message: Row, *, window_ms: int) -> Row | None:
    """The ThreadCreated notice for a thread started from `message` (thread id = message id), posted in the
    same channel within `window_ms` after it, or None."""
    start = int(message["id"])
    return _one(
        conn.execute(
            "SELECT id, ref_channel_id FROM messages WHERE channel_id = ? AND id > ? AND id < ?"
            " AND ref_kind = 'thread' AND ref_channel_id = ? LIMIT 1",
            (message["channel_id"], start, start + (window_ms << 22), start),
        )
    )
