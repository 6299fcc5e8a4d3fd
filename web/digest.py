"""The digest of a window of days: what happened, per channel, ranked by activity (the page builder).

`build_digest(conn, since, until, channels)` is the one place a digest is assembled; the `/digest`
page and its `.json`/`.md` twins, the `hallway digest` command, the weekly digest feed, the static site
and the MCP tool all call it. It reads through the withheld-aware window queries of
`archive.digest_views` and shapes messages with `web.timeline.enrich`, like every other page.

Invariants (tested): `total_messages` equals what a search with `search_query` counts, and every live
message of the window belongs to exactly one item of `conversations` (whose `messages` sum to it).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

import archive
from archive import digest_views, views
from archive.digest_views import Activity
from web import present, urls
from web.markdown import to_plain_text
from web.timeline import enrich

Digest = dict[str, Any]
DAY_MS = 86_400_000
DETAILED_PER_CHANNEL = 3  # conversations shown with their opening and standout message
LISTED_PER_CHANNEL = 10  # conversations listed per channel on the page (the JSON has all of them)
TITLE_CHARS = 90


class DigestCache:
    """The last digests built, for the archive generation they were built from (any ingest or takedown bumps
    the generation, which empties the cache, so a cached digest never shows withdrawn content)."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Digest] = OrderedDict()
        self._generation: int | None = None
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every digest (benchmarks measure a first request this way)."""
        with self._lock:
            self._items.clear()

    def get(
        self, conn: sqlite3.Connection, since: date, until: date | None = None, channels: Sequence[str] = ()
    ) -> Digest:
        """`build_digest(conn, since, until, channels)`, from the cache when this generation has it.

        The result is shared between requests: read it, don't change it.
        """
        until = until or datetime.now(tz=UTC).date()
        key = (since, until, tuple(channels))
        generation = archive.generation(conn)
        with self._lock:
            if generation != self._generation:
                self._items.clear()
                self._generation = generation
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        digest = build_digest(conn, since, until, channels)
        with self._lock:
            if generation == self._generation:
                self._items[key] = digest
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return digest


class DigestError(ValueError):
    """A digest request that can't be answered (bad dates); the message says what to write instead."""


def parse_day(value: str, name: str) -> date:
    """A YYYY-MM-DD date, or DigestError naming the parameter."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise DigestError(f"{name}={value!r} is not a date: use YYYY-MM-DD, e.g. 2024-03-05") from None


def day_ms(d: date) -> int:
    """Unix ms of a date's midnight UTC."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def search_query(since: date, until: date) -> str:
    """The search that counts the same messages: both dates inclusive (after:/before: are exclusive)."""
    after = f"after:{since - timedelta(days=1)}" if since > date.min else ""
    before = f"before:{until + timedelta(days=1)}" if until < date.max else ""
    return f"{after} {before}".strip()


