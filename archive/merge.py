"""Merge one export file's messages into the archive (inside the file's transaction), keyed by message id.

A changed `timestampEdited` adds a revision (oldest first, the newest is current); reactions, pins, embeds
and the rest follow the newest export; a message already withheld stays withheld whatever an export says.
"""

from __future__ import annotations

import sqlite3
import zlib
from dataclasses import fields
from operator import attrgetter

import orjson

from archive.normalize import parse_snowflake
from archive.normalizer import MessageRow, UserRow, fingerprint
from archive.schema import DETAIL_TABLES, FOLLOW_NEWEST_COLUMNS, MESSAGE_COLUMNS
from archive.seen_ranges import MIN_RUN, add_range, gap_free, seen_sql, split_ranges
from archive.sources import RawMessage

# The message columns a MessageRow carries; seen_ts and generation come from the file being written.
_ROW_COLUMNS = tuple(c for c in MESSAGE_COLUMNS if c not in ("seen_ts", "deleted", "generation"))
# New rows are bound as tuples in column order (a dict per row cost a tenth of the insert).
_INSERT_MESSAGE = (
    f"INSERT INTO messages({', '.join((*_ROW_COLUMNS, 'seen_ts', 'generation'))})"
    f" VALUES ({', '.join('?' for _ in (*_ROW_COLUMNS, 'seen_ts', 'generation'))})"
)
_row_values = attrgetter(*_ROW_COLUMNS)
_FOLLOW_NEWEST = (
    f"UPDATE messages SET {', '.join(f'{c} = :{c}' for c in FOLLOW_NEWEST_COLUMNS)},"
    " seen_ts = :seen_ts, generation = :generation WHERE id = :id"
)
# A richer copy replaces every field but the channel: a made-up channel moves whole (archive/lowfi.py).
_REPLACE_POORER = (
    f"UPDATE messages SET {', '.join(f'{c} = :{c}' for c in _ROW_COLUMNS if c not in ('id', 'channel_id'))},"
    " seen_ts = max(seen_ts, :seen_ts), generation = :generation WHERE id = :id"
)
assert set(_ROW_COLUMNS) <= {f.name for f in fields(MessageRow)}


def _values(r: MessageRow, **more: object) -> dict[str, object]:
    out: dict[str, object] = {c: getattr(r, c) for c in _ROW_COLUMNS}
    out["pinned"] = int(r.pinned)
    out.update(more)
    return out


