"""Stream a DiscordChatExporter plain-text export (`.txt`, PlainText format, every era).

Layout (see ../shared/docs/dce-format.md 4.1): a block between two lines of 62 `=` (Guild, Channel,
Topic, and up to 2.15 `Messages: N`), then messages `[date] FullName[ (pinned)]` + content + optional
`{Attachments}`, `{Embed}`, `{Stickers}`, `{Reactions}` sections, then (2.17+) a footer
`Exported N message(s)`. A message header is only taken after a blank line and when its date parses,
so content holding a `[...]` line stays content. No message ids: records are low fidelity.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archive.errors import ExportFormatError
from archive.sources._identity import resolve_channel, split_channel_path, synthetic_id
from archive.sources._lowfi import LowFiBuilder, parse_export_date
from archive.sources.base import ChannelInfo, ExportHeader, FileReader, RawMessage, Sniff

FORMAT = "txt"
FIDELITY = 1  # below CSV: no author ids
RULE = "=" * 62
_HEADER_RE = re.compile(r"^\[(.+?)\] (.+?)( \(pinned\))?$")
_SECTIONS = {"{Attachments}", "{Embed}", "{Stickers}", "{Reactions}", "{Forwarded Message}"}
_COUNT_RE = re.compile(r"^Exported ([\d.,\s\u00a0\u202f']+) message")


def _looks_like_export(head: bytes) -> bool:
    text = head.removeprefix(codecs.BOM_UTF8)[:4096].decode("utf-8", "replace").lstrip("\r\n")
    return text.startswith(RULE) and "Guild:" in text[:400]


class DceTxtSource:
    """DiscordChatExporter's PlainText format (a rule of 62 '=' then 'Guild:'), every era."""

    name = "DCE TXT"

    def sniff(self, path: Path, head: bytes) -> Sniff | None:
        """Claim files that start like a DCE text export."""
        return Sniff.read() if _looks_like_export(head) else None

    def open(self, path: Path) -> TxtExportReader:
        """Open the export and read its header block."""
        return TxtExportReader(path)


SOURCE = DceTxtSource()


