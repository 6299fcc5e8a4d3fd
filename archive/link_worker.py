"""Conversation links computed in a worker process while the caller does other work (e.g. indexing).

The worker only reads the archive; it writes its links to ``links-<parent pid>.tmp`` next to the
database, and the caller (the archive's one writer) stores them. The worker dies with its parent
(archive/lifeline.py), and a temp file left by a killed run is removed by the next one.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import sqlite3
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from archive.lifeline import die_with_parent, started_from_main_thread
from archive.links import channels_needing_links, compute_links, store_links, update_links

__all__ = ["PendingLinks", "remove_stale_link_files"]

_PREFIX = "links-"
_SUFFIX = ".tmp"


def _owner_gone(pid: int, mtime: float) -> bool:
    """Whether process ``pid``, which last wrote a temp file at ``mtime``, is no longer running it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    try:  # a process started after the file was last written is a reused pid
        return Path(f"/proc/{pid}").stat().st_ctime > mtime + 1.0
    except OSError:
        return False


def remove_stale_link_files(folder: Path) -> list[Path]:
    """Delete the temp files of runs that are gone (killed before they could clean up); return them."""
    removed = []
    for path in sorted(folder.glob(f"{_PREFIX}*{_SUFFIX}")):
        pid_text = path.name[len(_PREFIX) : -len(_SUFFIX)]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if _owner_gone(int(pid_text), path.stat().st_mtime):
                path.unlink()
                removed.append(path)
    return removed


def _work(db_path: str, out_path: str, parent_pid: int, main_thread: bool, report: Connection) -> None:
    """The worker process: compute every channel's new links into out_path, then say how it went."""
    die_with_parent(parent_pid, parent_main_thread=main_thread)
    try:
        total = compute_links(db_path, out_path)
    except BaseException as e:  # reported to the parent, which links in-process instead
        report.send(("error", f"{type(e).__name__}: {e}"))
        sys.exit(1)
    report.send(("ok", total))


class PendingLinks:
    """Links computed in a worker process; :meth:`finish` stores them."""

    def __init__(self, conn: sqlite3.Connection, db_path: Path) -> None:
        self.conn = conn
        self.error: str | None = None
        self._out = db_path.with_name(f"{_PREFIX}{os.getpid()}{_SUFFIX}")
        remove_stale_link_files(db_path.parent)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._report: Connection | None = None
        if channels_needing_links(conn):
            ctx = multiprocessing.get_context("spawn")
            receive, send = ctx.Pipe(duplex=False)
            self._process = ctx.Process(
                target=_work,
                args=(str(db_path), str(self._out), os.getpid(), started_from_main_thread(), send),
                name="hallway-links",
                daemon=True,
            )
            self._process.start()
            send.close()  # only the worker holds the sending end: its death reads as EOF here
            self._report = receive

    def finish(self) -> int:
        """Wait for the worker, store its links chunk by chunk; return lines linked.

        If the worker failed or died, its partial output is dropped and the links are computed here
        (``error`` says what happened to it).
        """
        total = 0
        if self._process is not None and self._report is not None:
            try:
                try:
                    status, value = self._report.recv()
                except EOFError:
                    status, value = "error", "exited without a result"
                self._process.join()
                if status == "ok":
                    total = self._store()
                else:
                    self.error = f"conversation worker: {value} (exit code {self._process.exitcode})"
            finally:
                self._report.close()
                self._out.unlink(missing_ok=True)
        # Anything still unlinked (nothing, unless the worker saw an older snapshot or failed) is done here.
        return total + update_links(self.conn)

    def _store(self) -> int:
        total = 0
        with self._out.open("rb") as fh:
            while True:
                try:
                    _, chunk = pickle.load(fh)
                except EOFError:
                    break
                store_links(self.conn, chunk)
                total += len(chunk)
        return total
