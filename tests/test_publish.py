"""`hallway publish`: the sample community as a static site, built once for the module.

Checks: every page type is there at the server's paths, 0 broken internal links and nothing loaded from
other hosts, a CSP meta tag and no inline script on every page, citations beside each permalink, an
unchanged republish rewrites nothing, and a policy change removes what is now withheld.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest

from publish import PublishError, publish_site
from publish.links import CSP, STUB_CSP
from publish.paths import SiteMap
from publish.search_index import SearchRecord, documents, filter_counts, group, group_document
from tests.publish_site import archive_ids, copy_site, exclude_channel, link_problems

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_exports"
EDITED = "1171410726615682644"  # the edited message in #research (sample_exports/README.md FACTS)
THREAD = "1239970985717853624"
RESEARCH = "907543031316510423"


@pytest.fixture
def site(sample_site: tuple[Path, Path, object]) -> tuple[Path, Path, object]:
    return sample_site


def test_publish_has_every_page_type_at_the_server_paths(site: tuple[Path, Path, object]) -> None:
    data, out, report = site
    for path in ("index.html", "search/index.html", f"c/{RESEARCH}/index.html", f"t/{THREAD}/index.html",
                 f"m/{EDITED}/index.html", f"m/{EDITED}/v/1/index.html", "static/app.css",
                 "static/site-search.js", "pagefind/pagefind.js", "assets/code.css"):  # fmt: skip
        assert (out / path).is_file(), path
    assert list(out.glob("conv/*/index.html")) and list(out.glob("u/*/index.html"))
    assert list(out.glob(f"c/{RESEARCH}/p/1/index.html"))
    messages = archive_ids(data, "SELECT id FROM messages")
    missing = [m for m in messages if not (out / "m" / str(m) / "index.html").is_file()]
    assert missing == []
    live = archive_ids(data, "SELECT id FROM messages WHERE deleted = 0 AND redacted IS NULL")
    assert [
        m
        for m in live
        if not all((out / "m" / str(m) / f"cite.{e}").is_file() for e in ("bib", "json", "ris"))
    ] == []
    cite = json.loads((out / "m" / EDITED / "cite.json").read_text())
    assert cite[0]["URL"] == f"https://lab.example/archive/m/{EDITED}?v=2"
    assert report.messages == len(messages) and report.records == len(live)  # type: ignore[attr-defined]
    assert list(out.glob("media/*/*/*")), "the --media files of the samples are copied"


def test_publish_links_all_resolve_and_nothing_loads_from_other_hosts(
    site: tuple[Path, Path, object],
) -> None:
    _, out, _ = site
    broken, external, pages = link_problems(out)
    assert pages > 500
    assert broken == []
    assert external == []


def test_publish_every_page_has_the_csp_and_no_inline_script(site: tuple[Path, Path, object]) -> None:
    _, out, _ = site
    bad = []
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        redirect = '<meta http-equiv="refresh"' in text.partition("</head>")[0]  # needs no script at all
        if (
            f'<meta http-equiv="Content-Security-Policy" content="{STUB_CSP if redirect else CSP}">'
            not in text
        ):
            bad.append(f"{page}: no CSP")
        if "<script>" in text or "<script " in text.replace("<script src=", "").replace(
            '<script type="module" src=', ""
        ):
            bad.append(f"{page}: inline script")
    assert bad == []
    assert "'wasm-unsafe-eval'" in CSP and "'unsafe-inline'" not in CSP


def test_publish_permalink_is_the_servers_page_with_relative_links(site: tuple[Path, Path, object]) -> None:
    _, out, _ = site
    text = (out / "m" / EDITED / "index.html").read_text(encoding="utf-8")
    assert f'id="m{EDITED}"' in text and "is-focus" in text
    assert 'href="../../static/app.css"' in text
    assert f'<link rel="canonical" href="https://lab.example/archive/m/{EDITED}">' in text
    assert 'href="/' not in text and 'src="/' not in text
    assert ".json" not in "".join(x for x in text.splitlines() if 'rel="alternate"' in x and "href=" in x)


def test_publish_again_unchanged_rewrites_nothing(site: tuple[Path, Path, object], tmp_path: Path) -> None:
    data, out, _ = site
    again = publish_site(data, out, base_url="https://lab.example/archive")
    # Pagefind indexes in parallel, so its filter and metadata files may come out in another order;
    # pages, citations, media and the index's word chunks and fragments are byte-identical.
    pages = [f for f in again.changed if not f.startswith(("pagefind/filter/", "pagefind/pagefind"))]
    assert pages == []
    assert again.counts.written < 20 and again.counts.removed <= again.counts.written


def test_publish_refuses_a_folder_that_is_not_a_site(site: tuple[Path, Path, object], tmp_path: Path) -> None:
    data, _, _ = site
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(PublishError, match="the folder has files but no Hallway site in it"):
        publish_site(data, tmp_path)


def test_publish_after_a_policy_change_removes_what_is_withheld(
    site: tuple[Path, Path, object], tmp_path: Path
) -> None:
    data, out, _ = site
    data2, out2 = copy_site(data, out, tmp_path)
    exclude_channel(data2, RESEARCH)
    gone = [m for m in archive_ids(data, f"SELECT id FROM messages WHERE channel_id = {RESEARCH}")]
    assert gone
    report = publish_site(data2, out2, base_url="https://lab.example/archive")
    assert report.counts.removed > len(gone)
    assert not (out2 / "c" / RESEARCH).exists()
    assert [m for m in gone if (out2 / "m" / str(m)).exists()] == []
    files = {p.relative_to(out2).as_posix() for p in out2.rglob("*") if p.is_file()}
    manifest = json.loads((out2 / ".hallway-site.json").read_text())["files"]
    assert files - {".hallway-site.json"} == set(manifest)
    phrase = "fixed the bucket link, it moved under /tokenizers/"  # a #research message
    assert not [f for f in files if phrase.encode() in (out2 / f).read_bytes()]
    # Pagefind's files are gzipped: the search index is read as the browser reads it
    plain = {f: _gunzip((out2 / f).read_bytes()) for f in files if f.startswith("pagefind/")}
    assert sum(1 for b in plain.values() if b.startswith(b"pagefind_dcd")) > 10
    assert [f for f, b in plain.items() if phrase.encode() in b] == []
    counts = json.loads((out2 / "pagefind" / "hallway-counts.json").read_text())
    assert "research" not in counts["channel"] and "research" in _counts(out)["channel"]


def _gunzip(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except OSError:
        return data


def _counts(out: Path) -> dict[str, dict[str, int]]:
    return json.loads((out / "pagefind" / "hallway-counts.json").read_text())  # type: ignore[no-any-return]


def _record(i: int, channel: str, ts: str, author: str = "a", has: tuple[str, ...] = ()) -> SearchRecord:
    return SearchRecord(str(i), author, channel, ts, has, f"text {i}")


def test_search_groups_are_stretches_of_one_channel_and_one_month() -> None:
    records = [_record(1, "x", "2024-01-30T10:00:00+00:00"), _record(2, "x", "2024-01-31T10:00:00+00:00"),
               _record(3, "x", "2024-01-31T11:00:00+00:00"), _record(4, "x", "2024-02-01T00:00:00+00:00"),
               _record(5, "y", "2024-02-01T00:00:01+00:00")]  # fmt: skip
    assert [[r.id for r in g] for g in group(records, size=2)] == [["1", "2"], ["3"], ["4"], ["5"]]
    assert [name for name, _ in documents(records)] == ["g/1.html", "g/4.html", "g/5.html"]


def test_search_group_document_escapes_and_carries_each_message_in_its_heading() -> None:
    hostile = 'a"><script>alert(1)</script>~x'
    records = [_record(7, "x", "2024-01-30T10:00:00+00:00", hostile, ("link", "code")),
               _record(8, "x", "2024-01-30T11:00:00+00:00", "b")]  # fmt: skip
    doc = group_document(records)
    assert "<script>" not in doc
    ids = [html.unescape(m) for m in re.findall(r'<h2 id="([^"]*)"></h2>', doc)]
    assert ids == ["m7~2024-01-30T10:00:00+00:00~link,code~" + quote(hostile, safe=""),
                   "m8~2024-01-30T11:00:00+00:00~~b"]  # fmt: skip
    assert not re.search(r"\s", ids[0])
    filters = re.findall(r'data-pagefind-filter="(\w+)">([^<]*)<', doc)
    assert sorted((k, html.unescape(v)) for k, v in filters) == sorted([
        ("channel", "x"), ("month", "2024-01"), ("year", "2024"), ("author", hostile), ("author", "b"),
        ("has", "code"), ("has", "link")])  # fmt: skip
    assert filter_counts(records)["has"] == {"link": 1, "code": 1}
    assert filter_counts(records)["author"] == {hostile: 1, "b": 1}


def test_sitemap_maps_server_cursors_onto_fixed_pages() -> None:
    m = SiteMap()
    for first, last in ((10, 19), (20, 29), (30, 33)):
        m.add_page(5, first, last)
    assert m.target("/c/5").file == "c/5/index.html"  # type: ignore[union-attr]
    assert m.target("/c/5?before=20").file == "c/5/p/1/index.html"  # type: ignore[union-attr]
    assert m.target("/c/5?after=19").file == "c/5/p/2/index.html"  # type: ignore[union-attr]
    assert m.target("/c/5?after=29").file == "c/5/index.html"  # type: ignore[union-attr]
    t = m.target("/c/5?around=25")
    assert t is not None and (t.file, t.fragment) == ("c/5/p/2/index.html", "m25")
    assert m.target("/c/5?conversation=7").file == "conv/7/index.html"  # type: ignore[union-attr]
    assert m.target("/m/1?v=2").file == "m/1/v/2/index.html"  # type: ignore[union-attr]
    assert m.target("/m/1/cite.bib").file == "m/1/cite.bib"  # type: ignore[union-attr]
    assert [m.target(u) for u in ("/c/5?date=2024-01-01", "/m/1.json", "/docs", "/theme?set=light")] == [
        None
    ] * 4


def test_publish_without_an_archive_says_so(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="no archive here; run `hallway ingest` first"):
        publish_site(tmp_path / "nothing", tmp_path / "out")
    assert sqlite3  # the archive is read only through the viewer's read layer


def test_relative_links_match_posixpath_relpath() -> None:
    import itertools
    import posixpath

    from publish.paths import relative

    files = ["index.html", "m/1/index.html", "m/1/v/2/index.html", "m/12/cite.bib", "c/1/p/2/index.html",
             "static/app.css", "2024/m/1/index.html", "2024/index.html", "m/1/v/2/cite.json"]  # fmt: skip
    wrong = [
        (a, b)
        for a, b in itertools.product(files, files)
        if relative(a, b) != posixpath.relpath(b, posixpath.dirname(a) or ".")
    ]
    assert wrong == []


def test_publish_permalink_of_a_message_without_history_leads_to_its_timeline(
    site: tuple[Path, Path, object],
) -> None:
    data, out, _ = site
    mid = archive_ids(
        data,
        f"SELECT id FROM messages WHERE channel_id = {RESEARCH} AND deleted = 0 AND redacted IS NULL"
        " AND id NOT IN (SELECT message_id FROM revisions) ORDER BY id LIMIT 1",
    )[0]
    text = (out / "m" / str(mid) / "index.html").read_text(encoding="utf-8")
    to = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', text)
    assert (
        to is not None and to.group(1).startswith(f"../../c/{RESEARCH}/") and to.group(1).endswith(f"#m{mid}")
    )
    page, _, anchor = to.group(1).partition("#")
    assert f'id="{anchor}"' in (out / "m" / str(mid) / page).resolve().read_text(encoding="utf-8")
    assert f'<a href="{to.group(1)}">Message {mid}</a>' in text
    assert re.findall(r'href="(cite\.\w+)"', text) == ["cite.bib", "cite.json", "cite.ris"]
    assert f'<link rel="canonical" href="https://lab.example/archive/m/{mid}">' in text
    assert (
        f'<meta http-equiv="Content-Security-Policy" content="{STUB_CSP}">' in text and "<script" not in text
    )
    cite = json.loads((out / "m" / str(mid) / "cite.json").read_text())
    assert cite[0]["URL"] == f"https://lab.example/archive/m/{mid}?v=1"


def test_publish_leaves_out_one_message_conversations_and_other_confidence_views(
    site: tuple[Path, Path, object],
) -> None:
    data, out, _ = site
    sizes = dict(
        sqlite3.connect(data / "archive.sqlite")
        .execute("SELECT conversation_id, count(*) FROM links GROUP BY conversation_id")
        .fetchall()
    )
    published = {int(p.parent.name) for p in out.glob("conv/*/index.html")}
    assert published and {c for c in published if sizes.get(c, 0) < 2} == set()
    assert any(n == 1 for n in sizes.values())
    assert list(out.glob("conv/*/min-*")) == [] and list(out.glob("conv/*/feed.atom")) == []
    linked = set()
    for page in out.glob("c/*/index.html"):
        linked |= {int(c) for c in re.findall(r'href="[./]*conv/(\d+)/', page.read_text(encoding="utf-8"))}
    assert linked and linked <= published


def test_the_renderer_runs_every_page_on_one_worker_thread(site: tuple[Path, Path, object]) -> None:
    """The app runs its sync routes in a worker thread that lives as long as the task that started it; the
    renderer serves every request from one task, so a build doesn't start a thread per page."""
    import threading

    from publish.render import Renderer
    from web.settings import Settings

    data = site[0]
    channel = archive_ids(data, "SELECT id FROM channels ORDER BY id LIMIT 1")[0]
    renderer = Renderer(Settings(data_dir=data))
    seen: set[threading.Thread] = set()  # (the objects, held: a thread's ident may be reused once it ends)
    before = set(threading.enumerate())
    try:
        for url in ["/", f"/c/{channel}", "/search?q=the", "/nowhere"] * 5:
            status = renderer.get_asgi(url).status  # (the pages the app answers over ASGI)
            assert status == (404 if url == "/nowhere" else 200), url
            seen |= set(threading.enumerate()) - before
    finally:
        renderer.close()
    assert len(seen) == 1, sorted(t.name for t in seen)


