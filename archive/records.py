"""What the search index reads from the archive: changed messages since a generation, as IndexRecords."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import orjson

from archive.models import IndexRecord
from archive.normalizer import is_system_type
from archive.schema import HAS_EMBED, HAS_FILE

# One lean statement over the changed messages. Channel, guild and user names come from dictionaries
# loaded once per call (a join per message cost more than the rest of the row), and the embed and
# attachment subqueries run only for messages whose flags say they have any.
_SELECT = f"""
SELECT m.id, m.channel_id, m.author_id, m.ts, m.type, m.content, m.pinned, m.edited_ts, m.reply_to,
       m.ref_kind, m.ref_channel_id,
       (SELECT group_concat(user_id) FROM mentions WHERE message_id = m.id),
       CASE WHEN m.flags & {HAS_EMBED} THEN
         (SELECT json_group_array(json_array(title, description, CAST(data AS TEXT))) FROM embeds
           WHERE message_id = m.id) END,
       CASE WHEN m.flags & {HAS_FILE} THEN
         (SELECT json_group_array(file_name) FROM attachments WHERE message_id = m.id) END,
       m.flags, m.reaction_count, m.deleted, m.redacted, m.extra
FROM messages m
WHERE m.generation > ? AND m.generation <= ?
"""
_CHANNELS = """
SELECT c.id, c.name, c.guild_id, coalesce(g.name, ''), c.parent_id, c.is_thread
FROM channels c LEFT JOIN guilds g ON g.id = c.guild_id
"""
_NO_USER = ("", "", False)


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
    channels = {r[0]: r[1:] for r in conn.execute(_CHANNELS)}
    threads = {cid for cid, c in channels.items() if c[4]}
    users = {
        uid: (name, nick if nick is not None else name, bool(bot))
        for uid, name, nick, bot in conn.execute("SELECT id, name, nickname, is_bot FROM users")
    }
    cur = conn.execute(_SELECT, (after_generation, upto_generation))
    record = IndexRecord
    while True:
        batch = cur.fetchmany(2000)
        if not batch:
            return
        for (
            mid,
            cid,
            author_id,
            ts,
            kind,
            content,
            pinned,
            edited_ts,
            reply_to,
            ref_kind,
            ref_cid,
            mentions,
            embeds,
            atts,
            flags,
            reactions,
            deleted,
            redacted,
            extra,
        ) in batch:
            channel = channels.get(cid)
            if channel is None:
                continue  # (a message of a channel the archive does not know is not indexed)
            if deleted or redacted is not None or content is None:
                yield mid, None
                continue
            cname, gid, gname, parent_id, is_thread = channel
            uname, udisplay, is_bot = users.get(author_id, _NO_USER)
            if extra and b"forwardedMessage" in extra:
                forwarded = orjson.loads(extra).get("forwardedMessage")
                if isinstance(forwarded, dict) and isinstance(forwarded.get("content"), str):
                    content = (content + "\n" + forwarded["content"]).strip()
            yield (
                mid,
                record(
                    mid,
                    cid,
                    cname,
                    gid,
                    gname,
                    parent_id,
                    cid if is_thread else None,
                    author_id,
                    uname,
                    udisplay,
                    is_bot,
                    ts,
                    kind,
                    content,
                    is_system_type(kind),
                    bool(pinned),
                    edited_ts is not None,
                    reply_to,
                    ref_cid if ref_kind == "thread" else (mid if mid in threads else None),
                    tuple(int(x) for x in mentions.split(",")) if mentions else (),
                    _embed_text(embeds),
                    tuple(n for n in orjson.loads(atts) if n) if atts and atts != "[null]" else (),
                    flags,
                    reactions,
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
