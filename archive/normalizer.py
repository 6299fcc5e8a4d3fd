"""Turn one parsed DCE message (any era) into archive rows, applying the privacy policy on the way.

Every key is optional. Known quirks handled here: numeric-string message types, emoji ids null vs "",
discriminators as numbers, `reference` that is not a reply, forwards, `--media` paths with `\\`.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from archive.errors import MessageSkipped
from archive.normalize import media_path, parse_snowflake, parse_timestamp_ms, snowflake_ms
from archive.schema import (
    HAS_CODE,
    HAS_EMBED,
    HAS_FILE,
    HAS_IMAGE,
    HAS_LINK,
    HAS_SOUND,
    HAS_STICKER,
    HAS_VIDEO,
)
from archive.withhold import REDACTED_AUTHOR, NestingTooDeep, Withholder

# Keys stored in columns or tables; anything else in a message is kept verbatim in `extra`.
MODELED_KEYS = frozenset(
    {
        "id",
        "type",
        "timestamp",
        "timestampEdited",
        "isPinned",
        "content",
        "author",
        "attachments",
        "embeds",
        "stickers",
        "reactions",
        "mentions",
        "reference",
        "inlineEmojis",  # derived from content by DCE; nothing is lost without it
    }
)
_USUAL_KEYS = MODELED_KEYS | {"callEndedTimestamp"}  # DCE writes it on every message, null but for calls
SYSTEM_TYPES = frozenset(
    {
        "RecipientAdd",
        "RecipientRemove",
        "Call",
        "ChannelNameChange",
        "ChannelIconChange",
        "ChannelPinnedMessage",
        "GuildMemberJoin",
        "ThreadCreated",
    }
    | {str(n) for n in range(1, 19)}
)
IMAGE_EXT = frozenset({"png", "jpg", "jpeg", "gif", "webp", "bmp", "svg", "avif", "heic"})
VIDEO_EXT = frozenset({"mp4", "webm", "mov", "mkv", "avi", "m4v"})
SOUND_EXT = frozenset({"mp3", "ogg", "wav", "flac", "m4a", "opus", "aac"})
_LINK_RE = re.compile(r"https?://", re.IGNORECASE)
_CODE_RE = re.compile(r"```|`[^`\n]+`")
_MISSING = object()
# Snowflakes from 2015-01-01 (Discord's epoch, + 1 s) to 2200: anything else is not a Discord id.
MIN_SNOWFLAKE = 1000 << 22
MAX_SNOWFLAKE = (185 * 365 * 86_400_000) << 22


def fingerprint(raw: bytes | None, obj: dict[str, Any] | None) -> int:
    """A cheap fingerprint of a message as exported: equal bytes, equal fingerprint (CRC-32 and length)."""
    data = raw if raw is not None else orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    return (zlib.crc32(data) << 20) ^ len(data)


def is_system_type(kind: str) -> bool:
    """Discord's system notifications: kinds 1-18, by name or numeric string."""
    return kind in SYSTEM_TYPES


@dataclass(slots=True)
class UserRow:
    """A user as one export saw them (already pseudonymized when the policy says so)."""

    id: int
    name: str
    discriminator: str | None
    nickname: str | None
    avatar_url: str | None
    color: str | None
    is_bot: bool
    pseudonym: bool


@dataclass(slots=True)
class MessageRow:
    """One message ready to write, with its detail rows (the normalizer builds it positionally, in field order)."""

    id: int
    channel_id: int
    author_id: int | None
    type: str
    ts: int
    edited_ts: int | None
    content: str | None
    pinned: bool
    reply_to: int | None
    ref_kind: str | None
    ref_message_id: int | None
    ref_channel_id: int | None
    ref_guild_id: int | None
    flags: int
    reaction_count: int
    extra: bytes | None
    fp: int
    redacted: str | None
    attachments: list[tuple[Any, ...]] = field(default_factory=list)
    embeds: list[tuple[Any, ...]] = field(default_factory=list)
    stickers: list[tuple[Any, ...]] = field(default_factory=list)
    reactions: list[tuple[Any, ...]] = field(default_factory=list)
    mentions: list[int] = field(default_factory=list)
    fidelity: int = 4  # 4 JSON, 3 HTML, 2 CSV, 1 TXT (archive/sources/formats.py)


