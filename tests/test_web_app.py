"""The viewer app as a whole: the crafted community every web test uses, security headers, errors, health."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

import archive
import indexer
from archive import Ingester, Policy
from tests.factory import ALICE, BOB, CAROL, msg, sf, write_export
from web.app import CSP, create_app
from web.settings import Settings

BASE_URL = "https://archive.example.org"
SECRET = "TOP-SECRET-CONTENT"
GENERAL = "200000000000000001"
GUILD = "300000000000000001"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005"
    "0001ff8e0b1a2e0000000049454e44ae426082"
)


@dataclass(frozen=True)
class Community:
    """Ids and paths of the crafted archive."""

    data_dir: Path
    exports: Path
    hello: str  # alice, two replies below it
    reply: str  # bob replies to hello
    edited: str  # three versions
    deleted: str  # missing from the newer export
    media: str  # attachments (local, CDN, traversal, symlink), embed, sticker, reactions
    starter: str  # started the thread "deep dive"
    hostile: str  # script and javascript: links
    taken_down: str  # redacted by policy
    nested: str  # carol replies to bob's reply
    in_thread: str
    thread_reply: str
    outside: Path  # a secret file outside the export folder


def _messages(version: int) -> list[dict[str, object]]:
    hello = msg(0, "hello **world** from <@100000000000000002>", ALICE, mentions=[{**BOB}])
    reply = msg(
        60,
        "hi alice",
        BOB,
        type="Reply",
        reference={"messageId": sf(0), "channelId": GENERAL, "guildId": GUILD},
    )
    nested = msg(
        90,
        "replying to bob",
        CAROL,
        type="Reply",
        reference={"messageId": sf(60), "channelId": GENERAL, "guildId": GUILD},
    )
    texts = {
        1: ("original text", None),
        2: ("second text", "2023-11-14T22:20:00.000+00:00"),
        3: ("final text", "2023-11-14T22:30:00.000+00:00"),
    }
    text, edited_at = texts[version]
    edited = msg(120, text, ALICE, timestampEdited=edited_at)
    deleted = msg(180, "to be deleted", CAROL)
    media = msg(
        240, "look at these", ALICE,
        attachments=[
            {"id": "1", "url": "export_Files/pic-ABCDE.png", "fileName": "pic.png", "fileSizeBytes": len(PNG)},
            {"id": "2", "url": "export_Files/notes-ABCDE.txt", "fileName": "notes.txt", "fileSizeBytes": 5},
            {"id": "3", "url": "https://cdn.discordapp.com/attachments/1/2/remote.pdf?ex=1&is=2&hm=3",
             "fileName": "remote.pdf", "fileSizeBytes": 2048},
            {"id": "4", "url": "../outside/secret.txt", "fileName": "secret.txt", "fileSizeBytes": 6},
            {"id": "5", "url": "export_Files/link.txt", "fileName": "link.txt", "fileSizeBytes": 6},
            {"id": "6", "url": "/etc/passwd", "fileName": "passwd", "fileSizeBytes": 6},
            {"id": "7", "url": "export_Files/..\\..\\outside\\secret.txt", "fileName": "s.txt", "fileSizeBytes": 6},
        ],
        embeds=[{"title": "A paper", "url": "https://papers.example.net/abs/1", "description": "About *lanterns*",
                 "color": "#5865F2", "fields": [{"name": "Year", "value": "2024", "isInline": True}],
                 "thumbnail": {"url": "export_Files/pic-ABCDE.png", "width": 1, "height": 1},
                 "images": [], "footer": {"text": "papers.example.net"}}],
        stickers=[{"id": "9", "name": "wave", "format": "Png", "sourceUrl": "https://media.discordapp.net/stickers/9.png"}],
        reactions=[{"emoji": {"id": "", "name": "👍", "code": "thumbsup", "isAnimated": False,
                              "imageUrl": "https://cdn.jsdelivr.net/x.svg"}, "count": 3}],
    )  # fmt: skip
    starter = msg(300, "thread starter", BOB)
    hostile = msg(
        360, "<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)>", CAROL
    )
    taken_down = msg(540, "my phone number is 555", BOB)
    out = [hello, reply, nested, edited, deleted, media, starter, hostile, taken_down]
    if version > 1:
        out = [m for m in out if m is not deleted]
    return out


def build_community(root: Path) -> Community:
    """Write the exports (two snapshots of #general, one thread), ingest them, and return the ids."""
    exports = root / "exports"
    kw = {"channel_id": GENERAL, "channel_name": "general", "category_id": "400000000000000001",
          "category": "Text Channels", "guild_id": GUILD, "guild_name": "Test Guild"}  # fmt: skip
    write_export(
        exports / "old" / "general.json", _messages(1), exported_at="2024-06-01T00:00:00+00:00", **kw
    )
    write_export(
        exports / "mid" / "general.json", _messages(2), exported_at="2024-09-01T00:00:00+00:00", **kw
    )
    newest = exports / "new" / "general.json"
    write_export(newest, _messages(3), exported_at="2025-01-01T00:00:00+00:00", **kw)
    files = newest.parent / "export_Files"
    files.mkdir()
    (files / "pic-ABCDE.png").write_bytes(PNG)
    (files / "notes-ABCDE.txt").write_text("notes")
    outside = exports / "outside"  # a sibling of the export folder: never served
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    os.symlink(outside / "secret.txt", files / "link.txt")
    thread = [
        msg(420, "in thread", CAROL),
        msg(480, "reply in thread", ALICE, type="Reply",
            reference={"messageId": sf(420), "channelId": sf(300), "guildId": GUILD}),
    ]  # fmt: skip
    write_export(
        exports / "new" / "thread.json", thread, channel_id=sf(300), channel_name="deep dive",
        channel_type="GuildPublicThread", category_id=GENERAL, category="general", guild_id=GUILD,
        guild_name="Test Guild", exported_at="2025-01-01T00:00:00+00:00",
    )  # fmt: skip
    data_dir = root / "data"
    conn = archive.connect(data_dir / archive.ARCHIVE_FILE)
    ingester = Ingester(conn, Policy(takedowns={int(sf(540)): "personal information"}))
    for path in sorted(exports.rglob("*.json")):
        result = ingester.ingest_file(path)
        assert result.status == "ok", result
    ingester.apply_policy()
    indexer.update_index(data_dir, conn)
    conn.close()
    return Community(
        data_dir=data_dir, exports=exports, hello=sf(0), reply=sf(60), edited=sf(120), deleted=sf(180),
        media=sf(240), starter=sf(300), hostile=sf(360), taken_down=sf(540), nested=sf(90),
        in_thread=sf(420), thread_reply=sf(480), outside=outside / "secret.txt",
    )  # fmt: skip


@pytest.fixture(scope="module")
def community(tmp_path_factory: pytest.TempPathFactory) -> Community:
    return build_community(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def client(community: Community) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=community.data_dir, base_url=BASE_URL, page_size=50))
    with TestClient(app) as c:
        yield c