class FileWriter:
    """Writes the batches of one export file inside its transaction."""

    def __init__(
        self, conn: sqlite3.Connection, export_id: int, gen: int, as_of: int, channel_id: int, *, runs: bool
    ) -> None:
        self.conn = conn
        self.export_id = export_id
        self.gen = gen
        self.as_of = as_of
        self.channel_id = channel_id
        # Whether unchanged runs may become provenance ranges (a real channel, a format with real ids).
        self.runs = runs
        self._open: tuple[int, int] | None = None  # the range being extended batch by batch
        self._scanned_to = -1  # the highest id compared so far (ranges need ascending ids)
        self.count = self.added = self.updated = 0
        self.first_id: int | None = None
        self.last_id: int | None = None
        self._users: dict[int, tuple[object, ...]] = {}  # user id -> the row last upserted from this file

    def users(self, users: dict[int, UserRow]) -> None:
        """Upsert the users this batch saw (a pseudonym's row is never overwritten by a real one)."""
        rows = []
        for u in users.values():
            row = (
                u.id,
                u.name,
                u.discriminator,
                u.nickname,
                u.avatar_url,
                u.color,
                int(u.is_bot),
                int(u.pseudonym),
            )
            if self._users.get(u.id) != row:  # each batch sees the file's regulars again: write changes only
                self._users[u.id] = row
                rows.append((*row, self.as_of))
        if not rows:
            return
        self.conn.executemany(
            "INSERT INTO users(id, name, discriminator, nickname, avatar_url, color, is_bot, pseudonym, seen_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
            " discriminator = coalesce(excluded.discriminator, users.discriminator), nickname = excluded.nickname,"
            " avatar_url = coalesce(excluded.avatar_url, users.avatar_url),"
            " color = coalesce(excluded.color, users.color), is_bot = excluded.is_bot, seen_ts = excluded.seen_ts"
            " WHERE excluded.seen_ts >= users.seen_ts AND users.pseudonym = 0",
            rows,
        )

    def unchanged(self, batch: list[RawMessage]) -> set[int]:
        """Python ids of the batch's messages already stored with the same fingerprint; marks them seen."""
        keys: dict[int, tuple[int, int]] = {}
        for _, raw, obj in batch:
            mid = parse_snowflake(obj.get("id"))
            if mid is not None and raw is not None:
                keys[mid] = (fingerprint(raw, obj), id(obj))
        if not keys:
            return set()
        same = self._known([(mid, fp) for mid, (fp, _) in keys.items()])
        return {keys[mid][1] for mid in same}

    def known(self, items: list[tuple[int, bytes]]) -> set[int]:
        """The ids of (id, raw bytes) pairs already stored byte for byte; marks them seen in this export.

        A reader calls it before parsing (archive.sources.base.FileReader.known): those messages are never parsed.
        """
        crc32 = zlib.crc32  # normalizer.fingerprint of raw bytes, inline: this runs for every message
        return self._known([(mid, (crc32(raw) << 20) ^ len(raw)) for mid, raw in items])

    def _known(self, items: list[tuple[int, int]]) -> set[int]:
        if not items:
            return set()
        ids = [mid for mid, _ in items]
        ascending = self.runs and ids[0] > self._scanned_to and ids == sorted(set(ids))
        if not ascending:
            # Out of order (hand-edited or concatenated): per-message rows from here on.
            self.finish()
            self.runs = False
            fps = dict(items)
            rows = self.conn.execute(
                "SELECT id, fp FROM messages WHERE id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(ids),),
            )
            same = [mid for mid, fp in rows if fps[mid] == fp]
            self._seen(same)
        else:
            same = self._runs(items)
            self._scanned_to = ids[-1]
        if same:
            self.count += len(same)
            lo, hi = (same[0], same[-1]) if ascending else (min(same), max(same))
            self.first_id = lo if self.first_id is None else min(self.first_id, lo)
            self.last_id = hi if self.last_id is None else max(self.last_id, hi)
        return set(same)

    def _runs(self, items: list[tuple[int, int]]) -> list[int]:
        """Compare an ascending batch with the channel's stored messages in its id span (one index range
        scan); runs of stored messages all repeated unchanged become ranges, lone ones per-message rows."""
        stored = self.conn.execute(
            "SELECT id, fp FROM messages WHERE channel_id = ? AND id BETWEEN ? AND ? ORDER BY id",
            (self.channel_id, items[0][0], items[-1][0]),
        ).fetchall()
        same: list[int] = []
        runs: list[tuple[int, int, int]] = []  # (lo, hi, length): stored messages in a row, all unchanged
        if stored == items:  # the usual re-export: the whole batch, byte for byte
            same = [mid for mid, _ in items]
            runs.append((same[0], same[-1], len(same)))
            stored = []
        fps = dict(items)
        at: list[int] | None = None
        for mid, fp in stored:
            if fps.get(mid) == fp:
                same.append(mid)
                if at is None:
                    at = [mid, mid, 1]
                else:
                    at[1] = mid
                    at[2] += 1
            elif at is not None:
                runs.append((at[0], at[1], at[2]))
                at = None
        if at is not None:
            runs.append((at[0], at[1], at[2]))
        lone: list[int] = []
        for i, (lo, hi, n) in enumerate(runs):
            if i == 0 and self._open is not None and gap_free(self.conn, self.channel_id, self._open[1], lo):
                self._open = (self._open[0], hi)  # the previous batch's range goes on
            elif n >= MIN_RUN:
                self.finish()
                self._open = (lo, hi)
            else:
                lone.extend(m for m in same if lo <= m <= hi)
        self._seen(lone)
        return same

    def finish(self) -> None:
        """Write the range still open (call before tombstones are computed)."""
        if self._open is not None:
            add_range(self.conn, self.channel_id, *self._open, self.export_id, self.as_of)
            self._open = None

    def _seen(self, ids: list[int]) -> None:
        if not ids:
            return
        # One statement per batch (json_each), not one per message: a re-export is mostly such messages.
        batch = orjson.dumps(ids)
        self.conn.execute(
            "UPDATE messages SET seen_ts = ? WHERE id IN (SELECT value FROM json_each(?)) AND seen_ts < ?",
            (self.as_of, batch, self.as_of),
        )
        self.conn.execute(
            "INSERT OR IGNORE INTO provenance_rows(message_id, export_id) SELECT value, ? FROM json_each(?)",
            (self.export_id, batch),
        )

    def messages(self, rows: list[MessageRow]) -> None:
        """Insert new messages and merge ones seen before."""
        if not rows:
            return
        # A file may list the same id twice (hand-edited or concatenated): the later one wins.
        by_id = {r.id: r for r in rows}
        ids = list(by_id)
        self.count += len(ids)
        lo, hi = min(ids), max(ids)
        self.first_id = lo if self.first_id is None else min(self.first_id, lo)
        self.last_id = hi if self.last_id is None else max(self.last_id, hi)
        existing = {
            r[0]: r
            for r in self.conn.execute(
                f"SELECT m.id, m.fp, m.content, m.edited_ts, {seen_sql('m')}, m.redacted, m.fidelity FROM messages m"
                " WHERE m.id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(ids),),
            )
        }
        fresh = [r for r in by_id.values() if r.id not in existing]
        if fresh:
            self._insert(fresh)
            self.added += len(fresh)
        seen_only: list[tuple[int, int]] = []
        for r in by_id.values():
            old = existing.get(r.id)
            if old is None:
                continue
            _, fp, content, edited_ts, seen_ts, redacted, fidelity = old
            if redacted is not None or fp == r.fp or r.redacted is not None or r.fidelity < fidelity:
                # (A poorer format's copy of a message only adds its export to the provenance.)
                seen_only.append((self.as_of, r.id))
            elif r.fidelity > fidelity:
                self._replace_poorer(r)
                self.updated += 1
            elif self._merge(r, content, edited_ts, seen_ts):
                self.updated += 1
        if seen_only:
            self.conn.executemany("UPDATE messages SET seen_ts = max(seen_ts, ?) WHERE id = ?", seen_only)
        self.conn.executemany(
            "INSERT OR IGNORE INTO provenance_rows(message_id, export_id) VALUES (?, ?)",
            [(mid, self.export_id) for mid in ids],
        )

    def _insert(self, rows: list[MessageRow]) -> None:
        tail = (self.as_of, self.gen)
        self.conn.executemany(_INSERT_MESSAGE, [_row_values(r) + tail for r in rows])
        self._insert_details(rows)
        # New to the channel: other exports' ranges that span these ids never held them.
        split_ranges(self.conn, self.channel_id, [r.id for r in rows], keep_export=self.export_id)

    def _insert_details(self, rows: list[MessageRow]) -> None:
        conn = self.conn
        atts = [(*a, self.export_id) for r in rows for a in r.attachments]
        if atts:
            conn.executemany("INSERT OR REPLACE INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?)", atts)
        embeds = [e for r in rows for e in r.embeds]
        if embeds:
            conn.executemany("INSERT OR REPLACE INTO embeds VALUES (?, ?, ?, ?, ?, ?)", embeds)
        stickers = [s for r in rows for s in r.stickers]
        if stickers:
            conn.executemany("INSERT OR REPLACE INTO stickers VALUES (?, ?, ?, ?, ?, ?)", stickers)
        reactions = [x for r in rows for x in r.reactions]
        if reactions:
            conn.executemany("INSERT OR REPLACE INTO reactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", reactions)
        mentions = [(r.id, u) for r in rows for u in r.mentions]
        if mentions:
            conn.executemany("INSERT OR IGNORE INTO mentions VALUES (?, ?)", mentions)

    def _replace_poorer(self, r: MessageRow) -> None:
        """A richer format's copy replaces every field of a poorer format's (not an edit: no revision)."""
        for table in DETAIL_TABLES:
            self.conn.execute(f"DELETE FROM {table} WHERE message_id = ?", (r.id,))
        self._insert_details([r])
        self.conn.execute(_REPLACE_POORER, _values(r, seen_ts=self.as_of, generation=self.gen))

    def _merge(self, r: MessageRow, content: str | None, edited_ts: int | None, seen_ts: int) -> bool:
        """Merge a message seen before; return whether anything changed."""
        conn = self.conn
        changed = False
        newer_export = self.as_of >= seen_ts
        if r.edited_ts != edited_ts:
            incoming_newer = (r.edited_ts or -1) > (edited_ts or -1)
            old_text, old_edit = (content, edited_ts) if incoming_newer else (r.content, r.edited_ts)
            exists = conn.execute(
                "SELECT 1 FROM revisions WHERE message_id = ? AND edited_ts IS ? AND content = ?",
                (r.id, old_edit, old_text),
            ).fetchone()
            if old_text is not None and exists is None:
                conn.execute(
                    "INSERT INTO revisions(message_id, edited_ts, content, export_id) VALUES (?, ?, ?, ?)",
                    (r.id, old_edit, old_text, self.export_id),
                )
                changed = True
            if incoming_newer:
                conn.execute(
                    "UPDATE messages SET content = ?, edited_ts = ?, generation = ? WHERE id = ?",
                    (r.content, r.edited_ts, self.gen, r.id),
                )
                changed = True
        elif r.content != content and newer_export:
            # Same edit time, different text: the exporter rendered it differently (e.g. mentions by
            # display name since DCE 2.40). Not an edit: the newer export's rendering wins.
            conn.execute(
                "UPDATE messages SET content = ?, generation = ? WHERE id = ?", (r.content, self.gen, r.id)
            )
            changed = True
        if newer_export:
            # Reactions, pins, embeds and the rest follow the newest export.
            for table in DETAIL_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE message_id = ?", (r.id,))
            self._insert_details([r])
            conn.execute(_FOLLOW_NEWEST, _values(r, seen_ts=self.as_of, generation=self.gen))
            changed = True
        return changed
