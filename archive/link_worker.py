"""Conversation links computed in worker processes while the caller does other work (e.g. indexing).

A worker is `python -c "…link_worker import main; main()" DB OUT PARENT_PID MAIN_THREAD` with plain pipes (see
:func:`worker_command`): a multiprocessing spawn would re-import the caller's __main__ (cli.py, with the web
stack), seconds of start-up per ingest. Channels are independent, so a large run shares them out between
one worker per core (largest first); each link is the same whichever worker computes it. A worker reads its
channel list from stdin, only reads the archive, and writes its links to ``links-<parent pid>-<k>.tmp``
next to the database; on its stdout it says, one line each, `progress N` (lines linked so far, each chunk
flushed to the file first), then `done N` or `error TEXT`. The caller (the archive's one writer) stores
each chunk as it hears of it. Workers die with their parent (archive/lifeline.py), and a temp file left
by a killed run is removed by the next one.
"""

from __future__ import annotations

import contextlib
import json
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
        pid_text = path.name[len(_PREFIX) : -len(_SUFFIX)].split("-")[0]  # links-<pid>-<worker>.tmp
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if _owner_gone(int(pid_text), path.stat().st_mtime):
                path.unlink()
                removed.append(path)
    return removed


def worker_command(db_path: Path, out_path: Path) -> list[str]:
    """The worker's command line, started by this process (its parent). Its stdin gives the channels."""
    main_thread = "1" if started_from_main_thread() else "0"
    return [sys.executable, "-c", WORKER, str(db_path), str(out_path), str(os.getpid()), main_thread]


def main() -> None:
    """Entry point of the worker process (arguments: see :func:`worker_command`).

    The first line of stdin is the JSON list of [channel id, first message id] to link; without one,
    every channel with new messages is linked.
    """
    db_path, out_path, parent_pid, main_thread = sys.argv[-4:]
    die_with_parent(int(parent_pid), parent_main_thread=main_thread == "1")
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the protocol's own copy of stdout
    os.dup2(2, 1)  # anything else printed goes to stderr, never into the protocol
    sys.stdout = sys.stderr

    def say(line: str) -> None:
        report.write(line + "\n")
        report.flush()

    try:
        given = json.loads(sys.stdin.readline() or "null")
        channels = None if given is None else [(int(c), int(start)) for c, start in given]
        total = compute_links(db_path, out_path, progress=lambda n: say(f"progress {n}"), channels=channels)
    except BaseException as e:  # reported to the parent, which links in-process instead
        say("error " + " ".join(f"{type(e).__name__}: {e}".split()))
        sys.exit(1)
    say(f"done {total}")


WORKERS = max(1, min(2, os.cpu_count() or 1))
"""Worker processes for a large run: channels are independent, so they are shared out between them."""
POOL_AFTER = 50_000
"""Lines to link before a second worker is worth its start-up."""


def share_out(sizes: dict[tuple[int, int], int], workers: int) -> list[list[tuple[int, int]]]:
    """Channels (with their line counts) split into `workers` lists of about equal work, largest first."""
    bins: list[list[tuple[int, int]]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for channel, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        k = loads.index(min(loads))
        bins[k].append(channel)
        loads[k] += size
    return [b for b in bins if b]


class _Worker:
    """One worker process, its links file and how much of that file is stored."""

    def __init__(
        self, db_path: Path, out: Path, channels: list[tuple[int, int]], k: int, lines: _Lines
    ) -> None:
        self.out = out
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc: subprocess.Popen[str] | None = subprocess.Popen(
            worker_command(db_path, out), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self.status, self.value = "error", "exited without a result"
        self.stored = 0
        self._file: BinaryIO | None = None  # the worker's file, read as it reports chunks
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.write(json.dumps(channels) + "\n")
            self.proc.stdin.close()
        # drained as it comes, so the worker never waits on a full pipe while this process indexes
        threading.Thread(target=self._read, args=(k, lines), name=f"links-report-{k}", daemon=True).start()

    def _read(self, k: int, lines: _Lines) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for line in self.proc.stdout:
                lines.put((k, line))
        lines.put((k, None))

    def store_upto(self, conn: sqlite3.Connection, count: int) -> int:
        """Store the chunks of the worker's file until `count` links are stored (it flushed that many)."""
        if self._file is None:
            self._file = self.out.open("rb")
        while self.stored < count:
            try:
                _, chunk = pickle.load(self._file)
            except EOFError:  # not written after all: finish() links whatever is left here
                break
            store_links(conn, chunk)
            self.stored += len(chunk)
        return self.stored

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                with contextlib.suppress(OSError):
                    proc.stdout.close()
        if self._file is not None:
            self._file.close()
            self._file = None
        self.out.unlink(missing_ok=True)


_Lines = queue.SimpleQueue[tuple[int, str | None]]


class PendingLinks:
    """Links computed in worker processes (one per core for a large run); :meth:`finish` stores them."""

    def __init__(self, conn: sqlite3.Connection, db_path: Path, workers: int | None = None) -> None:
        self.conn = conn
        self.error: str | None = None
        remove_stale_link_files(db_path.parent)
        self._lines: _Lines = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        work = channels_needing_links(conn)
        if not work:
            return
        sizes = {
            (cid, start): conn.execute(
                "SELECT count(*) FROM messages WHERE channel_id = ? AND id >= ?", (cid, start)
            ).fetchone()[0]
            for cid, start in work
        }
        if workers is None:
            workers = WORKERS if sum(sizes.values()) >= POOL_AFTER else 1
        for k, channels in enumerate(share_out(sizes, workers)):
            out = db_path.with_name(f"{_PREFIX}{os.getpid()}-{k}{_SUFFIX}")
            self._workers.append(_Worker(db_path, out, channels, k, self._lines))

    @property
    def workers(self) -> int:
        """How many worker processes this run started."""
        return len(self._workers)

    def finish(self, progress: Callable[[int], None] | None = None) -> int:
        """Wait for the workers, storing their links chunk by chunk as they report them; return lines linked.

        ``progress`` hears the lines linked so far. If a worker failed or died, the chunks it had
        reported are kept (they are final) and the rest is linked here (``error`` says what happened).
        """
        try:
            running = len(self._workers)
            while running:
                k, line = self._lines.get()
                w = self._workers[k]
                if line is None:
                    running -= 1
                    continue
                kind, _, rest = line.rstrip("\n").partition(" ")
                if kind == "progress" and rest.isdigit():
                    w.store_upto(self.conn, int(rest))
                    if progress is not None:
                        progress(sum(x.stored for x in self._workers))
                elif kind in ("done", "error"):
                    w.status, w.value = kind, rest
            for w in self._workers:
                assert w.proc is not None
                code = w.proc.wait()
                if w.status == "done" and code == 0 and w.value.isdigit():
                    w.store_upto(self.conn, int(w.value))
                elif self.error is None:
                    self.error = f"conversation worker: {w.value} (exit code {code})"
            total = sum(w.stored for w in self._workers)
        finally:
            self.close()

        def more(n: int) -> None:
            if progress is not None:
                progress(total + n)

        # Anything still unlinked (nothing, unless a worker saw an older snapshot or failed) is done here.
        return total + update_links(self.conn, more)

    def close(self) -> None:
        """Stop the workers if they still run (the run was interrupted), drop their files; safe to repeat."""
        for w in self._workers:
            w.close()
