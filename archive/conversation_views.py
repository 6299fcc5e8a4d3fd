"""Read-only conversation queries for the viewer and the search filter (the `links` table, schema v2).

A conversation is every message whose link row carries the same `conversation_id`: the id of its first
message, a thread or forum post id, or the id of a replied-to message that is not in the archive. An
archive written before schema v2 has no links; then every function here answers "no conversation".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from archive.views import _MESSAGE_COLUMNS, _MESSAGE_FROM, Row, _in, _one, _rows

LINKS_SCHEMA = 2
MAX_MESSAGES = 2000


def has_links(conn: sqlite3.Connection) -> bool:
    """Whether the archive has the `links` table (a read-only viewer never migrates an old archive)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0]) >= LINKS_SCHEMA


def find_conversation_id(conn: sqlite3.Connection, message_id: int) -> int | None:
    """The conversation a message belongs to, or None (unknown message, or not linked yet)."""
    if not has_links(conn):
        return None
    row = conn.execute("SELECT conversation_id FROM links WHERE message_id = ?", (message_id,)).fetchone()
    return int(row[0]) if row else None


def conversation_exists(conn: sqlite3.Connection, conversation_id: int) -> bool:
    """Whether any message belongs to a conversation of this id."""
    if not has_links(conn):
        return False
    sql = "SELECT 1 FROM links WHERE conversation_id = ? LIMIT 1"
    return conn.execute(sql, (conversation_id,)).fetchone() is not None


def conversation_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, int]:
    """The conversation of each message id that has a link (others are left out)."""
    if not has_links(conn):
        return {}
    cur = conn.execute(
        "SELECT message_id, conversation_id FROM links WHERE message_id IN (SELECT value FROM json_each(?))",
        (_in(ids),),
    )
    return {int(r[0]): int(r[1]) for r in cur.fetchall()}


def link_rows(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, tuple[int, int | None, float, int]]:
    """Each linked message's (conversation, parent, confidence, explicit), for ids that have a link."""
    if not has_links(conn):
        return {}
    cur = conn.execute(
        "SELECT message_id, conversation_id, parent_id, confidence, explicit FROM links"
        " WHERE message_id IN (SELECT value FROM json_each(?))",
        (_in(ids),),
    )
    return {int(r[0]): (int(r[1]), r[2], float(r[3]), int(r[4])) for r in cur.fetchall()}


def conversation_sizes(conn: sqlite3.Connection, conversation_ids: Iterable[int]) -> dict[int, int]:
    """How many messages each conversation has (unknown conversations are left out)."""
    if not has_links(conn):
        return {}
    cur = conn.execute(
        "SELECT conversation_id, count(*) FROM links WHERE conversation_id IN (SELECT value FROM json_each(?))"
        " GROUP BY conversation_id",
        (_in(conversation_ids),),
    )
    return {int(r[0]): int(r[1]) for r in cur.fetchall()}


def conversation_message_ids(conn: sqlite3.Connection, conversation_id: int) -> list[int]:
    """Every message id of a conversation in id order (empty when there is no such conversation)."""
    if not has_links(conn):
        return []
    cur = conn.execute(
        "SELECT message_id FROM links WHERE conversation_id = ? ORDER BY message_id", (conversation_id,)
    )
    return [int(r[0]) for r in cur.fetchall()]


def find_conversation(conn: sqlite3.Connection, conversation_id: int) -> Row | None:
    """A conversation's summary, or None: message count, time span, first message, channels, participants.

    `channels` and `participants` are lists of rows with a `count` each, busiest first; `root_in_archive`
    says whether the message the conversation is named after is archived (a reply to a message no export
    has forms a conversation under the missing id).
    """
    if not has_links(conn):
        return None
    summary = _one(
        conn.execute(
            "SELECT count(*) AS message_count, min(m.ts) AS first_ts, max(m.ts) AS last_ts,"
            " min(m.id) AS first_id FROM links l JOIN messages m ON m.id = l.message_id"
            " WHERE l.conversation_id = ?",
            (conversation_id,),
        )
    )
    if summary is None or not summary["message_count"]:
        return None
    summary["id"] = conversation_id
    summary["root_in_archive"] = (
        conn.execute("SELECT 1 FROM messages WHERE id = ?", (conversation_id,)).fetchone() is not None
    )
    summary["channels"] = _rows(
        conn.execute(
            "SELECT c.id, c.guild_id, c.type, c.name, c.topic, c.parent_id, c.parent_name, c.category,"
            " c.is_thread, g.name AS guild_name, count(*) AS count, min(m.id) AS first_id"
            " FROM links l JOIN messages m ON m.id = l.message_id JOIN channels c ON c.id = m.channel_id"
            " LEFT JOIN guilds g ON g.id = c.guild_id WHERE l.conversation_id = ?"
            " GROUP BY c.id ORDER BY first_id",
            (conversation_id,),
        )
    )
    summary["participants"] = _rows(
        conn.execute(
            "SELECT m.author_id, u.name AS author_name, u.nickname AS author_nickname,"
            " u.is_bot AS author_is_bot, u.pseudonym AS author_pseudonym, count(*) AS count"
            " FROM links l JOIN messages m ON m.id = l.message_id LEFT JOIN users u ON u.id = m.author_id"
            " WHERE l.conversation_id = ? AND m.author_id IS NOT NULL"
            " GROUP BY m.author_id ORDER BY count DESC, min(m.id)",
            (conversation_id,),
        )
    )
    return summary


def conversation_messages(
    conn: sqlite3.Connection,
    conversation_id: int,
    *,
    channel_id: int | None = None,
    limit: int = MAX_MESSAGES,
) -> list[Row]:
    """A conversation's messages in id order (only those in `channel_id` when given), each with its link:
    `parent_id`, `confidence`, `explicit`, and `membership` (the weakest confidence on its chain of links
    up to the conversation's start, among the rows returned)."""
    if not has_links(conn):
        return []
    where, args = "l.conversation_id = ?", [conversation_id]
    if channel_id is not None:
        where, args = where + " AND m.channel_id = ?", [*args, channel_id]
    rows = _rows(
        conn.execute(
            f"SELECT {_MESSAGE_COLUMNS}, l.parent_id AS parent_id, l.confidence AS confidence,"
            f" l.explicit AS explicit{_MESSAGE_FROM} JOIN links l ON l.message_id = m.id"
            f" WHERE {where} ORDER BY m.id LIMIT ?",
            (*args, limit),
        )
    )
    set_membership(rows)
    return rows


def set_membership(rows: Sequence[Row]) -> None:
    """Set each row's `membership` from its link and its parent's membership (rows in id order).

    An explicit link (a reply, a thread) counts as certain, and so does the start of a conversation and
    a parent outside the list; an inferred link is as certain as its confidence and its parent's link.
    """
    seen: dict[int, float] = {}
    for r in rows:
        own = 1.0 if r["explicit"] or r["parent_id"] is None else float(r["confidence"])
        r["membership"] = round(min(own, seen.get(r["parent_id"], 1.0)), 4)
        seen[r["id"]] = r["membership"]
