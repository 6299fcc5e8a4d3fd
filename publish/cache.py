"""Pages kept from the previous build: each page's input fingerprint, the files it wrote and the links it
holds to pages that only a crawl finds (threads, conversations, people, revisions, media), in the manifest.

A page whose fingerprint is unchanged is neither rendered nor written: its files are kept as they are and
its recorded links are followed as if it had been rendered, so the pages only it links to are still
built (or kept) and nothing it links to is deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Links that need no replay: pages every build lists anyway (permalinks, channel pages, files, search).
_SEEDED = re.compile(
    r"^/(?:m/\d+(?:/cite\.\w+)?|c/\d+(?:\?(?:after|before|around)=\d+)?|static/.*|assets/.*|search.*|)(?:#.*)?$"
)


def replayable(path: str) -> bool:
    """Whether a link on a page must be recorded to be followed when the page is kept."""
    return not _SEEDED.match(path)


@dataclass
class Entry:
    """One page of a build: fingerprint, links to replay, files it wrote, and facts about it."""

    fp: str
    links: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def dump(self) -> list[Any]:
        return [self.fp, self.links, self.files, self.facts]


class PageCache:
    """The previous build's pages (read from the manifest) and this build's (written to it)."""

    def __init__(self, old: dict[str, list[Any]], *, force: bool) -> None:
        self.old = {k: Entry(*v) for k, v in old.items()}
        self.new: dict[str, Entry] = {}
        self.force = force
        self.kept = 0
        self.rendered = 0

    def fresh(self, file: str, fp: str | None, have: Any) -> Entry | None:
        """The previous entry of `file` when its fingerprint is `fp` and all its files are still there."""
        if fp is None or self.force:
            return None
        e = self.old.get(file)
        if e is None or e.fp != fp or not all(have(f) for f in e.files):
            return None
        return e

    def facts(self, file: str) -> dict[str, Any]:
        """What the previous build knew about a page (such as its first publication date), or {}."""
        e = self.old.get(file)
        return e.facts if e is not None else {}

    def record(self, file: str, entry: Entry) -> None:
        self.new[file] = entry

    def dump(self) -> dict[str, list[Any]]:
        return {k: v.dump() for k, v in sorted(self.new.items())}
