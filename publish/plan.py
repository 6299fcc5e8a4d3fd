"""What the site will hold, read once through the viewer's read layer: channel pages, messages, records.

Every channel and thread is walked once, oldest first (`walk`); a site, or one part of a split site
(`Part`: a guild's channels, or a year's or a month's messages), then takes its messages from that walk and cuts each
channel into pages of the server's page size, which fixes the static page boundaries (`SiteMap`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from archive import conversation_views, views
from publish.paths import SiteMap
from publish.search_index import SearchRecord, build_record
from web import present


@dataclass(frozen=True)
class Part:
    """One site of the output: the whole archive (folder ""), a guild's channels, or the messages of a
    period (`YYYY`, a year, or `YYYY-MM`, a month)."""

    folder: str = ""
    label: str = "the archive"
    guild: int | None = None
    period: str | None = None


@dataclass
class Run:
    """One channel (or thread) of the archive, oldest first: ids, months and search records."""

    guild: int
    ids: list[int] = field(default_factory=list)
    months: list[str] = field(default_factory=list)  # YYYY-MM
    records: list[SearchRecord | None] = field(default_factory=list)
    sigs: list[bytes] = field(default_factory=list)  # a digest of all the archive has on the message as shown
    attested: list[bytes] = field(default_factory=list)  # … and of when and in which exports it was seen
    authors: list[int | None] = field(default_factory=list)
    reply_to: list[int | None] = field(default_factory=list)
    conversations: list[int | None] = field(default_factory=list)
    threads: list[int | None] = field(default_factory=list)  # the thread a ThreadCreated notice names


@dataclass
class Plan:
    """The skeleton of one site."""

    part: Part = field(default_factory=Part)
    sitemap: SiteMap = field(default_factory=SiteMap)
    channels: list[int] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    records: list[SearchRecord] = field(default_factory=list)


def _channel_ids(directory: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(guild, channel) for every channel, thread and forum the directory lists."""
    out: list[tuple[int, int]] = []
    for guild in directory:
        for c in guild["channels"]:
            if c["id"]:
                out.append((guild["id"], c["id"]))
            out += [(guild["id"], t["id"]) for t in c["threads"]]
    return out


def walk(
    conn: sqlite3.Connection, directory: list[dict[str, Any]] | None = None, batch: int = 500
) -> dict[int, Run]:
    """Every channel's messages, oldest first, with the search record of each live message (`directory`:
    `views.guild_directory(conn)`, when the caller has it already)."""
    runs: dict[int, Run] = {}
    listed = views.guild_directory(conn) if directory is None else directory
    for guild_id, channel_id in _channel_ids(listed):
        run = runs.setdefault(channel_id, Run(guild_id))
        row = views.find_channel(conn, channel_id)
        name = present.channel(row)["name"] if row else str(channel_id)
        cursor = 0
        while True:
            rows, _, has_newer = views.channel_page(conn, channel_id, after=cursor, limit=batch)
            if not rows:
                break
            ids = [r["id"] for r in rows]
            extras = views.details(conn, ids)
            links = conversation_views.link_rows(conn, ids)
            attested = views.provenance_ids(conn, ids)
            for r in rows:
                mid = r["id"]
                message = present.message(r, extras.get(mid))
                link = links.get(mid)
                # As a timeline shows it: when a live message was last seen doesn't show; which exports
                # attest it shows on its permalink only.
                seen = r if r.get("deleted") or r.get("redacted") else {**r, "seen_ts": None}
                raw = orjson.dumps([seen, extras.get(mid), link], default=_plain, option=orjson.OPT_SORT_KEYS)
                run.sigs.append(hashlib.blake2b(raw, digest_size=12).digest())
                run.attested.append(
                    hashlib.blake2b(orjson.dumps([r["seen_ts"], attested.get(mid)])).digest()[:8]
                )
                run.authors.append(r["author_id"])
                run.reply_to.append(r["reply_to"])
                run.conversations.append(link[0] if link else None)
                run.threads.append(r["ref_channel_id"] if r["ref_kind"] == "thread" else None)
                run.ids.append(r["id"])
                run.months.append((present.iso(r["ts"]) or "0000-00")[:7])
                run.records.append(build_record(message, name, r.get("flags") or 0))
            if not has_newer:
                break
            cursor = rows[-1]["id"]
    return runs


def _plain(value: object) -> str:
    """Columns orjson can't write (blobs) as text, for the digest."""
    return value.hex() if isinstance(value, bytes) else repr(value)


def split_parts(runs: dict[int, Run], by: str | None, guild_names: dict[int, str]) -> list[Part]:
    """The sites to write: one (the whole archive), or one per guild or per year."""
    if by is None:
        return [Part()]
    if by == "guild":
        guilds = sorted({r.guild for r in runs.values() if r.ids})
        return [Part(str(g), guild_names.get(g, str(g)), guild=g) for g in guilds]
    size = 4 if by == "year" else 7
    periods = sorted({m[:size] for r in runs.values() for m in r.months})
    return [Part(p, p, period=p) for p in periods]


def build_plan(runs: dict[int, Run], page_size: int, part: Part) -> Plan:
    """The skeleton of one part: its channels, their fixed pages, its messages and search records."""
    plan = Plan(part=part)
    for channel_id, run in runs.items():
        if part.guild is not None and run.guild != part.guild:
            continue
        period = part.period
        picked = [i for i, m in enumerate(run.months) if period is None or m.startswith(period)]
        if period is not None and not picked:
            continue
        plan.channels.append(channel_id)
        for start in range(0, len(picked), page_size):
            chunk = picked[start : start + page_size]
            plan.sitemap.add_page(channel_id, run.ids[chunk[0]], run.ids[chunk[-1]])
        for i in picked:
            plan.messages.append(run.ids[i])
            record = run.records[i]
            if record is not None:
                plan.records.append(record)
    if part.guild is not None:
        plan.sitemap.digest_in = tuple(str(c) for c in plan.channels)
    if part.period is not None and plan.messages:
        plan.sitemap.floor, plan.sitemap.ceiling = min(plan.messages), max(plan.messages) + 1
    return plan
