"""Read-only queries for the viewer: rows as plain dicts, ids as ints, timestamps as Unix ms.

Nothing here writes. Every function takes an open connection (the viewer opens one read-only
connection per request) and returns `dict`s shaped after the tables, so the web layer decides
how to present them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from archive.names import normalize_name
from archive.normalize import DISCORD_EPOCH_MS
from archive.schema import MESSAGE_COLUMNS

Row = dict[str, Any]
MAX_ID = (1 << 63) - 1

_MESSAGE_COLUMNS = (
    ", ".join(f"m.{c}" for c in MESSAGE_COLUMNS if c not in ("fp", "generation"))
    + ", u.name AS author_name, u.nickname AS author_nickname,"
    " u.avatar_url AS author_avatar_url, u.color AS author_color, u.is_bot AS author_is_bot,"
    " u.pseudonym AS author_pseudonym"
)
_MESSAGE_FROM = " FROM messages m LEFT JOIN users u ON u.id = m.author_id"


def _rows(cur: sqlite3.Cursor) -> list[Row]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _one(cur: sqlite3.Cursor) -> Row | None:
    rows = _rows(cur)
    return rows[0] if rows else None


def _in(ids: Iterable[int]) -> bytes:
    return orjson.dumps(sorted(set(ids)))


def snowflake_at(ms: int) -> int:
    """The smallest snowflake created at Unix ms `ms` (for date jumps)."""
    return max(ms - DISCORD_EPOCH_MS, 0) << 22


# -- single records -------------------------------------------------------------------------------


def find_message(conn: sqlite3.Connection, message_id: int) -> Row | None:
    """One message joined with its author, or None."""
    return _one(conn.execute(f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.id = ?", (message_id,)))


def find_messages(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Row]:
    """Messages by id (missing ids are left out)."""
    cur = conn.execute(
        f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.id IN (SELECT value FROM json_each(?))",
        (_in(ids),),
    )
    return {r["id"]: r for r in _rows(cur)}


def find_channel(conn: sqlite3.Connection, channel_id: int) -> Row | None:
    """One channel (or thread) with its guild name, or None."""
    return _one(
        conn.execute(
            "SELECT c.*, g.name AS guild_name FROM channels c LEFT JOIN guilds g ON g.id = c.guild_id WHERE c.id = ?",
            (channel_id,),
        )
    )


def find_channels(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Row]:
    """Channels by id, with their guild name."""
    cur = conn.execute(
        "SELECT c.*, g.name AS guild_name FROM channels c LEFT JOIN guilds g ON g.id = c.guild_id"
        " WHERE c.id IN (SELECT value FROM json_each(?))",
        (_in(ids),),
    )
    return {r["id"]: r for r in _rows(cur)}


# A message's id orders it by time (snowflakes; an export without ids gets snowflake-shaped ones from its
# times), so the first and last times of a channel or a person are read at the ends of their id index;
# min(ts) and max(ts) would read every one of their messages (4 ms a channel page at 100k messages).
def _first_ts(where: str) -> str:
    return f"(SELECT ts FROM messages WHERE {where} ORDER BY id LIMIT 1)"


def _last_ts(where: str) -> str:
    return f"(SELECT ts FROM messages WHERE {where} ORDER BY id DESC LIMIT 1)"


def channel_span(conn: sqlite3.Connection, channel_id: int) -> tuple[int | None, int | None]:
    """The times of a channel's first and last messages (None, None when it has none)."""
    first, last = conn.execute(
        f"SELECT {_first_ts('channel_id = ?1')}, {_last_ts('channel_id = ?1')}", (channel_id,)
    ).fetchone()
    return first, last


def find_user(conn: sqlite3.Connection, user_id: int) -> Row | None:
    """One user with message counts, or None (pseudonymized users exist only under their pseudonym)."""
    return _one(
        conn.execute(
            "SELECT u.id, u.name, u.discriminator, u.nickname, u.avatar_url, u.color, u.is_bot, u.pseudonym,"
            " (SELECT count(*) FROM messages WHERE author_id = u.id) AS message_count,"
            f" {_first_ts('author_id = u.id')} AS first_ts, {_last_ts('author_id = u.id')} AS last_ts"
            " FROM users u WHERE u.id = ?",
            (user_id,),
        )
    )


