"""The source registry: a format is one module plus one registry line; unread files are named, never silent."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

import archive
import indexer
from archive.sources import registry
from cli import app
from tests import toy_source
from tests.conftest import REAL
from tests.factory import msg, write_export

runner = CliRunner()
HTML = (
    b'<!DOCTYPE html>\n<html lang="en"><head><title>lab - general</title></head>\n<body><div class="chatlog">'
)


def _ingest(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["ingest", *args])
    return result.exit_code, result.stderr.strip().splitlines()


def test_a_toy_source_needs_only_its_module_and_one_registry_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one registry line:
    monkeypatch.setattr(registry, "SOURCES", (*registry.SOURCES, toy_source.SOURCE))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "room.chat").write_text(
        "#channel 900000000000000001 toy-room\n"
        "1100000000000000001\t100000000000000009\tzed\thello from a toy format\n"
        "1100000000000000002\t100000000000000009\tzed\tsecond toy line\n"
    )
    write_export(tmp_path / "in" / "real.json", [msg(1, "a json message")])
    data = tmp_path / "data"
    code, lines = _ingest(str(tmp_path / "in"), "--data-dir", str(data))
    assert code == 0, lines
    assert lines[0].startswith("2 files: 2 ingested (0 partial)")
    page = indexer.search(indexer.open_index(data), "hello")
    assert [(h.id, h.channel, h.author) for h in page.hits] == [(1100000000000000001, "toy-room", "zed")]
    # The module speaks only the public protocol: nothing else in the archive knows about it.
    tree = ast.parse(Path(toy_source.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "collections.abc", "pathlib", "archive.errors", "archive.sources"}


def test_a_source_that_recognizes_a_file_says_why_it_does_not_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "SOURCES", (*registry.SOURCES, toy_source.SOURCE))
    path = tmp_path / "room.log"
    path.write_text("#channel 900000000000000001 toy-room\n")
    code, lines = _ingest(str(path), "--data-dir", str(tmp_path / "data"))
    assert code == 1
    assert lines[0] == f"error: {path}: a toy chat log: toy logs must be named *.chat"


def test_a_folder_of_cut_html_exports_fails_with_one_line_per_file(tmp_path: Path) -> None:
    for name in ("general.html", "random.html"):
        (tmp_path / "in" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_bytes(HTML)
    code, lines = _ingest(str(tmp_path / "in"), "--data-dir", str(tmp_path / "data"))
    assert code == 1
    why = f"at byte {len(HTML)} (message 1): truncated: the file ends before </html> (after 0 complete messages)"
    assert lines[:2] == [
        f"error: {tmp_path / 'in' / 'general.html'} {why}",
        f"error: {tmp_path / 'in' / 'random.html'} {why}",
    ]
    assert lines[2].startswith(
        "2 files: 0 ingested (0 partial), 0 skipped (0 unchanged, 0 excluded), 2 failed"
    )


def test_a_stray_file_in_a_folder_is_named_and_does_not_fail_the_run(tmp_path: Path) -> None:
    write_export(tmp_path / "in" / "a.json", [msg(1, "one")])
    (tmp_path / "in" / "notes.md").write_text("# my notes\n")
    (tmp_path / "in" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    (tmp_path / "in" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    code, lines = _ingest(str(tmp_path / "in"), "--data-dir", str(tmp_path / "data"))
    assert code == 0
    assert lines[:2] == [
        f"skipped: {tmp_path / 'in' / 'logo.png'}: a PNG image: not a DiscordChatExporter export",
        f"skipped: {tmp_path / 'in' / 'notes.md'}: a text file: not a DiscordChatExporter export",
    ]
    assert lines[2].startswith("1 file: 1 ingested")
    # Named on the command line, the same file is a failure: it was asked for and not read.
    code, lines = _ingest(str(tmp_path / "in" / "notes.md"), "--data-dir", str(tmp_path / "data"))
    assert code == 1
    assert lines[0] == f"error: {tmp_path / 'in' / 'notes.md'}: a text file: not a DiscordChatExporter export"


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"AuthorID,Author,Date,Content,Attachments,Reactions\n", "a DCE CSV export"),
        (b'"AuthorID";"Author";"Date";"Content";"Attachments";\n', "a DCE CSV export"),
        (
            b"==============================================================\nGuild: Lab\nChannel: x\n",
            "a DCE TXT export",
        ),
        (HTML, "a DCE HTML export"),
        (b"<html><body>hi</body></html>", "an HTML page"),
        (b"", "an empty file"),
        (b"PK\x03\x04rest", "a ZIP archive"),
        (bytes(range(256)), "a binary file"),
    ],
)
def test_unknown_files_are_described_by_their_content(head: bytes, what: str) -> None:
    assert archive.sources.unknown.describe(Path("x"), head).what == what


def test_a_file_that_looks_like_dce_but_its_source_declined_says_what_was_missing(tmp_path: Path) -> None:
    # Every DCE format has a source now: a file still described as one was declined by that source.
    page = tmp_path / "general.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>DiscordChatExporter</title></head><body></body></html>"
    )
    txt = tmp_path / "general.txt"
    txt.write_text("=" * 20 + "\nGuild: Lab\nChannel: general\n" + "=" * 20 + "\n")
    notes = sorted(f.note for f in archive.discover([tmp_path]))
    reexport = "re-export the channel with DiscordChatExporter's JSON format (--format Json)"
    assert notes == [
        f"{page}: a DCE HTML export: no DCE chatlog markup in its first 256 KB "
        f"(a damaged page, or an unknown DCE version); {reexport}",
        f"{txt}: a DCE TXT export: its rule line is not DCE's 62 '=' (edited, or an unknown DCE version); "
        f"{reexport}",
    ]


def test_every_real_export_is_read_or_named(tmp_path: Path) -> None:
    if not REAL.exists():
        pytest.skip(f"real exports not found at {REAL}")
    found = list(archive.discover([REAL]))
    assert any(f.source is not None for f in found)
    for f in found:
        if f.source is None:
            # Each format the real exports hold is recognized by what it is, from its bytes.
            assert (
                f.sniff.what
                == {".csv": "a DCE CSV export", ".html": "a DCE HTML export", ".txt": "a DCE TXT export"}[
                    f.path.suffix
                ]
            ), f.note
