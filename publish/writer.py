"""Write the site's files, but only those whose bytes changed; remove what the new build no longer has.

Each file's SHA-256 and size are kept in a manifest beside the site, so a rendered page whose bytes didn't
change is not rewritten (its modification time stays, and a sync to a host uploads only what changed); a
page whose inputs didn't change is not even rendered (`keep`, see publish/cache.py); and a file of the
previous build that this build neither wrote nor kept (a page now withheld, a stale index fragment, a
media file) is deleted. The manifest also holds the page fingerprints and the search index's digest.

The manifest is written when a build ends. A build that dies (killed, out of disk) leaves files the
manifest doesn't describe: new ones it never lists, and listed ones rewritten with other bytes. Trusted,
those would be kept or skipped for ever, and a page holding something since withheld could stay. So a
build leaves `BUILDING` in the folder while it runs; a build that finds it there walks the folder and
distrusts every file the manifest doesn't list or that changed after that mark: such a file is written
again if the new build has it, and deleted if not.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from publish.errors import PublishError

MANIFEST = ".hallway-site.json"
BUILDING = ".hallway-building"  # there while a build runs: found at the start, the last one died


@dataclass
class WriteCounts:
    """What one build did to the folder."""

    written: int = 0
    unchanged: int = 0  # rendered, same bytes as before
    kept: int = 0  # not rendered: inputs unchanged
    removed: int = 0
    bytes: int = 0

    def add(self, other: WriteCounts) -> None:
        """Count what another process did to its part of the folder too."""
        for name in ("written", "unchanged", "kept", "removed", "bytes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class SiteWriter:
    """Writes files under `out`, keeping the manifest of what the site holds."""

    def __init__(self, out: Path, *, force: bool) -> None:
        self.out = out
        # Paths as text: a republish checks that every file it keeps is there (millions at a million
        # messages), and `os.path.isfile` on a string costs a quarter of `Path.is_file`.
        self._root = os.path.join(out, "")
        self.force = force
        self.old: dict[str, tuple[str, int]] = {}
        self.pages: dict[str, list[Any]] = {}  # the previous build's page entries (publish/cache.py)
        self.search: dict[str, str] = {}  # search-index digest per part
        self.landing = ""  # the digest of a split site's landing folder (publish/landing.py)
        self.new: dict[str, tuple[str, int]] = {}
        self.counts = WriteCounts()
        self.changed: list[str] = []  # files written by this build (new or different bytes)
        self._io = FileWrites()
        manifest = out / MANIFEST
        if manifest.exists():
            try:
                data = orjson.loads(manifest.read_bytes())
                if data.get("version") == 1:  # digests only: sizes are read back when kept
                    self.old = {f: (d, -1) for f, d in data["files"].items()}
                else:
                    self.old = {f: (d, n) for f, (d, n) in data["files"].items()}
                    self.pages, self.search = data["pages"], data["search"]
                    self.landing = data.get("landing", "")
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                raise PublishError(
                    f"{manifest}: unreadable manifest; delete the folder and publish again"
                ) from None
        elif out.exists() and not (out / BUILDING).exists() and any(out.iterdir()):
            raise PublishError(
                f"{out}: the folder has files but no Hallway site in it; choose an empty folder"
            )
        self._old_by_top: dict[str, list[str]] | None = None
        self.suspect: set[str] = set()  # files a build that died may have left: not to be trusted
        mark = out / BUILDING
        if mark.exists():
            self.suspect = _touched(out, self.old, mark.stat().st_mtime_ns)
            for f in self.suspect:
                self.old.pop(f, None)
        else:  # (a mark already there stays: its time also covers what the build that died wrote)
            out.mkdir(parents=True, exist_ok=True)
            mark.touch()

    def has(self, file: str) -> bool:
        """Whether this build already wrote `file`."""
        return file in self.new

    def write(self, file: str, data: bytes) -> None:
        """Write one file (relative path) unless the previous build left the same bytes there."""
        digest = hashlib.sha256(data).hexdigest()
        if self.new.get(file, ("", 0))[0] == digest:
            return  # the same file reached twice in one build (a page linked under two names)
        self.new[file] = (digest, len(data))
        self.counts.bytes += len(data)
        if not self.force and self.old.get(file, ("", 0))[0] == digest and os.path.isfile(self._root + file):
            self.counts.unchanged += 1
            return
        # A file the previous build didn't have is written in place: if a crash leaves it half written,
        # it is still not in the manifest, so the next build writes it again. One the manifest lists is
        # written aside and renamed, so a crash leaves it whole (old bytes or new).
        self._io.put(self._root + file, data, fresh=file not in self.old)
        self.counts.written += 1
        self.changed.append(file)

    def had(self, file: str) -> bool:
        """Whether the previous build left `file` (so it can be kept)."""
        return file in self.new or (file in self.old and os.path.isfile(self._root + file))

    def keep(self, file: str) -> None:
        """Keep a file of the previous build as it is (its page's inputs didn't change)."""
        if file in self.new:
            return
        digest, size = self.old[file]
        self.new[file] = (digest, size if size >= 0 else os.stat(self._root + file).st_size)
        self.counts.kept += 1

    def forked(self) -> None:
        """In a process forked to build one part: start from nothing written (the previous build's
        manifest stays), with writer threads of its own."""
        self.new, self.counts, self.changed = {}, WriteCounts(), []
        self._io = FileWrites()

    def flush(self) -> None:
        """Wait until every file handed over so far is written; raise the first failure."""
        self._io.close()

    def finish(self, pages: dict[str, list[Any]], search: dict[str, str], landing: str = "") -> WriteCounts:
        """Delete what the previous build had and this one didn't, and save the manifest."""
        self._io.close()
        for file in sorted((set(self.old) | self.suspect) - set(self.new)):
            path = self.out / file
            if path.is_file() or path.is_symlink():
                path.unlink()
                self.counts.removed += 1
            _prune(path.parent, self.out)
        files = {f: [d, n] for f, (d, n) in sorted(self.new.items())}
        manifest = {"version": 2, "files": files, "pages": pages, "search": search, "landing": landing}
        tmp = self.out / (MANIFEST + ".tmp")
        tmp.write_bytes(orjson.dumps(manifest))
        os.replace(tmp, self.out / MANIFEST)
        (self.out / BUILDING).unlink(missing_ok=True)
        return self.counts

    def index_old(self) -> None:
        """Group the previous build's files by top-level folder (once: see `old_under`)."""
        self._old_by_top = {}
        for f in self.old:
            self._old_by_top.setdefault(f.split("/", 1)[0], []).append(f)

    def old_under(self, prefix: str) -> list[str]:
        """The previous build's files under `prefix` (a folder path ending in "/"): looked up in their
        top-level folder, so a part of a split site doesn't go through every part's files."""
        if self._old_by_top is None:
            self.index_old()
        assert self._old_by_top is not None
        return [f for f in self._old_by_top.get(prefix.split("/", 1)[0], ()) if f.startswith(prefix)]

    def sizes(self) -> dict[str, int]:
        """Bytes per top-level folder of the site (files directly at the top count as "pages")."""
        out: dict[str, int] = {}
        for file, (_, size) in self.new.items():
            top = file.split("/", 1)[0] if "/" in file else "pages"
            out[top] = out.get(top, 0) + size
        return out

    def tally(self) -> dict[str, tuple[int, int]]:
        """Bytes and files per top-level folder, in one pass ("" for the files at the top)."""
        out: dict[str, list[int]] = {}
        for file, (_, size) in self.new.items():
            top = file.split("/", 1)[0] if "/" in file else ""
            t = out.setdefault(top, [0, 0])
            t[0] += size
            t[1] += 1
        return {top: (n, files) for top, (n, files) in out.items()}


