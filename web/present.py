"""Turn archive rows into the public, JSON-ready shapes every page and its `.json` twin share.

Ids are strings (snowflakes overflow JavaScript numbers), times are ISO-8601 UTC, and URLs are
site paths from `web.urls`. A tombstone never carries content, attachments or revisions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson

from archive.lowfi import LOW_FIDELITY
from archive.normalize import display_name, iso_utc
from web import urls

# Formats a browser shows inline; SVG is left out on purpose (it can carry script).
INLINE_IMAGE_EXT = frozenset({"png", "jpg", "jpeg", "gif", "webp", "bmp", "avif"})
# Keys of a message's `extra` JSON worth showing (forwards, slash-command interactions).
SHOWN_EXTRA = ("forwardedMessage", "interaction")

Public = dict[str, Any]


def safe_url(value: object) -> str | None:
    """An http(s) URL from an export, or None (never `javascript:` and friends)."""
    if isinstance(value, str) and value.lower().startswith(("https://", "http://")):
        return value
    return None


def is_local(value: object) -> bool:
    """Whether an export URL is a `--media` local path (not a URL of any scheme)."""
    return (
        isinstance(value, str)
        and bool(value)
        and "://" not in value
        and not value.lower().startswith("data:")
    )


def iso(ms: int | None) -> str | None:
    """Unix ms as ISO-8601 UTC, or None."""
    return iso_utc(ms) if ms is not None else None


def day(ms: int) -> str:
    """The UTC date of Unix ms, YYYY-MM-DD."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def extension(name: str | None) -> str:
    """The lower-case extension of a file name or URL path."""
    if not name:
        return ""
    tail = name.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else ""


def author(row: dict[str, Any]) -> Public | None:
    """The author of a message row, or None when unknown or withheld."""
    if row.get("author_id") is None:
        return None
    name = row.get("author_name") or str(row["author_id"])
    return {
        "id": str(row["author_id"]),
        "name": name,
        "display_name": display_name(name, row.get("author_nickname")),
        "is_bot": bool(row.get("author_is_bot")),
        "pseudonym": bool(row.get("author_pseudonym")),
        "avatar_url": safe_url(row.get("author_avatar_url")),
        "url": urls.user_url(row["author_id"]),
    }


def tombstone(row: dict[str, Any]) -> str | None:
    """The notice shown instead of a deleted or taken-down message, or None when it is live."""
    if row.get("redacted"):
        return f"This message was withheld from the archive ({row['redacted']})."
    if row.get("deleted"):
        return (
            f"This message was deleted from Discord; it was last seen in an export of {day(row['seen_ts'])}."
        )
    return None


def attachment(mid: int, a: dict[str, Any]) -> Public:
    """One attachment: local media are served by the viewer, CDN links (which expire) are links."""
    local = bool(a.get("path"))
    name = a.get("file_name") or (a.get("url") or "file").rsplit("/", 1)[-1]
    return {
        "file_name": name,
        "size": a.get("size"),
        "local": local,
        "url": urls.media_url(mid, a["pos"]) if local else safe_url(a.get("url")),
        "is_image": extension(name) in INLINE_IMAGE_EXT,
        "missing": False,  # set when the `--media` file is not in the export folder (web.timeline)
    }


def cdn_attachment_url(channel_id: int, a: dict[str, Any]) -> str | None:
    """Where Discord's CDN kept an attachment a `--media` export saved (its path replaced the URL), or None
    without an attachment id. Since 2023 such links need a fresh signature, so they may have expired."""
    if not a.get("id") or not a.get("file_name"):
        return None
    name = quote(str(a["file_name"]).replace("\\", "/").rsplit("/", 1)[-1])
    return f"https://cdn.discordapp.com/attachments/{int(channel_id)}/{int(a['id'])}/{name}"


def missing_file(public: Public, channel_id: int, a: dict[str, Any]) -> Public:
    """A local attachment whose file is not in the export folder: no broken image, the CDN link instead."""
    return {**public, "local": False, "missing": True, "url": cdn_attachment_url(channel_id, a)}


def _obj(value: object) -> dict[str, Any]:
    """A JSON object from an export, or {} when the export has something else there."""
    return value if isinstance(value, dict) else {}


