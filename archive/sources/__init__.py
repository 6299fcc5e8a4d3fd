"""Export formats: one module per format behind a small protocol, and a registry that discovery asks.

Adding a format is one module here plus one line in `registry.SOURCES`. A source (see `base.Source`):

- `name`: shown to people ("DCE JSON").
- `sniff(path, head) -> Sniff | None`: cheap, from the name and the first 8 KB (`head`). `None`: not
  this format, ask the next source. `Sniff.read()`: this source reads the file. `Sniff.refuse(what,
  reason)`: the source knows the file (e.g. an HTML page of a DCE era it cannot read) and says why it
  is skipped. The first source that claims a file reads it. A file nobody claims is described by
  `unknown.describe` ("a DCE HTML export: no DCE chatlog markup in its first 256 KB …; re-export …", "a PNG
  image: …") and the run prints that one line; an export left unread fails the run, a stray file does not.
- `open(path) -> Reader`: parses the header at once and raises `ExportFormatError(path, where,
  reason)` for a bad file. The reader has:
  - `header: ExportHeader`: a typed `ChannelInfo` (channel, guild, thread parent, category, already
    normalized), and the export's times in Unix ms (`as_of`: when the export was taken, which decides
    merges and tombstones; `exported_at`, `range_after`, `range_before` when the file states them);
  - `batches()`: lists of `RawMessage` in file order, bounded memory; raise `ExportFormatError` at the
    first damage (the archive keeps the batches before it only with --salvage);
  - `declared_count`: the message count the file states, if any (read after the batches);
  - `close()`.

A `RawMessage` is `(where, raw bytes or None, fields)`. `where` is the byte offset (or -1) that error
lines name. DCE JSON passes each message's exact bytes, so a message exported byte for byte as last
time skips normalization (its fingerprint matches). Other formats build a typed `SourceMessage` (with
`SourceUser`, `SourceAttachment`, `SourceReaction`) and call `.raw(where)`: the one place where typed
records become the fields the normalizer reads, so no format fakes DCE JSON itself. Anything a format
has that the archive does not model goes in `SourceMessage.extra` and is kept verbatim.

A reader may also offer `known`, which the ingest sets to a function taking a batch's `(id, raw
bytes)` pairs and returning the ids the archive already holds byte for byte. The reader then yields
those messages as `(where, raw, KNOWN)` without parsing them (DCE JSON reads the id from the bytes).

Message ids: a format without ids must derive ones that stay the same when the same file is read again.
"""

from archive.sources.base import (
    ChannelInfo,
    ExportHeader,
    RawMessage,
    Reader,
    Sniff,
    Source,
    SourceAttachment,
    SourceMessage,
    SourceReaction,
    SourceUser,
)
from archive.sources.registry import SOURCES, Found, discover, find_source, iter_export_files

__all__ = [
    "SOURCES",
    "ChannelInfo",
    "ExportHeader",
    "Found",
    "RawMessage",
    "Reader",
    "Sniff",
    "Source",
    "SourceAttachment",
    "SourceMessage",
    "SourceReaction",
    "SourceUser",
    "discover",
    "find_source",
    "iter_export_files",
]
