"""The permalink /m/{id}: twins, context, replies, threads, revisions, tombstones and citations."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import orjson
from fastapi.testclient import TestClient

from tests import test_web_app
from tests.test_web_app import BASE_URL, GENERAL, Community

# The shared module-scoped fixtures (an archive ingested from crafted exports, and a client on it).
community = test_web_app.community
client = test_web_app.client


RIS_LINE = re.compile(r"^[A-Z][A-Z0-9]  - .*$")


def today() -> str:
    return datetime.now(tz=UTC).date().isoformat()


def test_message_json_has_the_documented_keys(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.hello}.json").json()
    assert {"id", "channel_id", "author", "timestamp", "content", "deleted", "reply_to", "replies", "thread_id",
            "revisions"} <= set(data)  # fmt: skip
    assert data["id"] == community.hello
    assert data["channel_id"] == GENERAL
    assert data["author"] == {
        "id": "100000000000000001", "name": "alice", "display_name": "Alice A", "is_bot": False,
        "pseudonym": False, "avatar_url": "https://cdn.discordapp.com/embed/avatars/1.png",
        "url": "/u/100000000000000001",
    }  # fmt: skip
    assert data["timestamp"] == "2023-11-14T22:13:20.000Z"
    assert data["content"] == "hello **world** from <@100000000000000002>"
    assert data["deleted"] is False and data["reply_to"] is None and data["thread_id"] is None
    assert [r["id"] for r in data["replies"]] == [community.reply]
    assert data["revisions"] == [
        {"n": 1, "edited_timestamp": None, "content": data["content"], "current": True,
         "url": f"/m/{community.hello}?v=1"}
    ]  # fmt: skip
    assert data["permalink"] == f"{BASE_URL}/m/{community.hello}"
    assert (
        data["discord_url"] == f"https://discord.com/channels/300000000000000001/{GENERAL}/{community.hello}"
    )


def test_message_html_agrees_with_json(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.hello}.json").json()
    text = client.get(f"/m/{community.hello}").text
    assert f'id="m{community.hello}"' in text and "is-focus" in text
    assert "hello <strong>world</strong> from" in text
    assert (
        '<a class="mention mention-user" href="/u/100000000000000002" rel="nofollow noopener noreferrer ugc">@Bob B</a>'
        in text
    )
    for m in data["context"]["before"] + data["context"]["after"] + data["replies"]:
        assert f'id="m{m["id"]}"' in text
    assert data["discord_url"] in text
    assert data["citation"]["sha256"] in text


def test_message_context_is_the_channel_around_it(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.edited}.json").json()
    assert [m["id"] for m in data["context"]["before"]] == [
        community.hello,
        community.reply,
        community.nested,
    ]
    assert [m["id"] for m in data["context"]["after"]][:2] == [community.deleted, community.media]


def test_message_reply_shows_what_it_replies_to(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.reply}.json").json()
    assert data["reply_to"] == community.hello
    assert data["reply_preview"]["excerpt"] == "hello world from @Bob B"
    assert [r["id"] for r in data["replies"]] == [community.nested]
    assert data["reply_tree_url"] == f"/t/{community.reply}"
    text = client.get(f"/m/{community.reply}").text
    assert f'href="/m/{community.hello}"' in text and "Replying to" in text


def test_message_starter_links_its_thread(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.starter}.json").json()
    assert data["thread_id"] == community.starter
    assert data["thread"] == {"id": community.starter, "name": "deep dive", "url": f"/t/{community.starter}"}
    assert f'href="/t/{community.starter}"' in client.get(f"/m/{community.starter}").text
    inside = client.get(f"/m/{community.in_thread}.json").json()
    assert inside["thread_id"] == community.starter


def test_message_revisions_and_v_parameter(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.edited}.json").json()
    assert [(r["n"], r["edited_timestamp"], r["content"], r["current"]) for r in data["revisions"]] == [
        (1, None, "original text", False),
        (2, "2023-11-14T22:20:00.000Z", "second text", False),
        (3, "2023-11-14T22:30:00.000Z", "final text", True),
    ]
    assert (data["version"], data["content"]) == (3, "final text")
    old = client.get(f"/m/{community.edited}.json?v=1").json()
    assert (old["version"], old["content"], old["edited_timestamp"]) == (1, "original text", None)
    assert old["permalink"] == f"{BASE_URL}/m/{community.edited}?v=1"
    text = client.get(f"/m/{community.edited}?v=2").text
    assert "Edit history" in text and "showing version 2 of 3" in text
    assert f'<link rel="canonical" href="{BASE_URL}/m/{community.edited}?v=2">' in text
    assert f'<a href="/m/{community.edited}?v=2" aria-current="page">Version 2</a>' in text


def test_message_unknown_revision_is_a_helpful_404(client: TestClient, community: Community) -> None:
    r = client.get(f"/m/{community.edited}?v=9")
    assert r.status_code == 404
    assert f"Message {community.edited} has no version 9" in r.text and "?v=1 is the original" in r.text
    assert (
        client.get(f"/m/{community.edited}.json?v=9").json()["error"]
        == f"Message {community.edited} has no version 9"
    )


def test_message_unknown_id_is_a_helpful_404(client: TestClient) -> None:
    r = client.get("/m/123456789")
    assert r.status_code == 404
    assert "Message 123456789 is not in the archive" in r.text and "hasn&#39;t been ingested" in r.text
    assert client.get("/m/123456789.json").json() == {
        "error": "Message 123456789 is not in the archive",
        "detail": "The message may be in an export that hasn't been ingested yet, or the id has a typo.",
        "status": 404,
    }


def test_message_deleted_is_a_tombstone(client: TestClient, community: Community) -> None:
    r = client.get(f"/m/{community.deleted}.json")
    assert r.status_code == 200
    data = r.json()
    notice = "This message was deleted from Discord; it was last seen in an export of 2024-06-01."
    assert (data["deleted"], data["content"], data["tombstone"]) == (True, None, notice)
    assert (data["revisions"], data["attachments"], data["citation"], data["version"]) == ([], [], None, None)
    text = client.get(f"/m/{community.deleted}").text
    assert notice in text and "to be deleted" not in text and 'id="cite"' not in text
    assert "to be deleted" not in client.get(f"/m/{community.deleted}.md").text
    assert "to be deleted" not in client.get(f"/c/{GENERAL}").text


def test_message_taken_down_is_a_tombstone_without_author(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.taken_down}.json").json()
    assert data["redacted"] == "personal information" and data["author"] is None and data["content"] is None
    assert data["tombstone"] == "This message was withheld from the archive (personal information)."
    for path in (f"/m/{community.taken_down}", f"/m/{community.taken_down}.md", f"/c/{GENERAL}"):
        assert "555" not in client.get(path).text, path
    # A pinned revision of a tombstone still resolves: the URL never breaks, the content stays hidden.
    assert client.get(f"/m/{community.taken_down}?v=1").status_code == 200


def test_message_tombstones_cannot_be_cited(client: TestClient, community: Community) -> None:
    for mid in (community.deleted, community.taken_down):
        for ext in ("bib", "json", "ris"):
            r = client.get(f"/m/{mid}/cite.{ext}")
            assert r.status_code == 410, (mid, ext)
            assert r.json()["error"] == f"Message {mid} can't be cited"


def test_message_markdown_twin(client: TestClient, community: Community) -> None:
    r = client.get(f"/m/{community.reply}.md")
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    lines = r.text.splitlines()
    assert lines[:10] == [
        "# Message by Bob B in #general (Test Guild)",
        "",
        "- Posted: 2023-11-14T22:14:20.000Z",
        f"- Permalink: <{BASE_URL}/m/{community.reply}>",
        f"- On Discord: <https://discord.com/channels/300000000000000001/{GENERAL}/{community.reply}>",
        f"- Replying to: <{BASE_URL}/m/{community.hello}>",
        "",
        "```text",
        "hi alice",
        "```",
    ]
    assert f"- Carol C, 2023-11-14T22:14:50.000Z: <{BASE_URL}/m/{community.nested}>" in lines
    assert "## Cite" in lines


def test_cite_bibtex_exact_text(client: TestClient, community: Community) -> None:
    mid = community.edited
    sha = hashlib.sha256(b"original text").hexdigest()
    r = client.get(f"/m/{mid}/cite.bib?v=1")
    assert r.headers["content-type"] == "application/x-bibtex; charset=utf-8"
    assert r.text == (
        f"@misc{{hallway-{mid}-v1,\n"
        "  author = {{Alice A}},\n"
        "  title = {{original text}},\n"
        "  howpublished = {Discord message, Test Guild, \\#general},\n"
        "  year = {2023},\n"
        "  month = nov,\n"
        "  date = {2023-11-14T22:15:20Z},\n"
        f"  url = {{{BASE_URL}/m/{mid}?v=1}},\n"
        f"  urldate = {{{today()}}},\n"
        f"  note = {{Discord message {mid}, posted 2023-11-14T22:15:20.000Z; version 1 of 3; "
        f"SHA-256 of the cited content: {sha}}},\n"
        "}\n"
    )


def test_cite_defaults_to_the_current_version(client: TestClient, community: Community) -> None:
    text = client.get(f"/m/{community.edited}/cite.bib").text
    assert f"url = {{{BASE_URL}/m/{community.edited}?v=3}}" in text
    assert hashlib.sha256(b"final text").hexdigest() in text


def _check_csl_item(item: dict[str, object]) -> None:
    """The required keys and types of a CSL-JSON item (citation-style-language/schema csl-data.json)."""
    assert isinstance(item["id"], str)
    assert item["type"] in {"post", "post-weblog", "personal_communication", "webpage"}
    assert (
        isinstance(item["title"], str)
        and isinstance(item["URL"], str)
        and isinstance(item["container-title"], str)
    )
    authors = item["author"]
    assert isinstance(authors, list) and authors
    for a in authors:
        assert isinstance(a, dict) and (isinstance(a.get("literal"), str) or isinstance(a.get("family"), str))
    for key in ("issued", "accessed"):
        parts = item[key]["date-parts"]  # type: ignore[index]
        assert isinstance(parts, list) and len(parts) in (1, 2)
        assert all(isinstance(p, int) for p in parts[0]) and 1 <= len(parts[0]) <= 3


def test_cite_csl_json_matches_the_schema(client: TestClient, community: Community) -> None:
    r = client.get(f"/m/{community.edited}/cite.json?v=2")
    assert r.headers["content-type"] == "application/vnd.citationstyles.csl+json"
    items = orjson.loads(r.content)
    assert isinstance(items, list) and len(items) == 1
    _check_csl_item(items[0])
    sha = hashlib.sha256(b"second text").hexdigest()
    assert items[0] | {"accessed": None} == {
        "id": f"hallway-{community.edited}-v2",
        "type": "post",
        "genre": "Discord message",
        "title": "second text",
        "author": [{"literal": "Alice A"}],
        "container-title": "Test Guild, #general",
        "publisher": "Discord",
        "issued": {"date-parts": [[2023, 11, 14]]},
        "accessed": None,
        "URL": f"{BASE_URL}/m/{community.edited}?v=2",
        "version": "2",
        "note": f"Discord message {community.edited}, posted 2023-11-14T22:15:20.000Z; version 2 of 3; "
        f"SHA-256 of the cited content: {sha}",
        "custom": {"message_id": community.edited, "timestamp": "2023-11-14T22:15:20.000Z", "sha256": sha},
    }


def test_cite_ris_is_well_formed(client: TestClient, community: Community) -> None:
    text = client.get(f"/m/{community.hello}/cite.ris").text
    lines = text.splitlines()
    assert lines[0] == "TY  - ELEC" and lines[-1] == "ER  - "
    assert all(RIS_LINE.match(line) for line in lines)
    tags = dict(line.split("  - ", 1) for line in lines[:-1])
    assert tags["AU"] == "Alice A" and tags["T2"] == "Test Guild, #general" and tags["DA"] == "2023/11/14"
    assert tags["UR"] == f"{BASE_URL}/m/{community.hello}?v=1"
    assert tags["TI"] == "hello world from @Bob B"


def test_cite_formats_on_the_page_match_the_files(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.hello}.json").json()
    formats = data["citation"]["formats"]
    assert formats["bibtex"] == client.get(f"/m/{community.hello}/cite.bib").text
    assert formats["ris"] == client.get(f"/m/{community.hello}/cite.ris").text
    assert orjson.loads(formats["csl_json"]) == client.get(f"/m/{community.hello}/cite.json").json()
    assert formats["markdown"].startswith(
        "> hello \\*\\*world\\*\\* from \\<@100000000000000002\\>\n\n— Alice A, Test Guild, #general"
    )
    assert data["citation"]["files"] == {
        "bib": f"/m/{community.hello}/cite.bib?v=1",
        "json": f"/m/{community.hello}/cite.json?v=1",
        "ris": f"/m/{community.hello}/cite.ris?v=1",
    }
    assert client.get(f"/m/{community.hello}/cite.pdf").status_code == 404


def test_message_hostile_content_never_executes(client: TestClient, community: Community) -> None:
    text = client.get(f"/m/{community.hostile}").text
    assert "<script>alert" not in text and 'href="javascript:' not in text and "<img src=x" not in text
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; [click](javascript:alert(1)) &lt;img src=x onerror=alert(1)&gt;"
        in text
    )


def test_message_details_render(client: TestClient, community: Community) -> None:
    data = client.get(f"/m/{community.media}.json").json()
    assert [a["url"] for a in data["attachments"]][:3] == [
        f"/media/{community.media}/0",
        f"/media/{community.media}/1",
        "https://cdn.discordapp.com/attachments/1/2/remote.pdf?ex=1&is=2&hm=3",
    ]
    assert data["embeds"] == [
        {"title": "A paper", "description": "About *lanterns*", "url": "https://papers.example.net/abs/1",
         "color": "#5865F2", "author": None, "fields": [{"name": "Year", "value": "2024", "inline": True}],
         "thumbnail": f"/media/{community.media}/thumbnail/0", "image": None, "footer": "papers.example.net"}
    ]  # fmt: skip
    assert data["reactions"] == [{"emoji": "👍", "emoji_id": None, "image_url": None, "count": 3}]
    assert data["stickers"] == [
        {"name": "wave", "format": "Png", "url": "https://media.discordapp.net/stickers/9.png"}
    ]
    text = client.get(f"/m/{community.media}").text
    assert f'<img src="/media/{community.media}/0" alt="pic.png" loading="lazy">' in text
    assert 'notes.txt</a> <span class="muted">5 bytes</span>' in text
    assert "Discord CDN link (may have expired)" in text
    assert (
        "<em>lanterns</em>" in text
        and 'alt="Sticker: wave"' in text
        and '<span class="count">3</span>' in text
    )


def test_citations_built_in_a_batch_are_those_of_each_permalink(community: Community) -> None:
    # A static copy builds every message's citation in a batch; it must be the permalink's own.
    from datetime import date

    import archive
    from web.routes.messages import build_citation, build_citations, build_message_page
    from web.settings import Settings

    settings = Settings(data_dir=community.data_dir, base_url=BASE_URL)
    conn = archive.connect(community.data_dir / archive.ARCHIVE_FILE, readonly=True)
    ids = [r[0] for r in conn.execute("SELECT id FROM messages ORDER BY id")]
    day = date(2025, 3, 4)
    batch = build_citations(conn, settings, ids, {i: day for i in ids})
    singly = {}
    for mid in ids:
        page = build_message_page(conn, settings, mid, None, day)
        if page["citation"] is not None:
            singly[mid] = build_citation(settings, page, day)
            assert singly[mid].versions == len(page["revisions"])
    assert batch == singly
    assert batch[int(community.edited)].versions == 3 and batch[int(community.edited)].version == 3
    assert int(community.deleted) not in batch and int(community.taken_down) not in batch
    assert batch[int(community.hello)].plain_text.startswith("hello world from @")