def resolve_channels(
    conn: sqlite3.Connection, values: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """`in=` values (channel ids or names) as channel rows, and a hint for each value that names nothing."""
    found: list[dict[str, Any]] = []
    hints: list[str] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        rows: list[dict[str, Any]] = []
        if text.isascii() and text.isdigit() and len(text) <= 19:
            row = views.find_channel(conn, int(text)) or views.find_forum(conn, int(text))
            rows = [row] if row else []
        if not rows:
            rows = digest_views.find_channels_by_name(conn, text)
        if not rows:
            hints.append(f"No channel {text!r} in the archive, so in={text} was left out.")
        found += [r for r in rows if r["id"] not in {f["id"] for f in found}]
    return found, hints


def build_digest(
    conn: sqlite3.Connection, since: date, until: date | None = None, channels: Sequence[str] = ()
) -> Digest:
    """The digest of [since, until] (UTC days, both inclusive; until defaults to today), for some channels
    (ids or names; their threads and forum posts come along) or all of them. Raises DigestError."""
    until = until or datetime.now(tz=UTC).date()
    if until < since:
        raise DigestError(f"since={since} is after until={until}: the window would be empty")
    lo, hi = day_ms(since), day_ms(until) + DAY_MS
    chosen, hints = resolve_channels(conn, channels)
    scope: list[int] | None = None
    if channels:
        ids = [r["id"] for r in chosen]
        scope = ids + digest_views.thread_ids_under(conn, ids)
    convs, standouts, pinned = digest_views.window_activity(conn, lo, hi, scope)
    # messages, then participants, then reactions, most first; ties keep the window's order (first message)
    convs.sort(key=itemgetter(1, 2, 3), reverse=True)
    total = sum(c.messages for c in convs)
    where = views.find_channels(conn, {c.channel_id for c in convs})
    root_of = {cid: _root_id(row) for cid, row in where.items()}
    groups: dict[int, list[Activity]] = {}
    for c in convs:
        groups.setdefault(root_of.get(c.channel_id) or int(c.channel_id), []).append(c)
    detailed = [c for cs in groups.values() for c in cs[:DETAILED_PER_CHANNEL]]
    listed = [c for cs in groups.values() for c in cs[:LISTED_PER_CHANNEL]]
    titles = _titles(conn, listed, where)
    highlights = _highlights(conn, standouts, detailed)
    sections = [_section(conn, rid, cs, where, titles, highlights) for rid, cs in groups.items()]
    sections.sort(key=lambda s: (-s["messages"], s["channel"]["name"].lower()))
    query = search_query(since, until)
    news = [cid for cid, row in where.items() if row["type"] in digest_views.NEWS_TYPES]
    chosen_public = [
        {"id": str(r["id"]), "name": r["name"], "url": urls.channel_url(r["id"])} for r in chosen
    ]
    in_values = [str(r["id"]) for r in chosen] if channels else []
    span = (until - since).days + 1
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "days": span,
        "start": present.iso(lo),
        "end": present.iso(hi - 1),  # the last millisecond of the window
        "channels_filter": chosen_public,
        "hints": hints,
        "total_messages": total,
        "total_conversations": len(convs),
        "last_activity": present.iso(max((c.last_ts for c in convs), default=None)),
        "search_query": query,
        "search_url": urls.search_url(query, sort="oldest"),
        "conversations": _items(convs),
        "channels": sections,
        "new_threads": _new_threads(conn, lo, hi, where),
        "pinned": enrich(conn, digest_views.live_messages(conn, pinned), threads=False),
        "announcements": enrich(conn, digest_views.window_channel_messages(conn, lo, hi, news), threads=False)
        if news
        else [],
        "url": urls.digest_url(since, until, in_values),
        "json_url": urls.digest_url(since, until, in_values, fmt=".json"),
        "md_url": urls.digest_url(since, until, in_values, fmt=".md"),
        "feed_url": urls.digest_feed_url(in_values),
        "prev_url": _shifted(since, until, -span, in_values),
        "next_url": _shifted(since, until, span, in_values),
    }


def _shifted(since: date, until: date, days: int, channels: list[str]) -> str | None:
    """The digest of the window moved by `days`, or None past the calendar's ends."""
    try:
        return urls.digest_url(since + timedelta(days=days), until + timedelta(days=days), channels)
    except OverflowError:
        return None


def _root_id(row: dict[str, Any]) -> int:
    """The channel a thread or forum post is listed under (itself for a channel)."""
    return int(row["parent_id"]) if row.get("is_thread") and row.get("parent_id") else int(row["id"])


def _items(convs: list[Activity]) -> list[dict[str, Any]]:
    """Every conversation as the JSON list carries it (`_item`, inlined: there can be tens of thousands)."""
    url = urls.conversation_url
    return [
        {"id": str(c[0]), "channel_id": str(c[8]), "messages": c[1], "participants": c[2], "reactions": c[3],
         "url": url(c[0])}
        for c in convs
    ]  # fmt: skip


def _item(c: Activity) -> dict[str, Any]:
    """One conversation as the JSON list carries it."""
    return {
        "id": str(c.id),
        "channel_id": str(c.channel_id),
        "messages": c.messages,
        "participants": c.participants,
        "reactions": c.reactions,
        "url": urls.conversation_url(c.id),
    }