def find_users(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Row]:
    """Users by id (name, nickname, pseudonym flag)."""
    cur = conn.execute(
        "SELECT id, name, nickname, pseudonym, is_bot FROM users WHERE id IN (SELECT value FROM json_each(?))",
        (_in(ids),),
    )
    return {r["id"]: r for r in _rows(cur)}


def revisions(conn: sqlite3.Connection, message_id: int) -> list[Row]:
    """Superseded versions of a message, oldest first (the original, edited_ts NULL, comes first)."""
    return _rows(
        conn.execute(
            "SELECT edited_ts, content FROM revisions WHERE message_id = ?"
            " ORDER BY edited_ts IS NOT NULL, edited_ts, rowid",
            (message_id,),
        )
    )


# The exports attesting given messages (a JSON array of ids as ?1). The `provenance` view answers the same,
# but SQLite can't push a message id into its UNION: it joins every range with every message first (34 ms a
# permalink at 100k messages, growing with the archive). Here each half looks the ids up by key.
_ATTESTING = (
    "SELECT message_id, export_id FROM provenance_rows WHERE message_id IN (SELECT value FROM json_each(?1))"
    " UNION SELECT m.id, r.export_id FROM messages m JOIN provenance_ranges r"
    " ON r.channel_id = m.channel_id AND r.lo <= m.id AND r.hi >= m.id"
    " WHERE m.id IN (SELECT value FROM json_each(?1))"
)


def version_counts(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, int]:
    """How many versions each of many messages has (its superseded revisions and the current text)."""
    counts = {i: 1 for i in ids}
    cur = conn.execute(
        "SELECT message_id, count(*) FROM revisions WHERE message_id IN (SELECT value FROM json_each(?))"
        " GROUP BY message_id",
        (_in(counts),),
    )
    for mid, n in cur:
        counts[int(mid)] += int(n)
    return counts


def provenance(conn: sqlite3.Connection, message_id: int) -> list[Row]:
    """The export files that attest a message, oldest snapshot first."""
    return _rows(
        conn.execute(
            f"SELECT e.id, e.path, e.sha256, e.as_of, e.exported_at FROM ({_ATTESTING}) p"
            " JOIN exports e ON e.id = p.export_id ORDER BY e.as_of, e.id",
            (_in([message_id]),),
        )
    )


def provenance_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, list[int]]:
    """The export ids that attest each of many messages (ids without any are left out)."""
    out: dict[int, list[int]] = {}
    cur = conn.execute(f"SELECT * FROM ({_ATTESTING}) ORDER BY 1, 2", (_in(ids),))
    for mid, eid in cur:
        out.setdefault(int(mid), []).append(int(eid))
    return out


def details(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, dict[str, list[Row]]]:
    """Attachments, embeds, stickers, reactions and mentions of many messages, keyed by message id."""
    out: dict[int, dict[str, list[Row]]] = {
        i: {"attachments": [], "embeds": [], "stickers": [], "reactions": [], "mentions": []} for i in ids
    }
    if not ids:
        return out
    key = _in(ids)
    queries = {
        "attachments": "SELECT message_id, pos, id, url, path, file_name, size FROM attachments",
        "embeds": "SELECT message_id, pos, url, title, description, data FROM embeds",
        "stickers": "SELECT message_id, pos, id, name, format, url FROM stickers",
        "reactions": "SELECT message_id, pos, emoji_id, emoji_name, emoji_code, animated, image_url, count, users"
        " FROM reactions",
    }
    for name, sql in queries.items():
        cur = conn.execute(
            f"{sql} WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY message_id, pos", (key,)
        )
        for r in _rows(cur):
            out[r["message_id"]][name].append(r)
    cur = conn.execute(
        "SELECT x.message_id, x.user_id, u.name, u.nickname FROM mentions x LEFT JOIN users u ON u.id = x.user_id"
        " WHERE x.message_id IN (SELECT value FROM json_each(?)) ORDER BY x.message_id, x.user_id",
        (key,),
    )
    for r in _rows(cur):
        out[r["message_id"]]["mentions"].append(r)
    return out


