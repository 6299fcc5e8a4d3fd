"""`hallway publish --split-by`: the sample community as one site per year, then per guild after a
policy change; each part is a whole site, and `/m/<id>/` still resolves through a redirect."""

from __future__ import annotations

import json
import multiprocessing
import re
from pathlib import Path

import pytest

import archive
from archive import views
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
    with pytest.raises(PublishError, match=r"^--split-by channel: choose guild, year or month$"):
        publish_site(sample_site[0], tmp_path / "out", split_by="channel")


def _site_files(out: Path) -> dict[str, bytes]:
    """Every file of a site but Pagefind's (its maps have hashed names that differ from run to run)."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and "/pagefind/" not in f"/{p.relative_to(out).as_posix()}"
    }


def _manifest(out: Path) -> dict[str, object]:
    m = json.loads((out / ".hallway-site.json").read_text())
    m["files"] = {f: v for f, v in m["files"].items() if "/pagefind/" not in f"/{f}"}
    return m


def test_parts_built_side_by_side_make_the_same_site_as_one_after_another(by_year, tmp_path: Path) -> None:
    data, out, report = by_year
    side = tmp_path / "side"
    got = publish_site(data, side, base_url=BASE, split_by="year", jobs=3)
    assert "parts" in got.seconds and "parts" not in report.seconds
    want_files, got_files = _site_files(out), _site_files(side)
    assert sorted(got_files) == sorted(want_files)
    assert [f for f in want_files if got_files[f] != want_files[f] and f != ".hallway-site.json"] == []
    assert _manifest(side) == _manifest(out)  # every file, page fingerprint and link, merged from the parts
    assert (got.files, got.pages, got.kept, got.messages) == (report.files, report.pages, 0, report.messages)
    # (bytes differ by Pagefind's maps alone)
    assert [(p.folder, p.files) for p in got.parts] == [(p.folder, p.files) for p in report.parts]
    assert not (side / ".hallway-building").exists()
    again = publish_site(data, side, base_url=BASE, split_by="year", jobs=2)  # kept part by part
    assert (again.counts.written, again.kept, again.indexed) == (0, report.pages - again.pages, False)
    assert again.counts.kept + again.counts.unchanged == report.files


def test_a_split_build_reads_the_directory_once_for_all_its_parts(
    by_year, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _, _ = by_year
    calls: list[int] = []
    real = views.guild_directory

    def counted(conn):  # the real query, counted: it scans the archive (seconds at a million messages)
        calls.append(1)
        return real(conn)

    monkeypatch.setattr(views, "guild_directory", counted)
    out = tmp_path / "site"
    publish_site(data, out, base_url=BASE, split_by="year")
    assert len(calls) == 1  # (not once for the walk, once for the fingerprints and once per part's home page)
    conn = archive.connect(data / archive.ARCHIVE_FILE, readonly=True)
    try:
        stats = archive.stats(conn)
        guilds = [(str(g["id"]), g["name"]) for g in real(conn)]
    finally:
        conn.close()
    lede = f"{stats['messages']:,} messages in {stats['channels']} channels and {stats['threads']} threads"
    for year in YEARS:
        home = (out / year / "index.html").read_text(encoding="utf-8")
        assert re.findall(r'<h2 id="g(\d+)">([^<]*)</h2>', home) == guilds, year
        assert lede in home, year


def test_a_part_that_fails_side_by_side_stops_the_build_with_its_error(by_year, tmp_path: Path) -> None:
    data, _, _ = by_year
    out = tmp_path / "site"
    out.mkdir()
    (out / ".hallway-building").touch()  # (a folder a build died in: the build goes on in it)
    (out / "2023").write_text("in the way")  # a file where the 2023 part's folder must go
    with pytest.raises(PublishError) as e:
        publish_site(data, out, base_url=BASE, split_by="year", jobs=2)
    assert re.fullmatch(
        rf"{re.escape(str(out))}/2023/\S+: could not write the file \(Not a directory\)", str(e.value)
    )
    assert (out / ".hallway-building").exists() and not (out / ".hallway-site.json").exists()
    assert [p for p in multiprocessing.active_children() if p.name.startswith("publish-")] == []


def test_split_by_month_writes_a_site_per_month_each_holding_its_own_messages(
    by_year, tmp_path: Path
) -> None:
    data, _, _ = by_year
    out = tmp_path / "site"
    report = publish_site(data, out, base_url=BASE, split_by="month", jobs=2)
    rows = archive_ids(data, "SELECT id FROM messages ORDER BY id")
    ms = archive_ids(data, "SELECT strftime('%Y-%m', ts / 1000, 'unixepoch') FROM messages ORDER BY id")
    months = dict(zip(rows, ms, strict=True))
    assert [p.folder for p in report.parts] == [*sorted(set(ms)), "(landing)"]
    where = {m: [p.relative_to(out).parts[0] for p in out.glob(f"*/m/{m}/index.html")] for m in rows}
    assert [m for m in rows if where[m] != [months[m]]] == []  # each in its month's part, once
    # a person's pages in a month's part show their messages of that month, every one, and no other
    authors = dict(zip(rows, archive_ids(data, "SELECT author_id FROM messages ORDER BY id"), strict=True))
    shown = {
        (page.relative_to(out).parts[0], int(mid), page.relative_to(out).parts[2])
        for page in out.glob("*/u/**/index.html")
        for mid in re.findall(r'<article [^>]*data-id="(\d+)"', page.read_text(encoding="utf-8"))
    }
    assert shown == {(months[m], m, str(authors[m])) for m in rows if authors[m] is not None}
    # … and its channel pages too: a channel's newest page in a month stops at that month's end
    timeline = {
        (page.relative_to(out).parts[0], int(mid))
        for page in out.glob("*/c/**/index.html")
        for mid in re.findall(r'<article [^>]*data-id="(\d+)"', page.read_text(encoding="utf-8"))
    }
    assert {(part, m) for part, m in timeline if months[m] != part} == set()
    assert {m for _, m in timeline} == set(rows)
    landing = (out / "index.html").read_text(encoding="utf-8")
    assert "split into" in landing and "one per month" in landing
    mid = rows[-1]
    stub = (out / "m" / str(mid) / "index.html").read_text(encoding="utf-8")
    assert f'url=../../{months[mid]}/m/{mid}/index.html"' in stub
    broken, external, _ = link_problems(out)
    assert (broken, external) == ([], [])


def test_a_republish_keeps_the_landing_redirects_until_what_they_hold_changes(
    by_year, tmp_path: Path
) -> None:
    data, out, report = by_year
    data2, site = copy_site(data, out, tmp_path)
    mid = archive_ids(data2, "SELECT id FROM messages WHERE deleted = 0 AND redacted IS NULL LIMIT 1")[0]
    redirect = site / "m" / str(mid) / "index.html"
    before = redirect.read_bytes()
    redirect.unlink()  # (a file lost by hand comes back)
    again = publish_site(data2, site, base_url=BASE, split_by="year")
    assert redirect.read_bytes() == before
    assert again.counts.written == 1
    # kept, not made again and compared: what is compared is only the few pages every build renders
    assert again.counts.unchanged < again.messages / 4
    assert again.counts.kept + again.counts.unchanged + 1 == report.files
    moved = publish_site(data2, site, base_url="https://elsewhere.example", split_by="year")
    assert f'href="https://elsewhere.example/m/{mid}"' in redirect.read_text()
    assert moved.counts.written >= moved.messages
