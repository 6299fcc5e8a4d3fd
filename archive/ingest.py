"""Ingest export files into the archive: one file, one transaction.

This module owns the file transaction (skip unchanged files, read, normalize, commit). The merge rules are
in `archive.merge`, tombstones in `archive.tombstones`, the policy purge in `archive.purge`; every privacy
decision is the Withholder's (`archive.withhold`). The rules are re-read inside each file's transaction,
so a `hallway redact` that lands between two files applies to the next one.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from archive.channel_rows import upsert_channel
from archive.errors import ExportFormatError, MessageSkipped
from archive.link_worker import PendingLinks
from archive.links import update_links
from archive.lowfi import LOW_FIDELITY, move_from_synthetic_channel, reconcile
from archive.memory import load_memory, memory_version, save_memory
from archive.merge import FileWriter
from archive.models import FileResult
from archive.normalizer import MessageRow, Normalizer
from archive.policy import Policy
from archive.purge import Purge, PurgeReport, withheld_path, withhold_forwards, withhold_thread_names
from archive.seen_ranges import drop_export
from archive.sources import Reader, Source, find_source
from archive.sources._identity import is_synthetic
from archive.sources.base import KNOWN, Sniff
from archive.store import begin_write, ensure_secret, generation, get_meta, set_meta
from archive.tombstones import refresh_tombstones
from archive.withhold import Withholder

# A damaged or truncated file whose complete messages --salvage would keep: the error says so.
SALVAGEABLE = re.compile(r"\b(truncated|damaged)\b")
SALVAGE_HINT = "; `hallway ingest --salvage` keeps the complete messages before the damage"
MAX_WARNINGS = 20
Progress = Callable[[str, int], None]
"""Called with (path, messages done in this file) as ingest goes."""
Notice = Callable[[str], None]
"""Called with a one-line notice for people (e.g. waiting for another writer)."""


def skipped_status(verdict: Sniff, named: bool) -> str:
    """A file no source reads: `unsupported` (an export, or a file asked for by name) fails the run;
    `ignored` (a stray file met in a folder) is only noted."""
    return "unsupported" if verdict.export or named else "ignored"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes: an export's identity, whatever its name."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _refuse_guild_conflict(conn: sqlite3.Connection, path: Path, cid: int, gid: int) -> None:
    """Refuse a JSON export whose channel id another JSON export placed in another guild.

    Taking it would move the channel to the other guild and tombstone the messages this file lacks; a channel
    id belongs to one guild, so one of the two files is hand-made or damaged, and only a person can tell which.
    """
    row = conn.execute(
        "SELECT path, guild_id FROM exports WHERE channel_id = ? AND guild_id IS NOT NULL AND guild_id != ?"
        " AND format = 'json' AND status IN ('ok', 'partial') ORDER BY id DESC LIMIT 1",
        (cid, gid),
    ).fetchone()
    if row is not None:
        raise ExportFormatError(
            path,
            "channel",
            f"channel {cid} is in guild {gid} here but in guild {row[1]} in {row[0]}: one of the two exports "
            "is hand-made or damaged, so nothing was taken from this one (no message moved or tombstoned)",
        )


class Ingester:
    """The archive's only writer. Use one per process; SQLite's lock keeps it one per archive."""

    def __init__(
        self, conn: sqlite3.Connection, policy: Policy | None = None, notice: Notice | None = None
    ) -> None:
        self.conn = conn
        self.policy = policy or Policy()
        self.notice = notice
        self.secret = ensure_secret(conn)
        self.withholder = Withholder(self.policy, self.secret, load_memory(conn))
        self.last_purge = PurgeReport()
        # (ids, names) of every channel whose export was read: policy patterns matching none are warned about.
        self.seen_channels: list[tuple[list[int | None], list[str | None]]] = []

    def _begin(self) -> None:
        """Take the write lock, then re-read what the archive withholds (another process may have added a rule)."""
        begin_write(self.conn, self.notice)
        if memory_version(self.conn) != self.withholder.memory.version:
            old = self.withholder
            self.withholder = Withholder(self.policy, self.secret, load_memory(self.conn))
            self.withholder.adopt_names(old)

    def _remember(self) -> None:
        """Store what the Withholder learned (inside the transaction) and keep its memory's version current."""
        w = self.withholder
        if w.learned:
            save_memory(self.conn, list(w.learned.items()))
            w.learned.clear()
            w.memory.version = memory_version(self.conn)

    # -- policy ---------------------------------------------------------------------------------

    def apply_policy(self, *, force: bool = False) -> int:
        """Purge what the current policy withholds, if it changed since last applied; return messages purged.

        The report of each rule is kept in `last_purge`. force=True runs the purge even when the policy is
        unchanged (as `hallway redact` does, to report on its rules).
        """
        fingerprint = self.policy.fingerprint()
        if not force and get_meta(self.conn, "policy") == fingerprint:
            self.last_purge = PurgeReport()
            return 0
        conn = self.conn
        conn.execute("PRAGMA secure_delete = ON")
        try:
            self._begin()
            try:
                gen = generation(conn) + 1
                set_meta(conn, "generation", gen)
                self.last_purge = Purge(conn, self.withholder, gen).run()
                self._remember()
                set_meta(conn, "policy", fingerprint)
                if self.last_purge.rules:  # readers guard what changed from here until the index catches up
                    set_meta(conn, "withheld_generation", gen)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.execute("PRAGMA secure_delete = OFF")
        # Old page images of purged rows live on in the WAL until a checkpoint.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.last_purge.purged

    # -- files ----------------------------------------------------------------------------------

    def update_conversations(self, progress: Callable[[int], None] | None = None) -> int:
        """Link new messages into conversations (explicit structure first, then inferred); return lines linked."""
        return update_links(self.conn, progress)

    def release_memory(self) -> None:
        """Give back SQLite's page cache and the heap the files left free (the archive phase is over, the
        index and conversation workers need the memory: a 2 GB file's whole process tree stays under 1 GB)."""
        self.conn.execute("PRAGMA shrink_memory")
        try:
            ctypes.CDLL(None).malloc_trim(0)  # glibc: return freed heap pages to the system
        except (AttributeError, OSError):
            pass

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
                    (str(path), withheld_path(self.withholder, str(path)), st.st_size, st.st_mtime_ns),
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
        # 4 JSON, 3 HTML, 2 CSV, 1 TXT: the richer copy of a message wins (archive/lowfi.py).
        fidelity: int = getattr(reader, "fidelity", 4)
        channel = header.channel
        cid, gid, name = channel.id, channel.guild_id, channel.name
        parent_id, parent_name = channel.parent_id, channel.parent_name
        exported_at, as_of = header.exported_at, header.as_of
        range_after, range_before = header.range_after, header.range_before

        self.seen_channels.append(([cid, parent_id], [name, parent_name]))
        conn = self.conn
        self._begin()
        try:
            if getattr(reader, "format", "json") == "json":  # the other formats may carry made-up guild ids
                _refuse_guild_conflict(conn, path, cid, gid)
            gen = generation(conn) + 1
            set_meta(conn, "generation", gen)
            # --force re-reads a file already ingested: its old record is replaced, its messages merge as usual.
            old = conn.execute("SELECT id FROM exports WHERE sha256 = ?", (digest,)).fetchone()
            if old is not None:
                drop_export(conn, old[0])
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
            if self.withholder.channel_excluded(cid, parent_id, name, parent_name):
                # Remembered by id: a later export that renames the channel stays excluded.
                self.withholder.remember("channel", cid, "exclude")
                self._remember()
                conn.execute(
                    "UPDATE exports SET status = 'excluded', note = 'channel excluded by policy', path = ?,"
                    " channel_id = NULL WHERE id = ?",
                    (withheld_path(self.withholder, str(path)), export_id),
                )
                withhold_forwards(conn, gen, cid)  # copies forwarded out of it, ingested before it was known
                conn.execute("COMMIT")
                return FileResult(str(path), "excluded")
            # An export that names its guild or channel only by name never renames what a richer one said.
            weak = fidelity <= LOW_FIDELITY or is_synthetic(channel.guild_id) or is_synthetic(channel.id)
            upsert_channel(conn, self.withholder, channel, 0 if weak else as_of)
            writer = FileWriter(conn, export_id, gen, as_of, cid, runs=not weak)
            norm = Normalizer(str(path), cid, gid, self.withholder)
            error: ExportFormatError | None = None
            warnings: list[str] = []
            skipped = 0
            index = 0
            # A channel with no stored message yet (a fresh ingest) has none to find unchanged: skip the
            # fingerprints and the lookup (a message seen again merges in writer.messages all the same).
            known = conn.execute("SELECT 1 FROM messages WHERE channel_id = ? LIMIT 1", (cid,)).fetchone()
            # A reader that can, asks before parsing which messages are stored byte for byte (and skips them).
            skips_known = bool(known) and not force and hasattr(reader, "known")
            if skips_known:
                reader.known = writer.known  # type: ignore[attr-defined]
            try:
                for batch in reader.batches():
                    rows: list[MessageRow] = []
                    # Messages exported byte for byte as last time skip normalization entirely
                    # (a re-export of a channel is mostly such messages).
                    unchanged = writer.unchanged(batch) if known and not force and not skips_known else set()
                    for offset, raw, obj in batch:
                        index += 1
                        if obj is KNOWN or (unchanged and raw is not None and id(obj) in unchanged):
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
                    if index and SALVAGEABLE.search(e.reason):  # some complete messages came before
                        raise ExportFormatError(e.path, e.where, e.reason + SALVAGE_HINT) from None
                    raise
                error = e
                # Keep the complete messages before the damage, but only those already normalized.
                writer.users(norm.users)
            writer.finish()
            status = "partial" if error or skipped else "ok"
            note = str(error) if error else (f"{skipped} invalid messages skipped" if skipped else None)
            first, last = writer.first_id, writer.last_id
            if fidelity <= LOW_FIDELITY:
                # Made-up ids cover no range: such an export never makes a message a tombstone.
                first = last = None
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
            if first is not None and last is not None:
                deleted = refresh_tombstones(conn, cid, first, last, export_id, gen)
            move_from_synthetic_channel(conn, export_id, cid)
            merged = reconcile(conn, export_id, cid, gen, writer.first_id, writer.last_id)
            if channel.is_thread:
                withhold_thread_names(conn, [cid])  # a forum post started by a dropped user keeps no title
            self._remember()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return FileResult(
            str(path),
            status,
            messages=writer.count,
            # Net counts: a CSV/TXT record merged into a real message is no new message; a real
            # message that replaces a record updates it.
            added=max(0, writer.added - merged),
            updated=writer.updated + (merged if fidelity > LOW_FIDELITY else 0),
            deleted=deleted,
            error=str(error) if error else None,
            skipped=skipped,
            warnings=tuple(warnings),
        )
