"""Conversation links computed in a worker process while the caller does other work (e.g. indexing).

The worker is `python -c "…link_worker import main; main()" DB OUT PARENT_PID MAIN_THREAD` with a plain pipe (see
:func:`worker_command`): a multiprocessing spawn would re-import the caller's __main__ (cli.py, with the web
stack), seconds of start-up per ingest. It only reads the archive and writes its links to
``links-<parent pid>.tmp`` next to the database; on its stdout it says, one line each, `progress N` (lines linked
so far, each chunk flushed to the file first), then `done N` or `error TEXT`. The caller (the archive's one writer) stores each chunk as it hears of it. The worker dies
with its parent (archive/lifeline.py), and a temp file left by a killed run is removed by the next one.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from archive.lifeline import die_with_parent, started_from_main_thread
from archive.links import channels_needing_links, compute_links, store_links, update_links

__all__ = ["WORKER", "PendingLinks", "main", "remove_stale_link_files", "worker_command"]

_PREFIX = "links-"
_SUFFIX = ".tmp"
ROOT = Path(__file__).resolve().parent.parent  # holds the packages, for the worker's import path
WORKER = "from archive.link_worker import main; main()"


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


def worker_command(db_path: Path, out_path: Path) -> list[str]:
    """The worker's command line, started by this process (its parent)."""
    main_thread = "1" if started_from_main_thread() else "0"
    return [sys.executable, "-c", WORKER, str(db_path), str(out_path), str(os.getpid()), main_thread]


def main() -> None:
    """Entry point of the worker process (arguments: see :func:`worker_command`)."""
    db_path, out_path, parent_pid, main_thread = sys.argv[-4:]
    die_with_parent(int(parent_pid), parent_main_thread=main_thread == "1")
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the protocol's own copy of stdout
    os.dup2(2, 1)  # anything else printed goes to stderr, never into the protocol
    sys.stdout = sys.stderr

    def say(line: str) -> None:
        report.write(line + "\n")
        report.flush()

    try:
        total = compute_links(db_path, out_path, progress=lambda n: say(f"progress {n}"))
    except BaseException as e:  # reported to the parent, which links in-process instead
        say("error " + " ".join(f"{type(e).__name__}: {e}".split()))
        sys.exit(1)
    say(f"done {total}")


class PendingLinks:
    """Links computed in a worker process; :meth:`finish` stores them."""

    def __init__(self, conn: sqlite3.Connection, db_path: Path) -> None:
        self.conn = conn
        self.error: str | None = None
        self._out = db_path.with_name(f"{_PREFIX}{os.getpid()}{_SUFFIX}")
        remove_stale_link_files(db_path.parent)
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._reader: BinaryIO | None = None  # the worker's file, read as it reports chunks
        self._stored = 0
        if channels_needing_links(conn):
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
            self._proc = subprocess.Popen(
                worker_command(db_path, self._out),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            # drained as it comes, so the worker never waits on a full pipe while this process indexes
            threading.Thread(target=self._read, name="links-report", daemon=True).start()

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for line in self._proc.stdout:
                self._lines.put(line)
        self._lines.put(None)

    def finish(self, progress: Callable[[int], None] | None = None) -> int:
        """Wait for the worker, storing its links chunk by chunk as it reports them; return lines linked.

        ``progress`` hears the lines linked so far. If the worker failed or died, the chunks it had
        reported are kept (they are final) and the rest is linked here (``error`` says what happened).
        """
        total = 0
        if self._proc is not None:
            try:
                status, value = "error", "exited without a result"
                while (line := self._lines.get()) is not None:
                    kind, _, rest = line.rstrip("\n").partition(" ")
                    if kind == "progress" and rest.isdigit():
                        total = self._store_upto(int(rest))
                        if progress is not None:
                            progress(total)
                    elif kind in ("done", "error"):
                        status, value = kind, rest
                code = self._proc.wait()
                if status == "done" and code == 0 and value.isdigit():
                    total = self._store_upto(int(value))
                else:
                    self.error = f"conversation worker: {value} (exit code {code})"
            finally:
                self.close()

        def more(n: int) -> None:
            if progress is not None:
                progress(total + n)

        # Anything still unlinked (nothing, unless the worker saw an older snapshot or failed) is done here.
        return total + update_links(self.conn, more)

    def close(self) -> None:
        """Stop the worker if it still runs (the run was interrupted), drop its file; safe to repeat."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                with contextlib.suppress(OSError):
                    proc.stdout.close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._out.unlink(missing_ok=True)

    def _store_upto(self, count: int) -> int:
        """Store the chunks of the worker's file until `count` links are stored (it flushed that many)."""
        if self._reader is None:
            self._reader = self._out.open("rb")
        while self._stored < count:
            try:
                _, chunk = pickle.load(self._reader)
            except EOFError:  # not written after all: finish() links whatever is left here
                break
            store_links(self.conn, chunk)
            self._stored += len(chunk)
        return self._stored
