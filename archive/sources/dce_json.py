"""The DCE JSON source: stream an export's header, then its messages in batches, in bounded memory.

DCE writes indented JSON (`Utf8JsonWriter`, Indented=true), so every message of the top-level
`messages` array closes with a newline, the array's item indentation and `}`. JSON strings cannot
hold a raw newline, so that byte sequence can only be the end of a message: the reader splits on
it with `bytes.split` and hands each message to orjson, which is several times faster than an
event parser and gives exact byte offsets for errors. Minified or otherwise re-formatted files fall
back to ijson's C backend.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from itertools import accumulate, repeat
from pathlib import Path
from typing import Any

import ijson
import orjson

from archive.errors import ExportFormatError
from archive.normalize import parse_snowflake, parse_timestamp_ms
from archive.sources.base import KNOWN, ChannelInfo, ExportHeader, FileReader, RawMessage, Sniff

CHUNK_SIZE = 8 * 1024 * 1024
HEADER_LIMIT = 64 * 1024 * 1024
BATCH_SIZE = 2000
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a Discord message with its embeds is a few KB
PROBE_BYTES = 16 * 1024 * 1024  # how far to read for the end of the first message when telling the layout
_COUNT_TAIL_RE = re.compile(rb'"messageCount"\s*:\s*(\d+)\s*}\s*$')
_WS = b" \t\r\n"
# A DCE message's first key is its id: read it from the bytes, to ask the archive before parsing.
_ID_RE = re.compile(rb'\{\s*"id"\s*:\s*"(\d{1,20})"')
_TAIL_TS_RE = re.compile(rb'"timestamp(?:Edited)?"\s*:\s*"([^"]+)"')

THREAD_TYPES = frozenset({"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread", "10", "11", "12"})
FALLBACK_CATEGORIES = frozenset({"Text", "Private", "Group", "News", "Default", "Category"})


class DceJsonSource:
    """DiscordChatExporter's JSON format: every *.json file is claimed (its errors say what is wrong)."""

    name = "DCE JSON"

    def sniff(self, path: Path, head: bytes) -> Sniff | None:
        """Claim files named *.json, whatever they hold: a bad one fails with the reason, never silently."""
        return Sniff.read() if path.name.lower().endswith(".json") else None

    def open(self, path: Path) -> ExportReader:
        """Open the export and parse its header."""
        return ExportReader(path)


SOURCE = DceJsonSource()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def channel_info(path: Path, guild: dict[str, Any], channel: dict[str, Any]) -> ChannelInfo:
    """The header's guild and channel objects in normal form (any DCE era)."""
    cid = parse_snowflake(channel.get("id"))
    if cid is None:
        raise ExportFormatError(path, "header", f"channel id {channel.get('id')!r} is not a snowflake")
    gid = parse_snowflake(guild.get("id"))
    gid = 0 if gid is None else gid
    ctype = str(channel.get("type") or "GuildTextChat")
    is_thread = ctype in THREAD_TYPES
    category_id = category = None
    parent_id = parent_name = None
    if is_thread:
        # A thread's "category" is its parent channel.
        parent_id = parse_snowflake(channel.get("categoryId"))
        parent_name = _text(channel.get("category"))
    else:
        category_id = parse_snowflake(channel.get("categoryId"))
        category = _text(channel.get("category"))
        if category_id == 0 or (category_id is None and category in FALLBACK_CATEGORIES):
            # DCE 2.27-2.40 fallback: "0" / "Text" / "Private" mean "no category".
            category_id, category = None, None
    return ChannelInfo(
        id=cid,
        name=_text(channel.get("name")) or str(cid),
        type=ctype,
        guild_id=gid,
        guild_name=_text(guild.get("name")) or ("Direct Messages" if gid == 0 else str(gid)),
        guild_icon_url=_text(guild.get("iconUrl")),
        topic=_text(channel.get("topic")),
        is_thread=is_thread,
        parent_id=parent_id,
        parent_name=parent_name,
        category_id=category_id,
        category=category,
    )


