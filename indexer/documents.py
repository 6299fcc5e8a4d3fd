"""IndexRecord -> the index document (tantivy JSON): the only module that knows both shapes."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

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


_HAS_NAMES = tuple(tuple(name for name, bit in HAS_FLAGS.items() if bits & bit) for bits in range(256))
_DAY_MS = 86_400_000


class DocumentBuilder:
    """Turns IndexRecords into index documents as JSON (one `add_json` per message, the fewest crossings
    into tantivy), caching what repeats: a channel's fields, an author's keys, a day's month."""

    def __init__(self, lookups: Lookups) -> None:
        self.lookups = lookups
        self._channels: dict[tuple[int, str], tuple[list[str], list[str]]] = {}
        self._authors: dict[tuple[str, str], list[str]] = {}
        self._mentions: dict[int, list[str]] = {}
        self._months: dict[int, int] = {}
        self._dumps = orjson.dumps

    def _channel_keys(self, cid: int, name: str) -> tuple[list[str], list[str]]:
        got = self._channels.get((cid, name))
        if got is None:
            parent = self.lookups.parent_names.get(cid)
            norm = list(dict.fromkeys(normalize_name(n) for n in (name, parent) if n))
            got = self._channels[(cid, name)] = (_keys(name, parent), norm)
        return got

    def fields(self, rec: IndexRecord) -> dict[str, object]:
        """The document's fields, each a value or a list of values (the record is already redacted)."""
        channel_key, channel_norm = self._channel_keys(rec.channel_id, rec.channel_name)
        author_key = self._authors.get((rec.author_name, rec.author_display))
        if author_key is None:
            author_key = _author_keys(rec.author_name, rec.author_display)
            self._authors[(rec.author_name, rec.author_display)] = author_key
        day = rec.ts // _DAY_MS
        month = self._months.get(day)
        if month is None:
            month = self._months[day] = month_of(rec.ts)
        doc: dict[str, object] = {
            f.ID: rec.id,
            f.CHANNEL_ID: rec.channel_id,
            f.CHANNEL: rec.channel_name,
            f.CHANNEL_KEY: channel_key,
            f.CHANNEL_NORM: channel_norm,
            f.GUILD_ID: rec.guild_id,
            f.GUILD: rec.guild_name,
            f.AUTHOR: rec.author_display or rec.author_name,
            f.AUTHOR_USERNAME: rec.author_name,
            f.AUTHOR_KEY: author_key,
            f.TS: rec.ts,
            f.MONTH: month,
            f.TYPE: rec.type,
            f.REACTIONS: rec.reaction_count,
        }
        if rec.parent_id is not None:
            doc[f.PARENT_ID] = rec.parent_id
        if rec.thread_id is not None:
            doc[f.THREAD_ID] = rec.thread_id
        if rec.author_id is not None:
            doc[f.AUTHOR_ID] = rec.author_id
        if rec.mention_ids:
            doc[f.MENTIONS] = list(rec.mention_ids)
            keys = [k for uid in rec.mention_ids for k in self._mention_keys(uid)]
            if keys:
                doc[f.MENTION_KEY] = keys
        if rec.reply_to is not None:
            doc[f.REPLY_TO] = rec.reply_to
        if rec.starts_thread is not None:
            doc[f.STARTS_THREAD] = rec.starts_thread
        # Stored normalized too: snippets are cut and marked from the same text the query's words matched.
        if rec.content:
            content = f.normalize_text(rec.content)
            doc[f.CONTENT] = doc[f.CONTENT_EXACT] = content
        if rec.embed_text:
            embed = f.normalize_text(rec.embed_text)
            doc[f.EMBED] = doc[f.EMBED_EXACT] = embed
        if rec.attachment_names:
            doc[f.FILES] = [f.normalize_text(name) for name in rec.attachment_names]
        has = _HAS_NAMES[rec.flags & 255]
        if has:
            doc[f.HAS] = has
        is_ = ["bot" if rec.author_is_bot else "user"]
        if rec.pinned:
            is_.append("pinned")
        if rec.edited:
            is_.append("edited")
        if rec.reply_to is not None or rec.type == "Reply":
            is_.append("reply")
        if rec.thread_id is not None or rec.starts_thread is not None:
            is_.append("thread")
        if rec.is_system:
            is_.append("system")
        doc[f.IS] = is_
        return doc

    def _mention_keys(self, uid: int) -> list[str]:
        keys = self._mentions.get(uid)
        if keys is None:
            keys = self._mentions[uid] = _keys(*self.lookups.user_names.get(uid, ()))
        return keys

    def json(self, rec: IndexRecord) -> str:
        """The document as tantivy's JSON (for `IndexWriter.add_json`)."""
        return self._dumps(self.fields(rec)).decode()
