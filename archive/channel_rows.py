"""The guild and channel rows an export header describes."""

from __future__ import annotations

import sqlite3

from archive.dce import ExportHeader
from archive.normalize import parse_snowflake
from archive.withhold import WITHHELD_THREAD, Withholder

FALLBACK_CATEGORIES = frozenset({"Text", "Private", "Group", "News", "Default", "Category"})


def upsert_channel(
    conn: sqlite3.Connection,
    withholder: Withholder,
    header: ExportHeader,
    cid: int,
    gid: int,
    ctype: str,
    name: str,
    is_thread: bool,
    parent_id: int | None,
    parent_name: str | None,
    as_of: int,
) -> None:
    """Upsert the guild and the channel an export header describes (the newest export's names win)."""
    guild = header.guild
    gname = (
        guild.get("name")
        if isinstance(guild.get("name"), str)
        else ("Direct Messages" if gid == 0 else str(gid))
    )
    icon = guild.get("iconUrl") if isinstance(guild.get("iconUrl"), str) else None
    conn.execute(
        "INSERT INTO guilds(id, name, icon_url, seen_ts) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
        " name = excluded.name, icon_url = excluded.icon_url, seen_ts = excluded.seen_ts"
        " WHERE excluded.seen_ts >= guilds.seen_ts",
        (gid, gname, icon, as_of),
    )
    channel = header.channel
    category_id = category = None
    if not is_thread:
        category_id = parse_snowflake(channel.get("categoryId"))
        category = channel.get("category") if isinstance(channel.get("category"), str) else None
        if category_id == 0 or (category_id is None and category in FALLBACK_CATEGORIES):
            # DCE 2.27-2.40 fallback: "0" / "Text" / "Private" mean "no category".
            category_id, category = None, None
    topic = channel.get("topic") if isinstance(channel.get("topic"), str) else None
    # A topic or name may mention a withheld user; a thread started by a taken-down message is named after it.
    topic = withholder.rewrite_text(topic) if topic else topic
    name = (
        WITHHELD_THREAD
        if is_thread and withholder.takedown(cid) is not None
        else withholder.rewrite_text(name)
    )
    conn.execute(
        "INSERT INTO channels(id, guild_id, type, name, topic, parent_id, parent_name, category_id, category,"
        " is_thread, seen_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
        " guild_id = excluded.guild_id, type = excluded.type, name = excluded.name, topic = excluded.topic,"
        " parent_id = coalesce(excluded.parent_id, channels.parent_id),"
        " parent_name = coalesce(excluded.parent_name, channels.parent_name),"
        " category_id = coalesce(excluded.category_id, channels.category_id),"
        " category = coalesce(excluded.category, channels.category), is_thread = excluded.is_thread,"
        " seen_ts = excluded.seen_ts WHERE excluded.seen_ts >= channels.seen_ts",
        (
            cid,
            gid,
            ctype,
            name,
            topic,
            parent_id,
            parent_name,
            category_id,
            category,
            int(is_thread),
            as_of,
        ),
    )