# -- tests ----------------------------------------------------------------------------------------


def test_app_sets_security_headers_on_pages_and_errors(client: TestClient, community: Community) -> None:
    for path in ("/", f"/m/{community.hello}", "/nope", "/m/123.json", "/static/app.css"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_app_html_has_no_inline_scripts_or_styles(client: TestClient, community: Community) -> None:
    for path in ("/", f"/m/{community.media}", f"/c/{GENERAL}", f"/t/{community.starter}", "/search?q=x"):
        text = client.get(path).text
        assert "<script>" not in text and "<style" not in text and " style=" not in text, path
        assert '<script src="/static/app.js" defer></script>' in text


def test_app_unknown_route_gives_helpful_404_page(client: TestClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "Page not found" in r.text and 'href="/search"' in r.text and "<main" in r.text


def test_app_non_numeric_ids_give_404_page_not_422(client: TestClient) -> None:
    for path in ("/m/abc", "/c/abc", "/u/abc", "/t/abc"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "text/html" in r.headers["content-type"]
        assert "is not a" in r.text
    r = client.get("/m/abc.json")
    assert r.status_code == 404
    assert r.json() == {
        "error": "'abc' is not a message id",
        "detail": "Message ids are Discord snowflakes, all digits.",
        "status": 404,
    }


def test_app_bad_query_parameter_gives_400_not_500(client: TestClient) -> None:
    r = client.get(f"/c/{GENERAL}?before=yesterday")
    assert r.status_code == 400
    assert "Bad request" in r.text
    assert client.get(f"/c/{GENERAL}.json?before=yesterday").json()["error"] == "Bad request"


def test_app_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "archive": True}


def test_app_missing_archive_gives_503_page(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "empty"))) as c:
        r = c.get("/")
        assert r.status_code == 503
        assert "hallway ingest" in r.text
        assert c.get("/healthz").json() == {"status": "ok", "archive": False}