def find_attachment(conn: sqlite3.Connection, message_id: int, pos: int) -> Row | None:
    """One attachment with the absolute path of the export file that listed it, or None."""
    return _one(
        conn.execute(
            "SELECT a.message_id, a.pos, a.url, a.path, a.file_name, a.size, e.path AS export_path"
            " FROM attachments a LEFT JOIN exports e ON e.id = a.export_id"
            " JOIN messages m ON m.id = a.message_id"
            " WHERE a.message_id = ? AND a.pos = ? AND m.deleted = 0 AND m.redacted IS NULL",
            (message_id, pos),
        )
    )


def export_paths(conn: sqlite3.Connection, message_id: int) -> list[str]:
    """Absolute paths of the export files that contain a message, newest snapshot first."""
    cur = conn.execute(
        f"SELECT e.path FROM ({_ATTESTING}) p JOIN exports e ON e.id = p.export_id"
        " ORDER BY e.as_of DESC, e.id DESC",
        (_in([message_id]),),
    )
    return [r[0] for r in cur.fetchall()]


# -- lists ----------------------------------------------------------------------------------------


def channel_page(
    conn: sqlite3.Connection,
    channel_id: int,
    *,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
    limit: int = 50,
) -> tuple[list[Row], bool, bool]:
    """A page of a channel's messages in id order, and whether older and newer messages exist.

    With no cursor the newest page is returned (as in Discord); `around` centers the page on an id; `after`
    starts the page after an id, and stops it before `before` if that is given too.
    """
    before, after, around = (None if c is None else _clamp(c) for c in (before, after, around))
    base = f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.channel_id = ?"
    bound = before if before is not None else MAX_ID
    if around is not None:
        half = limit // 2
        older = _rows(
            conn.execute(f"{base} AND m.id < ? ORDER BY m.id DESC LIMIT ?", (channel_id, around, half))
        )
        newer = _rows(
            conn.execute(
                f"{base} AND m.id >= ? ORDER BY m.id LIMIT ?", (channel_id, around, limit - len(older))
            )
        )
        rows = older[::-1] + newer
    elif after is not None:  # (and with `before` too, only the messages between them)
        rows = _rows(
            conn.execute(
                f"{base} AND m.id > ? AND m.id < ? ORDER BY m.id LIMIT ?", (channel_id, after, bound, limit)
            )
        )
    else:
        rows = _rows(
            conn.execute(f"{base} AND m.id < ? ORDER BY m.id DESC LIMIT ?", (channel_id, bound, limit))
        )[::-1]
    if not rows:
        has_older = before is not None and _exists(conn, channel_id, "<", before)
        has_newer = after is not None and _exists(conn, channel_id, ">", after)
        return rows, has_older, has_newer
    return rows, _exists(conn, channel_id, "<", rows[0]["id"]), _exists(conn, channel_id, ">", rows[-1]["id"])


def _clamp(cursor: int) -> int:
    """Cursors come from URLs: keep them inside SQLite's integer range."""
    return min(max(cursor, 0), MAX_ID)


def _exists(conn: sqlite3.Connection, channel_id: int, op: str, message_id: int) -> bool:
    sql = f"SELECT 1 FROM messages WHERE channel_id = ? AND id {op} ? LIMIT 1"
    return conn.execute(sql, (channel_id, message_id)).fetchone() is not None


def context(conn: sqlite3.Connection, message: Row, *, size: int) -> tuple[list[Row], list[Row]]:
    """Up to `size` messages before and after a message in its channel."""
    base = f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.channel_id = ?"
    cid, mid = message["channel_id"], message["id"]
    before = _rows(conn.execute(f"{base} AND m.id < ? ORDER BY m.id DESC LIMIT ?", (cid, mid, size)))[::-1]
    after = _rows(conn.execute(f"{base} AND m.id > ? ORDER BY m.id LIMIT ?", (cid, mid, size)))
    return before, after


def replies_to(conn: sqlite3.Connection, message_id: int, *, limit: int = 200) -> list[Row]:
    """Messages that reply to this one, oldest first."""
    return _rows(
        conn.execute(
            f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.reply_to = ? ORDER BY m.id LIMIT ?",
            (message_id, limit),
        )
    )


def reply_counts(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, int]:
    """How many direct replies each message received."""
    cur = conn.execute(
        "SELECT reply_to, count(*) FROM messages WHERE reply_to IN (SELECT value FROM json_each(?)) GROUP BY reply_to",
        (_in(ids),),
    )
    return {r[0]: r[1] for r in cur.fetchall()}


