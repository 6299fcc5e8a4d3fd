"""The export formats Hallway reads, and discovery: which files under some paths are exports, and of what."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from archive.errors import ArchiveError
from archive.sources import dce_csv, dce_html, dce_json, dce_txt
from archive.sources.base import Sniff, Source
from archive.sources.unknown import describe
from archive.store import ARCHIVE_FILE

# One line per format; the first source that claims a file reads it.
SOURCES: tuple[Source, ...] = (dce_json.SOURCE, dce_html.SOURCE, dce_csv.SOURCE, dce_txt.SOURCE)
SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class Found:
    """One file under the given paths: the source that reads it, or what it is and why it is skipped."""

    path: Path
    source: Source | None
    sniff: Sniff
    named: bool  # given by name (not found in a folder): a file asked for and not read is a failure

    @property
    def note(self) -> str:
        """The one line shown for a skipped file."""
        return f"{self.path}: {self.sniff.what}: {self.sniff.reason}"


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(SNIFF_BYTES)
    except OSError:
        return b""


def find_source(path: Path, sources: Iterable[Source] | None = None) -> tuple[Source | None, Sniff]:
    """The source that reads path (or None), with the verdict that explains a skip."""
    head: bytes | None = None
    refusal: Sniff | None = None
    for source in SOURCES if sources is None else sources:
        if head is None:
            head = _head(path)
        verdict = source.sniff(path, head)
        if verdict is None:
            continue
        if verdict.claimed:
            return source, verdict
        refusal = refusal or verdict
    return None, refusal or describe(path, _head(path) if head is None else head)


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    # followlinks=False: a symlink loop can't trap the walk. Hidden entries, DCE's --media folders
    # (<export name>_Files) and Hallway's own data folders hold no exports.
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        if ARCHIVE_FILE in filenames:
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not d.endswith("_Files"))
        found += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith(".")]
    return found


def discover(paths: Iterable[Path], sources: Iterable[Source] | None = None) -> Iterator[Found]:
    """Every file under the given files and folders (recursive, sorted, each real file once), with its source."""
    chosen = tuple(SOURCES if sources is None else sources)
    seen: set[tuple[int, int]] = set()
    for root in paths:
        if root.is_file():
            candidates, named = [root], True
        elif root.is_dir():
            candidates, named = _walk(root), False
        else:
            raise ArchiveError(f"{root}: no such file or folder")
        for path in candidates:
            try:
                st = path.stat()
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            source, verdict = find_source(path, chosen)
            yield Found(path, source, verdict, named)


def iter_export_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files under paths that some source reads (use discover() to hear about the others)."""
    return (f.path for f in discover(paths) if f.source is not None)
