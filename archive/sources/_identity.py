"""Ids for what an export does not name: channels and guilds known only by name, messages without ids.

- A channel id comes from the DCE file name (`... [123].html`), else from the attachment URLs
  (`cdn.discordapp.com/attachments/<channel id>/...`), else it is *synthetic*: a number from 2**62 up
  (a snowflake of the year 2049 or later) derived from the guild and channel names, so every export
  naming the same channel agrees. Users known only by their full name (TXT) get one the same way.
- A message of a CSV or TXT export gets a stable snowflake-shaped id: its minute (the format's
  precision) plus its position within that minute in the file as milliseconds, and 22 bits of a hash
  of author and text. The same file gives the same ids every time, a CSV and a TXT export of the same
  messages give the same ids (so they never duplicate each other), and messages keep their order.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

from archive.normalize import DISCORD_EPOCH_MS, parse_snowflake

_FILE_ID_RE = re.compile(r"\[(\d{15,20})\](?:\s*\[part \d+\])?(?:\s*\(.*\))?\.\w+$")
_ATTACHMENT_CHANNEL_RE = re.compile(r"(?:cdn|media)\.discordapp\.(?:com|net)/attachments/(\d{15,20})/")
_GUILD_ICON_RE = re.compile(r"cdn\.discordapp\.com/icons/(\d{15,20})/")


def _digest(*parts: str) -> int:
    data = "\x1f".join(p.casefold() for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


SYNTHETIC_BASE = 1 << 62


def synthetic_id(*parts: str) -> int:
    """An id for a channel, guild or user known only by name: stable, above every snowflake before 2049."""
    return SYNTHETIC_BASE + (_digest(*parts) >> 3)


def is_synthetic(value: int | None) -> bool:
    """Whether an id was made up from names (see synthetic_id)."""
    return value is not None and value >= SYNTHETIC_BASE


def file_channel_id(path: Path) -> int | None:
    """The channel id in a DCE default file name, e.g. `Guild - Text - general [1234567890123456789].txt`."""
    m = _FILE_ID_RE.search(path.name)
    return parse_snowflake(m.group(1)) if m else None


def attachment_channel_id(text: str) -> int | None:
    """The channel most attachment URLs in the text were uploaded to, if any."""
    found = Counter(_ATTACHMENT_CHANNEL_RE.findall(text))
    if not found:
        return None
    return parse_snowflake(found.most_common(1)[0][0])


def guild_icon_id(text: str) -> int | None:
    """The guild id in a guild icon URL."""
    m = _GUILD_ICON_RE.search(text)
    return parse_snowflake(m.group(1)) if m else None


def resolve_channel(path: Path, text: str, guild: str, channel: str) -> tuple[int, bool]:
    """(channel id, whether it is synthetic) for an export that may not name its channel's id."""
    cid = file_channel_id(path) or attachment_channel_id(text)
    if cid is not None:
        return cid, False
    return synthetic_id("channel", guild, channel), True


def split_channel_path(text: str) -> tuple[str | None, str | None, str]:
    """(category, parent channel, name) of the channel line of an HTML or TXT export.

    2.41+ writes `Category / parent / thread` for threads and forum posts; 2.20-2.40 `Category / name`.
    """
    parts = text.split(" / ")
    if len(parts) >= 3:
        return " / ".join(parts[:-2]), parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], None, parts[1]
    return None, None, text


def text_key(text: str) -> str:
    """What two renderings of one message's text share: letters and digits, case-folded.

    CSV, TXT, HTML and JSON differ in whitespace, markdown marks and emoji spelling, never in words.
    """
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def lowfi_message_id(minute_ms: int, seq: int, author: str, text: str) -> int:
    """A stable snowflake-shaped id for a message of an export without ids (see the module doc)."""
    ms = minute_ms - minute_ms % 60_000 + min(seq, 59_999)
    return ((ms - DISCORD_EPOCH_MS) << 22) | (_digest(author, text_key(text)) & 0x3FFFFF)
