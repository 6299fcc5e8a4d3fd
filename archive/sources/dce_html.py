"""Stream a DiscordChatExporter HTML export (HtmlDark or HtmlLight, every era) as DCE-JSON-shaped messages.

The file is read in chunks and cut at message-group boundaries (`<div class=chatlog__message-group`,
quoted or not: DCE minifies since 2.35), so only one stretch of groups is parsed at a time and memory
stays bounded whatever the file size. A group longer than GROUP_LIMIT (one author posting for hours)
is cut again before one of its messages. Each stretch is parsed by Lexbor (selectolax).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from archive.normalize import snowflake_ms
from archive.sources._html_messages import Author, parse_groups
from archive.sources._html_text import plain
from archive.sources._identity import guild_icon_id, resolve_channel, split_channel_path, synthetic_id
from archive.sources.base import ChannelInfo, ExportHeader, FileReader, RawMessage, Sniff, SourceMessage

FORMAT = "html"
FIDELITY = 3
CHUNK_SIZE = 1024 * 1024  # one stretch of groups parsed at a time: its DOM is ~30x its bytes
GROUP_LIMIT = 2 * 1024 * 1024  # a longer group is cut before one of its messages
HEAD_LIMIT = 8 * 1024 * 1024
_GROUP_RE = re.compile(rb"<div\s+class\s*=\s*[\"']?chatlog__message-group(?=[\s\"'>])")
_MESSAGE_RE = re.compile(rb"<div\b[^>]*?data-message-id")
_COUNT_RE = re.compile(r"Exported\s+([\d.,\s\u00a0\u202f']+)\s+message|(\d[\d,.]*)\s+messages?\b")
_LAST_ID_RE = re.compile(rb"data-message-id\s*=\s*[\"']?(\d{15,20})")


def _last_group_start(data: bytes) -> int:
    """Offset of the last message-group start in data, or -1."""
    starts = [m.start() for m in _GROUP_RE.finditer(data)]
    return starts[-1] if starts else -1


def looks_like_export(path: Path, head: bytes) -> bool:
    """Whether a file is an HTML page with DCE's chatlog markup (in its CSS or messages, first 256 KB)."""
    low = head[:4096].lower()
    if b"<html" not in low and b"<!doctype html" not in low:
        return False
    if b"chatlog" in head:
        return True
    with path.open("rb") as fh:
        return b"chatlog" in fh.read(256 * 1024)


class DceHtmlSource:
    """DiscordChatExporter's HtmlDark/HtmlLight formats, every era; an HTML page without its markup is not claimed."""

    name = "DCE HTML"

    def sniff(self, path: Path, head: bytes) -> Sniff | None:
        """Claim HTML pages that carry DCE's chatlog markup."""
        return Sniff.read() if looks_like_export(path, head) else None

    def open(self, path: Path) -> HtmlExportReader:
        """Open the export and parse its preamble."""
        return HtmlExportReader(path)


SOURCE = DceHtmlSource()


def _raw(message: SourceMessage | str, where: int) -> RawMessage:
    if isinstance(message, str):
        return (where, None, {"id": message})  # not a snowflake: the normalizer names it and skips it
    return message.raw(where)


