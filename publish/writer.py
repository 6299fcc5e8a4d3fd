"""Write the site's files, but only those whose bytes changed; remove what the new build no longer has.

Each file's SHA-256 and size are kept in a manifest beside the site, so a rendered page whose bytes didn't
change is not rewritten (its modification time stays, and a sync to a host uploads only what changed); a
page whose inputs didn't change is not even rendered (`keep`, see publish/cache.py); and a file of the
previous build that this build neither wrote nor kept (a page now withheld, a stale index fragment, a
media file) is deleted. The manifest also holds the page fingerprints and the search index's digest.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from publish.errors import PublishError

MANIFEST = ".hallway-site.json"


@dataclass
class WriteCounts:
    """What one build did to the folder."""

    written: int = 0
    unchanged: int = 0  # rendered, same bytes as before
    kept: int = 0  # not rendered: inputs unchanged
    removed: int = 0
    bytes: int = 0


class SiteWriter:
    """Writes files under `out`, keeping the manifest of what the site holds."""

    def __init__(self, out: Path, *, force: bool) -> None:
        self.out = out
        self.force = force
        self.old: dict[str, tuple[str, int]] = {}
        self.pages: dict[str, list[Any]] = {}  # the previous build's page entries (publish/cache.py)
        self.search: dict[str, str] = {}  # search-index digest per part
        self.new: dict[str, tuple[str, int]] = {}
        self.counts = WriteCounts()
        self.changed: list[str] = []  # files written by this build (new or different bytes)
        manifest = out / MANIFEST
        if manifest.exists():
            try:
                data = orjson.loads(manifest.read_bytes())
                if data.get("version") == 1:  # digests only: sizes are read back when kept
                    self.old = {f: (d, -1) for f, d in data["files"].items()}
                else:
                    self.old = {f: (d, n) for f, (d, n) in data["files"].items()}
                    self.pages, self.search = data["pages"], data["search"]
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                raise PublishError(
                    f"{manifest}: unreadable manifest; delete the folder and publish again"
                ) from None
        elif out.exists() and any(out.iterdir()):
            raise PublishError(
                f"{out}: the folder has files but no Hallway site in it; choose an empty folder"
            )

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
        path = self.out / file
        if not self.force and self.old.get(file, ("", 0))[0] == digest and path.is_file():
            self.counts.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        self.counts.written += 1
        self.changed.append(file)

    def had(self, file: str) -> bool:
        """Whether the previous build left `file` (so it can be kept)."""
        return file in self.new or (file in self.old and (self.out / file).is_file())

    def keep(self, file: str) -> None:
        """Keep a file of the previous build as it is (its page's inputs didn't change)."""
        if file in self.new:
            return
        digest, size = self.old[file]
        self.new[file] = (digest, size if size >= 0 else (self.out / file).stat().st_size)
        self.counts.kept += 1

    def finish(self, pages: dict[str, list[Any]], search: dict[str, str]) -> WriteCounts:
        """Delete what the previous build had and this one didn't, and save the manifest."""
        for file in sorted(set(self.old) - set(self.new)):
            path = self.out / file
            if path.is_file():
                path.unlink()
                self.counts.removed += 1
            _prune(path.parent, self.out)
        files = {f: [d, n] for f, (d, n) in sorted(self.new.items())}
        manifest = {"version": 2, "files": files, "pages": pages, "search": search}
        tmp = self.out / (MANIFEST + ".tmp")
        tmp.write_bytes(orjson.dumps(manifest))
        os.replace(tmp, self.out / MANIFEST)
        return self.counts

    def sizes(self, prefix: str = "", skip: tuple[str, ...] = ()) -> dict[str, int]:
        """Bytes per top-level folder of the site, or of the part under `prefix` (files directly at the
        top count as "pages"); folders named in `skip` (other parts) are left out."""
        out: dict[str, int] = {}
        for file, (_, size) in self.new.items():
            if not file.startswith(prefix):
                continue
            file = file[len(prefix) :]
            top = file.split("/", 1)[0] if "/" in file else "pages"
            if top not in skip:
                out[top] = out.get(top, 0) + size
        return out

    def files(self, prefix: str = "", skip: tuple[str, ...] = ()) -> int:
        """How many files the site (or the part under `prefix`) has, leaving out the folders in `skip`."""
        return sum(
            1 for f in self.new if f.startswith(prefix) and f[len(prefix) :].split("/", 1)[0] not in skip
        )


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


def _prune(folder: Path, root: Path) -> None:
    """Remove empty folders from `folder` up to (not including) `root`."""
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
