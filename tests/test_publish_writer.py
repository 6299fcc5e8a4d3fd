"""publish.writer: the site's files are written by a few threads, in order per file, and a failure to
write one is a one-line error naming it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from publish import PublishError
from publish.writer import SiteWriter


def test_a_file_written_twice_in_one_build_holds_the_second_bytes(tmp_path: Path) -> None:
    out = tmp_path / "site"
    w = SiteWriter(out, force=False)
    for n in range(3000):  # enough to keep the threads busy while the same file comes again
        w.write(f"m/{n}/index.html", b"page %d" % n)
        w.write("c/1/index.html", b"version %d" % n)
    w.finish({}, {})
    assert (out / "c/1/index.html").read_bytes() == b"version 2999"
    assert (out / "m/2999/index.html").read_bytes() == b"page 2999"
    manifest = json.loads((out / ".hallway-site.json").read_text())["files"]
    assert manifest["c/1/index.html"] == [hashlib.sha256(b"version 2999").hexdigest(), 12]
    assert len(manifest) == 3001
    assert [p for p in out.rglob("*.tmp")] == []


def test_a_file_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    out = tmp_path / "site"
    w = SiteWriter(out, force=False)
    w.write("c/index.html", b"a page")
    w.finish({}, {})
    w = SiteWriter(out, force=False)
    w.write("c/index.html/p/1/index.html", b"under a file")  # its folder would be a file
    with pytest.raises(PublishError) as e:
        w.finish({}, {})
    assert (
        str(e.value) == f"{out / 'c/index.html/p/1/index.html'}: could not write the file (Not a directory)"
    )
