"""Merge low-fidelity records (CSV/TXT messages, which have no ids) into the real messages they copy.

A low-fidelity record and a real message (from JSON or HTML) are one message when they are in the
same channel (the same id, or the same name when one id is made up from names), by the same author
(the same id, or the same full name when the record knows only the name), at the same time at the
record's precision (a minute, after the exporter's UTC offset is found: the offset most pairs agree
on, in steps of 15 minutes), with the same text (letters and digits). The record is then deleted, its
id kept as an alias that the viewer answers with a 301 to the real permalink, and its exports are added
to the real message's provenance. Runs inside the ingest transaction of each file, in either order.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict

from archive.normalize import DISCORD_EPOCH_MS, snowflake_ms
from archive.seen_ranges import split_ranges
from archive.sources._identity import SYNTHETIC_BASE, text_key

LOW_FIDELITY = 2  # messages.fidelity: 4 JSON, 3 HTML, 2 CSV, 1 TXT
WINDOW_MS = 15 * 3_600_000  # local-time offsets reach +14:00 / -12:00
_STEP_MS = 15 * 60_000
_DETAIL_TABLES = ("revisions", "attachments", "embeds", "stickers", "reactions", "mentions", "links")


def _compatible_channels(conn: sqlite3.Connection, cid: int) -> list[int]:
    """The channel itself and, when names are all that link them, channels of the same name."""
    row = conn.execute("SELECT name FROM channels WHERE id = ?", (cid,)).fetchone()
    if row is None:
        return [cid]
    same = conn.execute(
        "SELECT id FROM channels WHERE lower(name) = lower(?) AND id != ? AND (id >= ? OR ? >= ?)",
        (row[0], cid, SYNTHETIC_BASE, cid, SYNTHETIC_BASE),
    ).fetchall()
    return [cid, *(r[0] for r in same)]


def _author_keys(conn: sqlite3.Connection, ids: set[int]) -> dict[int, tuple[str, str]]:
    """(name, discriminator) per user id, case-folded: how a TXT record names its author."""
    keys: dict[int, tuple[str, str]] = {}
    for uid, name, disc in conn.execute(
        "SELECT id, name, coalesce(discriminator, '0000') FROM users WHERE id IN (SELECT value FROM json_each(?))",
        ("[" + ",".join(map(str, ids)) + "]",),
    ):
        keys[uid] = (name.casefold(), disc)
    return keys


def _same_author(a: int | None, b: int | None, keys: dict[int, tuple[str, str]]) -> bool:
    if a is None or b is None:
        return a == b
    if a == b:
        return True
    return (a >= SYNTHETIC_BASE or b >= SYNTHETIC_BASE) and a in keys and keys.get(a) == keys.get(b)


def any_low_fidelity(conn: sqlite3.Connection) -> bool:
    """Whether a CSV or TXT export was ever read (this one included): only they make low-fidelity records,
    synthetic channels and aliases. Until then there is nothing to reconcile, and the queries below scan
    all of provenance (seconds per file on a large archive, most of a re-ingest of a newer export)."""
    # An HTML export naming no channel id makes a synthetic channel too (its messages move on a JSON export).
    row = conn.execute(
        "SELECT 1 FROM exports WHERE format IN ('csv', 'txt') OR channel_id >= ? LIMIT 1", (SYNTHETIC_BASE,)
    ).fetchone()
    return row is not None


def move_from_synthetic_channel(conn: sqlite3.Connection, export_id: int, cid: int) -> None:
    """Messages first seen in an export without a channel id join the real channel once one names it."""
    if cid >= SYNTHETIC_BASE or not any_low_fidelity(conn):
        return
    # A made-up channel holding any message of this export is this channel: all of it moves, with its
    # exports. Candidates are the messages of made-up channels (an index range), checked by provenance key.
    found = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT channel_id FROM messages WHERE channel_id >= ? AND EXISTS"
            " (SELECT 1 FROM provenance p WHERE p.message_id = messages.id AND p.export_id = ?)",
            (SYNTHETIC_BASE, export_id),
        )
    ]
    for made_up in found:
        moved = [r[0] for r in conn.execute("SELECT id FROM messages WHERE channel_id = ?", (made_up,))]
        split_ranges(conn, cid, moved)  # no range of the real channel may claim them
        conn.execute("UPDATE messages SET channel_id = ? WHERE channel_id = ?", (cid, made_up))
        conn.execute("UPDATE exports SET channel_id = ? WHERE channel_id = ?", (cid, made_up))
    if found:
        _drop_empty_synthetic_rows(conn)


def reconcile(
    conn: sqlite3.Connection, export_id: int, cid: int, gen: int, first_id: int | None, last_id: int | None
) -> int:
    """Merge the low-fidelity records this export's window (its first to last id) holds; return how many."""
    if not any_low_fidelity(conn):
        return 0
    merged = _merge_known_aliases(conn, export_id, gen)
    if first_id is not None and last_id is not None:
        merged += _reconcile(conn, cid, gen, snowflake_ms(first_id), snowflake_ms(last_id))
    if merged:
        _drop_empty_synthetic_rows(conn)
    return merged