def reply_tree(conn: sqlite3.Connection, root_id: int, *, limit: int = 1000) -> list[Row]:
    """The root message and every reply below it (recursively), each with its `depth`, in id order."""
    cur = conn.execute(
        "WITH RECURSIVE tree(id, depth) AS (SELECT ?, 0 UNION"
        " SELECT m.id, tree.depth + 1 FROM messages m JOIN tree ON m.reply_to = tree.id WHERE tree.depth < 64)"
        f" SELECT {_MESSAGE_COLUMNS}, tree.depth AS depth{_MESSAGE_FROM} JOIN tree ON tree.id = m.id"
        " ORDER BY m.id LIMIT ?",
        (root_id, limit),
    )
    return _rows(cur)


def threads_started(conn: sqlite3.Connection, messages: Sequence[Row]) -> dict[int, Row]:
    """Threads started by these messages (thread id == starter id, or a ThreadCreated notice), by message id."""
    by_thread: dict[int, int] = {}
    for m in messages:
        by_thread.setdefault(m["id"], m["id"])
        if m["ref_kind"] == "thread" and m["ref_channel_id"]:
            by_thread[m["ref_channel_id"]] = m["id"]
    if not by_thread:
        return {}
    cur = conn.execute(
        "SELECT c.id, c.name, c.type, c.parent_id, (SELECT count(*) FROM messages WHERE channel_id = c.id) AS count,"
        f" {_last_ts('channel_id = c.id')} AS last_ts"
        " FROM channels c WHERE c.is_thread = 1 AND c.id IN (SELECT value FROM json_each(?))",
        (_in(by_thread),),
    )
    return {by_thread[r["id"]]: r for r in _rows(cur)}


def thread_of(conn: sqlite3.Connection, message: Row) -> Row | None:
    """The thread a message started, if any."""
    return threads_started(conn, [message]).get(message["id"])


def thread_messages(conn: sqlite3.Connection, thread_id: int, *, limit: int = 1000) -> list[Row]:
    """A thread's messages in id order."""
    return _rows(
        conn.execute(
            f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.channel_id = ? ORDER BY m.id LIMIT ?",
            (thread_id, limit),
        )
    )


def user_messages(
    conn: sqlite3.Connection,
    user_id: int,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> list[Row]:
    """A user's messages, newest first, older than `before` and newer than `after`."""
    bound = _clamp(before) if before is not None else MAX_ID
    floor = _clamp(after) if after is not None else -1
    return _rows(
        conn.execute(
            f"SELECT {_MESSAGE_COLUMNS}{_MESSAGE_FROM} WHERE m.author_id = ? AND m.id < ? AND m.id > ?"
            " ORDER BY m.id DESC LIMIT ?",
            (user_id, bound, floor, limit),
        )
    )


def user_channels(conn: sqlite3.Connection, user_id: int) -> list[Row]:
    """Where a user wrote: channel id, name and message count, busiest first."""
    return _rows(
        conn.execute(
            "SELECT c.id, c.name, c.is_thread, count(*) AS count FROM messages m JOIN channels c ON c.id = m.channel_id"
            " WHERE m.author_id = ? GROUP BY c.id ORDER BY count DESC, c.id LIMIT 20",
            (user_id,),
        )
    )


# -- the guild directory --------------------------------------------------------------------------


def guild_directory(conn: sqlite3.Connection) -> list[Row]:
    """Every guild with its channels (and each channel's threads), counts, last activity and monthly counts."""
    guilds = _rows(conn.execute("SELECT id, name, icon_url FROM guilds ORDER BY name, id"))
    channels = _rows(
        conn.execute(
            "SELECT id, guild_id, type, name, topic, parent_id, parent_name, category_id, category, is_thread"
            " FROM channels ORDER BY id"
        )
    )
    stats = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT channel_id, count(*), max(ts), min(ts) FROM messages WHERE deleted = 0 AND redacted IS NULL"
            " GROUP BY channel_id"
        )
    }
    months: dict[int, dict[str, int]] = {}
    for cid, month, count in conn.execute(
        "SELECT channel_id, strftime('%Y-%m', ts / 1000, 'unixepoch') AS month, count(*) FROM messages"
        " WHERE deleted = 0 AND redacted IS NULL GROUP BY channel_id, month"
    ):
        months.setdefault(cid, {})[month] = count
    by_id: dict[int, Row] = {}
    for c in channels:
        count, last_ts, first_ts = stats.get(c["id"], (0, None, None))
        c.update(count=count, last_ts=last_ts, first_ts=first_ts, months=months.get(c["id"], {}), threads=[])
        by_id[c["id"]] = c
    roots: list[Row] = []
    for c in channels:
        if not c["is_thread"]:
            roots.append(c)
            continue
        parent = by_id.get(c["parent_id"]) if c["parent_id"] else None
        if parent is None:
            # A forum or channel seen only through its threads: make a placeholder parent.
            pid = c["parent_id"] or 0
            parent = {
                "id": pid, "guild_id": c["guild_id"], "type": "GuildForum" if pid else "Unknown",
                "name": c["parent_name"] or (str(pid) if pid else "threads"), "topic": None, "parent_id": None,
                "parent_name": None, "category_id": None, "category": None, "is_thread": 0, "count": 0,
                "last_ts": None, "first_ts": None, "months": {}, "threads": [], "placeholder": True,
            }  # fmt: skip
            by_id[pid] = parent
            roots.append(parent)
        parent["threads"].append(c)
    for c in roots:
        c.setdefault("placeholder", False)
        for t in c["threads"]:
            c["last_ts"] = max(filter(None, [c["last_ts"], t["last_ts"]]), default=None)
            for month, n in t["months"].items():
                c["months"][month] = c["months"].get(month, 0) + n
        c["threads"].sort(key=lambda t: -(t["last_ts"] or 0))
    for g in guilds:
        mine = [c for c in roots if c["guild_id"] == g["id"]]
        g["channels"] = sorted(
            mine, key=lambda c: ((c["category"] or "").lower(), c["name"].lower(), c["id"])
        )
    return guilds


