"""The site's search: Pagefind pages of up to `GROUP_SIZE` messages, each message a section of its page.

One Pagefind page per message made Pagefind score every matching message of a common word in the browser
(34.6 s for `the` at 100k messages) and run for minutes at build time. So messages go to Pagefind in groups:
consecutive messages of one channel and one month. Channel, month and year filters are then exact for a
group; author and `has` filters hold every value of the group's messages. Each message is a section: an
empty heading whose id carries the message id, timestamp, `has` kinds and author (`anchor_id`). The search
page splits a result's content at those headings (Pagefind reports each heading's word position), keeps
the messages that hold a matched word and pass every filter, and links each to its permalink. Message
counts per filter value, which Pagefind would count per group, are written beside the bundle (`COUNTS`).
Pagefind writes content-addressed files, so a group that didn't change keeps its fragment file.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from pagefind.index import PagefindIndex

from archive.schema import HAS_FLAGS
from publish.errors import PublishError
from publish.writer import FileWrites
from web import present
from web.markdown import UserRef, to_plain_text


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """What the search knows about one message."""

    id: str
    author: str
    channel: str
    timestamp: str
    has: tuple[str, ...]
    text: str

    def anchor_id(self) -> str:
        """The id of the message's section heading: `m<id>~<timestamp>~<has,…>~<author>`, the author
        percent-encoded (Pagefind cuts an id at white space) and last, so nothing in it can shift the rest."""
        return f"m{self.id}~{self.timestamp}~{','.join(self.has)}~{quote(self.author, safe='')}"


GROUP_SIZE = 400  # messages per Pagefind page (bench/search_groups.py: 400 beat 100 at 100k and at 1M)
BUNDLE = "pagefind"
COUNTS = "hallway-counts.json"  # messages per filter value, beside Pagefind's files


def group(records: list[SearchRecord], size: int = GROUP_SIZE) -> list[list[SearchRecord]]:
    """Consecutive records of one channel and one month, at most `size` to a group (records come channel
    by channel, oldest first, so each group is a stretch of one timeline)."""
    out: list[list[SearchRecord]] = []
    for r in records:
        last = out[-1][-1] if out else None
        if (
            last is None
            or len(out[-1]) >= size
            or last.channel != r.channel
            or last.timestamp[:7] != r.timestamp[:7]
        ):
            out.append([r])
        else:
            out[-1].append(r)
    return out


def group_document(records: list[SearchRecord]) -> str:
    """A group as the HTML Pagefind indexes (every value escaped: chat text is hostile)."""
    e = html.escape
    first = records[0]
    filters = [("channel", first.channel), ("month", first.timestamp[:7]), ("year", first.timestamp[:4])]
    filters += [("author", a) for a in sorted({r.author for r in records})]
    filters += [("has", k) for k in sorted({k for r in records for k in r.has})]
    hidden = "".join(f'<span data-pagefind-filter="{k}">{e(v)}</span>' for k, v in filters)
    hidden += f'<span data-pagefind-meta="channel">{e(first.channel)}</span>'
    hidden += f'<span data-pagefind-sort="date">{e(first.timestamp)}</span>'
    hidden += f'<span data-pagefind-sort="last">{e(records[-1].timestamp)}</span>'
    sections = "".join(f'<h2 id="{e(r.anchor_id())}"></h2><p>{e(r.text)}</p>' for r in records)
    title = f"#{first.channel}, {first.timestamp[:7]}"
    return (
        f'<html lang="en"><head><title>{e(title)}</title></head><body><main data-pagefind-body>'
        f'<div data-pagefind-ignore="index">{hidden}</div>{sections}</main></body></html>'
    )


def filter_counts(records: list[SearchRecord]) -> dict[str, dict[str, int]]:
    """How many messages each filter value has (what the search page's menus show)."""
    out: dict[str, dict[str, int]] = {"channel": {}, "author": {}, "month": {}, "year": {}, "has": {}}
    for r in records:
        for kind, value in (("channel", r.channel), ("author", r.author), ("month", r.timestamp[:7]),
                            ("year", r.timestamp[:4]), *(("has", k) for k in r.has)):  # fmt: skip
            out[kind][value] = out[kind].get(value, 0) + 1
    return out


def documents(records: list[SearchRecord], size: int = GROUP_SIZE) -> list[tuple[str, str]]:
    """(file name, HTML) of every Pagefind page of the records; a group is named by its first message."""
    return [(f"g/{g[0].id}.html", group_document(g)) for g in group(records, size)]


def build_record(message: dict[str, Any], channel_name: str, flags: int) -> SearchRecord | None:
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
        author=who,
        channel=channel_name,
        timestamp=message["timestamp"],
        has=tuple(name for name, bit in HAS_FLAGS.items() if flags & bit),
        text=" ".join(p for p in parts if p).strip(),
    )


def write_bundle(records: list[SearchRecord], staging: Path, group_size: int = GROUP_SIZE) -> Path:
    """Index the records with Pagefind and write its bundle into `staging`/pagefind; returns that folder.

    The groups go to Pagefind as one folder of HTML files (one call, indexed in parallel by the binary)
    rather than one request per group over its pipe, which costs ~0.1 s each.
    """
    folder = staging / "records"
    files = FileWrites()  # written by the site's writer threads
    for name, text in documents(records, group_size):
        files.put(folder / name, text.encode(), fresh=True)
    files.close()
    try:
        asyncio.run(_index(folder, staging / BUNDLE))
    except Exception as e:  # the Pagefind service is a subprocess; any failure of it is one error here
        raise PublishError(f"Pagefind could not build the search index: {e}") from e
    counts = orjson.dumps(filter_counts(records), option=orjson.OPT_SORT_KEYS)
    (staging / BUNDLE / COUNTS).write_bytes(counts)
    return staging / BUNDLE


async def _index(documents: Path, output: Path) -> None:
    config = {"force_language": "en", "keep_index_url": True, "output_path": str(output)}
    async with PagefindIndex(config=config) as index:  # type: ignore[arg-type]
        await index.add_directory(str(documents))


def channel_label(channel: dict[str, Any] | None) -> str:
    """How a channel is named in search filters (threads by their own name)."""
    return present.channel(channel)["name"] if channel else "unknown"
