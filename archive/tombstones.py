"""Tombstones: a message missing from a newer complete export of its channel, inside the id range it covers."""

from __future__ import annotations

import sqlite3

from archive.seen_ranges import seen_sql, uncovered


def covered_outside(conn: sqlite3.Connection, cid: int, mid: int, seen_ts: int) -> bool:
    """Whether a complete export of the channel, made after seen_ts (the effective one), covers this id."""
    row = conn.execute(
        "SELECT 1 FROM exports WHERE channel_id = ? AND status = 'ok' AND first_id <= ? AND last_id >= ?"
        " AND as_of > ? LIMIT 1",
        (cid, mid, mid, seen_ts),
    ).fetchone()
    return row is not None


def refresh_tombstones(
    conn: sqlite3.Connection, cid: int, first: int, last: int, export_id: int, gen: int
) -> int:
    """Recompute `deleted` for the channel's messages in [first, last]; return how many became tombstones.

    A message is deleted when some complete export of its channel covers its id and was made after
    the newest export that contains it. Only needed when another export overlaps this one.
    """
    overlap = conn.execute(
        "SELECT 1 FROM exports WHERE channel_id = ? AND id != ? AND status = 'ok'"
        " AND first_id <= ? AND last_id >= ? LIMIT 1",
        (cid, export_id, last, first),
    ).fetchone()
    if overlap is None:
        return 0
    # The complete exports of this channel that overlap the range: few, so one range scan each.
    covers = conn.execute(
        "SELECT max(first_id, ?), min(last_id, ?), as_of FROM exports WHERE channel_id = ? AND status = 'ok'"
        " AND first_id <= ? AND last_id >= ?",
        (first, last, cid, last, first),
    ).fetchall()
    became = 0
    for lo, hi, as_of in covers:
        # Messages an export range of as_of or newer covers were seen then: only the rest can vanish.
        for a, b in uncovered(conn, cid, lo, hi, as_of):
            became += conn.execute(
                # A tombstone keeps when it was last seen (the viewer shows it), ranges included.
                f"UPDATE messages SET deleted = 1, generation = ?, seen_ts = {seen_sql('messages')}"
                " WHERE channel_id = ? AND id BETWEEN ? AND ?"
                " AND deleted = 0 AND seen_ts < ? AND fidelity > 2",  # CSV/TXT records merge, never vanish
                (gen, cid, a, b, as_of),
            ).rowcount
    # A tombstone seen again in a newer export than every export missing it comes back (rare).
    revived = [
        (gen, mid)
        for mid, seen_ts in conn.execute(
            f"SELECT m.id, {seen_sql('m')} FROM messages m"
            " WHERE m.channel_id = ? AND m.id BETWEEN ? AND ? AND m.deleted = 1",
            (cid, first, last),
        ).fetchall()
        if not any(lo <= mid <= hi and as_of > seen_ts for lo, hi, as_of in covers)
        and not covered_outside(conn, cid, mid, seen_ts)
    ]
    if revived:
        conn.executemany("UPDATE messages SET deleted = 0, generation = ? WHERE id = ?", revived)
    # The tombstones this export's ranges cover show when they were last seen, ranges included.
    conn.execute(
        f"UPDATE messages SET seen_ts = {seen_sql('messages')}"
        " WHERE channel_id = ? AND id BETWEEN ? AND ? AND deleted = 1",
        (cid, first, last),
    )
    return became
