"""Serve local `--media` files from the folder of the export that listed them, and from nowhere else.

The URL names only a message id, a kind and a position; the path comes from the archive and is
resolved (symlinks included) with os.path.realpath, then must lie inside the export file's folder.
Anything else is a 404. Absolute `--media-dir` paths outside the export folder are refused too.
"""

from __future__ import annotations

import mimetypes
import os
import re
import sqlite3
from typing import Any

import orjson

from archive import views
from web.present import INLINE_IMAGE_EXT, extension, is_local

KINDS = ("attachment", "sticker", "thumbnail", "image", "reaction")
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def resolve_inside(folder: str, relative: str) -> str | None:
    """The real path of `relative` under `folder`, or None when it is absolute, escapes, or is not a file."""
    if not relative or "\x00" in relative:
        return None
    relative = relative.replace("\\", "/")
    if relative.startswith("/") or _DRIVE_RE.match(relative):
        return None
    root = os.path.realpath(folder)
    candidate = os.path.realpath(os.path.join(root, relative))
    try:
        if os.path.commonpath([root, candidate]) != root or candidate == root:
            return None
    except ValueError:  # different drives on Windows
        return None
    return candidate if os.path.isfile(candidate) else None


def _media_value(conn: sqlite3.Connection, message_id: int, kind: str, pos: int) -> str | None:
    """The local path stored for one media item of a live message, or None."""
    row = views.find_message(conn, message_id)
    if row is None or row["deleted"] or row["redacted"]:
        return None
    if kind == "attachment":
        att = views.find_attachment(conn, message_id, pos)
        return att["path"] if att else None
    extras = views.details(conn, [message_id])[message_id]
    if kind == "reaction":
        hits = [r for r in extras["reactions"] if r["pos"] == pos and r.get("emoji_id")]
        value: Any = hits[0]["image_url"] if hits else None
    elif kind == "sticker":
        found = [s for s in extras["stickers"] if s["pos"] == pos]
        value = found[0]["url"] if found else None
    else:
        found = [e for e in extras["embeds"] if e["pos"] == pos]
        data = orjson.loads(found[0]["data"]) if found else {}
        part = data.get(kind) if isinstance(data, dict) else None
        if part is None and kind == "image" and isinstance(data, dict) and data.get("images"):
            part = data["images"][0]
        value = part.get("url") if isinstance(part, dict) else None
    return value.replace("\\", "/") if is_local(value) else None


def find_media_file(conn: sqlite3.Connection, message_id: int, kind: str, pos: int) -> str | None:
    """The real path of a message's local media file, checked against each export folder that has it."""
    if kind not in KINDS:
        return None
    relative = _media_value(conn, message_id, kind, pos)
    if relative is None:
        return None
    for export_path in views.export_paths(conn, message_id):
        found = resolve_inside(os.path.dirname(export_path), relative)
        if found is not None:
            return found
    return None


def media_headers(path: str) -> tuple[str, dict[str, str]]:
    """The media type and headers to serve a file with: images inline, everything else as a download."""
    name = os.path.basename(path)
    inline = extension(name) in INLINE_IMAGE_EXT or extension(name) in {"mp4", "webm", "mp3", "ogg", "wav"}
    media_type = (mimetypes.guess_type(name)[0] if inline else None) or "application/octet-stream"
    safe_name = re.sub(r"[^A-Za-z0-9._ -]", "_", name)
    disposition = "inline" if inline else "attachment"
    return media_type, {
        "Content-Disposition": f'{disposition}; filename="{safe_name}"',
        "Content-Security-Policy": MEDIA_CSP,
        "X-Content-Type-Options": "nosniff",
        # Never public: a message may be withheld later, and a shared cache would go on serving its files.
        "Cache-Control": "private, no-cache",
    }
