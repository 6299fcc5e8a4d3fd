"""Where each server URL lives in the static site: `/m/1?v=2` → `m/1/v/2/index.html`, and so on.

Channel timelines are cut into fixed pages counted from the oldest message (so an ingest that appends
messages changes only the last pages); the server's `before=`, `after=` and `around=` cursors are mapped
onto those pages. URLs of server-only features (JSON twins, the API docs, the date jump) have no place
here and resolve to None.
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

INDEX = "index.html"
_ID = r"(\d{1,20})"
_ROUTES = [
    (re.compile(rf"^/m/{_ID}$"), "message"),
    (re.compile(rf"^/m/{_ID}/cite\.(bib|json|ris)$"), "cite"),
    (re.compile(rf"^/c/{_ID}$"), "channel"),
    (re.compile(rf"^/t/{_ID}$"), "thread"),
    (re.compile(rf"^/conv/{_ID}$"), "conversation"),
    (re.compile(rf"^/u/{_ID}$"), "user"),
    (re.compile(r"^/media/(\d{1,20})/(?:(sticker|thumbnail|image)/)?(\d{1,6})$"), "media"),
    (re.compile(r"^/static/([A-Za-z0-9_.-]+)$"), "static"),
    (re.compile(rf"^/(c|t|conv)/{_ID}\.atom$"), "feed"),
]


@dataclass(frozen=True, slots=True)
class Target:
    """One file of the site: where it is written, the server URL that renders it, and a fragment to keep."""

    kind: str
    file: str
    fetch: str
    fragment: str = ""
    query: str = ""


def _cursor(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) <= 20 else None


@dataclass
class SiteMap:
    """The static location of every server URL, given each channel's page boundaries."""

    chunk_starts: dict[int, list[int]] = field(default_factory=dict)  # channel → first id of each page
    chunk_ends: dict[int, list[int]] = field(default_factory=dict)  # channel → last id of each page
    digest_in: tuple[str, ...] = ()  # a guild's part: its digests cover only its channels
    # A period's part: its first message, and the id after its last. A person's pages keep between them, and
    # a channel's newest page stops at its last message of the period (not a page into the next one).
    floor: int | None = None
    ceiling: int | None = None

    def add_page(self, channel_id: int, first: int, last: int) -> None:
        """Record the next page of a channel (pages are added oldest first)."""
        self.chunk_starts.setdefault(channel_id, []).append(first)
        self.chunk_ends.setdefault(channel_id, []).append(last)

    def page_count(self, channel_id: int) -> int:
        """How many pages a channel has (at least one, possibly empty)."""
        return max(len(self.chunk_starts.get(channel_id, [])), 1)

    def channel_page(self, channel_id: int, index: int) -> Target:
        """Page `index` (from 0, oldest first) of a channel; the newest page is the channel's own folder."""
        starts = self.chunk_starts.get(channel_id, [])
        if not starts or index >= len(starts) - 1:
            last = len(starts) - 1
            fetch = f"/c/{channel_id}?after={starts[last] - 1}" if starts else f"/c/{channel_id}"
            if starts and self.ceiling is not None:
                fetch += f"&before={self.chunk_ends[channel_id][last] + 1}"
            return Target("channel", f"c/{channel_id}/{INDEX}", fetch)
        return Target(
            "channel", f"c/{channel_id}/p/{index + 1}/{INDEX}", f"/c/{channel_id}?after={starts[index] - 1}"
        )

    def _channel(self, channel_id: int, q: dict[str, str]) -> Target | None:
        if "date" in q:
            return None
        conversation = _cursor(q.get("conversation"))
        if conversation is not None:
            return Target("conversation", f"conv/{conversation}/{INDEX}", f"/conv/{conversation}")
        around, before, after = (_cursor(q.get(k)) for k in ("around", "before", "after"))
        starts = self.chunk_starts.get(channel_id, [])
        ends = self.chunk_ends.get(channel_id, [])
        if around is not None:
            t = self.channel_page(channel_id, max(bisect.bisect_right(starts, around) - 1, 0))
            return Target(t.kind, t.file, t.fetch, fragment=f"m{around}")
        if before is not None:  # the page holding the newest message older than `before`
            return self.channel_page(channel_id, max(bisect.bisect_left(starts, before) - 1, 0))
        if after is not None:  # the page holding the oldest message newer than `after`
            return self.channel_page(channel_id, bisect.bisect_right(ends, after))
        return self.channel_page(channel_id, len(starts) - 1)

    def target(self, url: str) -> Target | None:
        """The file for a site-absolute URL (path, query and fragment), or None when it has no static twin."""
        parts = urlsplit(url)
        q = dict(parse_qsl(parts.query))
        path = parts.path
        found = self._route(path, q)
        if found is None:
            return None
        if parts.fragment and not found.fragment:
            return Target(found.kind, found.file, found.fetch, parts.fragment, found.query)
        return found

    def _route(self, path: str, q: dict[str, str]) -> Target | None:
        if path == "/":
            return Target("home", INDEX, "/")
        if path == "/search":
            kept = {k: q[k] for k in ("q", "sort") if q.get(k)}
            return Target("search", f"search/{INDEX}", "/search", query=urlencode(kept))
        if path == "/digest":
            return _month_digest(q, self.digest_in)
        if path == "/digest.atom":
            return None if q else Target("feed", "digest/feed.atom", path + _in_query(self.digest_in, "?"))
        if path == "/assets/code.css":
            return Target("asset", "assets/code.css", path)
        for pattern, kind in _ROUTES:
            m = pattern.match(path)
            if m:
                return self._build(kind, m.groups(), path, q)
        return None

    def _build(self, kind: str, g: tuple[str | None, ...], path: str, q: dict[str, str]) -> Target | None:
        v = _cursor(q.get("v"))
        if kind == "message":
            tail = f"v/{v}/" if v else ""
            return Target(kind, f"m/{g[0]}/{tail}{INDEX}", path + (f"?v={v}" if v else ""))
        if kind == "cite":
            tail = f"v/{v}/" if v else ""
            return Target(kind, f"m/{g[0]}/{tail}cite.{g[1]}", path + (f"?v={v}" if v else ""))
        if kind == "channel":
            return self._channel(int(g[0] or 0), q)
        if kind == "thread":
            return Target(kind, f"t/{g[0]}/{INDEX}", path)
        if kind == "conversation":
            confident = q.get("min_confidence")
            if confident:
                return Target(
                    kind, f"conv/{g[0]}/min-{confident}/{INDEX}", f"{path}?min_confidence={confident}"
                )
            return Target(kind, f"conv/{g[0]}/{INDEX}", path)
        if kind == "user":
            before = _cursor(q.get("before"))
            if before is not None and self.floor is not None and before <= self.floor:
                return None
            # A period's part shows a person's messages of that period only (`after` the one before its
            # first): a month's page of theirs would otherwise repeat up to a page of older months' messages.
            window = f"&after={self.floor - 1}" if self.floor is not None else ""
            if self.ceiling is not None and (before is None or before >= self.ceiling):
                return Target(kind, f"u/{g[0]}/{INDEX}", f"{path}?before={self.ceiling}{window}")
            if before is not None:
                return Target(kind, f"u/{g[0]}/before/{before}/{INDEX}", f"{path}?before={before}{window}")
            return Target(kind, f"u/{g[0]}/{INDEX}", path)
        if kind == "media":
            sub = f"{g[1]}-{g[2]}" if g[1] else str(g[2])
            return Target(kind, f"media/{g[0]}/{sub}", path)  # the file name is added once it is fetched
        if kind == "static":
            return Target(kind, f"static/{g[0]}", path)
        if kind == "feed":
            return Target(kind, f"{g[0]}/{g[1]}/feed.atom", path)
        return None


