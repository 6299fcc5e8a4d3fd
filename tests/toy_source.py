"""A toy export format for tests/test_sources.py: proof that a format is one module on the sources protocol.

#channel <channel id> <channel name>
<message id>\t<author id>\t<author name>\t<content>
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from archive.errors import ExportFormatError
from archive.sources import ChannelInfo, ExportHeader, RawMessage, Sniff, SourceMessage, SourceUser

MAGIC = b"#channel "


class ToyReader:
    """Reads a whole toy file (they are tiny)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = path.read_bytes().decode().splitlines()
        _, cid, name = self.lines[0].split(" ", 2)
        self.header = ExportHeader(channel=ChannelInfo(id=int(cid), name=name), as_of=1_700_000_000_000)
        self.declared_count: int | None = None

    def batches(self) -> Iterator[list[RawMessage]]:
        batch: list[RawMessage] = []
        for n, line in enumerate(self.lines[1:], start=2):
            parts = line.split("\t")
            if len(parts) != 4:
                raise ExportFormatError(self.path, f"line {n}", "expected 4 tab-separated fields")
            mid, uid, author, content = parts
            batch.append(SourceMessage(int(mid), content, SourceUser(int(uid), author)).raw(n))
        self.declared_count = len(batch)
        yield batch

    def close(self) -> None:
        pass


class ToySource:
    name = "toy chat"

    def sniff(self, path: Path, head: bytes) -> Sniff | None:
        if not head.startswith(MAGIC):
            return None
        if not path.name.endswith(".chat"):
            return Sniff.refuse("a toy chat log", "toy logs must be named *.chat")
        return Sniff.read()

    def open(self, path: Path) -> ToyReader:
        return ToyReader(path)


SOURCE = ToySource()
