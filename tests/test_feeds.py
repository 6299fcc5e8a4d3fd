"""Atom feeds: valid for feedparser and a strict XML parser, required elements, conditional GET, hostile
content, page HTML in entries, nothing withheld, and every page with a feed announces it."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from typer.testing import CliRunner

import archive
import indexer
from archive import Ingester, Policy
from cli import app as cli_app
from tests.conftest import SAMPLES
from tests.factory import ALICE, BOB, CAROL, msg, write_export
from tests.live import build_data_dir, serve
from web.app import create_app
from web.feeds import xml_text
from web.settings import Settings

BASE = "https://hallway.example/archive"
RESEARCH = "907543031316510423"
FORUM = "1283084569804951307"
THREAD = "1239970985717853624"
FEEDS = [
    f"/c/{RESEARCH}.atom",
    f"/c/{FORUM}.atom",
    f"/t/{THREAD}.atom",
    f"/conv/{THREAD}.atom",
    "/search.atom?q=tokenizer",
    "/digest.atom",
    "/digest.atom?in=research",
]
HOSTILE = 'evil <script>alert(1)</script> & ]]> "quotes" \x00\x01\x08\x0b\x1b\x7f\ufffe end'


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    data = tmp_path_factory.mktemp("feeds") / "data"
    build_data_dir(data, [SAMPLES])
    return TestClient(create_app(Settings(data_dir=data, base_url=BASE)))


@pytest.mark.parametrize("url", FEEDS)
def test_feed_is_valid_atom_with_required_elements(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    etree.fromstring(r.content)  # well-formed for a strict parser too
    f = feedparser.parse(r.content)
    assert f.bozo == 0, f.get("bozo_exception")
    assert f.version == "atom10"
    for key in ("id", "title", "updated", "link"):
        assert f.feed.get(key), key
    assert f.entries, url
    for e in f.entries:
        for key in ("id", "title", "updated", "link", "author"):
            assert e.get(key), (url, key)
        assert e.link.startswith(BASE + "/") and e.id.startswith(BASE + "/")
        assert e.content[0].type == "text/html"
    published = [e.published_parsed for e in f.entries]
    assert published == sorted(published, reverse=True)  # newest first


def test_feed_entries_newest_first_with_permalink_ids(client: TestClient) -> None:
    f = feedparser.parse(client.get(f"/c/{RESEARCH}.atom").content)
    ids = [int(e.id.rsplit("/", 1)[1]) for e in f.entries]
    assert ids == sorted(ids, reverse=True) and len(ids) == 50
    newest = client.get(f"/c/{RESEARCH}.json").json()["messages"][-1]
    assert f.entries[0].id == BASE + newest["url"]
    assert f.feed.link == f"{BASE}/c/{RESEARCH}"


def test_forum_feed_lists_its_posts(client: TestClient) -> None:
    f = feedparser.parse(client.get(f"/c/{FORUM}.atom").content)
    assert [e.title for e in f.entries] == [
        "Grokking Without Weight Decay: A Reading",
        "Are tokenizers hidden variables in probing?",
        "Induction Heads Revisited: Formation Under Curriculum",
    ]
    assert f.entries[0].link == f"{BASE}/t/1364277070477316834"


def test_feed_entry_content_is_the_page_html(client: TestClient) -> None:
    raw = client.get(f"/t/{THREAD}.atom").content
    f = feedparser.parse(raw)
    page = client.get(f"/t/{THREAD}").text
    entry = etree.fromstring(raw).find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    content = entry.findtext("{http://www.w3.org/2005/Atom}content") or ""
    assert content.strip()
    assert content.replace(BASE + "/", "/").strip() in page
    assert f.entries[0].summary  # feedparser reads it as HTML


@pytest.mark.parametrize("url", [f"/c/{RESEARCH}.atom", "/digest.atom"])
def test_feed_conditional_get(client: TestClient, url: str) -> None:
    r = client.get(url)
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert re.fullmatch(r'"[0-9a-f]{24}"', etag)
    assert r.headers["cache-control"] == "public, max-age=300, must-revalidate"
    again = client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert client.get(url, headers={"If-None-Match": f'W/{etag}, "other"'}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    # If-None-Match decides when both are sent (a changed body must not hide behind an old date)
    assert (
        client.get(url, headers={"If-None-Match": '"stale"', "If-Modified-Since": modified}).status_code
        == 200
    )
    assert client.get(url, headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_feedparser_conditional_get_against_a_live_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_data_dir(data, [SAMPLES / "2025-01-export"])
    with serve(data) as url:
        first = feedparser.parse(f"{url}/c/{RESEARCH}.atom")
        assert first.status == 200 and first.bozo == 0 and first.entries
        second = feedparser.parse(f"{url}/c/{RESEARCH}.atom", etag=first.etag, modified=first.modified)
        assert second.status == 304 and second.entries == []


def test_feed_missing_things_are_404(client: TestClient) -> None:
    assert client.get("/c/1.atom").status_code == 404
    assert client.get("/t/1.atom").status_code == 404
    assert client.get("/conv/1.atom").status_code == 404
    r = client.get("/c/abc.atom")
    assert r.status_code == 404 and r.json()["error"] == "'abc' is not a channel id"


def test_xml_text_drops_what_xml_forbids() -> None:
    assert xml_text(HOSTILE) == 'evil <script>alert(1)</script> & ]]> "quotes"  end'
    assert xml_text("\ud800lone") == "?lone"


@pytest.fixture(scope="module")
def withheld_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """An archive with a takedown, a dropped user, an excluded channel and hostile content."""
    root = tmp_path_factory.mktemp("withheld")
    exports = root / "exports"
    write_export(
        exports / "general.json",
        [
            msg(0, "hello zebrafeedvisible", ALICE),
            msg(10, HOSTILE, BOB),
            msg(20, "please remove zebrafeedtakedown", ALICE),
            msg(30, "zebrafeeddropped words", CAROL),
            msg(40, "zebrafeedlast", ALICE),
        ],
    )
    write_export(
        exports / "secret.json", [msg(50, "zebrafeedsecretchannel", ALICE)],
        channel_id="200000000000000099", channel_name="mod-secret",
    )  # fmt: skip
    taken = str(int(msg(20, "")["id"]))
    policy = Policy(
        exclude=("mod-*",), drop_users=frozenset({int(CAROL["id"])}), takedowns={int(taken): "asked"}
    )
    data = root / "data"
    conn = archive.connect(data / archive.ARCHIVE_FILE)
    ingester = Ingester(conn, policy)
    for path in archive.iter_export_files([exports]):
        ingester.ingest_file(path)
    ingester.update_conversations()
    indexer.update_index(data, conn)
    conn.close()
    return TestClient(create_app(Settings(data_dir=data, base_url=BASE)))


def test_feeds_never_carry_withheld_content_and_escape_hostile_text(withheld_client: TestClient) -> None:
    c = withheld_client
    channel = "200000000000000001"
    first = msg(0, "")["id"]
    bodies = [
        c.get(f"/c/{channel}.atom").content,
        c.get(f"/conv/{first}.atom").content,
        c.get("/search.atom?q=zebrafeed*").content,
        c.get("/digest.atom").content,
    ]
    for body in bodies:
        etree.fromstring(body)
        f = feedparser.parse(body)
        assert f.bozo == 0, f.get("bozo_exception")
        text = body.decode()
        for secret in ("zebrafeedtakedown", "zebrafeeddropped", "zebrafeedsecretchannel", "carol", "Carol C"):
            assert secret not in text
        assert "<script>" not in text and "\x1b" not in text
    channel_feed = feedparser.parse(bodies[0])
    titles = [e.title.split(": ", 1)[1] for e in channel_feed.entries]
    assert titles[0] == "zebrafeedlast" and titles[2] == "hello zebrafeedvisible"
    assert titles[1].startswith('evil <script>alert(1)</script> & ]]> "quotes"') and titles[1].endswith(
        " end"
    )
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe]", titles[1])
    assert "&lt;script&gt;" in channel_feed.entries[1].content[0].value
    digest = c.get("/digest.json?since=2023-11-14&until=2023-11-14").json()
    assert digest["total_messages"] == 3
    text = c.get("/digest.md?since=2023-11-14&until=2023-11-14").text  # the Markdown twin escapes it too
    assert "evil \\<script\\>alert(1)\\</script\\>" in text and "<script>" not in text
    assert not any(s in text for s in ("zebrafeedtakedown", "zebrafeeddropped", "zebrafeedsecretchannel"))
    assert c.get("/c/200000000000000099.atom").status_code == 404  # the excluded channel is not there at all


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/", "/digest.atom"),
        (f"/c/{RESEARCH}", f"/c/{RESEARCH}.atom"),
        (f"/c/{FORUM}", f"/c/{FORUM}.atom"),
        (f"/t/{THREAD}", f"/t/{THREAD}.atom"),
        (f"/conv/{THREAD}", f"/conv/{THREAD}.atom"),
        ("/search?q=tokenizer", "/search.atom?q=tokenizer"),
        ("/digest?since=2024-05-01&until=2024-05-31", "/digest.atom"),
    ],
)
def test_pages_announce_their_feed_and_show_a_subscribe_link(
    client: TestClient, page: str, feed: str
) -> None:
    html = client.get(page).text
    links = re.findall(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html)
    assert links == [feed.replace("&", "&amp;")]
    assert f'class="subscribe-link" href="{feed}"' in html


def test_takedown_leaves_cached_digests_and_feeds_at_once(tmp_path: Path) -> None:
    """A digest or feed served before `hallway redact` never serves the taken-down message after it."""
    exports = tmp_path / "exports"
    write_export(
        exports / "general.json", [msg(0, "kept okapiwords", ALICE), msg(9, "okapitakedown words", BOB)]
    )
    data = tmp_path / "data"
    build_data_dir(data, [exports])
    client = TestClient(create_app(Settings(data_dir=data, base_url=BASE)))
    urls = ["/digest.json?since=2023-11-14&until=2023-11-14", "/digest.atom", "/c/200000000000000001.atom"]
    before = {u: client.get(u) for u in urls}
    assert all("okapitakedown" in r.text for r in before.values())
    done = CliRunner().invoke(cli_app, ["redact", "--message", msg(9, "")["id"], "--data-dir", str(data)])
    assert done.exit_code == 0, done.output
    for u in urls:
        after = client.get(u, headers={"If-None-Match": before[u].headers.get("etag", '"none"')})
        assert after.status_code == 200 and "okapitakedown" not in after.text, u
    assert client.get(urls[0]).json()["total_messages"] == 1
