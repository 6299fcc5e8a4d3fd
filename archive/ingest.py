"""Ingest export files into the archive: one file, one transaction; merge by message id.

Merging rules (see README): a changed `timestampEdited` adds a revision (oldest first, the newest is
current); reactions, pins and names follow the newest export; a message missing from a newer export
of its channel, inside the id range that export covers, becomes a tombstone.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from archive.errors import ExportFormatError, MessageSkipped
from archive.lowfi import LOW_FIDELITY, move_from_synthetic_channel, reconcile
from archive.models import FileResult, IngestSummary
from archive.normalize import parse_snowflake
from archive.normalizer import MessageRow, Normalizer, UserRow, fingerprint
from archive.policy import Policy, pseudonym_for, scrub_user_objects
from archive.sources import RawMessage, Reader, Source, discover, find_source
from archive.sources.base import ChannelInfo, Sniff
from archive.store import ensure_secret, generation, get_meta, set_meta
from archive.threads import PendingLinks, update_links

MAX_WARNINGS = 20
Progress = Callable[[str, int], None]
"""Called with (path, messages done in this file) as ingest goes."""


def skipped_status(verdict: Sniff, named: bool) -> str:
    """A file no source reads: `unsupported` (an export, or a file asked for by name) fails the run;
    `ignored` (a stray file met in a folder) is only noted."""
    return "unsupported" if verdict.export or named else "ignored"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes: an export's identity, whatever its name."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class Ingester:
    """The archive's only writer. Use one per process; SQLite's lock keeps it one per archive."""

    def __init__(self, conn: sqlite3.Connection, policy: Policy | None = None) -> None:
        self.conn = conn
        self.policy = policy or Policy()
        self.secret = ensure_secret(conn)

    def _withheld_key(self, path: str) -> str:
        """How an excluded export is remembered: a keyed digest of its path, whose file name names the channel."""
        return "withheld:" + hmac.new(self.secret, path.encode(), hashlib.sha256).hexdigest()[:32]

    # -- policy ---------------------------------------------------------------------------------

    def apply_policy(self) -> int:
        """Purge what the current policy withholds, if it changed since last applied; return messages purged."""
        fingerprint = self.policy.fingerprint()
        if get_meta(self.conn, "policy") == fingerprint:
            return 0
        conn = self.conn
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            gen = generation(conn) + 1
            set_meta(conn, "generation", gen)
            purged = self._purge(gen)
            set_meta(conn, "policy", fingerprint)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("PRAGMA secure_delete = OFF")
        # Old page images of purged rows live on in the WAL until a checkpoint.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return purged

    def _purge(self, gen: int) -> int:
        conn = self.conn
        purged = 0
        # Channels now excluded (threads follow their parent): remove everything, keep ids for the index.
        rows = conn.execute("SELECT id, name, parent_id, parent_name FROM channels").fetchall()
        for cid, name, parent_id, parent_name in rows:
            if self.policy.channel_allowed([cid, parent_id], [name, parent_name]):
                continue
            conn.execute(
                "INSERT OR REPLACE INTO removed(message_id, generation) SELECT id, ? FROM messages WHERE channel_id = ?",
                (gen, cid),
            )
            ids = "SELECT id FROM messages WHERE channel_id = ?"
            for table in (
                "revisions",
                "attachments",
                "embeds",
                "stickers",
                "reactions",
                "mentions",
                "provenance",
                "links",
            ):
                conn.execute(f"DELETE FROM {table} WHERE message_id IN ({ids})", (cid,))
            purged += conn.execute("DELETE FROM messages WHERE channel_id = ?", (cid,)).rowcount
            conn.execute("DELETE FROM channels WHERE id = ?", (cid,))
            # The export's file name (DCE names it after the channel) and the channel id are withheld too.
            for eid, epath in conn.execute(
                "SELECT id, path FROM exports WHERE channel_id = ?", (cid,)
            ).fetchall():
                conn.execute(
                    "UPDATE exports SET status = 'excluded', path = ?, channel_id = NULL WHERE id = ?",
                    (self._withheld_key(epath), eid),
                )
        # Users dropped: their messages become tombstones with no content and no name.
        for uid in self.policy.drop_users:
            purged += self._redact_where("author_id = ?", (uid,), "author opted out", gen)
            self._forget_user(uid, gen)
        # Users pseudonymized after the fact: move everything to the pseudonym.
        for uid in self.policy.pseudonymize_users:
            self._pseudonymize(uid, gen)
        for mid, reason in self.policy.takedowns.items():
            purged += self._redact_where("id = ?", (mid,), reason, gen)
        return purged

    def _redact_where(self, where: str, args: tuple[Any, ...], reason: str, gen: int) -> int:
        conn = self.conn
        ids = [r[0] for r in conn.execute(f"SELECT id FROM messages WHERE {where}", args)]
        for mid in ids:
            for table in ("revisions", "attachments", "embeds", "stickers", "reactions", "mentions"):
                conn.execute(f"DELETE FROM {table} WHERE message_id = ?", (mid,))
        conn.executemany(
            "UPDATE messages SET content = NULL, author_id = NULL, extra = NULL, edited_ts = NULL, pinned = 0,"
            " reply_to = NULL, flags = 0, reaction_count = 0, redacted = ?, generation = ? WHERE id = ?",
            [(reason, gen, mid) for mid in ids],
        )
        return len(ids)

    def _forget_user(self, uid: int, gen: int) -> None:
        conn = self.conn
        row = conn.execute("SELECT name, nickname FROM users WHERE id = ?", (uid,)).fetchone()
        conn.execute("DELETE FROM users WHERE id = ?", (uid,))
        conn.execute("DELETE FROM mentions WHERE user_id = ?", (uid,))
        self._rewrite_reaction_users(uid, None)
        # Raw <@id> mentions go even when the user row is gone (dropped at an earlier ingest).
        self._rewrite_names(row or ("", None), "removed-user", gen, uid=uid)

    def _pseudonymize(self, uid: int, gen: int) -> None:
        conn = self.conn
        row = conn.execute(
            "SELECT name, nickname FROM users WHERE id = ? AND pseudonym = 0", (uid,)
        ).fetchone()
        if row is None:
            return
        pid, pname = pseudonym_for(self.secret, uid)
        conn.execute(
            "INSERT OR IGNORE INTO users(id, name, nickname, pseudonym, seen_ts) VALUES (?, ?, ?, 1, 0)",
            (pid, pname, pname),
        )
        conn.execute("DELETE FROM users WHERE id = ?", (uid,))
        conn.execute("UPDATE messages SET author_id = ?, generation = ? WHERE author_id = ?", (pid, gen, uid))
        conn.execute("UPDATE OR IGNORE mentions SET user_id = ? WHERE user_id = ?", (pid, uid))
        conn.execute("DELETE FROM mentions WHERE user_id = ?", (uid,))
        self._rewrite_reaction_users(uid, pid)
        self._rewrite_names(row, pname, gen, uid=uid, pid=pid)

    def _rewrite_reaction_users(self, uid: int, replacement: int | None) -> None:
        # `users` is a BLOB: LIKE never matches a BLOB operand, so compare its text.
        rows = self.conn.execute(
            "SELECT message_id, pos, users FROM reactions WHERE CAST(users AS TEXT) LIKE ?", (f"%{uid}%",)
        ).fetchall()
        for mid, pos, blob in rows:
            users = [u for u in orjson.loads(blob) if u != uid]
            if replacement is not None:
                users.append(replacement)
            self.conn.execute(
                "UPDATE reactions SET users = ? WHERE message_id = ? AND pos = ?",
                (orjson.dumps(users), mid, pos),
            )

    def _rewrite_names(
        self,
        row: tuple[str, str | None],
        new: str,
        gen: int,
        *,
        uid: int | None = None,
        pid: int | None = None,
    ) -> None:
        """Replace @mentions of a withheld user's names (and raw ids) in content, revisions and extras."""
        pairs = [("@" + n, "@" + new) for n in row if n]
        json_pairs = [(orjson.dumps(n).decode(), f'"{new}"') for n in row if n]
        if uid is not None:
            raw = f"<@{pid}>" if pid is not None else "@" + new  # a dropped user (no pid) is named by no id
            pairs += [(f"<@{uid}>", raw), (f"<@!{uid}>", raw)]
            json_pairs.append((f'"{uid}"', f'"{pid if pid is not None else 0}"'))
        conn = self.conn
        if uid is not None:  # user objects kept in `extra` go whole, before their ids are rewritten below
            replacement = {"id": str(pid if pid is not None else 0), "name": new}
            for mid, blob in conn.execute(
                "SELECT id, extra FROM messages WHERE CAST(extra AS TEXT) LIKE ?", (f"%{uid}%",)
            ).fetchall():
                scrubbed = orjson.dumps(scrub_user_objects(orjson.loads(blob), {uid: replacement}))
                conn.execute("UPDATE messages SET extra = ? WHERE id = ?", (scrubbed, mid))
        for old, repl in pairs:
            like = f"%{old}%"
            conn.execute(
                "UPDATE messages SET content = replace(content, ?, ?), generation = ? WHERE content LIKE ?",
                (old, repl, gen, like),
            )
            conn.execute(
                "UPDATE revisions SET content = replace(content, ?, ?) WHERE content LIKE ?",
                (old, repl, like),
            )
            conn.execute(
                "UPDATE embeds SET title = replace(title, ?, ?), description = replace(description, ?, ?),"
                " data = CAST(replace(CAST(data AS TEXT), ?, ?) AS BLOB)"
                " WHERE title LIKE ? OR description LIKE ? OR CAST(data AS TEXT) LIKE ?",
                (old, repl, old, repl, old, repl, like, like, like),
            )
        for old, repl in pairs + json_pairs:
            conn.execute(
                "UPDATE messages SET extra = CAST(replace(CAST(extra AS TEXT), ?, ?) AS BLOB), generation = ?"
                " WHERE CAST(extra AS TEXT) LIKE ?",
                (old, repl, gen, f"%{old}%"),
            )

    # -- files ----------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        salvage: bool = False,
        force: bool = False,
        progress: Progress | None = None,
    ) -> IngestSummary:
        """Ingest every export under `paths`; a failing file is reported and the others go on."""
        self.apply_policy()
        summary = IngestSummary()
        for found in discover(paths):
            if found.source is None:
                status = skipped_status(found.sniff, found.named)
                if status == "ignored":
                    summary.ignored.append(found.note)
                else:
                    summary.files.append(FileResult(str(found.path), status, error=found.note))
                continue
            summary.files.append(
                self.ingest_file(
                    found.path, salvage=salvage, force=force, progress=progress, source=found.source
                )
            )
        self.update_conversations()
        return summary

    def update_conversations(self, progress: Callable[[int], None] | None = None) -> int:
        """Link new messages into conversations (explicit structure first, then inferred); return lines linked."""
        return update_links(self.conn, progress)

    def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it (at the end of a run; readers may defer it)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def start_conversations(self) -> PendingLinks:
        """Start linking new messages in a worker process; call .finish() to store the links."""
        row = self.conn.execute("PRAGMA database_list").fetchone()
        return PendingLinks(self.conn, Path(row[2]))

    def ingest_file(
        self,
        path: Path,
        *,
        salvage: bool = False,
        force: bool = False,
        progress: Progress | None = None,
        source: Source | None = None,
    ) -> FileResult:
        """Ingest one file in one transaction; never raises for bad input (the result says what failed).

        `source` reads the file (default: the registry's choice; a file no source claims is skipped).
        """
        shown = path
        path = path.resolve()  # stored absolute: the viewer serves --media files relative to it
        if source is None:
            source, verdict = find_source(shown)
            if source is None:
                note = f"{shown}: {verdict.what}: {verdict.reason}"
                return FileResult(str(shown), skipped_status(verdict, True), error=note)
        try:
            st = path.stat()
            if not force:
                row = self.conn.execute(
                    "SELECT status FROM exports WHERE path IN (?, ?) AND size = ? AND mtime_ns = ?",
                    (str(path), self._withheld_key(str(path)), st.st_size, st.st_mtime_ns),
                ).fetchone()
                if row is not None:
                    return FileResult(str(shown), "unchanged")
            digest = file_sha256(path)
            known = self.conn.execute("SELECT id, path FROM exports WHERE sha256 = ?", (digest,)).fetchone()
            if known is not None and not force:
                if known[1] != str(path) and not known[1].startswith("withheld:"):
                    # A renamed or moved copy: remember where it is now so the next check is a stat.
                    self.conn.execute(
                        "UPDATE exports SET path = ?, mtime_ns = ? WHERE id = ?",
                        (str(path), st.st_mtime_ns, known[0]),
                    )
                return FileResult(str(shown), "unchanged")
            # Parsed messages are acyclic: reference counting frees them, and the cyclic collector
            # would otherwise walk every live dict thousands of times per file.
            gc_was_enabled = gc.isenabled()
            gc.disable()
            try:
                reader = source.open(shown)
                try:
                    result = self._ingest_reader(
                        path, st, digest, reader, salvage=salvage, force=force, progress=progress
                    )
                finally:
                    reader.close()
                return replace(result, path=str(shown))
            finally:
                if gc_was_enabled:
                    gc.enable()
        except ExportFormatError as e:
            return FileResult(str(shown), "failed", error=str(e))
        except OSError as e:
            return FileResult(str(shown), "failed", error=f"{shown}: cannot read ({e.strerror or e})")
        except RecursionError:
            return FileResult(str(shown), "failed", error=f"{shown}: nested too deeply to parse")

    def _ingest_reader(
        self,
        path: Path,
        st: os.stat_result,
        digest: str,
        reader: Reader,
        *,
        salvage: bool,
        force: bool = False,
        progress: Progress | None,
    ) -> FileResult:
        header = reader.header
        channel = header.channel
        cid, gid, name = channel.id, channel.guild_id, channel.name
        parent_id, parent_name = channel.parent_id, channel.parent_name
        exported_at, as_of = header.exported_at, header.as_of
        range_after, range_before = header.range_after, header.range_before
        # 4 JSON, 3 HTML, 2 CSV, 1 TXT: the richer copy of a message wins (archive/lowfi.py).
        fidelity: int = getattr(reader, "fidelity", 4)

        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            gen = generation(conn) + 1
            set_meta(conn, "generation", gen)
            # --force re-reads a file already ingested: its old record is replaced, its messages merge as usual.
            old = conn.execute("SELECT id FROM exports WHERE sha256 = ?", (digest,)).fetchone()
            if old is not None:
                conn.execute("DELETE FROM provenance WHERE export_id = ?", (old[0],))
                conn.execute("DELETE FROM exports WHERE id = ?", (old[0],))
            export_id = conn.execute(
                "INSERT INTO exports(sha256, path, size, mtime_ns, channel_id, guild_id, range_after, range_before,"
                " exported_at, as_of, declared_count, status, generation, ingested_at, format)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'pending', ?, ?, ?)",
                (
                    digest,
                    str(path),
                    st.st_size,
                    st.st_mtime_ns,
                    cid,
                    gid,
                    range_after,
                    range_before,
                    exported_at,
                    as_of,
                    gen,
                    int(time.time() * 1000),
                    getattr(reader, "format", "json"),
                ),
            ).lastrowid
            assert export_id is not None
            if not self.policy.channel_allowed([cid, parent_id], [name, parent_name]):
                conn.execute(
                    "UPDATE exports SET status = 'excluded', note = 'channel excluded by policy', path = ?,"
                    " channel_id = NULL WHERE id = ?",
                    (self._withheld_key(str(path)), export_id),
                )
                conn.execute("COMMIT")
                return FileResult(str(path), "excluded")
            self._upsert_channel(channel, as_of)
            writer = _FileWriter(conn, export_id, gen, as_of)
            norm = Normalizer(str(path), cid, gid, self.policy, self.secret)
            error: ExportFormatError | None = None
            warnings: list[str] = []
            skipped = 0
            index = 0
            try:
                for batch in reader.batches():
                    rows: list[MessageRow] = []
                    # Messages exported byte for byte as last time skip normalization entirely
                    # (a re-export of a channel is mostly such messages).
                    unchanged = set() if force else writer.unchanged(batch)
                    for offset, raw, obj in batch:
                        index += 1
                        if unchanged and raw is not None and id(obj) in unchanged:
                            continue
                        try:
                            row = norm.message(offset, index, raw, obj)
                            row.fidelity = fidelity
                            rows.append(row)
                        except MessageSkipped as e:
                            # One invalid message never costs the file: skip it, say where, go on.
                            skipped += 1
                            if len(warnings) < MAX_WARNINGS:
                                warnings.append(str(e))
                    writer.users(norm.users)
                    norm.users = {}
                    writer.messages(rows)
                    if progress:
                        progress(str(path), writer.count)
            except ExportFormatError as e:
                if not salvage:
                    raise
                error = e
                # Keep the complete messages before the damage, but only those already normalized.
                writer.users(norm.users)
            status = "partial" if error or skipped else "ok"
            note = str(error) if error else (f"{skipped} invalid messages skipped" if skipped else None)
            first, last = writer.first_id, writer.last_id
            conn.execute(
                "UPDATE exports SET first_id = ?, last_id = ?, message_count = ?, declared_count = ?, status = ?,"
                " note = ? WHERE id = ?",
                (
                    first,
                    last,
                    writer.count,
                    reader.declared_count,
                    status,
                    note,
                    export_id,
                ),
            )
            deleted = 0
            # An export without ids cannot say a message is gone: its ids are made up.
            if first is not None and last is not None and fidelity > LOW_FIDELITY:
                deleted = self._refresh_tombstones(cid, first, last, export_id, gen)
            move_from_synthetic_channel(conn, export_id, cid)
            reconcile(conn, export_id, cid, gen)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return FileResult(
            str(path),
            status,
            messages=writer.count,
            added=writer.added,
            updated=writer.updated,
            deleted=deleted,
            error=str(error) if error else None,
            skipped=skipped,
            warnings=tuple(warnings),
        )

    def _upsert_channel(self, channel: ChannelInfo, as_of: int) -> None:
        self.conn.execute(
            "INSERT INTO guilds(id, name, icon_url, seen_ts) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " name = excluded.name, icon_url = excluded.icon_url, seen_ts = excluded.seen_ts"
            " WHERE excluded.seen_ts >= guilds.seen_ts",
            (channel.guild_id, channel.guild_name, channel.guild_icon_url, as_of),
        )
        self.conn.execute(
            "INSERT INTO channels(id, guild_id, type, name, topic, parent_id, parent_name, category_id, category,"
            " is_thread, seen_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " guild_id = excluded.guild_id, type = excluded.type, name = excluded.name, topic = excluded.topic,"
            " parent_id = coalesce(excluded.parent_id, channels.parent_id),"
            " parent_name = coalesce(excluded.parent_name, channels.parent_name),"
            " category_id = coalesce(excluded.category_id, channels.category_id),"
            " category = coalesce(excluded.category, channels.category), is_thread = excluded.is_thread,"
            " seen_ts = excluded.seen_ts WHERE excluded.seen_ts >= channels.seen_ts",
            (
                channel.id,
                channel.guild_id,
                channel.type,
                channel.name,
                channel.topic,
                channel.parent_id,
                channel.parent_name,
                channel.category_id,
                channel.category,
                int(channel.is_thread),
                as_of,
            ),
        )

    def _covered_outside(self, cid: int, mid: int, seen_ts: int) -> bool:
        """Whether a complete export of the channel, made after seen_ts, covers this id."""
        row = self.conn.execute(
            "SELECT 1 FROM exports WHERE channel_id = ? AND status = 'ok' AND first_id <= ? AND last_id >= ?"
            " AND as_of > ? LIMIT 1",
            (cid, mid, mid, seen_ts),
        ).fetchone()
        return row is not None

    def _refresh_tombstones(self, cid: int, first: int, last: int, export_id: int, gen: int) -> int:
        """Recompute `deleted` for the channel's messages in [first, last]; return how many became tombstones.

        A message is deleted when some complete export of its channel covers its id and was made after
        the newest export that contains it. Only needed when another export overlaps this one.
        """
        conn = self.conn
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
            became += conn.execute(
                "UPDATE messages SET deleted = 1, generation = ? WHERE channel_id = ? AND id BETWEEN ? AND ?"
                " AND deleted = 0 AND seen_ts < ? AND fidelity > ?",
                (gen, cid, lo, hi, as_of, LOW_FIDELITY),
            ).rowcount
        # A tombstone seen again in a newer export than every export missing it comes back (rare).
        revived = [
            (gen, mid)
            for mid, seen_ts in conn.execute(
                "SELECT id, seen_ts FROM messages WHERE channel_id = ? AND id BETWEEN ? AND ? AND deleted = 1",
                (cid, first, last),
            ).fetchall()
            if not any(lo <= mid <= hi and as_of > seen_ts for lo, hi, as_of in covers)
            and not self._covered_outside(cid, mid, seen_ts)
        ]
        if revived:
            conn.executemany("UPDATE messages SET deleted = 0, generation = ? WHERE id = ?", revived)
        return became