def archive_span(conn: sqlite3.Connection) -> tuple[int | None, int | None]:
    """The oldest and newest message timestamps (Unix ms)."""
    row = conn.execute("SELECT min(ts), max(ts) FROM messages").fetchone()
    return row[0], row[1]


def policy_rows(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """What the archive withholds, as its keyed digests (kind, key, action), in a stable order."""
    return [tuple(r) for r in conn.execute("SELECT kind, key, action FROM withheld ORDER BY kind, key")]


def child_threads(conn: sqlite3.Connection, channel_id: int) -> list[Row]:
    """Threads and forum posts under a channel, most recently active first, with message counts."""
    return _rows(
        conn.execute(
            "SELECT c.id, c.name, c.type, c.parent_id, count(m.id) AS count, max(m.ts) AS last_ts FROM channels c"
            " LEFT JOIN messages m ON m.channel_id = c.id WHERE c.parent_id = ? AND c.is_thread = 1"
            " GROUP BY c.id ORDER BY last_ts DESC, c.id",
            (channel_id,),
        )
    )


def find_forum(conn: sqlite3.Connection, channel_id: int) -> Row | None:
    """A forum (or parent channel) known only through its threads, shaped like a channel row, or None."""
    return _one(
        conn.execute(
            "SELECT c.parent_id AS id, c.guild_id, 'GuildForum' AS type, coalesce(c.parent_name, c.parent_id) AS name,"
            " NULL AS topic, NULL AS parent_id, NULL AS parent_name, NULL AS category_id, NULL AS category,"
            " 0 AS is_thread, g.name AS guild_name FROM channels c LEFT JOIN guilds g ON g.id = c.guild_id"
            " WHERE c.parent_id = ? AND c.is_thread = 1 LIMIT 1",
            (channel_id,),
        )
    )


def channels_named(conn: sqlite3.Connection, name: str) -> list[int]:
    """Ids of the channels, threads and forums whose name has the same normal form as `name` (archive.names)."""
    want = normalize_name(name)
    rows = conn.execute(
        "SELECT id, name FROM channels UNION SELECT parent_id, parent_name FROM channels"
        " WHERE parent_id IS NOT NULL AND parent_name IS NOT NULL"
    )
    return sorted({int(cid) for cid, n in rows if n and normalize_name(str(n)) == want})