def _ext(name: str | None) -> str:
    if not name or "." not in name:
        return ""
    return name.rsplit(".", 1)[1].split("?", 1)[0].lower()


class Normalizer:
    """Normalizes messages of one export file (one channel); collects the users it sees.

    Every withholding decision and rewrite is the Withholder's; this class only asks it.
    """

    def __init__(self, path: str, channel_id: int, guild_id: int, withholder: Withholder) -> None:
        self.path = path
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.withholder = withholder
        self.users: dict[int, UserRow] = {}
        self._user_cache: dict[tuple[Any, ...], int | None] = {}

    def _fail(self, offset: int, index: int, reason: str) -> MessageSkipped:
        where = f"byte {offset} (message {index})" if offset >= 0 else f"message {index}"
        return MessageSkipped(self.path, where, reason)

    def _map_user(self, obj: Any) -> int | None:
        """Record a user object; return the id to store (pseudonymous or None when dropped)."""
        if not isinstance(obj, dict):
            return None
        # Most messages repeat an author already seen in this file: skip the work when nothing differs.
        key = (obj.get("id"), obj.get("name"), obj.get("nickname"), obj.get("avatarUrl"), obj.get("color"))
        cached = self._user_cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        uid = self._map_user_uncached(obj)
        if len(self._user_cache) < 100_000:
            self._user_cache[key] = uid
        return uid

    def _map_user_uncached(self, obj: dict[str, Any]) -> int | None:
        uid = parse_snowflake(obj.get("id"))
        if uid is None:
            return None
        name = obj.get("name")
        nick = obj.get("nickname")
        name = name if isinstance(name, str) else str(uid)
        nick = nick if isinstance(nick, str) and nick else None
        act = self.withholder.user(uid)
        if act is not None:
            self.withholder.learn_names(act, name, nick)
            if act.id == 0:
                return None
            if act.id not in self.users:
                self.users[act.id] = UserRow(act.id, act.name, None, act.name, None, None, False, True)
            return act.id
        existing = self.users.get(uid)
        disc = obj.get("discriminator")
        color = obj.get("color")
        avatar = obj.get("avatarUrl")
        row = UserRow(
            uid,
            name,
            str(disc).zfill(4) if isinstance(disc, int | str) and not isinstance(disc, bool) else None,
            nick,
            avatar if isinstance(avatar, str) else None,
            color if isinstance(color, str) else None,
            obj.get("isBot") is True,
            False,
        )
        if existing is not None:
            # The same export may show a user fully (author) and partly (reaction users, old mentions).
            row.color = row.color or existing.color
            row.discriminator = row.discriminator or existing.discriminator
            row.avatar_url = row.avatar_url or existing.avatar_url
            row.nickname = row.nickname or existing.nickname
        self.users[uid] = row
        return uid

    def message(self, offset: int, index: int, raw: bytes | None, obj: dict[str, Any]) -> MessageRow:
        """Normalize one message; raise MessageSkipped when a modeled field has the wrong type or it nests too deeply."""
        try:
            return self._message(offset, index, raw, obj)
        except (NestingTooDeep, RecursionError) as e:
            raise self._fail(offset, index, f"message {obj.get('id')!s:.40}: {e}") from None
        except TypeError as e:  # orjson: "Recursion limit reached" for JSON nested more than 255 levels
            raise self._fail(
                offset, index, f"message {obj.get('id')!s:.40}: cannot be stored ({e})"
            ) from None

    def _message(self, offset: int, index: int, raw: bytes | None, obj: dict[str, Any]) -> MessageRow:
        mid = parse_snowflake(obj.get("id"))
        if mid is None or not MIN_SNOWFLAKE <= mid <= MAX_SNOWFLAKE:
            shown = repr(obj.get("id")) if "id" in obj else "missing"
            raise self._fail(offset, index, f"message id {shown[:40]} is not a Discord snowflake")
        kind = obj.get("type", "Default")
        if isinstance(kind, int) and not isinstance(kind, bool):
            kind = str(kind)
        if not isinstance(kind, str):
            raise self._fail(offset, index, f"message {mid}: type is {type(kind).__name__}, not a string")
        content = obj.get("content", "")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise self._fail(
                offset, index, f"message {mid}: content is {type(content).__name__}, not a string"
            )
        if "\x00" in content:
            content = content.replace("\x00", "\ufffd")
        ts_value = obj.get("timestamp")
        if ts_value is not None and (
            not isinstance(ts_value, str)
            or not ts_value[:4].isdigit()
            or not 2015 <= int(ts_value[:4]) <= 2200
        ):
            raise self._fail(offset, index, f"message {mid}: timestamp {str(ts_value)[:40]!r} is not a date")
        # The snowflake is the true time; `timestamp` carries the exporter's offset and rounding.
        ts = snowflake_ms(mid)
        edited_value = obj.get("timestampEdited")
        edited_ts = parse_timestamp_ms(edited_value) if edited_value is not None else None
        if edited_value is not None and edited_ts is None:
            raise self._fail(
                offset, index, f"message {mid}: timestampEdited {str(edited_value)[:40]!r} is not a date"
            )
        author = obj.get("author")
        if author is not None and not isinstance(author, dict):
            raise self._fail(offset, index, f"message {mid}: author is not an object")
        for key in ("attachments", "embeds", "stickers", "reactions", "mentions"):
            value = obj.get(key)
            if value is not None and not isinstance(value, list):
                raise self._fail(offset, index, f"message {mid}: {key} is not a list")
        fp = fingerprint(raw, obj)

        w = self.withholder
        author_act = w.user(parse_snowflake(author.get("id"))) if isinstance(author, dict) else None
        author_id = self._map_user(author)
        mention_ids: list[int] = []
        for m in obj.get("mentions") or ():
            uid = self._map_user(m)
            if uid is not None and uid not in mention_ids:
                mention_ids.append(uid)

        redacted = REDACTED_AUTHOR if author_act is not None and author_act.id == 0 else w.takedown(mid)
        if redacted is not None:
            return MessageRow(
                id=mid,
                channel_id=self.channel_id,
                author_id=None,
                type=kind,
                ts=ts,
                edited_ts=None,
                content=None,
                pinned=False,
                reply_to=None,
                ref_kind=None,
                ref_message_id=None,
                ref_channel_id=None,
                ref_guild_id=None,
                flags=0,
                reaction_count=0,
                extra=None,
                fp=fp,
                redacted=redacted,
            )
        content = w.rewrite_text(content)

        # reference: a reply only when the type says so (DCE writes reference for pins, threads, forwards too)
        ref = obj.get("reference")
        reply_to = ref_kind = ref_mid = ref_cid = ref_gid = None
        if isinstance(ref, dict):
            ref_mid = parse_snowflake(ref.get("messageId"))
            ref_cid = parse_snowflake(ref.get("channelId"))
            ref_gid = parse_snowflake(ref.get("guildId"))
            if kind == "Reply":
                ref_kind, reply_to = "reply", ref_mid
            elif kind == "ChannelPinnedMessage":
                ref_kind = "pin"
            elif kind == "ThreadCreated":
                ref_kind = "thread"
            elif ref.get("type") == "Forward" or "forwardedMessage" in obj:
                ref_kind = "forward"
            elif kind == "21":
                ref_kind = "starter"
            elif ref_cid is not None and ref_cid != self.channel_id:
                ref_kind = "crosspost"
            else:
                ref_kind = "reference"

        flags = 0
        if "://" in content and _LINK_RE.search(content):
            flags |= HAS_LINK
        if "`" in content and _CODE_RE.search(content):
            flags |= HAS_CODE
        attachments = []
        for pos, a in enumerate(obj.get("attachments") or ()):
            if not isinstance(a, dict):
                continue
            url = a.get("url") if isinstance(a.get("url"), str) else None
            name = a.get("fileName") if isinstance(a.get("fileName"), str) else None
            name = w.rewrite_text(name) if name else name
            size = a.get("fileSizeBytes")
            size = size if isinstance(size, int) and not isinstance(size, bool) else None
            attachments.append((mid, pos, parse_snowflake(a.get("id")), url, media_path(url), name, size))
            flags |= HAS_FILE
            ext = _ext(name or url)
            if ext in IMAGE_EXT:
                flags |= HAS_IMAGE
            elif ext in VIDEO_EXT:
                flags |= HAS_VIDEO
            elif ext in SOUND_EXT:
                flags |= HAS_SOUND
        embeds = []
        for pos, e in enumerate(obj.get("embeds") or ()):
            if not isinstance(e, dict):
                continue
            flags |= HAS_EMBED
            url = e.get("url") if isinstance(e.get("url"), str) else None
            if url:
                flags |= HAS_LINK
            if e.get("video"):
                flags |= HAS_VIDEO
            if e.get("image") or e.get("images"):
                flags |= HAS_IMAGE
            if w.embed_withheld(e):
                continue  # a quote of withheld content (starboard of a takedown, a dropped author) goes whole
            if w.has_users:
                e = w.rewrite_json(e)
            title = e.get("title") if isinstance(e.get("title"), str) else None
            desc = e.get("description") if isinstance(e.get("description"), str) else None
            embeds.append((mid, pos, url, title, desc, orjson.dumps(e)))
        stickers = []
        for pos, s in enumerate(obj.get("stickers") or ()):
            if not isinstance(s, dict):
                continue
            flags |= HAS_STICKER
            fmt = s.get("format")
            fmt = "Apng" if fmt == "PngAnimated" else fmt
            stickers.append((mid, pos, parse_snowflake(s.get("id")), s.get("name"), fmt, s.get("sourceUrl")))
        reactions = []
        reaction_count = 0
        for pos, r in enumerate(obj.get("reactions") or ()):
            if not isinstance(r, dict):
                continue
            emoji_value = r.get("emoji")
            emoji: dict[str, Any] = emoji_value if isinstance(emoji_value, dict) else {}
            count = r.get("count")
            count = count if isinstance(count, int) and not isinstance(count, bool) else 0
            users = r.get("users")
            user_ids = None
            if isinstance(users, list):
                user_ids = [u for u in (self._map_user(x) for x in users) if u is not None]
            reaction_count += count
            reactions.append(
                (
                    mid,
                    pos,
                    parse_snowflake(emoji.get("id")),  # "" (2.33+) and null (older) both mean Unicode
                    emoji.get("name"),
                    emoji.get("code"),
                    1 if emoji.get("isAnimated") is True else 0,
                    emoji.get("imageUrl"),
                    count,
                    orjson.dumps(user_ids) if user_ids is not None else None,
                )
            )
        # Keys the parser does not model are kept verbatim (a null says no more than absence).
        kept = None
        if not _USUAL_KEYS.issuperset(obj) or obj.get("callEndedTimestamp") is not None:
            # (Most messages have no other key but a null callEndedTimestamp: no dict built for them.)
            kept = {k: v for k, v in obj.items() if k not in MODELED_KEYS and v is not None} or None
        if ref_kind == "forward" and w.forward_withheld(ref_cid, ref_mid):
            # A forwarded copy of something withheld (an excluded channel, a takedown) is not kept, nor where from.
            ref_mid = ref_cid = ref_gid = None
            if kept:
                kept.pop("forwardedMessage", None)
                kept.pop("messageSnapshots", None)
        if kept and w.has_users:
            kept = w.rewrite_json(kept)
        extra = orjson.dumps(kept) if kept else None
        # Positional, in field order: keyword construction of this many fields cost 3 µs per message.
        return MessageRow(
            mid,
            self.channel_id,
            author_id,
            kind,
            ts,
            edited_ts,
            content,
            obj.get("isPinned") is True,
            reply_to,
            ref_kind,
            ref_mid,
            ref_cid,
            ref_gid,
            flags,
            reaction_count,
            extra,
            fp,
            None,
            attachments,
            embeds,
            stickers,
            reactions,
            mention_ids,
        )