class _FileWriter:
    """Writes the batches of one export file inside its transaction."""

    def __init__(self, conn: sqlite3.Connection, export_id: int, gen: int, as_of: int) -> None:
        self.conn = conn
        self.export_id = export_id
        self.gen = gen
        self.as_of = as_of
        self.count = self.added = self.updated = 0
        self.first_id: int | None = None
        self.last_id: int | None = None

    def users(self, users: dict[int, UserRow]) -> None:
        if not users:
            return
        self.conn.executemany(
            "INSERT INTO users(id, name, discriminator, nickname, avatar_url, color, is_bot, pseudonym, seen_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
            " discriminator = coalesce(excluded.discriminator, users.discriminator), nickname = excluded.nickname,"
            " avatar_url = coalesce(excluded.avatar_url, users.avatar_url),"
            " color = coalesce(excluded.color, users.color), is_bot = excluded.is_bot, seen_ts = excluded.seen_ts"
            " WHERE excluded.seen_ts >= users.seen_ts AND users.pseudonym = 0",
            [
                (
                    u.id,
                    u.name,
                    u.discriminator,
                    u.nickname,
                    u.avatar_url,
                    u.color,
                    int(u.is_bot),
                    int(u.pseudonym),
                    self.as_of,
                )
                for u in users.values()
            ],
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
        same = [
            r[0]
            for r in self.conn.execute(
                "SELECT id, fp FROM messages WHERE id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(list(keys)),),
            )
            if r[1] == keys[r[0]][0]
        ]
        if not same:
            return set()
        self._seen(same)
        self.count += len(same)
        self.first_id = min(same) if self.first_id is None else min(self.first_id, min(same))
        self.last_id = max(same) if self.last_id is None else max(self.last_id, max(same))
        return {keys[mid][1] for mid in same}

    def _seen(self, ids: list[int]) -> None:
        self.conn.executemany(
            "UPDATE messages SET seen_ts = ? WHERE id = ? AND seen_ts < ?",
            [(self.as_of, m, self.as_of) for m in ids],
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO provenance(message_id, export_id) VALUES (?, ?)",
            [(mid, self.export_id) for mid in ids],
        )

    def messages(self, rows: list[MessageRow]) -> None:
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
                "SELECT id, fp, content, edited_ts, seen_ts, redacted, fidelity FROM messages"
                " WHERE id IN (SELECT value FROM json_each(?))",
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
            "INSERT OR IGNORE INTO provenance(message_id, export_id) VALUES (?, ?)",
            [(mid, self.export_id) for mid in ids],
        )

    def _insert(self, rows: list[MessageRow]) -> None:
        conn, gen, as_of = self.conn, self.gen, self.as_of
        conn.executemany(
            "INSERT INTO messages(id, channel_id, author_id, type, ts, edited_ts, content, pinned, reply_to, ref_kind,"
            " ref_message_id, ref_channel_id, ref_guild_id, flags, reaction_count, extra, fp, seen_ts, redacted,"
            " generation, fidelity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.id,
                    r.channel_id,
                    r.author_id,
                    r.type,
                    r.ts,
                    r.edited_ts,
                    r.content,
                    int(r.pinned),
                    r.reply_to,
                    r.ref_kind,
                    r.ref_message_id,
                    r.ref_channel_id,
                    r.ref_guild_id,
                    r.flags,
                    r.reaction_count,
                    r.extra,
                    r.fp,
                    as_of,
                    r.redacted,
                    gen,
                    r.fidelity,
                )
                for r in rows
            ],
        )
        self._insert_details(rows)

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
        """A richer format's copy replaces every field of one from a poorer format (not an edit: no revision)."""
        conn = self.conn
        for table in ("attachments", "embeds", "stickers", "reactions", "mentions"):
            conn.execute(f"DELETE FROM {table} WHERE message_id = ?", (r.id,))
        self._insert_details([r])
        conn.execute(
            "UPDATE messages SET channel_id = ?, author_id = ?, type = ?, ts = ?, edited_ts = ?, content = ?,"
            " pinned = ?, reply_to = ?, ref_kind = ?, ref_message_id = ?, ref_channel_id = ?, ref_guild_id = ?,"
            " flags = ?, reaction_count = ?, extra = ?, fp = ?, seen_ts = max(seen_ts, ?), generation = ?,"
            " fidelity = ? WHERE id = ?",
            (
                r.channel_id,
                r.author_id,
                r.type,
                r.ts,
                r.edited_ts,
                r.content,
                int(r.pinned),
                r.reply_to,
                r.ref_kind,
                r.ref_message_id,
                r.ref_channel_id,
                r.ref_guild_id,
                r.flags,
                r.reaction_count,
                r.extra,
                r.fp,
                self.as_of,
                self.gen,
                r.fidelity,
                r.id,
            ),
        )

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
            for table in ("attachments", "embeds", "stickers", "reactions", "mentions"):
                conn.execute(f"DELETE FROM {table} WHERE message_id = ?", (r.id,))
            self._insert_details([r])
            conn.execute(
                "UPDATE messages SET author_id = ?, type = ?, pinned = ?, reply_to = ?, ref_kind = ?,"
                " ref_message_id = ?, ref_channel_id = ?, ref_guild_id = ?, flags = ?, reaction_count = ?,"
                " extra = ?, fp = ?, seen_ts = ?, generation = ? WHERE id = ?",
                (
                    r.author_id,
                    r.type,
                    int(r.pinned),
                    r.reply_to,
                    r.ref_kind,
                    r.ref_message_id,
                    r.ref_channel_id,
                    r.ref_guild_id,
                    r.flags,
                    r.reaction_count,
                    r.extra,
                    r.fp,
                    self.as_of,
                    self.gen,
                    r.id,
                ),
            )
            changed = True
        return changed
