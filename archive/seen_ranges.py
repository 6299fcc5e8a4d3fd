"""Provenance by id range: a run of messages that a newer export repeats byte for byte is one row.

A re-export of a channel is mostly messages the archive already holds unchanged. Writing a provenance
row and a new `seen_ts` for each of them rewrites every page of `messages` (most of a re-ingest's
time). Instead, a row of `provenance_ranges` (channel_id, lo, hi, export_id, as_of) says: every
message the channel holds with lo <= id <= hi is in that export. The `provenance` view answers from
both kinds of rows, so readers ask per message as before.

Invariant: a message that enters a channel later (inserted from another export, or moved into it)
splits every other export's range that covers its id, so a range never claims a message its export
lacks. A message's `seen_ts` column is the newest as_of among the exports that list it one by one;
its effective value also counts the ranges that cover it (`SEEN`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from itertools import pairwise

MIN_RUN = 16
"""Unchanged runs shorter than this keep per-message rows (a range per lone message would not save anything)."""

_COVERING = (
    "SELECT max(r.as_of) FROM provenance_ranges r"
    " WHERE r.channel_id = {t}.channel_id AND r.lo <= {t}.id AND r.hi >= {t}.id"
)


def seen_sql(table: str = "m") -> str:
    """SQL for a message's effective seen_ts (its column, or a newer export range that covers it)."""
    return f"max({table}.seen_ts, coalesce(({_COVERING.format(t=table)}), 0))"


def add_range(conn: sqlite3.Connection, cid: int, lo: int, hi: int, export_id: int, as_of: int) -> None:
    """Record that the export holds every message of the channel in [lo, hi]."""
    conn.execute(
        "INSERT INTO provenance_ranges(channel_id, lo, hi, export_id, as_of) VALUES (?, ?, ?, ?, ?)",
        (cid, lo, hi, export_id, as_of),
    )


def gap_free(conn: sqlite3.Connection, cid: int, after: int, before: int) -> bool:
    """Whether the channel holds no message with after < id < before."""
    row = conn.execute(
        "SELECT 1 FROM messages WHERE channel_id = ? AND id > ? AND id < ? LIMIT 1", (cid, after, before)
    ).fetchone()
    return row is None


def _pieces(conn: sqlite3.Connection, cid: int, lo: int, hi: int, cuts: list[int]) -> list[tuple[int, int]]:
    """[lo, hi] without the cut ids, each piece shrunk to the messages the channel holds (empty ones dropped)."""
    out: list[tuple[int, int]] = []
    bounds = [lo - 1, *cuts, hi + 1]
    for a, b in pairwise(bounds):
        if b - a < 2:
            continue
        first, last = conn.execute(
            "SELECT min(id), max(id) FROM messages WHERE channel_id = ? AND id > ? AND id < ?", (cid, a, b)
        ).fetchone()
        if first is not None:
            out.append((first, last))
    return out


def split_ranges(
    conn: sqlite3.Connection, cid: int, ids: Iterable[int], keep_export: int | None = None
) -> None:
    """Cut the ids out of every range of the channel that covers one (but the ranges of `keep_export`,
    whose file holds them): they entered the channel after those exports were read."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    rows = conn.execute(
        "SELECT rowid, lo, hi, export_id, as_of FROM provenance_ranges WHERE channel_id = ? AND lo <= ? AND hi >= ?",
        (cid, wanted[-1], wanted[0]),
    ).fetchall()
    for rowid, lo, hi, export_id, as_of in rows:
        if export_id == keep_export:
            continue
        cuts = [i for i in wanted if lo <= i <= hi]
        if not cuts:
            continue
        conn.execute("DELETE FROM provenance_ranges WHERE rowid = ?", (rowid,))
        for a, b in _pieces(conn, cid, lo, hi, cuts):
            add_range(conn, cid, a, b, export_id, as_of)


def uncovered(conn: sqlite3.Connection, cid: int, lo: int, hi: int, min_as_of: int) -> list[tuple[int, int]]:
    """The parts of [lo, hi] that no range of the channel with as_of >= min_as_of covers."""
    spans = conn.execute(
        "SELECT lo, hi FROM provenance_ranges WHERE channel_id = ? AND lo <= ? AND hi >= ? AND as_of >= ?"
        " ORDER BY lo",
        (cid, hi, lo, min_as_of),
    ).fetchall()
    out: list[tuple[int, int]] = []
    at = lo
    for a, b in spans:
        if a > at:
            out.append((at, a - 1))
        at = max(at, b + 1)
        if at > hi:
            return out
    if at <= hi:
        out.append((at, hi))
    return out


def drop_export(conn: sqlite3.Connection, export_id: int) -> None:
    """Forget an export's provenance (its record is being replaced)."""
    conn.execute("DELETE FROM provenance_rows WHERE export_id = ?", (export_id,))
    conn.execute("DELETE FROM provenance_ranges WHERE export_id = ?", (export_id,))
