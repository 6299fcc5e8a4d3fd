"""The index's files on disk: versioned directories, the CURRENT pointer, the state file and the writer lock.

<data-dir>/index/CURRENT         name of the live version, replaced atomically (os.replace)
<data-dir>/index/v000003/        a tantivy index plus hallway.json (schema version, archive generation)
<data-dir>/index/build-<pid>-…/  a rebuild in progress, renamed to the next vNNNNNN when complete
<data-dir>/index/.lock           flock held by the one process writing the index
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

INDEX_DIR = "index"
CURRENT_FILE = "CURRENT"
STATE_FILE = "hallway.json"
LOCK_FILE = ".lock"
VERSION_PREFIX = "v"
BUILD_PREFIX = "build-"


@dataclass(frozen=True)
class IndexState:
    """What one index version reflects: written after every commit (a stale state only means redoing work)."""

    schema_version: int
    generation: int  # the archive generation the index reflects
    policy: str | None  # the archive's policy fingerprint when the version was built
    archive_id: str | None  # identifies the archive file it was built from (hash of its secret)


def index_root(data_dir: Path) -> Path:
    """Where the index lives for a data dir."""
    return data_dir / INDEX_DIR


def read_current(root: Path) -> str | None:
    """The live version's directory name, or None when there is no index."""
    try:
        name = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name if name.startswith(VERSION_PREFIX) and "/" not in name else None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_current(root: Path, name: str) -> None:
    """Point CURRENT at a version directory, atomically."""
    _write_atomic(root / CURRENT_FILE, name.encode() + b"\n")


def read_state(version_dir: Path) -> IndexState | None:
    """The state file of a version directory, or None when absent or unreadable."""
    try:
        data = orjson.loads((version_dir / STATE_FILE).read_bytes())
        return IndexState(
            schema_version=int(data["schema_version"]),
            generation=int(data["generation"]),
            policy=data.get("policy"),
            archive_id=data.get("archive_id"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(version_dir: Path, state: IndexState) -> None:
    """Record what a version directory reflects (after its commit)."""
    _write_atomic(version_dir / STATE_FILE, orjson.dumps(asdict(state)))


def next_version_name(root: Path) -> str:
    """The name for the next version directory (v000001, v000002, …)."""
    numbers = [int(p.name[1:]) for p in root.glob(f"{VERSION_PREFIX}*") if p.name[1:].isdigit()]
    return f"{VERSION_PREFIX}{max(numbers, default=0) + 1:06d}"


def collect_garbage(root: Path, keep: str) -> None:
    """Delete every version but `keep`, and abandoned builds (call with the writer lock held).

    Readers that still have an old version open keep working: on POSIX, their mmaps outlive the unlink.
    """
    for p in root.iterdir():
        if (
            p.is_dir()
            and p.name != keep
            and (p.name.startswith(VERSION_PREFIX) or p.name.startswith(BUILD_PREFIX))
        ):
            shutil.rmtree(p, ignore_errors=True)


def remove_abandoned_builds(root: Path) -> None:
    """Delete `build-*` folders left by a killed or failed rebuild (call with the writer lock held: then no
    build is in progress). They may hold withheld text, and nothing else would ever remove them."""
    if not root.is_dir():
        return
    for p in root.iterdir():
        if p.is_dir() and p.name.startswith(BUILD_PREFIX):
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Hold the index's writer lock (blocking): one writing process at a time, across processes."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