def test_app_openapi_lists_every_json_route(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {
        "/index.json", "/search.json", "/c/{channel_id}.json", "/m/{message_id}.json", "/m/{message_id}.md",
        "/m/{message_id}/cite.{ext}", "/t/{thread_id}.json", "/t/{thread_id}.md", "/conv/{conversation_id}.json",
        "/conv/{conversation_id}.md", "/u/{user_id}.json", "/healthz",
        "/media/{message_id}/{pos}", "/media/{message_id}/{kind}/{pos}",
        "/digest.json", "/digest.md", "/digest.atom", "/c/{channel_id}.atom", "/t/{thread_id}.atom",
        "/conv/{conversation_id}.atom", "/search.atom",
    } == paths  # fmt: skip
    assert client.get("/docs").status_code == 200


def test_app_theme_switch_works_without_javascript(client: TestClient) -> None:
    r = client.get("/theme?set=light&next=/c/" + GENERAL, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/c/" + GENERAL
    for cookie, theme in (("light", "light"), ("bogus", "dark")):
        with TestClient(client.app, cookies={"theme": cookie}) as c:
            assert f'data-theme="{theme}"' in c.get("/").text
    assert (
        client.get("/theme?set=light&next=//evil.example", follow_redirects=False).headers["location"] == "/"
    )


def test_app_pages_have_landmarks_and_canonical(client: TestClient, community: Community) -> None:
    text = client.get(f"/m/{community.hello}").text
    assert '<a class="skip" href="#main">' in text
    assert 'role="banner"' in text and '<main id="main"' in text and 'role="contentinfo"' in text
    assert f'<link rel="canonical" href="{BASE_URL}/m/{community.hello}">' in text
    assert '<label for="q"' in text


def test_app_pseudonymized_people_appear_only_under_their_pseudonym(tmp_path: Path) -> None:
    export = write_export(
        tmp_path / "e" / "general.json", [msg(0, "hi from bob", BOB), msg(5, "hi bob", ALICE)]
    )
    conn = archive.connect(tmp_path / "data" / archive.ARCHIVE_FILE)
    Ingester(conn, Policy(pseudonymize_users=frozenset({int(BOB["id"])}))).ingest_file(export)
    conn.close()
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as c:
        author = c.get(f"/m/{sf(0)}.json").json()["author"]
        assert (
            author["pseudonym"] is True and author["name"].startswith("anon-") and author["id"] != BOB["id"]
        )
        assert c.get(f"/u/{BOB['id']}").status_code == 404
        page = c.get(author["url"]).text
        assert author["display_name"] in page and "bob" not in page.lower().replace("hi from bob", "")


@pytest.mark.slow
def test_app_hallway_serve_ingests_paths_first(community: Community, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data_dir = tmp_path / "served"
    cli = Path(__file__).resolve().parent.parent / "cli.py"
    cmd = [sys.executable, str(cli), "serve", str(community.exports / "new"), "--data-dir", str(data_dir),
           "--port", str(port), "--base-url", "https://served.example"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/m/{community.hello}.json", timeout=2
                ) as r:
                    data = orjson.loads(r.read())
                break
            except OSError:
                assert time.monotonic() < deadline, "hallway serve did not come up"
                time.sleep(0.2)
        assert data["permalink"] == f"https://served.example/m/{community.hello}"
        assert (data_dir / archive.ARCHIVE_FILE).exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
