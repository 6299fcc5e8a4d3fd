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
from typing import Any, NamedTuple

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


class Activity(NamedTuple):
    """A conversation's activity inside a window (tuples: a month of a big archive has tens of thousands)."""

    id: int
    messages: int
    participants: int
    reactions: int
    first_id: int
    last_id: int
    first_ts: int
    last_ts: int
    channel_id: int  # where most of its window messages are (the earliest such channel on a tie)


class Window(NamedTuple):
    """What one scan of a window finds (see `window_activity`)."""

    conversations: list[Activity]
    standouts: dict[int, tuple[int, int, int]]
    pinned_ids: list[int]


def _conversation_sql(conn: sqlite3.Connection) -> tuple[str, str]:
    """The conversation of `m` and the join that provides it (a message without a link is its own)."""
    if has_links(conn):
        return "coalesce(l.conversation_id, m.id)", " LEFT JOIN links l ON l.message_id = m.id"
    return "m.id", ""


def window_activity(
    conn: sqlite3.Connection, lo_ms: int, hi_ms: int, channel_ids: Collection[int] | None = None
) -> Window:
    """Every conversation with a live message in the window (`Activity`), each one's standout message, and
    the messages pinned in the window (posted in it and pinned, or pinned by a notice in it).

    Standouts map a conversation to its most-replied or most-reacted window message as (message id, replies sent
    inside the window, reactions); a conversation whose messages got neither has none.
    """
    where, args = _window(lo_ms, hi_ms, channel_ids)
    conv, join = _conversation_sql(conn)
    # Aggregated here rather than by GROUP BY, which sorts the window on the expression (1.7x slower). Most
    # conversations of a window have one message: their row is kept as it is until a second one comes.
    agg: dict[int, Any] = {}
    spread: set[int] = set()
    found = conn.execute(
        f"SELECT {conv}, m.id, m.ts, m.author_id, m.reaction_count, m.channel_id, m.reply_to,"
        " CASE WHEN m.pinned THEN m.id WHEN m.ref_kind = 'pin' THEN m.ref_message_id END"
        f" FROM messages m{join} WHERE {where} ORDER BY m.id",
        args,
    ).fetchall()
    for row in found:
        cid = row[0]
        a = agg.get(cid)
        if a is None:
            agg[cid] = row
            continue
        if a.__class__ is tuple:  # id, count, authors, reactions, first/last id, first/last ts, channel
            a = agg[cid] = [cid, 1, {a[3]}, a[4], a[1], a[1], a[2], a[2], a[5]]
        a[1] += 1
        a[2].add(row[3])
        a[3] += row[4]
        a[5], a[7] = row[1], row[2]
        if row[5] != a[8]:
            spread.add(cid)
    make = Activity._make
    rows = [
        make((v[0], 1, 0 if v[3] is None else 1, v[4], v[1], v[1], v[2], v[2], v[5]))
        if v.__class__ is tuple
        else make((v[0], v[1], len(v[2] - {None}), *v[3:]))
        for v in agg.values()
    ]
    # Rare: a conversation in several channels (a thread and the message that started it).
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
        rows = [r._replace(channel_id=home[r.id][2]) if r.id in home else r for r in rows]
    pinned = sorted({row[7] for row in found if row[7] is not None})
    return Window(rows, _standouts(found), pinned)


def _standouts(found: list[tuple[Any, ...]]) -> dict[int, tuple[int, int, int]]:
    """Per conversation, the window message with the most replies (sent inside the window) plus reactions,
    from the window's rows (conversation, id, ts, author, reactions, channel, reply_to)."""
    replies: dict[int, int] = {}
    for row in found:
        if row[6] is not None:
            replies[row[6]] = replies.get(row[6], 0) + 1
    best: dict[int, tuple[int, int, int]] = {}
    for cid, mid, _, _, reactions, *_ in found:
        if not reactions and mid not in replies:
            continue
        entry = (mid, replies.get(mid, 0), reactions)
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


def live_messages(conn: sqlite3.Connection, ids: Iterable[int], *, limit: int = 50) -> list[Row]:
    """The live ones of these messages (e.g. a window's pinned messages), oldest first."""
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


def find_thread_notice(conn: sqlite3.Connection, thread_id: int, *, window_ms: int) -> Row | None:
    """The ThreadCreated notice of a thread (whose id is its starter message's), posted within `window_ms`
    after the thread's creation, or None. Bounded by the id range, so asking for any id stays cheap."""
    return _one(
        conn.execute(
            f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.id > ? AND m.id < ?"
            " AND m.ref_kind = 'thread' AND m.ref_channel_id = ? ORDER BY m.id LIMIT 1",
            (thread_id, min(thread_id + (window_ms << 22), MAX_ID), thread_id),
        )
    )