def _reconcile(conn: sqlite3.Connection, cid: int, gen: int, first_ms: int, last_ms: int) -> int:
    merged = 0
    channels = _compatible_channels(conn, cid)
    marks = ",".join("?" * len(channels))
    select = f"SELECT id, author_id, ts, coalesce(content, ''), fidelity FROM messages WHERE channel_id IN ({marks})"
    # The records first, by the partial index (its condition spelled literally so SQLite uses it): a JSON
    # export of a big channel loads none of its messages here unless records lie in its window.
    low = conn.execute(
        select + f" AND fidelity <= {LOW_FIDELITY} AND ts BETWEEN ? AND ? AND redacted IS NULL ORDER BY id",
        (*channels, first_ms - WINDOW_MS, last_ms + WINDOW_MS),
    ).fetchall()
    if not low:
        return merged
    # Real ids are snowflakes: the time window is an id range on the (channel_id, id) index.
    lo_ms, hi_ms = min(r[2] for r in low) - WINDOW_MS, max(r[2] for r in low) + WINDOW_MS
    real = conn.execute(
        select + f" AND id BETWEEN ? AND ? AND fidelity > {LOW_FIDELITY} AND redacted IS NULL ORDER BY id",
        (*channels, _id_at(lo_ms), _id_at(hi_ms) | 0x3FFFFF),
    ).fetchall()
    if not real:
        return merged
    keys = _author_keys(conn, {r[1] for r in (*low, *real) if r[1] is not None})
    by_text: dict[str, list[tuple[int, int | None, int, str, int]]] = defaultdict(list)
    for r in real:
        by_text[text_key(r[3])].append(r)
    # The exporter's UTC offset: the shift most (author, text) pairs agree on.
    shifts: Counter[int] = Counter()
    for r in low:
        for c in by_text.get(text_key(r[3]), ()):
            if _same_author(r[1], c[1], keys):
                shift = (c[2] - c[2] % 60_000) - (r[2] - r[2] % 60_000)
                if abs(shift) <= WINDOW_MS and shift % _STEP_MS == 0:
                    shifts[shift] += 1
    if not shifts:
        return merged
    shift = shifts.most_common(1)[0][0]
    taken: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for r in low:
        minute = r[2] - r[2] % 60_000 + shift
        for c in by_text.get(text_key(r[3]), ()):
            if c[0] not in taken and c[2] - c[2] % 60_000 == minute and _same_author(r[1], c[1], keys):
                taken.add(c[0])
                pairs.append((r[0], c[0]))
                break
    for alias, real_id in pairs:
        _merge_one(conn, alias, real_id, gen)
    return merged + len(pairs)


def _id_at(ms: int) -> int:
    return max(0, ms - DISCORD_EPOCH_MS) << 22


def _merge_known_aliases(conn: sqlite3.Connection, export_id: int, gen: int) -> int:
    """Records re-ingested after they were merged go straight to their message."""
    rows = conn.execute(
        "SELECT a.alias_id, a.message_id FROM aliases a JOIN provenance p ON p.message_id = a.alias_id"
        " JOIN messages m ON m.id = a.message_id WHERE p.export_id = ?",
        (export_id,),
    ).fetchall()
    for alias, real_id in rows:
        _merge_one(conn, alias, real_id, gen)
    return len(rows)


def _merge_one(conn: sqlite3.Connection, alias: int, real_id: int, gen: int) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO provenance_rows(message_id, export_id) SELECT ?, export_id FROM provenance"
        " WHERE message_id = ?",
        (real_id, alias),
    )
    conn.execute("DELETE FROM provenance_rows WHERE message_id = ?", (alias,))
    for table in _DETAIL_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE message_id = ?", (alias,))
    conn.execute("DELETE FROM messages WHERE id = ?", (alias,))
    conn.execute("INSERT OR REPLACE INTO aliases(alias_id, message_id) VALUES (?, ?)", (alias, real_id))
    # The index drops the record's id like a purged one.
    conn.execute("INSERT OR REPLACE INTO removed(message_id, generation) VALUES (?, ?)", (alias, gen))


def _drop_empty_synthetic_rows(conn: sqlite3.Connection) -> None:
    """Channels, guilds and users made up from names go once the real ones hold all their messages."""
    conn.execute(
        "DELETE FROM channels WHERE id >= ? AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = channels.id)",
        (SYNTHETIC_BASE,),
    )
    conn.execute(
        "DELETE FROM guilds WHERE id >= ? AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.guild_id = guilds.id)",
        (SYNTHETIC_BASE,),
    )
    conn.execute(
        "DELETE FROM users WHERE id >= ? AND pseudonym = 0"
        " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.author_id = users.id)",
        (SYNTHETIC_BASE,),
    )


def find_alias(conn: sqlite3.Connection, message_id: int) -> int | None:
    """The real message a merged low-fidelity record's id now stands for, if any."""
    row = conn.execute("SELECT message_id FROM aliases WHERE alias_id = ?", (message_id,)).fetchone()
    return int(row[0]) if row else None