class ExportReader(FileReader):
    """Reads one DCE JSON export; iterate `batches()` after construction (which parses the header)."""

    def __init__(self, path: Path, *, batch_size: int = BATCH_SIZE) -> None:
        super().__init__(path, batch_size)
        self.messages_read = 0
        # Set by the ingest: (id, raw) pairs -> the ids stored byte for byte, which are then not parsed.
        self.known: Callable[[list[tuple[int, bytes]]], set[int]] | None = None
        try:
            self._head = self._read_head()
            self.header, self._after_array = self._parse_header()
        except BaseException:
            self._fh.close()
            raise

    def _read_head(self) -> bytes:
        head = self._fh.read(1024 * 1024)
        if not head:
            raise self._fail("byte 0", "the file is empty")
        if head.startswith(codecs.BOM_UTF8):
            head = head[3:]
            self._bom = 3
        else:
            self._bom = 0
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise self._fail("byte 0", "the file is UTF-16; DCE writes UTF-8 (re-save it as UTF-8)")
        if head.lstrip(_WS)[:1] != b"{":
            if b"\x00" in head[:4096]:
                raise self._fail("byte 0", "not JSON: the file is binary")
            raise self._fail("byte 0", "not JSON: a DCE export starts with '{'")
        return head

    def _parse_header(self) -> tuple[ExportHeader, int]:
        """Find the top-level "messages" key; parse the bytes before it as the header object."""
        head = self._head
        start = 0
        while True:
            pos = head.find(b'"messages"', start)
            if pos == -1:
                if len(head) >= HEADER_LIMIT:
                    raise self._fail("byte 0", 'not a DCE export: no "messages" array in the first 64 MB')
                more = self._fh.read(CHUNK_SIZE)
                if not more:
                    break
                head += more
                continue
            start = pos + 1
            rest = head[pos + 10 :].lstrip(_WS)
            if not rest.startswith(b":"):
                continue
            rest = rest[1:].lstrip(_WS)
            if not rest.startswith(b"["):
                if rest.startswith(b"null") or rest.startswith(b"{") or rest[:1].isdigit():
                    raise self._fail(f"byte {pos + self._bom}", '"messages" is not an array')
                continue
            candidate = head[:pos].rstrip(_WS)
            if candidate.endswith(b","):
                candidate = candidate[:-1]
            try:
                obj = orjson.loads(candidate + b"}")
            except orjson.JSONDecodeError:
                continue
            if not isinstance(obj, dict):
                continue
            self._head = head
            array_at = len(head) - len(rest) + 1  # just after "["
            return self._header_from(obj, pos), array_at
        # No messages array found: maybe the whole (small) document is something else.
        try:
            obj = orjson.loads(head)
        except orjson.JSONDecodeError as e:
            raise self._fail(f"byte {e.pos + self._bom}", f"not valid JSON ({e.msg})") from None
        raise self._fail("byte 0", 'not a DCE export: no "messages" array')

    def _header_from(self, obj: dict[str, Any], pos: int) -> ExportHeader:
        guild = obj.pop("guild", None)
        channel = obj.pop("channel", None)
        if not isinstance(channel, dict) or not isinstance(channel.get("id"), str | int):
            raise self._fail("byte 0", 'not a DCE export: no "channel" object with an "id" before "messages"')
        if guild is not None and not isinstance(guild, dict):
            raise self._fail("byte 0", 'not a DCE export: "guild" is not an object')
        info = channel_info(self.path, guild or {}, channel)
        date_range = obj.get("dateRange")
        date_range = date_range if isinstance(date_range, dict) else {}
        exported_at = parse_timestamp_ms(obj.get("exportedAt"))
        range_before = parse_timestamp_ms(date_range.get("before"))
        return ExportHeader(
            channel=info,
            as_of=exported_at or max(self.tail_as_of_ms() or 0, range_before or 0),
            exported_at=exported_at,
            range_after=parse_timestamp_ms(date_range.get("after")),
            range_before=range_before,
        )

    def tail_as_of_ms(self) -> int | None:
        """Newest message or edit time found in the last 256 KB: an export's time when it has no exportedAt."""
        size = self.path.stat().st_size
        with self.path.open("rb") as fh:
            fh.seek(max(0, size - 256 * 1024))
            tail = fh.read()
        times = [parse_timestamp_ms(m.decode("utf-8", "replace")) for m in _TAIL_TS_RE.findall(tail)]
        found = [t for t in times if t is not None]
        return max(found) if found else None

    def batches(self) -> Iterator[list[RawMessage]]:
        """Yield lists of parsed messages; raise ExportFormatError at the first damage."""
        buf = self._head[self._after_array :]
        base = self._after_array + self._bom  # file offset of buf[0]
        stripped = buf.lstrip(_WS)
        while not stripped and len(buf) < 4096:
            more = self._fh.read(CHUNK_SIZE)
            if not more:
                break
            buf += more
            stripped = buf.lstrip(_WS)
        if stripped.startswith(b"]"):
            self._finish_tail(stripped[1:], base + len(buf) - len(stripped))
            return
        lead = buf[: len(buf) - len(stripped)]
        if stripped.startswith(b"{") and b"\n" in lead:
            indent = lead.rsplit(b"\n", 1)[1]
            # DCE's own layout: messages indented, each closing on its own line at the item indent.
            # Any other layout (indent=0, one message per line, ...) goes to the event parser.
            if indent and indent.strip(_WS) == b"":
                marker = b"\n" + indent + b"}"
                buf, fits = self._probe_layout(buf, marker)
                if fits:
                    yield from self._split_batches(buf, base, marker)
                    return
        yield from self._ijson_batches()

    def _probe_layout(self, buf: bytes, marker: bytes) -> tuple[bytes, bool]:
        """Whether the first message ends at the first marker (read ahead up to PROBE_BYTES to see)."""
        while marker not in buf and len(buf) < PROBE_BYTES:
            more = self._fh.read(CHUNK_SIZE)
            if not more:
                break
            buf += more
        pos = buf.find(marker)
        if pos == -1:
            # No end in sight: one huge message (the split path names it), unless a second began.
            return buf, buf.find(marker[:-1] + b"{", 1) == -1
        try:
            orjson.loads(buf[: pos + len(marker)].lstrip(_WS))
        except orjson.JSONDecodeError as e:
            # Cut short: the marker closed an inner object (indent=0). Other damage is named by the split path.
            return buf, "unexpected end" not in e.msg
        return buf, True

    def _split_batches(self, buf: bytes, base: int, marker: bytes) -> Iterator[list[RawMessage]]:
        eof = False
        index = 0
        while True:
            last = buf.rfind(marker)
            if last == -1:
                if len(buf) > MAX_MESSAGE_BYTES:
                    raise self._fail(
                        f"byte {base} (message {index + 1})",
                        f"message {index + 1} is over {MAX_MESSAGE_BYTES >> 20} MB: not a Discord message",
                    )
                if eof:
                    break
                more = self._fh.read(CHUNK_SIZE)
                if not more:
                    eof = True
                    continue
                buf += more
                continue
            cut = last + len(marker)
            parts = buf[:last].split(marker)
            pending: list[tuple[int, bytes]] = []  # (where, raw) of the batch being gathered
            offset = base
            # DCE's own bytes: every message after the first opens with ",\n" + indent + "{". Those are
            # cut out in bulk; anything else (and the first) goes one by one, which names any damage.
            opener = b",\n" + marker[1:-1] + b"{"
            bulk = len(parts) > 1 and all(map(bytes.startswith, parts[1:], repeat(opener)))
            raws = [p[len(opener) - 1 :] + b"}" for p in parts[1:]] if bulk else []
            if bulk and max(map(len, raws)) > MAX_MESSAGE_BYTES:
                bulk = False
            for part in parts[:1] if bulk else parts:
                brace = part.find(b"{")
                sep = part[:brace] if brace != -1 else part
                if brace == -1 or sep.strip(b", \t\r\n"):
                    where = offset + (brace if brace > 0 else 0)
                    self._parse(pending, index - len(pending), ask=False)  # damage before this is named first
                    raise self._fail(
                        f"byte {where} (message {index + 1})", "unexpected data between messages"
                    )
                raw = part[brace:] + b"}"
                if len(raw) > MAX_MESSAGE_BYTES:
                    self._parse(pending, index - len(pending), ask=False)
                    raise self._fail(
                        f"byte {offset + brace} (message {index + 1})",
                        f"message {index + 1} is over {MAX_MESSAGE_BYTES >> 20} MB: not a Discord message",
                    )
                pending.append((offset + brace, raw))
                index += 1
                offset += len(part) + len(marker)
                if len(pending) >= self.batch_size:
                    self.messages_read = index
                    yield self._parse(pending, index - len(pending))
                    pending = []
            if bulk:
                starts = accumulate((len(p) + len(marker) for p in parts[1:]), initial=offset)
                pending += zip([at + len(opener) - 1 for at in starts][:-1], raws, strict=True)
                index += len(raws)
                while len(pending) > self.batch_size:
                    self.messages_read = index - len(pending) + self.batch_size
                    yield self._parse(pending[: self.batch_size], self.messages_read - self.batch_size)
                    del pending[: self.batch_size]
            self.messages_read = index
            if pending:
                yield self._parse(pending, index - len(pending))
            base += cut
            buf = buf[cut:]
            if eof:
                break
            more = self._fh.read(CHUNK_SIZE)
            if more:
                buf += more
            else:
                eof = True
                if marker not in buf:
                    break
        # buf now holds what follows the last message: separators, "]", messageCount, "}".
        rest = buf.lstrip(b", \t\r\n")
        rest_at = base + len(buf) - len(rest)
        if rest.startswith(b"]"):
            self._finish_tail(rest[1:], rest_at + 1)
            return
        if rest.startswith(b"{"):
            raise self._fail(
                f"byte {rest_at} (message {index + 1})",
                f"truncated: the file ends inside message {index + 1} (after {index} complete messages)",
            )
        raise self._fail(
            f"byte {rest_at} (message {index + 1})",
            f"truncated or damaged after message {index}: expected ',' or ']'",
        )

    def _parse(self, pending: list[tuple[int, bytes]], before: int, *, ask: bool = True) -> list[RawMessage]:
        """Parse a batch's messages (`before` messages came earlier), but those `known` says are stored."""
        skip: set[int] = set()
        ids: list[int | None] = []
        if ask and self.known is not None and pending:
            match = _ID_RE.match
            for _, raw in pending:
                m = match(raw)
                mid = int(m[1]) if m else None
                ids.append(mid if mid is not None and mid < 1 << 63 else None)  # else the normalizer names it
            skip = self.known(
                [(mid, raw) for mid, (_, raw) in zip(ids, pending, strict=True) if mid is not None]
            )
            if len(skip) == len(pending):  # the usual re-export: nothing to parse
                return [(where, raw, KNOWN) for where, raw in pending]
        loads = orjson.loads
        batch: list[RawMessage] = []
        for n, (where, raw) in enumerate(pending):
            if skip and ids[n] in skip:
                batch.append((where, raw, KNOWN))
                continue
            try:
                obj = loads(raw)
            except orjson.JSONDecodeError as e:
                pos, reason = e.pos, f"invalid JSON ({e.msg})"
                if "UTF-8" in e.msg:
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError as u:
                        pos, reason = u.start, f"invalid UTF-8 ({u.reason})"
                raise self._fail(f"byte {where + pos} (message {before + n + 1})", reason) from None
            if not isinstance(obj, dict):
                raise self._fail(f"byte {where} (message {before + n + 1})", "a message is not an object")
            batch.append((where, raw, obj))
        return batch

    def _finish_tail(self, tail: bytes, at: int) -> None:
        tail += self._fh.read()
        body = tail.strip(_WS)
        if not body.endswith(b"}"):
            raise self._fail(f"byte {at}", "truncated: the file ends after the messages array")
        body = body.lstrip(b",").strip(_WS)
        try:
            obj = orjson.loads(b"{" + body) if body != b"}" else {}
        except orjson.JSONDecodeError as e:
            raise self._fail(
                f"byte {at + e.pos}", f"invalid JSON after the messages array ({e.msg})"
            ) from None
        count = obj.get("messageCount") if isinstance(obj, dict) else None
        if isinstance(count, int) and not isinstance(count, bool):
            self.declared_count = count

    def _ijson_batches(self) -> Iterator[list[RawMessage]]:
        """Slow path for minified or re-formatted files: an event parser over the whole document."""
        self._fh.seek(self._bom)
        batch: list[RawMessage] = []
        index = 0
        read_to = self._bom
        try:
            for obj in ijson.items(self._fh, "messages.item", use_float=True):
                if not isinstance(obj, dict):
                    raise self._fail(f"message {index + 1}", "a message is not an object")
                # The same limit as DCE's own layout: the bytes read for one message (ijson reads 64 KB ahead).
                at = self._fh.tell()
                if at - read_to > MAX_MESSAGE_BYTES + 65536:
                    raise self._fail(
                        f"about byte {read_to} (message {index + 1})",
                        f"message {index + 1} is over {MAX_MESSAGE_BYTES >> 20} MB: not a Discord message",
                    )
                read_to = at
                batch.append((-1, None, obj))
                index += 1
                if len(batch) >= self.batch_size:
                    self.messages_read = index
                    yield batch
                    batch = []
        except ijson.common.JSONError as e:
            self.messages_read = index
            if batch:
                yield batch
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            kind = (
                "truncated"
                if isinstance(e, ijson.common.IncompleteJSONError) and "premature" in reason
                else "invalid JSON"
            )
            raise self._fail(
                f"about byte {self._fh.tell()} (message {index + 1})", f"{kind} ({reason.strip()})"
            ) from None
        except UnicodeDecodeError as e:
            raise self._fail(f"message {index + 1}", f"invalid UTF-8 ({e.reason})") from None
        self.messages_read = index
        if batch:
            yield batch
        size = self.path.stat().st_size
        self._fh.seek(max(0, size - 4096))
        count = _COUNT_TAIL_RE.search(self._fh.read())
        if count is not None:
            self.declared_count = int(count.group(1))
