"""`hallway publish --split-by`: the sample community as one site per year, then per guild after a
policy change; each part is a whole site, and `/m/<id>/` still resolves through a redirect."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from publish import PublishError, publish_site
from tests.publish_site import archive_ids, copy_site, exclude_channel, link_problems

RESEARCH = "907543031316510423"
PHRASE = "fixed the bucket link, it moved under /tokenizers/"  # a #research message
YEARS = ["2021", "2022", "2023", "2024", "2025"]
BASE = "https://lab.example/archive"


@pytest.fixture(scope="module")
def by_year(sample_site: tuple[Path, Path, object], tmp_path_factory: pytest.TempPathFactory):
    data = sample_site[0]
    out = tmp_path_factory.mktemp("split") / "site"
    return data, out, publish_site(data, out, base_url=BASE, split_by="year")


def test_split_by_year_writes_a_whole_site_per_year_and_a_landing_page(by_year) -> None:
    data, out, report = by_year
    assert [p.folder for p in report.parts] == [*YEARS, "(landing)"]
    assert sum(p.files for p in report.parts) == report.files
    for year in YEARS:
        for path in ("index.html", "search/index.html", "digest/index.html", "pagefind/pagefind.js",
                     "static/app.css", "digest/feed.atom"):  # fmt: skip
            assert (out / year / path).is_file(), f"{year}/{path}"
    landing = (out / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<a href="(\d{4}/index.html)">(\d{4})</a>', landing) == [
        (f"{y}/index.html", y) for y in YEARS
    ]
    broken, external, pages = link_problems(out)
    assert (broken, external) == ([], [])
    # every message has a permalink in its year and a redirect at the top, and more pages than that
    assert pages > 2 * len(archive_ids(data, "SELECT id FROM messages"))


def test_split_by_year_puts_each_permalink_in_its_year_and_redirects_the_server_path(by_year) -> None:
    data, out, _ = by_year
    rows = archive_ids(data, "SELECT id FROM messages ORDER BY id")
    ys = archive_ids(data, "SELECT strftime('%Y', ts / 1000, 'unixepoch') FROM messages ORDER BY id")
    years = dict(zip(rows, ys, strict=True))
    where = {m: [y for y in YEARS if (out / y / "m" / str(m) / "index.html").is_file()] for m in rows}
    assert [m for m in rows if where[m] != [years[m]]] == []
    mid = rows[0]
    stub = (out / "m" / str(mid) / "index.html").read_text(encoding="utf-8")
    to = f"../../{years[mid]}/m/{mid}/index.html"
    assert f'<meta http-equiv="refresh" content="0; url={to}">' in stub
    assert f'<a href="{to}">' in stub and "<script" not in stub
    assert f'<link rel="canonical" href="{BASE}/m/{mid}">' in stub
    cite = json.loads((out / years[mid] / "m" / str(mid) / "cite.json").read_text())
    assert cite[0]["URL"].startswith(f"{BASE}/m/{mid}")  # cited at the server path, which still resolves


def test_split_republished_by_guild_after_a_policy_change_leaves_no_trace(by_year, tmp_path: Path) -> None:
    data, out, _ = by_year
    data2, out2 = copy_site(data, out, tmp_path)
    exclude_channel(data2, RESEARCH)
    gone = {str(m) for m in archive_ids(data, f"SELECT id FROM messages WHERE channel_id = {RESEARCH}")}
    report = publish_site(data2, out2, base_url=BASE, split_by="guild")
    guilds = ["0", "907354333773885234"]
    assert [p.folder for p in report.parts] == [*guilds, "(landing)"]
    assert sorted(p.name for p in out2.iterdir()) == [".hallway-site.json", *guilds, "assets", "index.html",
                                                       "m", "static"]  # fmt: skip
    files = {p.relative_to(out2).as_posix() for p in out2.rglob("*") if p.is_file()}
    assert files - {".hallway-site.json"} == set(
        json.loads((out2 / ".hallway-site.json").read_text())["files"]
    )
    assert [f for f in files if RESEARCH in f or gone & set(f.split("/"))] == []
    assert [f for f in files if PHRASE.encode() in (out2 / f).read_bytes()] == []
    dm_home = (out2 / "0" / "index.html").read_text(encoding="utf-8")
    assert 'id="g0"' in dm_home and 'id="g907354333773885234"' not in dm_home
    broken, external, _ = link_problems(out2)
    assert (broken, external) == ([], [])


def test_split_by_something_else_is_refused(sample_site: tuple[Path, Path, object], tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"^--split-by channel: choose guild or year$"):
        publish_site(sample_site[0], tmp_path / "out", split_by="channel")