class FileWrites:
    """Files written by a few threads: creating a file costs ~0.1 ms of waiting on the disk here, and a
    site has millions of them (measured: 8 threads create small files ~5x as fast as one). Each file is
    written aside and renamed into place, or in place when `fresh` (no reader or build relies on it yet:
    a rename saves ~20% of a small file's cost here). Files go to the threads `BATCH` at a time, by their
    paths as text: a future per file and `pathlib` cost the building thread more than the writing did
    (a sixth of a build's CPU). At most `PENDING` batches wait in memory; the first failure is raised by
    the next write or by `close`."""

    THREADS = 8
    BATCH = 64
    PENDING = 64

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._slots = threading.BoundedSemaphore(self.PENDING)
        self._failed: list[tuple[str, BaseException]] = []
        self._lock = threading.Lock()
        self._batch: list[tuple[str, bytes, bool]] = []
        self._pending: dict[str, Future[None]] = {}  # a file written twice: the second waits for the first
        self._folders: set[str] = set()  # folders made (or found) by these threads

    def put(self, path: str | os.PathLike[str], data: bytes, *, fresh: bool = False) -> None:
        """Write `data` to `path` (soon); `fresh`: a new file, which nothing reads before the build ends."""
        if self._failed:
            self._raise()
        name = os.fspath(path)
        earlier = self._pending.get(name)  # (in this batch already: written after it, in order)
        if earlier is not None:
            earlier.result()
        self._batch.append((name, data, fresh))
        if len(self._batch) >= self.BATCH:
            self._send()

    def _send(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="site-write")
        self._slots.acquire()
        future = self._pool.submit(self._write, batch)
        with self._lock:
            for name, _, _ in batch:
                self._pending[name] = future
        future.add_done_callback(lambda f: self._done(batch, f))

    def _done(self, batch: list[tuple[str, bytes, bool]], future: Future[None]) -> None:
        with self._lock:
            for name, _, _ in batch:
                if self._pending.get(name) is future:
                    del self._pending[name]

    def _write(self, batch: list[tuple[str, bytes, bool]]) -> None:
        try:
            for name, data, fresh in batch:
                try:
                    folder = os.path.dirname(name)
                    if folder not in self._folders:
                        os.makedirs(folder, exist_ok=True)
                        self._folders.add(folder)
                    target = name if fresh else name + ".tmp"
                    with open(target, "wb") as f:
                        f.write(data)
                    if not fresh:
                        os.replace(target, name)
                except BaseException as e:  # raised again in the building thread
                    self._failed.append((name, e))
        finally:
            self._slots.release()

    def close(self) -> None:
        """Wait for every write; raise the first failure."""
        self._send()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._failed:
            self._raise()

    def _raise(self) -> None:
        path, e = self._failed[0]
        if isinstance(e, OSError):
            raise PublishError(f"{path}: could not write the file ({e.strerror})") from e
        raise e