def month_window(month: str) -> tuple[str, str]:
    """The first and last day of a month YYYY-MM."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{month}-01", f"{month}-{calendar.monthrange(year, mon)[1]:02d}"


def digest_month_url(month: str) -> str:
    """The server URL of a month's digest."""
    since, until = month_window(month)
    return f"/digest?{urlencode({'since': since, 'until': until})}"


def _in_query(channels: tuple[str, ...], sep: str) -> str:
    return sep + urlencode([("in", c) for c in channels]) if channels else ""


def _month_digest(q: dict[str, str], channels: tuple[str, ...]) -> Target | None:
    """A digest of exactly one calendar month for every channel (of the part) has a page; other windows
    don't. `/digest` alone (the home page's form) goes to the list of months."""
    if not q:
        return Target("digests", f"digest/{INDEX}", "/digest")
    since, until = q.get("since", ""), q.get("until", "")
    if set(q) - {"since", "until"} or not re.match(r"^\d{4}-\d{2}-01$", since):
        return None
    if month_window(since[:7])[1] != until:
        return None
    url = digest_month_url(since[:7]) + _in_query(channels, "&")
    return Target("digest", f"digest/{since[:7]}/{INDEX}", url)


def relative(from_file: str, to_file: str) -> str:
    """The relative link from one site file to another (works from a sub-path and from file://).

    Both are clean site paths (no `.`, `..` or leading slash), so this is string work only:
    `posixpath.relpath` asks the OS for the working directory on every call (a fifth of a build).
    """
    start = from_file.split("/")[:-1]
    target = to_file.split("/")
    common = 0
    for a, b in zip(start, target[:-1], strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(start) - common) + target[common:]) or "."
