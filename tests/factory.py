"""Build DCE exports for tests: real files in the shapes of several DCE eras."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

EPOCH = 1420070400000
BASE_MS = 1_700_000_000_000  # 2023-11-14


def sf(offset_s: float, seq: int = 0) -> str:
    """A snowflake id for BASE_MS + offset seconds."""
    return str(((BASE_MS + int(offset_s * 1000) - EPOCH) << 22) | seq)


def iso(offset_s: float, tz: str = "+00:00") -> str:
    dt = datetime.fromtimestamp((BASE_MS + int(offset_s * 1000)) / 1000, tz=UTC)
    if tz != "+00:00":
        sign = 1 if tz[0] == "+" else -1
        delta = timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        dt = dt.astimezone(timezone(sign * delta))
    return dt.isoformat(timespec="milliseconds")


ALICE = {
    "id": "100000000000000001",
    "name": "alice",
    "discriminator": "0000",
    "nickname": "Alice A",
    "color": None,
    "isBot": False,
    "roles": [],
    "avatarUrl": "https://cdn.discordapp.com/embed/avatars/1.png",
}
BOB = {
    "id": "100000000000000002",
    "name": "bob",
    "discriminator": "0000",
    "nickname": "Bob B",
    "color": None,
    "isBot": False,
    "roles": [],
    "avatarUrl": "https://cdn.discordapp.com/embed/avatars/2.png",
}
CAROL = {
    "id": "100000000000000003",
    "name": "carol",
    "discriminator": "0000",
    "nickname": "Carol C",
    "color": None,
    "isBot": False,
    "roles": [],
    "avatarUrl": "https://cdn.discordapp.com/embed/avatars/3.png",
}


def msg(offset_s: float, content: str, author: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """A current-era message at BASE + offset seconds."""
    m: dict[str, Any] = {
        "id": sf(offset_s),
        "type": "Default",
        "timestamp": iso(offset_s),
        "timestampEdited": None,
        "callEndedTimestamp": None,
        "isPinned": False,
        "content": content,
        "author": author or ALICE,
        "attachments": [],
        "embeds": [],
        "stickers": [],
        "reactions": [],
        "mentions": [],
        "inlineEmojis": [],
    }
    m.update(kw)
    return m


def export_doc(
    messages: list[dict[str, Any]],
    *,
    channel_id: str = "200000000000000001",
    channel_name: str = "general",
    channel_type: str = "GuildTextChat",
    category_id: str | None = None,
    category: str | None = None,
    guild_id: str = "300000000000000001",
    guild_name: str = "Test Guild",
    exported_at: str | None = "2025-01-01T00:00:00.0000000+00:00",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "guild": {
            "id": guild_id,
            "name": guild_name,
            "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
        },
        "channel": {
            "id": channel_id,
            "type": channel_type,
            "categoryId": category_id,
            "category": category,
            "name": channel_name,
            "topic": None,
        },
        "dateRange": {"after": None, "before": None},
    }
    if exported_at is not None:
        doc["exportedAt"] = exported_at
    doc["messages"] = messages
    doc["messageCount"] = len(messages)
    return doc


def write_json(path: Path, doc: dict[str, Any], *, indent: int | None = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        json.dumps(doc, indent=indent, ensure_ascii=False)
        if indent
        else json.dumps(doc, separators=(",", ":"))
    )
    path.write_text(text, encoding="utf-8")
    return path


def write_export(path: Path, messages: list[dict[str, Any]], *, indent: int | None = 2, **kw: Any) -> Path:
    return write_json(path, export_doc(messages, **kw), indent=indent)
