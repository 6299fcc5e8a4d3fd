"""Republishing decides from each page's inputs what to render: an unchanged archive renders only the
pages that read everything, a new export renders what it touches, and the result is the same site a
fresh build makes (but for Pagefind's own file names)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import orjson

from publish import publish_site
from tests.live import build_data_dir
from tests.publish_site import copy_site

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://lab.example/archive"
ALWAYS = 3  # home, search and the list of digests read the whole archive: rendered every time


def _newer_export(dest: Path) -> Path:
    """A newer export of #general holding only one new message, a reply to its last one."""
    source = next((ROOT / "sample_exports").glob("*/*general*.json"))
    doc = orjson.loads(source.read_bytes())
    last = doc["messages"][-1]
    new = {**last, "id": str(int(last["id"]) + (1 << 22)), "content": "a brand new message about lanterns"}
    new["reference"] = {
        "messageId": last["id"],
        "channelId": doc["channel"]["id"],
        "guildId": doc["guild"]["id"],
    }
    new["type"] = "Reply"
    doc["messages"] = [new]
    doc["messageCount"] = 1
    dest.mkdir()
    (dest / source.name).write_bytes(orjson.dumps(doc))
    return dest


def _bytes(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in site.rglob("*")
        if p.is_file() and not p.relative_to(site).as_posix().startswith(("pagefind/", ".hallway"))
    }


def test_republish_renders_what_the_new_export_touches_and_matches_a_fresh_build(
    sample_site: tuple[Path, Path, object], tmp_path: Path
) -> None:
    data, out, first = sample_site
    data2, out2 = copy_site(data, out, tmp_path)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 200)  # kept pages' links are followed from a queue
    try:
        same = publish_site(data2, out2, base_url=BASE)  # (recursively, this needed 265 frames more)
    finally:
        sys.setrecursionlimit(limit)
    assert (same.pages, same.indexed, same.counts.written, same.counts.removed) == (ALWAYS, False, 0, 0)
    assert same.kept == first.pages - ALWAYS  # type: ignore[attr-defined]
    build_data_dir(data2, [_newer_export(tmp_path / "more")])
    again = publish_site(data2, out2, base_url=BASE)
    assert again.indexed and ALWAYS < again.pages < first.pages / 10  # type: ignore[attr-defined]
    fresh = publish_site(data2, tmp_path / "fresh", base_url=BASE)
    assert again.pages + again.kept == fresh.pages
    new, old = _bytes(out2), _bytes(tmp_path / "fresh")
    assert sorted(set(new) ^ set(old)) == []
    assert [f for f in sorted(new) if new[f] != old[f]] == []
    assert any(b"a brand new message about lanterns" in v for v in new.values())
