"""What a file no source claims is, from its first bytes, so that skipping it is one clear line.

Every DCE format has a source; a file that still looks like one here was declined by it, so the reason
says what the source missed.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from archive.sources.base import Sniff

REEXPORT = "re-export the channel with DiscordChatExporter's JSON format (--format Json)"
# Leading bytes of files often found beside exports (DCE --media folders, zips of exports).
MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"GIF8", "a GIF image", ""),
    (b"%PDF", "a PDF document", ""),
    (b"PK\x03\x04", "a ZIP archive", "unzip it and ingest the folder"),
    (b"\x1f\x8b", "a gzip file", "decompress it first"),
)
_CSV_HEADER = re.compile(rb'^"?AuthorID"?[,;]"?Author"?[,;]"?Date"?[,;]"?Content"?')
_TXT_HEADER = re.compile(rb"^=+\r?\nGuild: .*\r?\nChannel: ", re.MULTILINE)


def describe(path: Path, head: bytes) -> Sniff:
    """What the file is and why no source reads it (never a claim)."""
    text = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    low = text[:4096].lower()
    if not head:
        return Sniff.refuse("an empty file", "nothing to read", export=False)
    if b"<html" in low or b"<!doctype html" in low:
        if b"chatlog" in text or b"DiscordChatExporter" in text:
            return Sniff.refuse(
                "a DCE HTML export",
                f"no DCE chatlog markup in its first 256 KB (a damaged page, or an unknown DCE version); {REEXPORT}",
            )
        return Sniff.refuse("an HTML page", "not a DiscordChatExporter export", export=False)
    if _CSV_HEADER.match(text):
        return Sniff.refuse(
            "a DCE CSV export", f"its header is not one of DCE's two CSV dialects; {REEXPORT}"
        )
    if _TXT_HEADER.match(text):
        return Sniff.refuse(
            "a DCE TXT export",
            f"its rule line is not DCE's 62 '=' (edited, or an unknown DCE version); {REEXPORT}",
        )
    for magic, what, fix in MAGIC:
        if head.startswith(magic):
            return Sniff.refuse(what, fix or "not a DiscordChatExporter export", export=False)
    if b"\x00" in head[:4096]:
        return Sniff.refuse("a binary file", "not a DiscordChatExporter export", export=False)
    return Sniff.refuse("a text file", "not a DiscordChatExporter export", export=False)
