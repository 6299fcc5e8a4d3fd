"""Which reader opens a file: DCE JSON, HTML, CSV or TXT, told by the first bytes before the name."""

from __future__ import annotations

from pathlib import Path

from archive.dce import ExportReader
from archive.sources import dce_csv, dce_html, dce_txt

EXTENSIONS = (".json", ".html", ".htm", ".csv", ".txt")
JSON_FIDELITY = 4
AnyReader = ExportReader | dce_html.HtmlExportReader | dce_csv.CsvExportReader | dce_txt.TxtExportReader


def open_reader(path: Path) -> AnyReader:
    """The reader for this file's format; its ExportFormatError names the file when the content is wrong."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    if dce_html.sniff(head):
        return dce_html.HtmlExportReader(path)
    if dce_txt.sniff(head):
        return dce_txt.TxtExportReader(path)
    if dce_csv.sniff(head):
        return dce_csv.CsvExportReader(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return dce_html.HtmlExportReader(path)
    if suffix == ".csv":
        return dce_csv.CsvExportReader(path)
    if suffix == ".txt":
        return dce_txt.TxtExportReader(path)
    return ExportReader(path)


def reader_format(reader: object) -> str:
    """json | html | csv | txt."""
    return str(getattr(reader, "format", "json"))


def reader_fidelity(reader: object) -> int:
    """4 JSON, 3 HTML, 2 CSV, 1 TXT: which record wins when two exports hold the same message."""
    return int(getattr(reader, "fidelity", JSON_FIDELITY))