class Folder:
    """A part of the site: writes go to `prefix` + the file's own path in its part."""

    def __init__(self, writer: SiteWriter, prefix: str) -> None:
        self.writer = writer
        self.prefix = prefix

    def has(self, file: str) -> bool:
        """Whether this build already wrote `file` in this part."""
        return self.writer.has(self.prefix + file)

    def write(self, file: str, data: bytes) -> None:
        """Write one file of this part."""
        self.writer.write(self.prefix + file, data)

    def had(self, file: str) -> bool:
        """Whether the previous build left `file` of this part."""
        return self.writer.had(self.prefix + file)

    def keep(self, file: str) -> None:
        """Keep a file of this part from the previous build."""
        self.writer.keep(self.prefix + file)


def _touched(out: Path, listed: dict[str, tuple[str, int]], since_ns: int) -> set[str]:
    """Files under `out` that the manifest doesn't list, or that were modified at or after `since_ns`."""
    found = set()
    for folder, _, names in os.walk(out):
        for name in names:
            path = os.path.join(folder, name)
            file = os.path.relpath(path, out).replace(os.sep, "/")
            if file in (MANIFEST, BUILDING):
                continue
            if file not in listed or os.lstat(path).st_mtime_ns >= since_ns:
                found.add(file)
    return found


def _prune(folder: Path, root: Path) -> None:
    """Remove empty folders from `folder` up to (not including) `root`."""
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
