"""What the search index reads from the archive: changed messages since a generation, as IndexRecords."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import orjson

from archive.models import IndexRecord
from archive.normalizer import is_system_type

_SELECT = """
SELECT m.id, m.channel_id, c.name, c.guild_id, coalesce(g.name, ''), c.parent_id, c.is_thread,
       m.author_id, coalesce(u.name, ''), coalesce(u.nickname, u.name, ''), coalesce(u.is_bot, 0),
       m.ts, m.type, m.content, m.pinned, m.edited_ts, m.reply_to,
       CASE WHEN m.ref_kind = 'thread' THEN m.ref_channel_id
            ELSE (SELECT t.id FROM channels t WHERE t.id = m.id AND t.is_thread = 1) END,
       (SELECT group_concat(user_id) FROM mentions WHERE message_id = m.id),
       (SELECT json_group_array(json_array(title, description, CAST(data AS TEXT))) FROM embeds
         WHERE message_id = m.id),
       (SELECT json_group_array(file_name) FROM attachments WHERE message_id = m.id),
       m.flags, m.reaction_count, m.deleted, m.redacted, m.extra
FROM messages m
JOIN channels c ON c.id = m.channel_id
LEFT JOIN guilds g ON g.id = c.guild_id
LEFT JOIN users u ON u.id = m.author_id
WHERE m.generation > ? AND m.generation <= ?
"""


def _embed_text(blob: str | None) -> str:
    """Titles, descriptions, field names and values, author and footer text of a message's embeds."""
    if not blob or blob == "[null]":
        return ""
    parts: list[str] = []
    for title, desc, data in orjson.loads(blob):
        if title is None and desc is None and data is None:
            continue
        parts += [title or "", desc or ""]
        embed = orjson.loads(data) if data else {}
        for f in embed.get("fields") or ():
            if isinstance(f, dict):
                parts += [str(f.get("name") or ""), str(f.get("value") or "")]
        for key in ("author", "footer"):
            sub = embed.get(key)
            if isinstance(sub, dict):
                parts.append(str(sub.get("name") or sub.get("text") or ""))
    return "\n".join(p for p in parts if p)


def iter_index_records(
    conn: sqlite3.Connection, after_generation: int = 0, upto_generation: int | None = None
) -> Iterator[tuple[int, IndexRecord | None]]:
    """Messages changed in (after, upto]: (id, record) for live ones, (id, None) for ones to drop from the index.

    Tombstoned and redacted messages, and ids purged by policy, come out as (id, None).
    """
    if upto_generation is None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        upto_generation = int(row[0]) if row else 0
    for (mid,) in conn.execute(
        "SELECT message_id FROM removed WHERE generation > ? AND generation <= ?",
        (after_generation, upto_generation),
    ):
        yield mid, None
    cur = conn.execute(_SELECT, (after_generation, upto_generation))
    while True:
        batch = cur.fetchmany(2000)
        if not batch:
            return
        for r in batch:
            (
                mid,
                cid,
                cname,
                gid,
                gname,
                parent_id,
                is_thread,
                author_id,
                uname,
                udisplay,
                is_bot,
                ts,
                kind,
                content,
                pinned,
                edited_ts,
                reply_to,
                starts_thread,
                mentions,
                embeds,
                atts,
                flags,
                reactions,
                deleted,
                redacted,
                extra,
            ) = r
            if deleted or redacted is not None or content is None:
                yield mid, None
                continue
            if extra and b"forwardedMessage" in extra:
                forwarded = orjson.loads(extra).get("forwardedMessage")
                if isinstance(forwarded, dict) and isinstance(forwarded.get("content"), str):
                    content = (content + "\n" + forwarded["content"]).strip()
            names = tuple(n for n in orjson.loads(atts) if n) if atts and atts != "[null]" else ()
            yield (
                mid,
                IndexRecord(
                    id=mid,
                    channel_id=cid,
                    channel_name=cname,
                    guild_id=gid,
                    guild_name=gname,
                    parent_id=parent_id,
                    thread_id=cid if is_thread else None,
                    author_id=author_id,
                    author_name=uname,
                    author_display=udisplay,
                    author_is_bot=bool(is_bot),
                    ts=ts,
                    type=kind,
                    content=content,
                    is_system=is_system_type(kind),
                    pinned=bool(pinned),
                    edited=edited_ts is not None,
                    reply_to=reply_to,
                    starts_thread=starts_thread,
                    mention_ids=tuple(int(x) for x in mentions.split(",")) if mentions else (),
                    embed_text=_embed_text(embeds),
                    attachment_names=names,
                    flags=flags,
                    reaction_count=reactions,
                ),
            )


def withheld_since(conn: sqlite3.Connection, index_generation: int) -> list[int]:
    """Ids a search index at `index_generation` must not serve: empty unless a purge (a policy change,
    `hallway redact`) committed after that generation, in which case every message changed since, and every
    id purged since, is listed (the index holds their old, unwithheld versions until it catches up)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'withheld_generation'").fetchone()
    if row is None or int(row[0]) <= index_generation:
        return []
    ids = [
        r[0] for r in conn.execute("SELECT message_id FROM removed WHERE generation > ?", (index_generation,))
    ]
    ids += [r[0] for r in conn.execute("SELECT id FROM messages WHERE generation > ?", (index_generation,))]
    return ids
