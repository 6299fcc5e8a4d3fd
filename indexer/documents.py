"""IndexRecord -> tantivy.Document: the only module that knows both shapes."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import tantivy

from archive.models import IndexRecord
from archive.names import normalize_name
from archive.schema import HAS_FLAGS
from indexer import schema as f


@dataclass(frozen=True)
class Lookups:
    """Names a record does not carry: the parent channel's name and mentioned users' names."""

    parent_names: Mapping[int, str] = field(default_factory=dict)  # channel id -> its parent's name
    user_names: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # user id -> username, display

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Lookups:
        """Read the lookups from the archive (current names, so pseudonyms only)."""
        parents = {
            int(cid): str(name)
            for cid, name in conn.execute(
                "SELECT c.id, coalesce(p.name, c.parent_name) FROM channels c"
                " LEFT JOIN channels p ON p.id = c.parent_id WHERE c.parent_id IS NOT NULL"
            )
            if name
        }
        users = {
            int(uid): tuple(n for n in (name, nick) if n)
            for uid, name, nick in conn.execute("SELECT id, name, nickname FROM users")
        }
        return cls(parents, users)


def month_of(ts_ms: int) -> int:
    """yyyymm of a Unix-ms timestamp (UTC)."""
    dt = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return dt.year * 100 + dt.month


def _keys(*names: str | None) -> list[str]:
    seen: list[str] = []
    for n in names:
        k = (n or "").strip().lower()
        if k and k not in seen:
            seen.append(k)
    return seen


def _author_keys(username: str | None, display: str | None) -> list[str]:
    """`from:` keys: the whole username and display name, plus each word of a display name of several
    words, so `from:harlow` finds "Harlow Bexley" as a newcomer would expect."""
    keys = _keys(username, display)
    words = (display or "").lower().split()
    if len(words) > 1:
        keys += [w for w in _keys(*words) if w not in keys]
    return keys


def build_document(rec: IndexRecord, lookups: Lookups) -> tantivy.Document:
    """The index document of one live message (the record is already redacted/pseudonymized by the archive)."""
    doc = tantivy.Document()
    doc.add_integer(f.ID, rec.id)
    doc.add_integer(f.CHANNEL_ID, rec.channel_id)
    doc.add_text(f.CHANNEL, rec.channel_name)
    parent_name = lookups.parent_names.get(rec.channel_id)
    for key in _keys(rec.channel_name, parent_name):
        doc.add_text(f.CHANNEL_KEY, key)
    for key in dict.fromkeys(normalize_name(n) for n in (rec.channel_name, parent_name) if n):
        doc.add_text(f.CHANNEL_NORM, key)
    if rec.parent_id is not None:
        doc.add_integer(f.PARENT_ID, rec.parent_id)
    if rec.thread_id is not None:
        doc.add_integer(f.THREAD_ID, rec.thread_id)
    doc.add_integer(f.GUILD_ID, rec.guild_id)
    doc.add_text(f.GUILD, rec.guild_name)
    if rec.author_id is not None:
        doc.add_integer(f.AUTHOR_ID, rec.author_id)
    doc.add_text(f.AUTHOR, rec.author_display or rec.author_name)
    doc.add_text(f.AUTHOR_USERNAME, rec.author_name)
    for key in _author_keys(rec.author_name, rec.author_display):
        doc.add_text(f.AUTHOR_KEY, key)
    for uid in rec.mention_ids:
        doc.add_integer(f.MENTIONS, uid)
        for key in _keys(*lookups.user_names.get(uid, ())):
            doc.add_text(f.MENTION_KEY, key)
    if rec.reply_to is not None:
        doc.add_integer(f.REPLY_TO, rec.reply_to)
    if rec.starts_thread is not None:
        doc.add_integer(f.STARTS_THREAD, rec.starts_thread)
    # Stored normalized too: snippets are cut and marked from the same text the query's words matched.
    if rec.content:
        content = f.normalize_text(rec.content)
        doc.add_text(f.CONTENT, content)
        doc.add_text(f.CONTENT_EXACT, content)
    if rec.embed_text:
        embed = f.normalize_text(rec.embed_text)
        doc.add_text(f.EMBED, embed)
        doc.add_text(f.EMBED_EXACT, embed)
    for name in rec.attachment_names:
        doc.add_text(f.FILES, f.normalize_text(name))
    doc.add_integer(f.TS, rec.ts)
    doc.add_integer(f.MONTH, month_of(rec.ts))
    for name, bit in HAS_FLAGS.items():
        if rec.flags & bit:
            doc.add_text(f.HAS, name)
    flags = {
        "pinned": rec.pinned,
        "edited": rec.edited,
        "reply": rec.reply_to is not None or rec.type == "Reply",
        "thread": rec.thread_id is not None or rec.starts_thread is not None,
        "system": rec.is_system,
        "bot": rec.author_is_bot,
        "user": not rec.author_is_bot,
    }
    for name in f.IS_VALUES:
        if flags[name]:
            doc.add_text(f.IS, name)
    doc.add_text(f.TYPE, rec.type)
    doc.add_integer(f.REACTIONS, rec.reaction_count)
    return doc