class HtmlExportReader(FileReader):
    """Reads one HTML export; iterate `batches()` after construction (which parses the preamble)."""

    format = FORMAT
    fidelity = FIDELITY

    def __init__(self, path: Path, *, batch_size: int = 2000) -> None:
        super().__init__(path, batch_size)
        self.channel_synthetic = False
        try:
            self._buf, self._base = self._read_head()
            self.header = self._parse_preamble()
        except BaseException:
            self._fh.close()
            raise

    def _read_head(self) -> tuple[bytes, int]:
        head = self._fh.read(CHUNK_SIZE)
        if not head:
            raise self._fail("byte 0", "the file is empty")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise self._fail("byte 0", "the file is UTF-16; DCE writes UTF-8 (re-save it as UTF-8)")
        bom = 3 if head.startswith(codecs.BOM_UTF8) else 0
        if b"chatlog" not in head:
            raise self._fail("byte 0", "an HTML page that is not a DCE export (no chatlog markup)")
        while _GROUP_RE.search(head) is None and len(head) < HEAD_LIMIT:
            more = self._fh.read(CHUNK_SIZE)
            if not more:
                break
            head += more
        return head[bom:], bom

    def _decode(self, data: bytes, at: int) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise self._fail(f"byte {at + e.start}", f"invalid UTF-8 ({e.reason})") from None

    def _parse_preamble(self) -> ExportHeader:
        m = _GROUP_RE.search(self._buf)
        cut = m.start() if m else len(self._buf)
        text = self._decode(self._buf[:cut], self._base)
        tree = LexborHTMLParser(text)
        entries = [plain(n) for n in tree.css(".preamble__entry")]
        guild = plain(tree.css_first(".info__guild-name")) or (entries[0] if entries else "")
        channel = plain(tree.css_first(".info__channel-name")) or (entries[1] if len(entries) > 1 else "")
        topic = plain(tree.css_first(".info__channel-topic, .preamble__entry--small")) or None
        if not guild and not channel:
            title = plain(tree.css_first("title"))
            guild, _, channel = title.partition(" - ")
        count = plain(tree.css_first(".info__channel-message-count"))
        self._note_count(count)
        category, parent, name = split_channel_path(channel)
        icon = tree.css_first("img.info__guild-icon, img.preamble__guild-icon")
        icon_url = icon.attributes.get("src") if icon is not None else None
        gid = guild_icon_id(icon_url or "")
        sample = self._buf[: 2 * CHUNK_SIZE].decode("utf-8", "replace")
        cid, self.channel_synthetic = resolve_channel(self.path, sample, guild, name)
        if gid is None:
            gid = 0 if guild == "Direct Messages" else synthetic_id("guild", guild)
        channel_info = ChannelInfo(
            id=cid,
            name=name or str(cid),
            guild_id=gid,
            guild_name=guild or str(gid),
            guild_icon_url=icon_url,
            topic=topic,
            type="GuildPublicThread" if parent else "GuildTextChat",
            is_thread=parent is not None,
            parent_name=parent,
            category=None if parent else category,
        )
        return ExportHeader(channel=channel_info, as_of=self.tail_as_of_ms() or 0)

    def _note_count(self, text: str) -> None:
        m = _COUNT_RE.search(text)
        if m:
            digits = re.sub(r"\D", "", m.group(1) or m.group(2) or "")
            if digits:
                self.declared_count = int(digits)

    def tail_as_of_ms(self) -> int | None:
        """Creation time of the newest message id in the last 256 KB (HTML carries no export time)."""
        size = self.path.stat().st_size
        with self.path.open("rb") as fh:
            fh.seek(max(0, size - 256 * 1024))
            ids = [int(x) for x in _LAST_ID_RE.findall(fh.read())]
        return snowflake_ms(max(ids)) if ids else None

    def _stretches(self) -> Iterator[tuple[int, bytes, bool]]:
        """(file offset, bytes of whole groups, whether it ends the file), cut at group boundaries."""
        buf, base, eof = self._buf, self._base, False
        first = _GROUP_RE.search(buf)
        start = first.start() if first else len(buf)
        buf, base = buf[start:], base + start
        while True:
            if not eof:
                more = self._fh.read(CHUNK_SIZE)
                if more:
                    buf += more
                else:
                    eof = True
            if eof:
                yield base, buf, True
                return
            # Cut before the last group start seen (the group after it may still be incomplete).
            last = _last_group_start(buf)
            if last > 0:
                cut = last
            elif len(buf) > GROUP_LIMIT:
                msgs = list(_MESSAGE_RE.finditer(buf, len(buf) // 2))
                cut = msgs[-1].start() if msgs else len(buf)
            else:
                continue
            yield base, buf[:cut], False
            buf, base = buf[cut:], base + cut

    def batches(self) -> Iterator[list[RawMessage]]:
        """Yield lists of parsed messages; raise ExportFormatError at the first damage."""
        carry: Author | None = None
        batch: list[RawMessage] = []
        index = 0
        for offset, data, last in self._stretches():
            text = self._decode(data, offset)
            if last:
                text, complete = self._strip_postamble(text)
                if not complete:
                    # The last group may be cut short: keep the groups before it, then say where.
                    last_group = _last_group_start(data)
                    cut = max(last_group, 0)
                    inside = "inside a message group" if last_group >= 0 else "before </html>"
                    messages, carry = parse_groups(self._decode(data[:cut], offset), carry)
                    for obj in messages:
                        index += 1
                        batch.append(_raw(obj, offset))
                    if batch:
                        yield batch
                    raise self._fail(
                        f"byte {offset + cut} (message {index + 1})",
                        f"truncated: the file ends {inside} (after {index} complete messages)",
                    )
            messages, carry = parse_groups(text, carry)
            for obj in messages:
                index += 1
                batch.append(_raw(obj, offset))
                if len(batch) >= self.batch_size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def _strip_postamble(self, text: str) -> tuple[str, bool]:
        """Drop the postamble (reading its message count); say whether the document is complete."""
        complete = text.rstrip().lower().endswith("</html>")
        pos = max(text.rfind('class="postamble'), text.rfind("class=postamble"))
        if pos != -1:
            self._note_count(plain(LexborHTMLParser(text[pos - 5 :]).body))
            text = text[: text.rfind("<", 0, pos)]
        return text, complete
