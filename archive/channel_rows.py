"""The guild and channel rows an export header describes (the newest export's names win)."""

from __future__ import annotations

import sqlite3

from archive.sources.base import ChannelInfo
from archive.withhold import WITHHELD_THREAD, Withholder


def upsert_channel(
    conn: sqlite3.Connection, withholder: Withholder, channel: ChannelInfo, as_of: int
) -> None:
    """Upsert the guild and the channel of one export, with withheld names and mentions rewritten."""
    conn.execute(
        "INSERT INTO guilds(id, name, icon_url, seen_ts) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
        " name = excluded.name, icon_url = excluded.icon_url, seen_ts = excluded.seen_ts"
        " WHERE excluded.seen_ts >= guilds.seen_ts",
        (channel.guild_id, channel.guild_name, channel.guild_icon_url, as_of),
    )
    # A topic or name may mention a withheld user; a thread started by a taken-down message is named after it.
    topic = withholder.rewrite_text(channel.topic) if channel.topic else channel.topic
    name = withholder.rewrite_text(channel.name)
    if channel.is_thread and withholder.takedown(channel.id) is not None:
        name = WITHHELD_THREAD
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
            channel.id,
            channel.guild_id,
            channel.type,
            name,
            topic,
            channel.parent_id,
            channel.parent_name,
            channel.category_id,
            channel.category,
            int(channel.is_thread),
            as_of,
        ),
    )
