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


def _built(out: Path, files: dict[str, bytes], *, dies: bool = False) -> SiteWriter:
    """A build that writes `files` and ends (or dies before its manifest, with its files on disk)."""
    w = SiteWriter(out, force=False)
    for file, data in files.items():
        w.write(file, data)
    if dies:
        w._io.close()
    else:
        w.finish({}, {})
    return w


def test_a_file_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    out = tmp_path / "site"
    _built(out, {"c/index.html": b"a page"})
    w = SiteWriter(out, force=False)
    w.write("c/index.html/p/1/index.html", b"under a file")  # its folder would be a file
    with pytest.raises(PublishError) as e:
        w.finish({}, {})
    assert (
        str(e.value) == f"{out / 'c/index.html/p/1/index.html'}: could not write the file (Not a directory)"
    )


def test_a_new_file_left_half_written_by_a_crash_is_written_again(tmp_path: Path) -> None:
    # New files are written in place (no rename): the manifest is what makes that safe.
    out = tmp_path / "site"
    _built(out, {"a/index.html": b"old page"})
    _built(out, {"b/index.html": b"new page, whole", "a/index.html": b"changed page"}, dies=True)
    (out / "b/index.html").write_bytes(b"new pa")  # … one of them cut short
    again = SiteWriter(out, force=False)
    again.write("b/index.html", b"new page, whole")
    again.write("a/index.html", b"old page")
    counts = again.finish({}, {})
    assert (out / "b/index.html").read_bytes() == b"new page, whole"
    assert (out / "a/index.html").read_bytes() == b"old page"
    assert (counts.written, counts.unchanged) == (2, 0)
    assert sorted(p.name for p in out.iterdir()) == [".hallway-site.json", "a", "b"]


def test_what_a_build_that_died_wrote_and_the_next_one_has_not_is_deleted(tmp_path: Path) -> None:
    # The build that died rendered a page that is withheld by the time of the next build.
    out = tmp_path / "site"
    _built(out, {"c/1/index.html": b"channel one", "c/2/index.html": b"channel two"})
    since = {"c/1/index.html": b"channel one, with a message since withheld", "m/9/index.html": b"withheld"}
    _built(out, since, dies=True)
    (out / "c/1/index.html.tmp").write_bytes(b"half")  # a rename that never happened
    again = SiteWriter(out, force=False)
    assert again.suspect == {"c/1/index.html", "m/9/index.html", "c/1/index.html.tmp"}
    assert not again.had("c/1/index.html") and again.had("c/2/index.html")  # not kept as it is
    again.keep("c/2/index.html")
    counts = again.finish({}, {})  # c/1 is withheld now too
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [".hallway-site.json", "c/2/index.html"]
    assert counts.removed == 3


def test_a_first_build_that_died_is_taken_up_again(tmp_path: Path) -> None:
    out = tmp_path / "site"
    _built(out, {"a/index.html": b"a", "b/index.html": b"b"}, dies=True)  # no manifest: only the mark
    again = SiteWriter(out, force=False)
    assert again.suspect == {"a/index.html", "b/index.html"}
    again.write("a/index.html", b"a")
    again.finish({}, {})
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        ".hallway-site.json",
        "a/index.html",
    ]
