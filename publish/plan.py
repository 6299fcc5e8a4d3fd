"""What the site will hold, read once through the viewer's read layer: channel pages, messages, records.

Every channel and thread is walked oldest first in pages of the server's page size, which fixes the
static page boundaries (`SiteMap`), lists every message to give a permalink, and yields the search
record of each live message.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from archive import views
from publish.paths import SiteMap
from publish.search_index import SearchRecord, build_record
from web import present

Progress = Callable[[str], None]


@dataclass
class Plan:
    """The site's skeleton."""

    sitemap: SiteMap = field(default_factory=SiteMap)
    channels: list[int] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    records: list[SearchRecord] = field(default_factory=list)


def _channel_ids(conn: sqlite3.Connection) -> list[int]:
    """Every channel, thread and forum the directory lists (forums known only by their posts included)."""
    out: list[int] = []
    for guild in views.guild_directory(conn):
        for c in guild["channels"]:
            if c["id"]:
                out.append(c["id"])
            out += [t["id"] for t in c["threads"]]
    return out


def build_plan(conn: sqlite3.Connection, page_size: int) -> Plan:
    """Walk the archive once and return the site's skeleton."""
    plan = Plan()
    plan.channels = _channel_ids(conn)
    for channel_id in plan.channels:
        row = views.find_channel(conn, channel_id)
        name = present.channel(row)["name"] if row else str(channel_id)
        cursor = 0
        while True:
            rows, _, has_newer = views.channel_page(conn, channel_id, after=cursor, limit=page_size)
            if not rows:
                break
            plan.sitemap.add_page(channel_id, rows[0]["id"], rows[-1]["id"])
            extras = views.details(conn, [r["id"] for r in rows])
            for r in rows:
                plan.messages.append(r["id"])
                record = build_record(
                    present.message(r, extras.get(r["id"])),
                    name,
                    r.get("flags") or 0,
                    f"m/{r['id']}/index.html",
                )
                if record is not None:
                    plan.records.append(record)
            if not has_newer:
                break
            cursor = rows[-1]["id"]
    return plan
