"""Stream a DiscordChatExporter CSV export (2.16+ comma dialect, 2.12-2.15 semicolon dialect).

CSV carries no message ids, types, replies, edits or embeds: its messages become low-fidelity records
(archive/sources/_lowfi.py) that merge into real messages when a JSON or HTML export covers them.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path

from archive.sources._identity import resolve_channel, synthetic_id
from archive.sources._lowfi import FIDELITY, LowFiBuilder, parse_export_date
from archive.sources.base import ChannelInfo, ExportHeader, FileReader, RawMessage, Sniff

FORMAT = "csv"
HEADER = "AuthorID,Author,Date,Content,Attachments,Reactions"
_COLUMNS = ("AuthorID", "Author", "Date", "Content", "Attachments", "Reactions")
_SAMPLE = 1024 * 1024
csv.field_size_limit(64 * 1024 * 1024)  # the same per-message limit as JSON


def _is_dce_header(head: bytes) -> bool:
    first = head.removeprefix(codecs.BOM_UTF8).split(b"\n", 1)[0].strip().replace(b'"', b"")
    return first.startswith((b"AuthorID,Author,Date,", b"AuthorID;Author;Date;", b"Author;Date;Content;"))


class DceCsvSource:
    """DiscordChatExporter's CSV format (both dialects); another CSV is named and skipped."""

    name = "DCE CSV"

    def sniff(self, path: Path, head: bytes) -> Sniff | None:
        """Claim files that start with DCE's CSV header; say so about a *.csv with another one."""
        if _is_dce_header(head):
            return Sniff.read()
        if path.suffix.lower() == ".csv":
            first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
            return Sniff.refuse(
                "a CSV file with another header",
                f"line 1 is {first[:80]!r}; DCE writes {HEADER!r}",
                export=False,
            )
        return None

    def open(self, path: Path) -> CsvExportReader:
        """Open the export and read its header line."""
        return CsvExportReader(path)


SOURCE = DceCsvSource()


def _channel_guess(path: Path) -> str:
    """A CSV names no channel: its file name does, unless it is `1.csv`-like; then its folder's."""
    stem = path.stem
    return path.parent.name if stem.isdigit() or not stem.strip() else stem


class CsvExportReader(FileReader):
    """Reads one CSV export; iterate `batches()`."""

    format = FORMAT
    fidelity = FIDELITY

    def __init__(self, path: Path, *, batch_size: int = 2000) -> None:
        super().__init__(path, batch_size)
        try:
            head = self._fh.read(_SAMPLE)
            if not head:
                raise self._fail("byte 0", "the file is empty")
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise self._fail("byte 0", "the file is UTF-16; DCE writes UTF-8 (re-save it as UTF-8)")
            self._bom = 3 if head.startswith(codecs.BOM_UTF8) else 0
            first = head[self._bom :].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
            self.delimiter = ";" if first.count(";") > first.count(",") else ","
            self.columns = [c.strip().strip('"') for c in first.split(self.delimiter)]
            if self.columns and not self.columns[-1]:
                self.columns.pop()  # 2.12-2.15 end every line with a separator
            if "Author" not in self.columns or "Date" not in self.columns or "Content" not in self.columns:
                raise self._fail(
                    "line 1",
                    f"a CSV with another header: DCE writes {HEADER!r}, this file has {first[:80]!r}",
                )
            sample = head.decode("utf-8", "replace")
            name = _channel_guess(path)
            cid, self.channel_synthetic = resolve_channel(path, sample, "", name)
            gid = synthetic_id("guild", "")
            info = ChannelInfo(id=cid, name=name, guild_id=gid, guild_name="Unknown guild (CSV export)")
            self.header = ExportHeader(channel=info, as_of=self.tail_as_of_ms() or 0)
        except BaseException:
            self._fh.close()
            raise

    def tail_as_of_ms(self) -> int | None:
        """The newest message date in the last 64 KB, as written (CSV has no export time)."""
        size = self.path.stat().st_size
        with self.path.open("rb") as fh:
            fh.seek(max(0, size - 65536))
            lines = fh.read().decode("utf-8", "replace").splitlines()[1:]
        at = self.columns.index("Date")
        found = []
        for row in csv.reader(lines, delimiter=self.delimiter):
            if len(row) > at:
                parsed = parse_export_date(row[at])
                if parsed is not None:
                    found.append(parsed[0])
        return max(found) if found else None

    def _lines(self, state: list[int]) -> Iterator[str]:
        """Decoded lines; state holds [byte offset of the current line, line number]."""
        self._fh.seek(self._bom)
        offset = self._bom
        for number, raw in enumerate(self._fh, start=1):
            state[0], state[1] = offset, number
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise self._fail(
                    f"byte {offset + e.start} (line {number})", f"invalid UTF-8 ({e.reason})"
                ) from None
            offset += len(raw)

    def batches(self) -> Iterator[list[RawMessage]]:
        """Yield lists of messages; raise ExportFormatError at the first damage."""
        state = [0, 0]
        reader = csv.reader(self._lines(state), delimiter=self.delimiter, quotechar='"', strict=True)
        builder = LowFiBuilder()
        col = {name: i for i, name in enumerate(self.columns)}
        batch: list[RawMessage] = []
        index = 0
        try:
            next(reader, None)
            for row in reader:
                if not row or row == [""]:
                    continue
                start = state[0]
                if self.delimiter == ";" and row and row[-1] == "":
                    row = row[:-1]
                if len(row) != len(self.columns):
                    raise self._fail(
                        f"line {reader.line_num} (message {index + 1})",
                        f"{len(row)} fields where the header has {len(self.columns)}",
                    )

                def get(name: str, row: list[str] = row) -> str:
                    return row[col[name]] if name in col else ""

                author_id = get("AuthorID")
                obj = builder.message(
                    date=get("Date"),
                    author=get("Author"),
                    author_id=int(author_id) if author_id.isdigit() else None,
                    content=get("Content"),
                    attachments=[a for a in get("Attachments").split(",") if a],
                    reactions=get("Reactions"),
                )
                if obj is None:
                    raise self._fail(
                        f"line {reader.line_num} (message {index + 1})",
                        f"date {get('Date')[:40]!r} is not a date",
                    )
                index += 1
                batch.append(obj.raw(start))
                if len(batch) >= self.batch_size:
                    yield batch
                    batch = []
        except csv.Error as e:
            if batch:
                yield batch
            raise self._fail(
                f"line {reader.line_num} (message {index + 1})", f"damaged CSV ({e}); truncated?"
            ) from None
        if batch:
            yield batch
