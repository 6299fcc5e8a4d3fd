"""The index's writer in its own process, fed commit by commit while the archive is still being written.

Protocol over one duplex pipe. Parent -> worker: "feed" (the archive committed more), "commit" (it is
done). Worker -> parent: ("progress", documents added), then ("done", IndexStats) or ("error", text).
The worker dies with its parent (archive.lifeline) and also stops at the pipe's EOF; either way the
live index is untouched (nothing is committed before "commit").
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import archive
import indexer
from archive import ArchiveError
from archive.lifeline import die_with_parent, started_from_main_thread
from indexer import IndexerError, IndexStats
from indexer.session import IndexSession


def worker_main(data_dir: str, pipe: Connection, parent_pid: int, parent_main_thread: bool) -> None:
    """The worker process: hold an IndexSession, feed it on request, commit at the end."""
    die_with_parent(parent_pid, parent_main_thread=parent_main_thread)
    try:
        conn = archive.connect(Path(data_dir) / archive.ARCHIVE_FILE, readonly=True)
        session = IndexSession(Path(data_dir), conn)
    except (ArchiveError, IndexerError) as e:
        pipe.send(("error", str(e)))
        return
    committed = False
    try:
        while True:
            try:
                request = pipe.recv()
            except EOFError:
                return  # the parent is gone: drop everything
            session.feed(lambda n: pipe.send(("progress", n)))
            if request == "commit":
                stats = session.commit()
                committed = True
                pipe.send(("done", stats))
                return
    except (ArchiveError, IndexerError) as e:
        pipe.send(("error", str(e)))
    finally:
        if not committed:
            session.abort()
        conn.close()


class IndexFollower:
    """Keeps the index writer one commit behind the archive writer (in a worker once there is work)."""

    def __init__(self, data_dir: Path, conn: sqlite3.Connection, *, in_worker: bool = True) -> None:
        self.data_dir = data_dir
        self.conn = conn
        self.in_worker = in_worker
        self._start_gen = archive.generation(conn)
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None
        self.progress: Callable[[int], None] | None = None

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        self._proc = ctx.Process(
            target=worker_main,
            args=(str(self.data_dir), child, os.getpid(), started_from_main_thread()),
            name="hallway-index",
            daemon=True,
        )
        self._proc.start()
        child.close()
        self._pipe = parent

    def advance(self) -> None:
        """The archive committed a file: let the index follow (starts the worker at the first change)."""
        if not self.in_worker:
            return
        if self._pipe is None:
            if archive.generation(self.conn) == self._start_gen:
                return  # nothing new yet (unchanged files): no worker for a re-ingest with nothing to do
            self._start()
        assert self._pipe is not None
        try:
            self._pipe.send("feed")
        except OSError:
            return  # the worker stopped: finish() reports why
        self._drain()

    def _drain(self) -> None:
        pipe = self._pipe
        while pipe is not None and pipe.poll():
            kind, value = pipe.recv()
            if kind != "progress":
                raise IndexerError(f"index worker: unexpected {kind}: {value}")
            if self.progress is not None:
                self.progress(value)

    def finish(self) -> tuple[IndexStats | None, str | None]:
        """Commit the index; return (stats, None) or (None, the error)."""
        if self._pipe is None:
            try:
                return indexer.update_index(self.data_dir, self.conn, progress=self.progress), None
            except IndexerError as e:
                return None, str(e)
        try:
            self._pipe.send("commit")
        except OSError:
            pass  # the worker stopped: recv() below sees its last words or EOF
        while True:
            try:
                kind, value = self._pipe.recv()
            except EOFError:
                code = self._proc.exitcode if self._proc else None
                return None, f"the index worker stopped (exit code {code}); run `hallway reindex`"
            if kind == "progress":
                if self.progress is not None:
                    self.progress(value)
            elif kind == "done":
                return value, None
            else:
                return None, str(value)

    def close(self) -> None:
        """Stop the worker if it still runs (an error or interrupt in the archive phase), wait for it."""
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self._proc is not None:
            self._proc.join(timeout=30)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
            self._proc = None
