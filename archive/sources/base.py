"""What every export format hands the archive: a sniff verdict, a typed header, batches of raw messages.

See the package docstring (archive/sources/__init__.py) for the protocol as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol, Self

from archive.errors import ExportFormatError
from archive.normalize import iso_utc

RawMessage = tuple[int, bytes | None, dict[str, Any]]
KNOWN: dict[str, Any] = {}
"""The fields of a message a reader skipped because the archive holds its exact bytes (see `known` in
archive/sources/__init__.py); compared by identity, never filled."""
"""(where: byte offset in the file or -1, the message's exact bytes when known, its fields).

The fields use the archive's message vocabulary (the keys `archive.normalizer` reads, which are
DCE JSON's: it is the richest format). Sources other than DCE JSON never build this dict by hand:
they fill a typed `SourceMessage` and call `.raw(where)`. Exact bytes, when a source has them,
make the unchanged-message fast path possible (a fingerprint of the bytes, no normalization).
"""


@dataclass(frozen=True, slots=True)
class Sniff:
    """A source's verdict on one path: it reads it, or it knows what it is and why it cannot."""

    claimed: bool
    what: str = ""  # e.g. "a DCE HTML export", "a PNG image"
    reason: str = ""  # why it is not read, with the fix when there is one
    export: bool = True  # an export of some kind (not read: the run fails) vs. a stray file (only noted)

    @classmethod
    def read(cls) -> Sniff:
        """The source reads this path."""
        return cls(True)

    @classmethod
    def refuse(cls, what: str, reason: str, *, export: bool = True) -> Sniff:
        """The path is recognized but not read: one line says what it is and why."""
        return cls(False, what, reason, export)


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """The channel (and its guild) an export holds, already in the archive's normal form."""

    id: int
    name: str
    type: str = "GuildTextChat"
    guild_id: int = 0  # 0: direct messages
    guild_name: str = "Direct Messages"
    guild_icon_url: str | None = None
    topic: str | None = None
    is_thread: bool = False
    parent_id: int | None = None  # threads and forum posts: the channel they belong to
    parent_name: str | None = None
    category_id: int | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """Everything an export says before its messages. Times are Unix ms, UTC."""

    channel: ChannelInfo
    as_of: int  # the export's point in time (exportedAt, else the newest message or edit it holds)
    exported_at: int | None = None
    range_after: int | None = None
    range_before: int | None = None


@dataclass(frozen=True, slots=True)
class SourceUser:
    """A user as a non-JSON export shows them."""

    id: int
    name: str
    nickname: str | None = None
    discriminator: str | None = None
    avatar_url: str | None = None
    color: str | None = None
    is_bot: bool = False

    def fields(self) -> dict[str, Any]:
        """The user in the archive's message vocabulary."""
        return {
            "id": str(self.id),
            "name": self.name,
            "nickname": self.nickname,
            "discriminator": self.discriminator,
            "avatarUrl": self.avatar_url,
            "color": self.color,
            "isBot": self.is_bot,
        }


@dataclass(frozen=True, slots=True)
class SourceAttachment:
    """A file attached to a message: its URL (or --media local path), name and size."""

    url: str
    file_name: str | None = None
    size: int | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SourceReaction:
    """One emoji's reactions on a message."""

    name: str
    count: int
    emoji_id: int | None = None
    image_url: str | None = None
    animated: bool = False


@dataclass(slots=True)
class SourceMessage:
    """One message, typed, for sources whose format is not DCE JSON.

    `timestamp_edited` is Unix ms. `reply_to` is the id of the message answered (Discord replies).
    `extra` holds anything the format has that the archive does not model (kept verbatim).
    """

    id: int
    content: str
    author: SourceUser | None
    type: str = "Default"
    timestamp_edited: int | None = None
    pinned: bool = False
    reply_to: int | None = None
    attachments: list[SourceAttachment] = field(default_factory=list)
    reactions: list[SourceReaction] = field(default_factory=list)
    mentions: list[SourceUser] = field(default_factory=list)
    embeds: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def raw(self, where: int = -1) -> RawMessage:
        """This message as a RawMessage: the one place typed records meet the normalizer's vocabulary."""
        fields: dict[str, Any] = dict(self.extra)
        fields |= {
            "id": str(self.id),
            "type": "Reply" if self.reply_to is not None and self.type == "Default" else self.type,
            "content": self.content,
            "isPinned": self.pinned,
            "author": self.author.fields() if self.author else None,
        }
        if self.timestamp_edited is not None:
            fields["timestampEdited"] = iso_utc(self.timestamp_edited)
        if self.reply_to is not None:
            fields["reference"] = {"messageId": str(self.reply_to)}
        if self.attachments:
            fields["attachments"] = [
                {
                    "id": str(a.id) if a.id else None,
                    "url": a.url,
                    "fileName": a.file_name,
                    "fileSizeBytes": a.size,
                }
                for a in self.attachments
            ]
        if self.reactions:
            fields["reactions"] = [
                {
                    "emoji": {
                        "id": str(r.emoji_id) if r.emoji_id else "",
                        "name": r.name,
                        "isAnimated": r.animated,
                        "imageUrl": r.image_url,
                    },
                    "count": r.count,
                }
                for r in self.reactions
            ]
        if self.mentions:
            fields["mentions"] = [u.fields() for u in self.mentions]
        if self.embeds:
            fields["embeds"] = list(self.embeds)
        return (where, None, fields)


class Reader(Protocol):
    """One open export file. `header` is ready on return from `Source.open`."""

    header: ExportHeader
    declared_count: int | None  # the count the file states (valid once batches() is exhausted)

    def batches(self) -> Iterator[list[RawMessage]]:
        """Messages in file order, a batch at a time; raise ExportFormatError at the first damage."""
        ...

    def close(self) -> None:
        """Release the file."""
        ...


class FileReader:
    """What every export reader shares: an open file, `with` support, and errors that name the file."""

    def __init__(self, path: Path, batch_size: int) -> None:
        self.path = path
        self.batch_size = batch_size
        self.declared_count: int | None = None
        self._fh: BinaryIO = path.open("rb")

    def close(self) -> None:
        """Close the underlying file."""
        self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, where: str, reason: str) -> ExportFormatError:
        return ExportFormatError(self.path, where, reason)


class Source(Protocol):
    """One export format."""

    name: str  # shown to people, e.g. "DCE JSON"

    def sniff(self, path: Path, head: bytes) -> Sniff | None:
        """Whether this source reads `path`, given its first bytes; None when it is not this format at all."""
        ...

    def open(self, path: Path) -> Reader:
        """Open the file and read its header; raise ExportFormatError (naming the file and place) when bad."""
        ...
