"""Build and update the index from the archive: full rebuilds beside the live index, incremental updates in place.

Policy: an incremental update deletes each changed message by id and re-adds it when still live. When the archive's
privacy policy changed since the index was built (a purge, a takedown, a dropped or pseudonymized user), the update
becomes a full rebuild instead, and old versions are deleted: deleted documents' terms would otherwise survive in
tantivy's segment files until a merge.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tantivy

from archive.records import iter_index_records
from archive.store import ARCHIVE_FILE, connect, generation, get_meta
from indexer.documents import DocumentBuilder, Lookups
from indexer.errors import IndexBusy, IndexerError
from indexer.layout import (
    BUILD_PREFIX,
    IndexState,
    collect_garbage,
    index_root,
    next_version_name,
    read_current,
    read_state,
    remove_abandoned_builds,
    write_current,
    write_state,
)
from indexer.layout import writer_lock as _writer_lock
from indexer.schema import ID, SCHEMA_CHANGES, SCHEMA_VERSION, build_schema

REBUILD_HEAP = 128_000_000  # 2.45M messages: 600 MB peak RSS and the same speed as 256 MB (944 MB)
UPDATE_HEAP = 64_000_000
PROGRESS_EVERY = 10_000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class IndexStats:
    """What one update or rebuild did."""

    mode: str  # rebuild | update | unchanged
    indexed: int  # documents added
    removed: int  # ids deleted (changed, tombstoned, redacted or purged)
    generation: int  # archive generation the index now reflects
    seconds: float
    reason: str | None = None  # why an update became a rebuild


def _archive_id(conn: sqlite3.Connection) -> str | None:
    secret = get_meta(conn, "secret")
    return hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else None


def _open_archive(data_dir: Path, conn: sqlite3.Connection | None) -> tuple[sqlite3.Connection, bool]:
    if conn is not None:
        return conn, False
    return connect(data_dir / ARCHIVE_FILE, readonly=True), True


def _rebuild_reason(root: Path, conn: sqlite3.Connection, gen: int) -> str | None:
    name = read_current(root)
    if name is None:
        return "no index yet"
    state = read_state(root / name)
    if state is None or state.schema_version != SCHEMA_VERSION:
        found = state.schema_version if state else "?"
        return f"index schema v{found} is out of date (v{SCHEMA_VERSION}: {SCHEMA_CHANGES[SCHEMA_VERSION]})"
    if state.archive_id != _archive_id(conn):
        return "the index was built from another archive"
    if state.policy != get_meta(conn, "policy"):
        return "the privacy policy changed"
    if state.generation > gen:
        return "the archive is older than the index"
    return None


def _catch_up_first(root: Path, conn: sqlite3.Connection, gen: int) -> bool:
    """Whether the live index can be updated in place before a rebuild: it is only the policy that differs,
    so deleting the changed ids now takes withheld documents out of search before the slow term purge."""
    name = read_current(root)
    state = read_state(root / name) if name else None
    return (
        state is not None
        and state.schema_version == SCHEMA_VERSION
        and state.archive_id == _archive_id(conn)
        and state.generation <= gen
    )


def withhold_now(data_dir: Path, conn: sqlite3.Connection | None = None) -> IndexStats:
    """Delete from the live index, by id and committed, every message the archive changed or withheld since
    the index's generation (fast: no rebuild). Old terms stay in segment files until the rebuild that
    `update_index` does next for a changed policy; search already never serves those documents."""
    root = index_root(data_dir)
    conn, own = _open_archive(data_dir, conn)
    try:
        with _writer_lock(root):
            remove_abandoned_builds(root)
            gen = generation(conn)
            if not _catch_up_first(root, conn, gen):
                return IndexStats("unchanged", 0, 0, gen, 0.0)
            return _update_locked(root, conn, gen, None)
    finally:
        if own:
            conn.close()


def update_index(
    data_dir: Path, conn: sqlite3.Connection | None = None, *, progress: Progress | None = None
) -> IndexStats:
    """Bring the index at <data-dir>/index up to the archive's current generation (rebuilding when needed).

    When the privacy policy changed, the live index first drops the changed ids in place (committed), then
    is rebuilt so no old segment keeps withheld terms.
    """
    root = index_root(data_dir)
    conn, own = _open_archive(data_dir, conn)
    try:
        with _writer_lock(root):
            remove_abandoned_builds(root)
            gen = generation(conn)
            reason = _rebuild_reason(root, conn, gen)
            if reason == "the privacy policy changed" and _catch_up_first(root, conn, gen):
                _update_locked(root, conn, gen, None)
            if reason is not None:
                stats = _rebuild_locked(root, conn, progress)
                return IndexStats(
                    stats.mode, stats.indexed, stats.removed, stats.generation, stats.seconds, reason
                )
            return _update_locked(root, conn, gen, progress)
    finally:
        if own:
            conn.close()


def rebuild_index(
    data_dir: Path, conn: sqlite3.Connection | None = None, *, progress: Progress | None = None
) -> IndexStats:
    """Build a fresh index beside the live one, swap it in atomically and delete old versions."""
    root = index_root(data_dir)
    conn, own = _open_archive(data_dir, conn)
    try:
        with _writer_lock(root):
            remove_abandoned_builds(root)
            return _rebuild_locked(root, conn, progress)
    finally:
        if own:
            conn.close()


def _writer(index: tantivy.Index, heap: int, threads: int) -> tantivy.IndexWriter:
    try:
        writer = index.writer(heap_size=heap, num_threads=threads)
        # A writer killed inside commit() leaves files that meta.json never came to name, such as
        # `<segment>.<opstamp>.del`. Redoing the same deletes reaches the same opstamp, and tantivy then
        # refuses to commit (FileAlreadyExists). Collecting unreferenced files first clears them.
        writer.garbage_collect_files()
        return writer
    except ValueError as e:
        if "LockBusy" in str(e) or "lock" in str(e).lower():
            raise IndexBusy(
                "the index is being written by another process; try again when it finishes"
            ) from None
        raise IndexerError(f"cannot write the index: {e}") from None


def _snapshot(conn: sqlite3.Connection) -> bool:
    """Start a read transaction so the generation and the records agree; False when the caller has one open."""
    if conn.in_transaction:
        return False
    conn.execute("BEGIN")
    return True


def _write_records(
    writer: tantivy.IndexWriter,
    conn: sqlite3.Connection,
    after: int,
    upto: int,
    lookups: Lookups,
    progress: Progress | None,
    *,
    replace: bool,
) -> tuple[int, int]:
    """Feed the archive's changes in (after, upto] to the writer and commit; return (added, deleted by id).

    replace=True deletes each id before adding it back (an update); a fresh rebuild skips that.
    """
    added = removed = 0
    add, json = writer.add_json, DocumentBuilder(lookups).json
    try:
        for mid, rec in iter_index_records(conn, after, upto):
            if replace:
                writer.delete_documents_by_term(ID, mid)
                removed += 1
            if rec is None:
                continue
            add(json(rec))
            added += 1
            if progress is not None and added % PROGRESS_EVERY == 0:
                progress(added)
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    finally:
        writer.wait_merging_threads()
    return added, removed


def _rebuild_locked(root: Path, conn: sqlite3.Connection, progress: Progress | None) -> IndexStats:
    started = time.perf_counter()
    build_dir = root / f"{BUILD_PREFIX}{os.getpid()}-{time.time_ns()}"
    build_dir.mkdir(parents=True)
    began = _snapshot(conn)
    try:
        gen = generation(conn)
        state = IndexState(SCHEMA_VERSION, gen, get_meta(conn, "policy"), _archive_id(conn))
        lookups = Lookups.load(conn)
        index = tantivy.Index(build_schema(), str(build_dir), reuse=False)
        writer = _writer(index, REBUILD_HEAP, 0)
        added, _ = _write_records(writer, conn, 0, gen, lookups, progress, replace=False)
        write_state(build_dir, state)
    except BaseException:
        # A failed build (disk full, an error) may hold withheld text: it never outlives the failure.
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    finally:
        if began:
            conn.execute("COMMIT")
    name = next_version_name(root)
    os.rename(build_dir, root / name)
    write_current(root, name)
    collect_garbage(root, keep=name)
    return IndexStats("rebuild", added, 0, gen, time.perf_counter() - started)


def _update_locked(
    root: Path, conn: sqlite3.Connection, target: int, progress: Progress | None
) -> IndexStats:
    started = time.perf_counter()
    name = read_current(root)
    assert name is not None  # checked by _rebuild_reason
    version_dir = root / name
    state = read_state(version_dir)
    assert state is not None
    if state.generation == target:
        return IndexStats("unchanged", 0, 0, target, time.perf_counter() - started)
    began = _snapshot(conn)
    try:
        gen = generation(conn)
        lookups = Lookups.load(conn)
        index = tantivy.Index.open(str(version_dir))
        writer = _writer(index, UPDATE_HEAP, 1)
        added, removed = _write_records(writer, conn, state.generation, gen, lookups, progress, replace=True)
    finally:
        if began:
            conn.execute("COMMIT")
    # Written after the commit: a crash in between leaves the old generation, and re-applying is idempotent.
    write_state(version_dir, IndexState(SCHEMA_VERSION, gen, state.policy, state.archive_id))
    return IndexStats("update", added, removed - added, gen, time.perf_counter() - started)