def _embed_image(mid: int, pos: int, kind: str, value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    url = value.get("url")
    if is_local(url):
        return urls.media_url(mid, pos, kind=kind)
    return safe_url(url)


def embed(mid: int, e: dict[str, Any]) -> Public:
    """One embed: title, description, fields, author, footer, thumbnail and image."""
    data = orjson.loads(e["data"]) if e.get("data") else {}
    if not isinstance(data, dict):
        data = {}
    author_obj = _obj(data.get("author"))
    footer = _obj(data.get("footer"))
    fields = [
        {
            "name": str(f.get("name") or ""),
            "value": str(f.get("value") or ""),
            "inline": bool(f.get("isInline")),
        }
        for f in data.get("fields") or []
        if isinstance(f, dict)
    ]
    image = data.get("image")
    if image is None and isinstance(data.get("images"), list) and data["images"]:
        image = data["images"][0]
    color = data.get("color")
    return {
        "title": e.get("title"),
        "description": e.get("description"),
        "url": safe_url(e.get("url")),
        "color": color if isinstance(color, str) and color.startswith("#") and len(color) <= 9 else None,
        "author": {"name": author_obj.get("name"), "url": safe_url(author_obj.get("url"))}
        if author_obj.get("name")
        else None,
        "fields": fields,
        "thumbnail": _embed_image(mid, e["pos"], "thumbnail", data.get("thumbnail")),
        "image": _embed_image(mid, e["pos"], "image", image),
        "footer": str(footer.get("text")) if footer.get("text") else None,
    }


def sticker(mid: int, s: dict[str, Any]) -> Public:
    """One sticker: name, format and its image (local or CDN; Lottie stickers show as names)."""
    url = s.get("url")
    src = urls.media_url(mid, s["pos"], kind="sticker") if is_local(url) else safe_url(url)
    return {
        "name": s.get("name") or "sticker",
        "format": s.get("format"),
        "url": src if s.get("format") != "Lottie" else None,
    }


def reaction(mid: int, r: dict[str, Any]) -> Public:
    """One reaction: the emoji and its count. A custom emoji shows the export's own copy of its image (a
    `--media` export), otherwise its name: never Discord's CDN (the third-party request avatars avoid too)."""
    local = bool(r.get("emoji_id")) and is_local(r.get("image_url"))
    return {
        "emoji": r.get("emoji_name") or r.get("emoji_code") or "?",
        "emoji_id": str(r["emoji_id"]) if r.get("emoji_id") else None,
        "image_url": urls.media_url(mid, r["pos"], kind="reaction") if local else None,
        "count": r["count"],
    }


def message(row: dict[str, Any], extras: dict[str, list[dict[str, Any]]] | None = None) -> Public:
    """The public shape of one message (content, details and references); tombstones carry none."""
    mid = row["id"]
    notice = tombstone(row)
    extras = extras or {}
    live = notice is None
    ref = None
    if row.get("ref_kind"):
        ref = {
            "kind": row["ref_kind"],
            "message_id": str(row["ref_message_id"]) if row.get("ref_message_id") else None,
            "channel_id": str(row["ref_channel_id"]) if row.get("ref_channel_id") else None,
            "guild_id": str(row["ref_guild_id"]) if row.get("ref_guild_id") else None,
            **_reference_link(row),
        }
    extra: dict[str, Any] = {}
    if live and row.get("extra"):
        loaded = orjson.loads(row["extra"])
        if isinstance(loaded, dict):
            extra = {k: loaded[k] for k in SHOWN_EXTRA if k in loaded}
    return {
        "id": str(mid),
        "url": urls.message_url(mid),
        "channel_id": str(row["channel_id"]),
        "type": row["type"],
        "author": author(row),
        "timestamp": iso(row["ts"]),
        "edited_timestamp": iso(row.get("edited_ts")) if live else None,
        "content": row.get("content") if live else None,
        "deleted": bool(row.get("deleted")),
        "redacted": row.get("redacted"),
        "tombstone": notice,
        "pinned": bool(row.get("pinned")),
        # From a CSV or TXT export (no message ids): the text is exact, the id and time are not Discord's.
        "low_fidelity": int(row.get("fidelity") or 4) <= LOW_FIDELITY,
        "reply_to": str(row["reply_to"]) if row.get("reply_to") else None,
        "reference": ref,
        "attachments": [attachment(mid, a) for a in extras.get("attachments", [])] if live else [],
        "embeds": [embed(mid, e) for e in extras.get("embeds", [])] if live else [],
        "stickers": [sticker(mid, s) for s in extras.get("stickers", [])] if live else [],
        "reactions": [reaction(mid, r) for r in extras.get("reactions", [])] if live else [],
        "mentions": [
            {"id": str(x["user_id"]), "name": x.get("name"), "nickname": x.get("nickname")}
            for x in extras.get("mentions", [])
            if x.get("name")
        ]
        if live
        else [],
        "forwarded": _forwarded(extra.get("forwardedMessage")),
        "interaction": _interaction(extra.get("interaction")),
    }


REFERENCE_LABELS = {
    "pin": "the pinned message",
    "starter": "the message it started from",
    "thread": "the thread",
    "forward": "forwarded",
    "crosspost": "crossposted",
    "reference": "referenced message",
    "reply": "replied-to message",
}


def _reference_link(row: dict[str, Any]) -> dict[str, str | None]:
    """Where a reference points inside the archive: the thread for ThreadCreated, else the message."""
    kind = row["ref_kind"]
    if kind == "thread" and row.get("ref_channel_id"):
        url: str | None = urls.thread_url(row["ref_channel_id"])
    elif row.get("ref_message_id"):
        url = urls.message_url(row["ref_message_id"])
    else:
        url = None
    return {"url": url, "label": REFERENCE_LABELS.get(kind, "referenced message")}


def _forwarded(value: object) -> Public | None:
    if not isinstance(value, dict):
        return None
    content = value.get("content")
    return {"content": content if isinstance(content, str) else "", "timestamp": value.get("timestamp")}


def _interaction(value: object) -> Public | None:
    if not isinstance(value, dict):
        return None
    user = _obj(value.get("user"))
    return {"name": str(value.get("name") or ""), "user": str(user.get("name") or "") or None}


def channel(row: dict[str, Any]) -> Public:
    """The public shape of a channel or thread."""
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "type": row["type"],
        "topic": row.get("topic"),
        "guild_id": str(row["guild_id"]),
        "guild_name": row.get("guild_name"),
        "category": row.get("category"),
        "is_thread": bool(row.get("is_thread")),
        "parent_id": str(row["parent_id"]) if row.get("parent_id") else None,
        "parent_name": row.get("parent_name"),
        "url": urls.channel_url(row["id"]),
    }


def thread_summary(row: dict[str, Any]) -> Public:
    """A thread as listed under its starter message: name, message count, last activity."""
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "message_count": row.get("count", 0),
        "last_activity": iso(row.get("last_ts")),
        "url": urls.thread_url(row["id"]),
    }
