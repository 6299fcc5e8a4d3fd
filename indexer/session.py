"""An index writing session that follows the archive while it is being written: feed, feed, …, commit.

The ingest pipeline runs one in a worker process: after each export file the archive commits, the
session reads that file's changes (one archive generation) and turns them into documents, so the
index is built on the second core while the first reads the next file. Nothing is committed to the
index before `commit()`: a session that dies leaves the live index as it was (a rebuild's folder is
removed by the next session).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import tantivy

from archive.records import iter_index_records
from archive.store import generation, get_meta
from indexer.documents import DocumentBuilder, Lookups
from indexer.layout import (
    BUILD_PREFIX,
    IndexState,
    collect_garbage,
    index_root,
    next_version_name,
    read_current,
    read_state,
    write_current,
    write_state,
)
from indexer.layout import writer_lock as _writer_lock
from indexer.schema import ID, SCHEMA_VERSION, build_schema
from indexer.writer import (
    UPDATE_HEAP,
    IndexStats,
    Progress,
    _archive_id,
    _rebuild_reason,
    _writer,
)

SESSION_REBUILD_HEAP = 64_000_000
"""The rebuild arena of the ingest's index worker, which runs beside the archive writer and the conversation
worker. A 2.5M-message (2.1 GB) single file: peak RSS 502 MB with 64 MB, 830 MB with 128 MB, the same CPU
(100.4 s vs 101.2 s; 7 segments instead of 3), which keeps that ingest's whole process tree under 1 GB."""


def remove_abandoned_builds(root: Path) -> None:
    """Delete rebuild folders left by a killed process (call with the writer lock held)."""
    if root.is_dir():
        for p in root.iterdir():
            if p.is_dir() and p.name.startswith(BUILD_PREFIX):
                shutil.rmtree(p, ignore_errors=True)


def _within(spans: list[tuple[int, int]] | None, mid: int) -> bool:
    return spans is not None and any(lo <= mid <= hi for lo, hi in spans)


class IndexSession:
    """Holds the index writer lock from construction to commit() or abort()."""

    def __init__(self, data_dir: Path, conn: sqlite3.Connection) -> None:
        self.root = index_root(data_dir)
        self.conn = conn
        self.started = time.perf_counter()
        self._lock = _writer_lock(self.root)
        self._lock.__enter__()
        try:
            remove_abandoned_builds(self.root)
            gen = generation(conn)
            self.reason = _rebuild_reason(self.root, conn, gen)
            self.added = self.removed = 0
            self.writer: tantivy.IndexWriter | None = None
            # A rebuild starts empty: a message needs deleting only when this session added it already
            # (id ranges added so far, per channel); an update deletes every changed id.
            self._fresh = self.reason is not None
            self._fed: dict[int, list[tuple[int, int]]] = {}
            if self.reason is not None:
                self.mode = "rebuild"
                self.dir = self.root / f"{BUILD_PREFIX}{os.getpid()}-{time.time_ns()}"
                self.dir.mkdir(parents=True)
                self.done = 0
                index = tantivy.Index(build_schema(), str(self.dir), reuse=False)
                # One indexing thread: the archive writer has the other core. At 1M messages (128 MB) it cost
                # 11% less CPU than two threads (35 s vs 40 s: one arena makes a third of the segments, so
                # nothing merged) and 290 MB of RSS instead of 470 MB.
                self.writer = _writer(index, SESSION_REBUILD_HEAP, 1)
            else:
                self.mode = "update"
                name = read_current(self.root)
                assert name is not None  # checked by _rebuild_reason
                self.dir = self.root / name
                state = read_state(self.dir)
                assert state is not None
                self.done = state.generation
                self._state = state
                self.writer = None if state.generation == gen else self._open_update_writer()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise

    def _open_update_writer(self) -> tantivy.IndexWriter:
        return _writer(tantivy.Index.open(str(self.dir)), UPDATE_HEAP, 1)

    def feed(self, progress: Progress | None = None) -> int:
        """Add the archive's changes committed since the last feed; return the generation now reflected."""
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")  # one snapshot: the generation and the records agree
        try:
            gen = generation(self.conn)
            if gen == self.done:
                return gen
            if self.writer is None:
                self.writer = self._open_update_writer()
            writer, fed, fresh = self.writer, self._fed, self._fresh
            add, json = writer.add_json, DocumentBuilder(Lookups.load(self.conn)).json
            ranges: dict[int, list[int]] = {}
            for mid, rec in iter_index_records(self.conn, self.done, gen):
                if not fresh or rec is None or _within(fed.get(rec.channel_id), mid):
                    writer.delete_documents_by_term(ID, mid)
                    self.removed += 1
                if rec is None:
                    continue
                add(json(rec))
                span = ranges.get(rec.channel_id)
                if span is None:
                    ranges[rec.channel_id] = [mid, mid]
                elif mid < span[0]:
                    span[0] = mid
                elif mid > span[1]:
                    span[1] = mid
                self.added += 1
                if progress is not None and self.added % 10_000 == 0:
                    progress(self.added)
            for cid, (lo, hi) in ranges.items():
                fed.setdefault(cid, []).append((lo, hi))
            self.done = gen
            return gen
        finally:
            self.conn.execute("COMMIT")

    def commit(self) -> IndexStats:
        """Commit what was fed, make it the live index, release the lock."""
        try:
            gen = self.done
            if self.writer is None and self.mode == "update":
                return IndexStats("unchanged", 0, 0, gen, time.perf_counter() - self.started)
            if self.writer is not None:
                self.writer.commit()
                self.writer.wait_merging_threads()
            if self.mode == "rebuild":
                state = IndexState(SCHEMA_VERSION, gen, get_meta(self.conn, "policy"), _archive_id(self.conn))
                write_state(self.dir, state)
                name = next_version_name(self.root)
                os.rename(self.dir, self.root / name)
                write_current(self.root, name)
                collect_garbage(self.root, keep=name)
                return IndexStats(
                    "rebuild", self.added, 0, gen, time.perf_counter() - self.started, self.reason
                )
            # Written after the commit: a crash in between leaves the old generation (re-applying is idempotent).
            write_state(self.dir, IndexState(SCHEMA_VERSION, gen, self._state.policy, self._state.archive_id))
            return IndexStats(
                "update", self.added, self.removed - self.added, gen, time.perf_counter() - self.started
            )
        finally:
            self._lock.__exit__(None, None, None)

    def abort(self) -> None:
        """Drop what was fed (the live index is untouched) and release the lock."""
        try:
            if self.writer is not None:
                self.writer.rollback()
            if self.mode == "rebuild":
                shutil.rmtree(self.dir, ignore_errors=True)
        finally:
            self._lock.__exit__(None, None, None)
