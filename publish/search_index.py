"""The site's search: one Pagefind page per message, so filters, metadata and date sort are per message.

Each record is a small HTML document whose one heading carries the message anchor, so the message is
also the record's sub-result (permalink + `#m<id>`). Filters: channel, author, month (YYYY-MM), year and
has (the server's `has:` kinds); metadata: author, channel, date; sort: date. Pagefind writes
content-addressed files, so a record that didn't change keeps its fragment file.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pagefind.index import PagefindIndex

from archive.schema import HAS_FLAGS
from publish.errors import PublishError
from publish.writer import FileWrites
from web import present
from web.markdown import UserRef, to_plain_text

BUNDLE = "pagefind"


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """What the search knows about one message."""

    id: str
    url: str
    author: str
    channel: str
    timestamp: str
    has: tuple[str, ...]
    text: str

    def document(self) -> str:
        """The record as the HTML Pagefind indexes (every value escaped: chat text is hostile)."""
        e = html.escape
        month, year = self.timestamp[:7], self.timestamp[:4]
        filters = [("channel", self.channel), ("author", self.author), ("month", month), ("year", year)]
        filters += [("has", kind) for kind in self.has]
        hidden = "".join(f'<span data-pagefind-filter="{k}">{e(v)}</span>' for k, v in filters)
        hidden += "".join(
            f'<span data-pagefind-meta="{k}">{e(v)}</span>'
            for k, v in (
                ("author", self.author),
                ("channel", self.channel),
                ("date", self.timestamp),
                ("id", self.id),
            )
        )
        hidden += f'<span data-pagefind-sort="date">{e(self.timestamp)}</span>'
        title = f"{self.author} in #{self.channel}"
        return (
            f'<html lang="en"><head><title>{e(title)}</title></head><body><main data-pagefind-body>'
            f'<div data-pagefind-ignore="index">{hidden}</div>'
            f'<h2 id="m{e(self.id)}" data-pagefind-ignore="index">{e(title)}</h2>'
            f"<p>{e(self.text)}</p></main></body></html>"
        )


def build_record(message: dict[str, Any], channel_name: str, flags: int, url: str) -> SearchRecord | None:
    """The record of a public message shape (`web.present.message`), or None for a tombstone."""
    if message["tombstone"]:
        return None
    users = {m["id"]: UserRef(m["id"], m["name"], m.get("nickname")) for m in message["mentions"]}
    parts = [to_plain_text(message["content"] or "", users=users)]
    parts += [a["file_name"] for a in message["attachments"]]
    for e in message["embeds"]:
        parts += [e["title"] or "", to_plain_text(e["description"] or "", users=users)]
    who = message["author"]["display_name"] if message["author"] else "Unknown author"
    return SearchRecord(
        id=message["id"],
        url=url,
        author=who,
        channel=channel_name,
        timestamp=message["timestamp"],
        has=tuple(name for name, bit in HAS_FLAGS.items() if flags & bit),
        text=" ".join(p for p in parts if p).strip(),
    )


def write_bundle(records: list[SearchRecord], staging: Path) -> Path:
    """Index the records with Pagefind and write its bundle into `staging`/pagefind; returns that folder.

    The records go to Pagefind as one folder of small HTML files (one call, indexed in parallel by the
    binary) rather than one request per record over its pipe, which costs ~0.1 s each.
    """
    documents = staging / "records"
    files = FileWrites()  # a file per record: written by the site's writer threads
    for r in records:
        files.put(documents / r.url, r.document().encode())
    files.close()
    try:
        asyncio.run(_index(documents, staging / BUNDLE))
    except Exception as e:  # the Pagefind service is a subprocess; any failure of it is one error here
        raise PublishError(f"Pagefind could not build the search index: {e}") from e
    return staging / BUNDLE


async def _index(documents: Path, output: Path) -> None:
    config = {"force_language": "en", "keep_index_url": True, "output_path": str(output)}
    async with PagefindIndex(config=config) as index:  # type: ignore[arg-type]
        await index.add_directory(str(documents))


def channel_label(channel: dict[str, Any] | None) -> str:
    """How a channel is named in search filters (threads by their own name)."""
    return present.channel(channel)["name"] if channel else "unknown"
