"""/, /c, /t, /u and /search: each HTML page and its .json twin agree; paging, date jumps, facets, hints."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import archive
import indexer
from tests import test_web_app
from tests.test_web_app import BASE_URL, GENERAL, Community
from web import pages
from web.app import create_app
from web.settings import Settings

# The shared module-scoped fixtures (an archive ingested from crafted exports, and a client on it).
community = test_web_app.community
client = test_web_app.client


ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_exports"


def ids_in(text: str) -> set[str]:
    """Message anchors on an HTML page."""
    return {part.split('"', 1)[0] for part in text.split('id="m')[1:] if part[:1].isdigit()}


def test_home_lists_guilds_channels_and_threads(client: TestClient, community: Community) -> None:
    data = client.get("/index.json").json()
    (guild,) = data["guilds"]
    assert (guild["id"], guild["name"]) == ("300000000000000001", "Test Guild")
    ((category,),) = [[c for c in guild["categories"]]]
    assert category["name"] == "Text Channels"
    (general,) = category["channels"]
    assert {k: general[k] for k in ("id", "name", "url", "message_count", "last_activity")} == {
        "id": GENERAL, "name": "general", "url": f"/c/{GENERAL}", "message_count": 7,
        "last_activity": "2023-11-14T22:21:20.000Z",
    }  # fmt: skip
    assert general["threads"] == [
        {"id": community.starter, "name": "deep dive", "type": "GuildPublicThread", "url": f"/t/{community.starter}",
         "message_count": 2, "last_activity": "2023-11-14T22:21:20.000Z"}
    ]  # fmt: skip
    assert general["activity"][-1] == {"month": "2023-11", "count": 9}  # includes its thread's messages
    text = client.get("/").text
    assert (
        f'href="/c/{GENERAL}"' in text
        and f'href="/t/{community.starter}"' in text
        and '<svg class="spark"' in text
    )


def test_channel_timeline_matches_its_twin(client: TestClient, community: Community) -> None:
    data = client.get(f"/c/{GENERAL}.json").json()
    ids = [m["id"] for m in data["messages"]]
    assert ids == [community.hello, community.reply, community.nested, community.edited, community.deleted,
                   community.media, community.starter, community.hostile, community.taken_down]  # fmt: skip
    assert (data["has_older"], data["has_newer"]) == (False, False)
    text = client.get(f"/c/{GENERAL}").text
    assert ids_in(text) == set(ids)
    assert "Tuesday, 14 November 2023" in text  # day separator
    starter = next(m for m in data["messages"] if m["id"] == community.starter)
    assert starter["thread"] == {"id": community.starter, "name": "deep dive", "message_count": 2,
                                 "last_activity": "2023-11-14T22:21:20.000Z", "url": f"/t/{community.starter}"}  # fmt: skip
    assert "Thread: deep dive" in text


def test_channel_pages_by_cursor_both_ways(client: TestClient, community: Community) -> None:
    c = TestClient(create_app(Settings(data_dir=community.data_dir, base_url=BASE_URL, page_size=3)))
    newest = c.get(f"/c/{GENERAL}.json").json()
    assert [m["id"] for m in newest["messages"]] == [
        community.starter,
        community.hostile,
        community.taken_down,
    ]
    assert newest["older_url"] == f"/c/{GENERAL}?before={community.starter}" and newest["newer_url"] is None
    older = c.get(f"/c/{GENERAL}.json?before={community.starter}").json()
    assert [m["id"] for m in older["messages"]] == [community.edited, community.deleted, community.media]
    assert older["newer_url"] == f"/c/{GENERAL}?after={community.media}"
    newer = c.get(f"/c/{GENERAL}.json?after={community.media}").json()
    assert [m["id"] for m in newer["messages"]] == [
        community.starter,
        community.hostile,
        community.taken_down,
    ]
    around = c.get(f"/c/{GENERAL}.json?around={community.edited}").json()
    assert [m["id"] for m in around["messages"]] == [community.nested, community.edited, community.deleted]
    assert around["focus"] == community.edited
    assert "is-focus" in c.get(f"/c/{GENERAL}?around={community.edited}").text


def test_channel_jump_to_date(client: TestClient, community: Community) -> None:
    data = client.get(f"/c/{GENERAL}.json?date=2023-11-14").json()
    assert data["messages"][0]["id"] == community.hello
    # a day with no messages says so and shows the nearest ones (here only older: nothing comes after)
    late = client.get(f"/c/{GENERAL}.json?date=2030-01-01").json()
    assert late["date_jump"]["empty"] is True and late["date_jump"]["next"] is None
    assert late["messages"] and late["messages"][-1]["timestamp"] < "2030"
    r = client.get(f"/c/{GENERAL}?date=14/11/2023")
    assert r.status_code == 400 and "Use the form YYYY-MM-DD" in r.text


def test_channel_unknown_is_a_helpful_404(client: TestClient) -> None:
    r = client.get("/c/42")
    assert r.status_code == 404 and "Channel 42 is not in the archive" in r.text


def test_thread_by_thread_id(client: TestClient, community: Community) -> None:
    data = client.get(f"/t/{community.starter}.json").json()
    assert (data["kind"], data["title"], data["message_count"]) == ("thread", "deep dive", 2)
    assert data["parent"] == {"id": GENERAL, "name": "general", "url": f"/c/{GENERAL}"}
    assert data["starter"]["excerpt"] == "thread starter"
    assert [(m["id"], m["depth"]) for m in data["messages"]] == [
        (community.in_thread, 0),
        (community.thread_reply, 1),
    ]
    text = client.get(f"/t/{community.starter}").text
    assert ids_in(text) == {community.in_thread, community.thread_reply}
    assert 'class="turn depth-1"' in text


def test_thread_reply_tree_by_message_id(client: TestClient, community: Community) -> None:
    data = client.get(f"/t/{community.hello}.json").json()
    assert data["kind"] == "replies"
    assert [(m["id"], m["depth"]) for m in data["messages"]] == [
        (community.hello, 0), (community.reply, 1), (community.nested, 2)
    ]  # fmt: skip
    assert ids_in(client.get(f"/t/{community.hello}").text) == {
        community.hello,
        community.reply,
        community.nested,
    }
    assert client.get("/t/42").status_code == 404


def test_user_page_lists_their_messages(client: TestClient, community: Community) -> None:
    data = client.get("/u/100000000000000002.json").json()
    assert data["user"] | {"avatar_url": None} == {
        "id": "100000000000000002", "name": "bob", "display_name": "Bob B", "is_bot": False, "pseudonym": False,
        "avatar_url": None, "message_count": 2, "first_message": "2023-11-14T22:14:20.000Z",
        "last_message": "2023-11-14T22:18:20.000Z", "url": "/u/100000000000000002",
    }  # fmt: skip
    assert [m["id"] for m in data["messages"]] == [community.starter, community.reply]
    assert ids_in(client.get("/u/100000000000000002").text) == {community.starter, community.reply}
    assert client.get("/u/42").status_code == 404
    assert [c["name"] for c in data["channels"]] == ["general"]
    older = client.get(f"/u/100000000000000002.json?before={community.starter}").json()
    # the summary of where they wrote is on the first page only; an older page lists older messages
    assert older["channels"] == [] and [m["id"] for m in older["messages"]] == [community.reply]
    assert older["user"] == data["user"]


def test_channel_page_after_and_before_shows_the_messages_between(
    client: TestClient, community: Community
) -> None:
    after = [m["id"] for m in client.get(f"/c/{GENERAL}.json?after={community.hello}").json()["messages"]]
    cut = client.get(f"/c/{GENERAL}.json?after={community.hello}&before={community.edited}").json()
    between = [m["id"] for m in cut["messages"]]
    assert between == [i for i in after if int(i) < int(community.edited)]
    assert community.reply in between and community.edited in after and community.edited not in between
    assert (cut["has_older"], cut["has_newer"]) == (True, True)


def test_user_page_after_keeps_to_their_messages_newer_than_it(
    client: TestClient, community: Community
) -> None:
    bob = "/u/100000000000000002"
    newer = client.get(f"{bob}.json?after={community.reply}").json()
    assert [m["id"] for m in newer["messages"]] == [community.starter]
    assert (newer["after"], newer["older_url"], newer["newest_url"]) == (str(community.reply), None, None)
    assert ids_in(client.get(f"{bob}?after={community.reply}").text) == {community.starter}
    window = client.get(f"{bob}.json?before={community.starter}&after={community.reply}").json()
    assert window["messages"] == [] and window["newest_url"] == f"{bob}?after={community.reply}"
    floor = int(community.reply) - 1  # a window holding both: its pages keep to it
    with TestClient(create_app(Settings(data_dir=community.data_dir, page_size=1))) as c:
        first = c.get(f"{bob}.json?after={floor}").json()
        assert [m["id"] for m in first["messages"]] == [community.starter]
        assert first["older_url"] == f"{bob}?before={community.starter}&after={floor}"
        older = c.get(first["older_url"].replace(bob, f"{bob}.json")).json()
        assert [m["id"] for m in older["messages"]] == [community.reply] and older["older_url"] is None


def test_search_hits_link_to_permalinks(client: TestClient, community: Community) -> None:
    data = client.get("/search.json?q=alice").json()
    assert data["total"] == 1 and data["available"] is True
    (hit,) = data["hits"]
    assert (hit["id"], hit["url"], hit["channel"]["name"]) == (
        community.reply,
        f"/m/{community.reply}",
        "general",
    )
    assert hit["snippet"] == "hi <mark>alice</mark>"
    assert data["facets"]["channels"] == [
        {"id": GENERAL, "label": "#general", "count": 1, "url": f"/search?q=alice+in%3A{GENERAL}"}
    ]
    assert data["facets"]["months"][0]["month"] == "2023-11"
    text = client.get("/search?q=alice").text
    assert f'href="/m/{community.reply}"' in text and "hi <mark>alice</mark>" in text
    assert 'value="alice"' in text


def test_search_filters_show_as_chips_with_remove_links(client: TestClient) -> None:
    data = client.get("/search.json?q=text from:alice").json()
    assert [(f["text"], f["remove_url"]) for f in data["filters"]] == [("from:alice", "/search?q=text")]
    assert "from:alice" in client.get("/search?q=text from:alice").text


@pytest.mark.parametrize("q", ['"unbalanced', "from:", "nosuchfield:x", "((", "c++ park."])
def test_search_bad_syntax_shows_hints_not_errors(client: TestClient, q: str) -> None:
    r = client.get("/search", params={"q": q})
    assert r.status_code == 200
    data = client.get("/search.json", params={"q": q}).json()
    for hint in data["hints"]:
        assert html.escape(hint, quote=False) in r.text or html.escape(hint) in r.text


def test_search_without_index_says_so(community: Community, tmp_path: Path) -> None:
    data_dir = tmp_path / "noindex"
    data_dir.mkdir()
    (data_dir / archive.ARCHIVE_FILE).write_bytes((community.data_dir / archive.ARCHIVE_FILE).read_bytes())
    c = TestClient(create_app(Settings(data_dir=data_dir)))
    r = c.get("/search?q=alice")
    assert (
        r.status_code == 200 and "Search is unavailable right now" in r.text and "hallway reindex" in r.text
    )
    assert c.get("/search.json?q=alice").json()["available"] is False
    assert c.get("/").status_code == 200


# -- the sample community ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    if not any(SAMPLES.glob("*-export")):
        pytest.skip("sample_exports/ has no exports yet: run `python sample_exports/generate.py`")
    data_dir = tmp_path_factory.mktemp("samples") / "data"
    conn = archive.connect(data_dir / archive.ARCHIVE_FILE)
    ingester = archive.Ingester(conn)
    for path in archive.iter_export_files([SAMPLES]):
        assert ingester.ingest_file(path).status in ("ok", "partial")
    indexer.update_index(data_dir, conn)
    conn.close()
    with TestClient(create_app(Settings(data_dir=data_dir, base_url=BASE_URL, page_size=400))) as c:
        yield c


def test_samples_every_channel_and_message_page_renders(sample_client: TestClient) -> None:
    home = sample_client.get("/index.json").json()
    channels = [c for g in home["guilds"] for cat in g["categories"] for c in cat["channels"]]
    threads = [t for c in channels for t in c["threads"]]
    assert len(threads) == 4
    seen = 0
    for c in channels:
        page = sample_client.get(f"/c/{c['id']}.json").json()
        assert page["channel"]["name"] == c["name"]
        assert ids_in(sample_client.get(f"/c/{c['id']}").text) == {m["id"] for m in page["messages"]}
        for m in page["messages"][:: max(1, len(page["messages"]) // 10)]:
            r = sample_client.get(m["url"])
            assert r.status_code == 200, m["url"]
            seen += 1
    for t in threads:
        assert sample_client.get(t["url"]).status_code == 200
    assert seen > 30


def test_samples_edited_and_deleted_messages(sample_client: TestClient) -> None:
    edited = sample_client.get("/m/1171410726615682644.json").json()
    assert [r["content"][:30] for r in edited["revisions"]] == [
        "Sweep launched: 12 configs on ",
        "Sweep launched: 12 configs on ",
    ]
    assert "4 A100s" in edited["revisions"][0]["content"] and "8 A100s" in edited["content"]
    deleted = sample_client.get("/m/1151251275757880569.json").json()
    assert deleted["deleted"] is True and deleted["content"] is None


def test_samples_local_media_is_served(sample_client: TestClient) -> None:
    data = sample_client.get("/m/1239971344901391231.json").json()
    local = [a for a in data["attachments"] if a["local"]]
    assert local and sample_client.get(local[0]["url"]).headers["content-type"] == "image/png"


def test_samples_forum_posts_and_search(sample_client: TestClient) -> None:
    forum = sample_client.get("/c/1283084569804951307.json").json()
    assert forum["channel"]["type"] == "GuildForum" and len(forum["threads"]) == 3
    post = sample_client.get("/t/1285903143825198254.json").json()
    assert post["kind"] == "thread" and post["message_count"] == 15
    hits = sample_client.get("/search.json", params={"q": '"the tokenizer ate our whitespace again"'}).json()
    assert hits["total"] >= 1
    assert sample_client.get(hits["hits"][0]["url"]).status_code == 200


def test_templates_read_a_dicts_keys_before_its_attributes(tmp_path: Path) -> None:
    env = pages.build_templates(Settings(data_dir=tmp_path)).env
    t = env.from_string(
        "{{ m.items }} {{ m.id }} {{ m.gone is defined }} {{ m.keys()|join(',') }} {{ s.real }}"
    )
    # a key named like a dict method is the key (Jinja's own order gave the bound method)
    assert t.render(m={"items": "three", "id": 7}, s=2) == "three 7 False items,id 2"


def test_message_html_renders_a_text_once_and_keys_it_on_its_mentions() -> None:
    pages._content_html.cache_clear()
    text = "hi <@42> and @Ada, see **this**"
    first = {"content": text, "mentions": [{"id": "42", "name": "ada", "nickname": "Ada"}]}
    again = {"content": text, "mentions": [{"id": "42", "name": "ada", "nickname": "Ada"}]}
    renamed = {"content": text, "mentions": [{"id": "42", "name": "ada", "nickname": "Lovelace"}]}
    html_first = pages.message_html(first)
    assert pages.message_html(again) == html_first
    assert pages._content_html.cache_info()[:2] == (1, 1)  # (hits, misses): the second was not rendered
    ada = '<a class="mention mention-user" href="/u/42" rel="nofollow noopener noreferrer ugc">@{}</a>'
    assert html_first == f"<p>hi {ada.format('Ada')} and {ada.format('Ada')}, see <strong>this</strong></p>"
    # the same text with a renamed mention is rendered anew, not served from the first
    assert (
        pages.message_html(renamed)
        == f"<p>hi {ada.format('Lovelace')} and @Ada, see <strong>this</strong></p>"
    )
    # a revision's text (the `content` argument) is its own key
    assert pages.message_html(first, "**old**") == "<p><strong>old</strong></p>"
    assert pages.message_html({"content": None}) == ""