class TxtExportReader(FileReader):
    """Reads one plain-text export; iterate `batches()` after construction (which reads the header)."""

    format = FORMAT
    fidelity = FIDELITY

    def __init__(self, path: Path, *, batch_size: int = 2000) -> None:
        super().__init__(path, batch_size)
        self._line = 0
        self._offset = 0
        try:
            self.header, self._legacy = self._read_header()
        except BaseException:
            self._fh.close()
            raise

    def _next(self) -> str | None:
        raw = self._fh.readline()
        if not raw:
            return None
        self._line += 1
        at = self._offset
        self._offset += len(raw)
        if self._line == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[3:]
        try:
            return raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise self._fail(
                f"byte {at + e.start} (line {self._line})", f"invalid UTF-8 ({e.reason})"
            ) from None

    def _read_header(self) -> tuple[ExportHeader, bool]:
        head = self._fh.read(4096)
        if not head:
            raise self._fail("byte 0", "the file is empty")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise self._fail("byte 0", "the file is UTF-16; DCE writes UTF-8 (re-save it as UTF-8)")
        if not _looks_like_export(head):
            raise self._fail(
                "line 1", f"not a DCE text export: it should start with {RULE[:10]}… and 'Guild:'"
            )
        self._fh.seek(0)
        first = self._next()
        while first is not None and not first.strip():
            first = self._next()
        fields: dict[str, str] = {}
        line = self._next()
        while line is not None and line != RULE:
            key, sep, value = line.partition(": ")
            if sep:
                fields[key] = value
            line = self._next()
        if line is None:
            raise self._fail(f"line {self._line}", "truncated: the header block never ends")
        guild = fields.get("Guild", "")
        channel = fields.get("Channel", "")
        category, parent, name = split_channel_path(channel)
        if "Messages" in fields and fields["Messages"].replace(",", "").isdigit():
            self.declared_count = int(fields["Messages"].replace(",", ""))
        self._body_at = self._fh.tell()
        sample = self._fh.read(1024 * 1024).decode("utf-8", "replace")
        self._fh.seek(self._body_at)
        cid, self.channel_synthetic = resolve_channel(self.path, sample, guild, name)
        gid = 0 if guild == "Direct Messages" else synthetic_id("guild", guild)
        info = ChannelInfo(
            id=cid,
            name=name or channel or str(cid),
            guild_id=gid,
            guild_name=guild or str(gid),
            topic=fields.get("Topic"),
            type="GuildPublicThread" if parent else "GuildTextChat",
            is_thread=parent is not None,
            parent_name=parent,
            category=None if parent else category,
        )
        header = ExportHeader(channel=info, as_of=self.tail_as_of_ms() or 0)
        return header, "Messages" in fields or "Range" in fields

    def tail_as_of_ms(self) -> int | None:
        """The newest message date in the last 64 KB, as written (TXT has no export time)."""
        size = self.path.stat().st_size
        with self.path.open("rb") as fh:
            fh.seek(max(0, size - 65536))
            lines = fh.read().decode("utf-8", "replace").splitlines()
        found = []
        for line in lines:
            m = _HEADER_RE.match(line)
            parsed = parse_export_date(m.group(1)) if m else None
            if parsed is not None:
                found.append(parsed[0])
        return max(found) if found else None

    def _messages(self) -> Iterator[tuple[int, int, list[str], re.Match[str]]]:
        """(byte offset, line, body lines, header match) per message; checks the footer."""
        current: tuple[int, int, list[str], re.Match[str]] | None = None
        blank = True
        footer = False
        while True:
            at = self._offset
            line = self._next()
            if line is None:
                break
            if line == RULE:
                rest = self._next()
                if rest is not None and _COUNT_RE.match(rest):
                    digits = re.sub(r"\D", "", _COUNT_RE.match(rest).group(1))  # type: ignore[union-attr]
                    self.declared_count = int(digits) if digits else None
                    footer = True
                    break
                if current is not None:
                    current[2].extend([line] + ([rest] if rest is not None else []))
                continue
            m = _HEADER_RE.match(line) if blank else None
            if m is not None and parse_export_date(m.group(1)) is not None:
                if current is not None:
                    yield current
                current = (at, self._line, [], m)
            elif current is not None:
                current[2].append(line)
            elif line.strip():
                raise self._fail(f"line {self._line}", "not a DCE text export: text before the first message")
            blank = not line.strip()
        if current is not None:
            yield current
        if not footer and not self._legacy:
            raise self._fail(
                f"byte {self._offset} (line {self._line})",
                "truncated: no 'Exported N message(s)' footer (the export was cut short)",
            )

    def batches(self) -> Iterator[list[RawMessage]]:
        """Yield lists of messages; raise ExportFormatError at the first damage."""
        builder = LowFiBuilder()
        batch: list[RawMessage] = []
        try:
            for at, _, body, m in self._messages():
                obj = builder.message(**_split_body(m, body))
                if obj is None:  # cannot happen: the header's date parsed
                    continue
                batch.append(obj.raw(at))
                if len(batch) >= self.batch_size:
                    yield batch
                    batch = []
        except ExportFormatError:
            if batch:
                yield batch
            raise
        if batch:
            yield batch


def _split_body(m: re.Match[str], body: list[str]) -> dict[str, Any]:
    """The keyword arguments of LowFiBuilder.message for one message's header and lines."""
    sections: dict[str, list[str]] = {"content": []}
    key = "content"
    for line in body:
        if line in _SECTIONS:
            key = line
            sections.setdefault(key, [])
            continue
        sections[key].append(line)
    while sections["content"] and not sections["content"][-1].strip():
        sections["content"].pop()
    attachments = [x.strip() for x in sections.get("{Attachments}", []) if x.strip()]
    embed = [x for x in sections.get("{Embed}", []) if x.strip()]
    reactions = " ".join(x.strip() for x in sections.get("{Reactions}", []) if x.strip())
    return {
        "date": m.group(1),
        "author": m.group(2),
        "author_id": None,
        "content": "\n".join(sections["content"]),
        "attachments": attachments + [x.strip() for x in sections.get("{Stickers}", []) if x.strip()],
        "reactions": reactions,
        "embed_lines": embed,
        "pinned": m.group(3) is not None,
    }