def _titles(
    conn: sqlite3.Connection, convs: list[Activity], where: dict[int, dict[str, Any]]
) -> dict[int, str]:
    """A title per conversation: its thread's name, else the start of its opening message."""
    openings = digest_views.first_live_messages(conn, [c.id for c in convs])
    rows = views.find_messages(conn, openings.values())
    out: dict[int, str] = {}
    for c in convs:
        thread = where.get(c.id) or where.get(c.channel_id)
        if thread and thread["is_thread"] and thread["id"] == c.id:
            out[c.id] = thread["name"]
            continue
        row = rows.get(openings.get(c.id, -1))
        # only the start is shown: don't parse a long message's Markdown to cut it
        text = to_plain_text((row.get("content") or "")[: TITLE_CHARS * 3]) if row else ""
        text = " ".join(text.split())
        if len(text) > TITLE_CHARS:
            text = text[: TITLE_CHARS - 1].rstrip() + "…"
        out[c.id] = text or "(a message without text)"
    return out


def _highlights(
    conn: sqlite3.Connection, all_standouts: dict[int, tuple[int, int, int]], convs: list[Activity]
) -> dict[int, dict[str, Any]]:
    """Per detailed conversation: its opening message and its most-replied or most-reacted one."""
    wanted = {c.id for c in convs}
    openings = digest_views.first_live_messages(conn, wanted)
    standouts = {k: v for k, v in all_standouts.items() if k in wanted}
    rows = views.find_messages(conn, [*openings.values(), *(s[0] for s in standouts.values())])
    shaped = {
        int(m["id"]): m for m in enrich(conn, sorted(rows.values(), key=lambda r: r["id"]), threads=False)
    }
    out: dict[int, dict[str, Any]] = {}
    for cid in wanted:
        opening = shaped.get(openings.get(cid, -1))
        stand = standouts.get(cid)
        standout = shaped.get(stand[0]) if stand and stand[0] != openings.get(cid) else None
        out[cid] = {
            "opening": opening,
            "standout": {**standout, "replies_in_window": stand[1], "reactions_total": stand[2]}
            if standout and stand
            else None,
        }
    return out


def _section(
    conn: sqlite3.Connection,
    root_id: int,
    convs: list[Activity],
    where: dict[int, dict[str, Any]],
    titles: dict[int, str],
    highlights: dict[int, dict[str, Any]],
) -> dict[str, Any]:
    """One channel of the digest: its conversations (and its threads' and forum posts'), ranked."""
    row = where.get(root_id) or views.find_channel(conn, root_id) or views.find_forum(conn, root_id)
    channel = present.channel(row) if row else {"id": str(root_id), "name": str(root_id), "url": None}
    listed = []
    for c in convs[:LISTED_PER_CHANNEL]:
        home = where.get(c.channel_id)
        listed.append(
            {
                **_item(c),
                "start": present.iso(c.first_ts),
                "end": present.iso(c.last_ts),
                "title": titles.get(c.id, ""),
                "thread": {"id": str(home["id"]), "name": home["name"], "url": urls.thread_url(home["id"])}
                if home and home["is_thread"]
                else None,
                **highlights.get(c.id, {"opening": None, "standout": None}),
            }
        )
    return {
        "channel": channel,
        "messages": sum(c.messages for c in convs),
        "conversation_count": len(convs),
        "conversations": listed,
        "more": max(0, len(convs) - LISTED_PER_CHANNEL),
    }


def _new_threads(
    conn: sqlite3.Connection, lo: int, hi: int, where: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Threads and forum posts whose first live message is in the window, oldest first."""
    threads = {cid: row for cid, row in where.items() if row["is_thread"]}
    firsts = digest_views.first_message_ids(conn, threads)
    rows = views.find_messages(conn, firsts.values())
    out = []
    for cid, mid in sorted(firsts.items(), key=lambda kv: kv[1]):
        first = rows.get(mid)
        if first is None or not lo <= first["ts"] < hi:
            continue
        t = threads[cid]
        out.append(
            {
                "id": str(cid),
                "name": t["name"],
                "parent_id": str(t["parent_id"]) if t.get("parent_id") else None,
                "parent_name": t.get("parent_name"),
                "author": present.author(first),
                "started": present.iso(first["ts"]),
                "url": urls.thread_url(cid),
            }
        )
    return out