def test_pages_called_directly_are_the_apps_own_responses(site: tuple[Path, Path, object]) -> None:
    """The renderer calls a route's function itself where it can; every page of the sample server reached
    from its home page by links (and a few bad URLs) is the same status, type and bytes as over ASGI."""
    from collections import Counter, deque
    from urllib.parse import urlsplit

    from publish.render import Renderer
    from web.settings import Settings

    renderer = Renderer(Settings(data_dir=site[0], base_url="https://lab.example/archive"))
    bad = ["/u/42", "/c/abc", "/u/1?before=x", "/u/1?before=1_0", "/nowhere", "/c/1?after=1&after=2"]
    conversations = archive_ids(site[0], "SELECT DISTINCT conversation_id FROM links LIMIT 5")
    one = "FROM messages WHERE author_id IS NOT NULL ORDER BY id LIMIT 1 OFFSET 9"
    mid, cid, uid = (archive_ids(site[0], f"SELECT {c} {one}")[0] for c in ("id", "channel_id", "author_id"))
    windows = [f"/c/{cid}?after={mid - 10**12}&before={mid}", f"/u/{uid}?before={mid}&after={mid - 10**12}"]
    seeds = ["/", *windows, *(f"/conv/{c}" for c in conversations), *bad]
    queue, seen, direct = deque(seeds), set(), Counter()
    try:
        while queue and len(seen) < 500:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            parts = urlsplit(url)
            called = renderer._direct(parts.path, parts.query)
            served = renderer.get_asgi(url)
            if url in bad:
                assert called is None and served.status in (400, 404, 422), (url, served.status)
            if called is not None:
                direct[parts.path.split("/")[1] or "/"] += 1
                same = ("content-type", "location", "content-disposition")
                assert (called.status, called.body, [called.headers.get(h) for h in same]) == (
                    served.status, served.body, [served.headers.get(h) for h in same]
                ), url  # fmt: skip
            if served.headers.get("content-type", "").startswith("text/html"):
                hrefs = re.findall(r'href="(/[^"#]*)', served.body.decode())
                queue.extend(html.unescape(h) for h in hrefs)
    finally:
        renderer.close()
    assert {"/", "c", "u", "conv", "t", "search", "m"} <= set(direct), direct
    assert sum(direct.values()) > 0.8 * len(seen), (sum(direct.values()), len(seen))
