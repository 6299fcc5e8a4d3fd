"""The index's writer in its own process, fed commit by commit while the archive is still being written.

The worker is `python -c "…index_worker import main; main()" DATA_DIR PARENT_PID MAIN_THREAD`, started with plain
pipes: a multiprocessing spawn would re-import the parent's __main__ (cli.py, with the web stack),
seconds of start-up that a small ingest waits for. Parent -> worker, one line each: `feed` (the
archive committed more), `commit` (it is done). Worker -> parent, one line each: `progress N`, then
`done {IndexStats as JSON}` or `error TEXT`. The worker dies with its parent (archive.lifeline) and
stops at the EOF of its input; either way the live index is untouched (nothing is committed before
`commit`).
"""

from __future__ import annotations

import dataclasses
import os
import select
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import orjson

import archive
import indexer
from archive import ArchiveError
from archive.lifeline import die_with_parent, started_from_main_thread
from indexer import IndexerError, IndexStats
from indexer.session import IndexSession

ROOT = Path(__file__).resolve().parent.parent  # holds the packages, for the worker's import path
WORKER = "from pipeline.index_worker import main; main()"


def _say(out: IO[str], line: str) -> None:
    out.write(line + "\n")
    out.flush()


def serve(data_dir: Path, commands: IO[str], out: IO[str]) -> None:
    """The worker's loop: hold an IndexSession, feed it on request, commit at the end."""
    try:
        conn = archive.connect(data_dir / archive.ARCHIVE_FILE, readonly=True)
        session = IndexSession(data_dir, conn)
    except (ArchiveError, IndexerError) as e:
        _say(out, f"error {e}")
        return
    committed = False
    try:
        for line in commands:
            session.feed(lambda n: _say(out, f"progress {n}"))
            if line.strip() == "commit":
                stats = session.commit()
                committed = True
                _say(out, "done " + orjson.dumps(dataclasses.asdict(stats)).decode())
                return
        # EOF without "commit": the parent is gone or gave up, drop everything.
    except (ArchiveError, IndexerError) as e:
        _say(out, f"error {e}")
    finally:
        if not committed:
            session.abort()
        conn.close()


def main() -> None:
    """Entry point of the worker process."""
    data_dir, parent_pid, main_thread = sys.argv[-3], int(sys.argv[-2]), sys.argv[-1] == "1"
    die_with_parent(parent_pid, parent_main_thread=main_thread)
    serve(Path(data_dir), sys.stdin, sys.stdout)


WORKER_AFTER = 20_000
"""Changed messages before the worker starts: below about a second of index work, starting a process
costs more than it saves, and the index is written here after the archive."""


class IndexFollower:
    """Keeps the index writer one commit behind the archive writer, in a worker once there is enough work.

    `worker_after`: changed messages that start the worker (0: at the first change; None: never, the
    index is written in this process after the archive).
    """

    def __init__(
        self, data_dir: Path, conn: sqlite3.Connection, *, worker_after: int | None = WORKER_AFTER
    ) -> None:
        self.data_dir = data_dir
        self.conn = conn
        self.worker_after = worker_after
        self._changed = 0
        self._proc: subprocess.Popen[str] | None = None
        self._early: str | None = None  # a line other than progress read while following (an error)
        self.progress: Callable[[int], None] | None = None

    def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        main_thread = "1" if started_from_main_thread() else "0"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(self.data_dir), str(os.getpid()), main_thread],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            bufsize=1,
        )

    def _send(self, line: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
        except OSError:
            pass  # the worker stopped: finish() reports why

    def advance(self, changed: int) -> None:
        """The archive committed a file that changed `changed` messages: let the index follow."""
        self._changed += changed
        if self._proc is None:
            if self.worker_after is None or self._changed == 0 or self._changed < self.worker_after:
                return  # e.g. a re-ingest of unchanged files: no worker at all
            self._start()
        self._send("feed")
        out = self._proc.stdout if self._proc else None
        while out is not None and select.select([out], [], [], 0)[0]:
            line = out.readline()
            if not line.startswith("progress "):
                self._early = line  # an error: finish() reports it
                break
            self._on_progress(line)

    def _on_progress(self, line: str) -> None:
        if self.progress is not None:
            self.progress(int(line.split()[1]))

    def finish(self) -> tuple[IndexStats | None, str | None]:
        """Commit the index; return (stats, None) or (None, the error)."""
        if self._proc is None:
            try:
                return indexer.update_index(self.data_dir, self.conn, progress=self.progress), None
            except IndexerError as e:
                return None, str(e)
        assert self._proc.stdout is not None and self._proc.stdin is not None
        self._send("commit")
        early = [self._early] if self._early is not None else []
        for line in [*early, *self._proc.stdout]:
            kind, _, value = line.rstrip("\n").partition(" ")
            if kind == "progress":
                self._on_progress(line)
            elif kind == "done":
                return IndexStats(**orjson.loads(value)), None
            elif kind == "error":
                return None, value
        code = self._proc.wait()
        return None, f"the index worker stopped (exit code {code}); run `hallway reindex`"

    def close(self) -> None:
        """Stop the worker if it still runs (an error or interrupt in the archive phase), wait for it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
