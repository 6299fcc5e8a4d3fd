"""/conv/{id} (+ .json, .md), "show this conversation" links, and the channel timeline's conversation filter."""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import archive
import indexer
from tests import test_web_app
from tests.conftest import SAMPLES
from tests.ingesting import ingest_archive
from tests.test_web_app import BASE_URL, GENERAL, Community
from web.app import create_app
from web.pages import conversation_hue
from web.settings import Settings

# The crafted community of test_web_app (ingested file by file: no conversation links yet).
community = test_web_app.community
client = test_web_app.client

THREAD = "1239970985717853624"
THREAD_CREATED = "1239971014398654619"
FORUM_POSTS = {"1285903143825198254": 15, "1313580519186827391": 14, "1364277070477316834": 13}
MISSING_ROOT = "1220103574072068556"
ORPHAN_REPLY = "1220405563930755673"
RESEARCH = "907543031316510423"
SAMPLE_GENERAL = "907354337968331041"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, sqlite3.Connection]]:
    """The sample community ingested with conversations, a client on it, and a read-only connection for SQL."""
    data_dir = tmp_path_factory.mktemp("conv") / "data"
    conn = archive.connect(data_dir / archive.ARCHIVE_FILE)
    ingest_archive(archive.Ingester(conn), [SAMPLES])
    indexer.update_index(data_dir, conn)
    conn.close()
    ro = archive.connect(data_dir / archive.ARCHIVE_FILE, readonly=True)
    with TestClient(create_app(Settings(data_dir=data_dir, base_url=BASE_URL, page_size=50))) as c:
        yield c, ro
    ro.close()


@pytest.fixture(scope="module")
def sc(samples: tuple[TestClient, sqlite3.Connection]) -> TestClient:
    return samples[0]


@pytest.fixture(scope="module")
def db(samples: tuple[TestClient, sqlite3.Connection]) -> sqlite3.Connection:
    return samples[1]


def sql_ids(db: sqlite3.Connection, sql: str, *args: object) -> list[str]:
    return [str(r[0]) for r in db.execute(sql, args)]


def conversation_of(db: sqlite3.Connection, cid: str) -> list[str]:
    return sql_ids(db, "SELECT message_id FROM links WHERE conversation_id = ? ORDER BY message_id", int(cid))


def ids_in(text: str) -> list[str]:
    """Message anchors on an HTML page, in page order."""
    return re.findall(r'<article class="msg[^"]*" id="m(\d+)"', text)


def memberships(db: sqlite3.Connection, cid: str) -> dict[str, float]:
    """The spec of min_confidence: the weakest link on each message's chain up to the conversation's start."""
    out: dict[int, float] = {}
    rows = db.execute(
        "SELECT message_id, parent_id, confidence, explicit FROM links WHERE conversation_id = ? ORDER BY message_id",
        (int(cid),),
    )
    for mid, parent, confidence, explicit in rows:
        own = 1.0 if explicit or parent is None else confidence
        out[mid] = min(own, out.get(parent, 1.0))
    return {str(k): v for k, v in out.items()}


def an_inferred_conversation(db: sqlite3.Connection) -> str:
    """A channel conversation with low- and high-confidence inferred members (to filter)."""
    row = db.execute(
        "SELECT l.conversation_id FROM links l JOIN messages m ON m.id = l.message_id"
        " JOIN channels c ON c.id = m.channel_id GROUP BY l.conversation_id"
        " HAVING count(*) >= 4 AND max(c.is_thread) = 0 AND count(DISTINCT m.channel_id) = 1"
        " AND min(CASE WHEN l.explicit = 0 AND l.parent_id IS NOT NULL THEN l.confidence END) < 0.7"
        " ORDER BY count(*) DESC, l.conversation_id LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0])


# -- /conv/{id} -----------------------------------------------------------------------------------


def test_conversation_thread_json_has_exact_ids(sc: TestClient, db: sqlite3.Connection) -> None:
    data = sc.get(f"/conv/{THREAD}.json").json()
    expected = conversation_of(db, THREAD)
    assert [m["id"] for m in data["messages"]] == expected
    thread_messages = sql_ids(db, "SELECT id FROM messages WHERE channel_id = ? ORDER BY id", int(THREAD))
    assert len(thread_messages) == 36 and set(thread_messages) <= set(expected)
    assert expected[0] == THREAD  # the starter message in #research opens it
    assert (data["id"], data["title"], data["thread_url"]) == (
        THREAD,
        "Feature splitting at 16k vs 65k",
        f"/t/{THREAD}",
    )
    assert data["message_count"] == data["shown_count"] == len(expected) and data["hidden_count"] == 0
    assert data["root"] == {"id": THREAD, "in_archive": True, "url": f"/m/{THREAD}"}
    assert [c["id"] for c in data["channels"]] == [RESEARCH, THREAD]
    assert sum(c["message_count"] for c in data["channels"]) == len(expected)
    assert data["channels"][1]["timeline_url"] == f"/c/{THREAD}?conversation={THREAD}"
    assert sum(p["message_count"] for p in data["participants"]) == len(expected)
    assert data["context_url"] == f"/c/{RESEARCH}?around={THREAD}#m{THREAD}"
    assert data["search_url"] == f"/search?q=in%3Aconversation%3A{THREAD}&sort=oldest"
    assert all(m["conversation_id"] == THREAD for m in data["messages"])
    assert (
        data["start"] == data["messages"][0]["timestamp"] and data["end"] == data["messages"][-1]["timestamp"]
    )


def test_conversation_links_say_how_each_message_joined(sc: TestClient, db: sqlite3.Connection) -> None:
    data = sc.get(f"/conv/{THREAD}.json").json()
    by_id = {m["id"]: m for m in data["messages"]}
    assert by_id[THREAD]["link"] == {
        "kind": "start", "label": "starts the conversation", "parent_id": None, "parent_url": None,
        "confidence": 1.0, "explicit": False, "membership": 1.0, "uncertain": False, "repeat": False,
    }  # fmt: skip
    rows = db.execute(
        "SELECT l.message_id, l.parent_id, l.confidence, l.explicit, m.reply_to FROM links l"
        " JOIN messages m ON m.id = l.message_id WHERE l.conversation_id = ?",
        (int(THREAD),),
    ).fetchall()
    kinds = set()
    for mid, parent, confidence, explicit, reply_to in rows:
        link = by_id[str(mid)]["link"]
        assert link["parent_id"] == (str(parent) if parent else None)
        assert (link["confidence"], link["explicit"]) == (confidence, bool(explicit))
        if parent is None:
            assert link["kind"] == "start"
        elif explicit:
            assert link["kind"] == ("reply" if reply_to == parent else "thread")
        else:
            assert link["kind"] == "inferred"
            who = by_id[str(parent)]["author"]["display_name"]
            assert link["label"] == f"likely reply to {who} ({round(confidence * 100)}%)"
        kinds.add(link["kind"])
    assert kinds == {"start", "reply", "thread", "inferred"}


def test_conversation_html_agrees_with_json(sc: TestClient) -> None:
    for cid in (THREAD, MISSING_ROOT, *FORUM_POSTS):
        data = sc.get(f"/conv/{cid}.json").json()
        text = sc.get(f"/conv/{cid}").text
        assert ids_in(text) == [m["id"] for m in data["messages"]], cid
        for m in data["messages"]:  # each run of one author's lines says how it joined once
            assert (html.escape(m["link"]["label"], quote=False) in text) or m["link"]["repeat"]
        for p in data["participants"]:
            assert f'href="{p["url"]}"' in text
        # The search-in-this-conversation box: no raw in:conversation:ID typed in it, the id rides along.
        assert f'<input type="hidden" name="conversation" value="{cid}">' in text
        assert 'value="in:conversation:' not in text
        assert f'href="{data["context_url"]}"' in html.unescape(text)
        assert f'<link rel="canonical" href="{BASE_URL}/conv/{cid}">' in text
        assert "Show this conversation" not in text  # every message here is already in it


def test_conversation_forum_posts_are_whole_conversations(sc: TestClient, db: sqlite3.Connection) -> None:
    for cid, size in FORUM_POSTS.items():
        data = sc.get(f"/conv/{cid}.json").json()
        in_post = sql_ids(db, "SELECT id FROM messages WHERE channel_id = ? ORDER BY id", int(cid))
        assert [m["id"] for m in data["messages"]] == in_post == conversation_of(db, cid)
        assert len(in_post) == size
        assert [c["id"] for c in data["channels"]] == [cid]


def test_conversation_named_after_a_missing_message(sc: TestClient, db: sqlite3.Connection) -> None:
    data = sc.get(f"/conv/{MISSING_ROOT}.json").json()
    assert [m["id"] for m in data["messages"]] == conversation_of(db, MISSING_ROOT)
    assert data["messages"][0]["id"] == ORPHAN_REPLY
    assert data["root"] == {"id": MISSING_ROOT, "in_archive": False, "url": None}
    assert data["messages"][0]["link"]["kind"] == "reply"
    assert data["messages"][0]["link"]["label"] == "linked by reply to a message not in the archive"
    assert data["messages"][0]["link"]["parent_url"] is None
    assert data["title"] == "Conversation in #general"
    assert "it answers a message that is not in the archive" in sc.get(f"/conv/{MISSING_ROOT}").text


def test_conversation_min_confidence_hides_uncertain_members(sc: TestClient, db: sqlite3.Connection) -> None:
    cid = an_inferred_conversation(db)
    spec = memberships(db, cid)
    everything = sc.get(f"/conv/{cid}.json").json()
    assert [m["id"] for m in everything["messages"]] == list(spec)
    assert {m["id"]: m["link"]["membership"] for m in everything["messages"]} == pytest.approx(spec, abs=1e-4)
    for threshold in (0.5, 0.7, 0.9, 1.0):
        data = sc.get(f"/conv/{cid}.json?min_confidence={threshold}").json()
        kept = [mid for mid, v in spec.items() if v >= threshold]
        assert [m["id"] for m in data["messages"]] == kept, threshold
        assert data["hidden_count"] == len(spec) - len(kept)
        assert data["message_count"] == len(spec) and data["min_confidence"] == threshold
        text = sc.get(f"/conv/{cid}?min_confidence={threshold}").text
        assert ids_in(text) == kept
        if data["hidden_count"]:
            assert f"{data['hidden_count']} less certain message" in text
            assert f'href="/conv/{cid}">show all</a>' in text
    assert sc.get(f"/conv/{cid}.json?min_confidence=0.7").json()["hidden_count"] > 0
    # By default everything shows, and the uncertain members are marked (dimmed).
    text = sc.get(f"/conv/{cid}").text
    uncertain = [m["id"] for m in everything["messages"] if m["link"]["uncertain"]]
    assert uncertain == [mid for mid, v in spec.items() if v < 0.5]
    for mid in uncertain:
        assert re.search(rf'<article class="msg[^"]* is-uncertain" id="m{mid}"', text)
    assert f'href="/conv/{cid}?min_confidence=0.5"' in text


def test_conversation_uncertain_members_are_dimmed(sc: TestClient, db: sqlite3.Connection) -> None:
    (cid,) = sql_ids(
        db,
        "SELECT conversation_id FROM links WHERE explicit = 0 AND parent_id IS NOT NULL AND confidence < 0.5"
        " ORDER BY conversation_id LIMIT 1",
    )
    spec = memberships(db, cid)
    data = sc.get(f"/conv/{cid}.json").json()
    uncertain = [m["id"] for m in data["messages"] if m["link"]["uncertain"]]
    assert uncertain and uncertain == [mid for mid, v in spec.items() if v < 0.5]
    text = sc.get(f"/conv/{cid}").text
    assert re.findall(r'<article class="msg[^"]* is-uncertain" id="m(\d+)"', text) == uncertain
    confident = sc.get(f"/conv/{cid}.json?min_confidence=0.5").json()
    assert [m["id"] for m in confident["messages"]] == [mid for mid, v in spec.items() if v >= 0.5]
    assert confident["hidden_count"] == len(uncertain)


def test_conversation_min_confidence_must_be_a_fraction(sc: TestClient) -> None:
    for bad in ("2", "-0.1", "abc", "nan"):
        r = sc.get(f"/conv/{THREAD}.json?min_confidence={bad}")
        assert r.status_code == 400, bad
        assert r.json()["error"] == "Bad request"
    assert sc.get(f"/conv/{THREAD}?min_confidence=abc").status_code == 400


def test_conversation_markdown_twin(sc: TestClient) -> None:
    data = sc.get(f"/conv/{MISSING_ROOT}.json").json()
    r = sc.get(f"/conv/{MISSING_ROOT}.md")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert r.text.startswith("# Conversation in #general\n")
    for m in data["messages"]:
        assert f"<{BASE_URL}/m/{m['id']}>" in r.text and m["link"]["label"] in r.text


def test_conversation_unknown_id_is_a_helpful_404(sc: TestClient) -> None:
    r = sc.get("/conv/42")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert "No conversation 42 in this archive" in r.text and "Show this conversation" in r.text
    assert sc.get("/conv/42.json").json() == {
        "error": "No conversation 42 in this archive",
        "detail": "A conversation is named after its first message, or a thread or forum post. "
        "Open a message and follow “Show this conversation”.",
        "status": 404,
    }
    assert sc.get("/conv/42.md").status_code == 404
    r = sc.get("/conv/abc")
    assert r.status_code == 404 and "is not a conversation id" in r.text
    assert sc.get("/conv/99999999999999999999.json").status_code == 404
    for odd in ("%C2%B2", "%D9%A3.json"):  # digits to str.isdigit(), not to int() or to Discord
        r = sc.get(f"/conv/{odd}")
        assert r.status_code == 404 and "is not a conversation id" in r.text, odd


def test_conversation_of_a_member_message_redirects_to_it(sc: TestClient) -> None:
    r = sc.get(f"/conv/{THREAD_CREATED}", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == f"/conv/{THREAD}#m{THREAD_CREATED}"
    r = sc.get(f"/conv/{THREAD_CREATED}.json", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == f"/conv/{THREAD}.json"


# -- "show this conversation" everywhere ----------------------------------------------------------


def test_message_permalink_links_its_conversation(sc: TestClient, db: sqlite3.Connection) -> None:
    for mid in (ORPHAN_REPLY, THREAD_CREATED, THREAD):
        data = sc.get(f"/m/{mid}.json").json()
        (cid,) = sql_ids(db, "SELECT conversation_id FROM links WHERE message_id = ?", int(mid))
        assert data["conversation_id"] == cid
        assert data["conversation_url"] == f"/conv/{cid}#m{mid}"
        assert data["conversation_size"] == len(conversation_of(db, cid))
        text = sc.get(f"/m/{mid}").text
        assert f'<a class="show-conversation" href="/conv/{cid}#m{mid}">Show this conversation' in text
        for m in data["context"]["before"] + data["context"]["after"] + data["replies"]:
            assert (
                m["conversation_id"]
                == sql_ids(db, "SELECT conversation_id FROM links WHERE message_id = ?", int(m["id"]))[0]
            )
            assert f'href="{m["conversation_url"]}"' in text


def test_thread_page_messages_link_their_conversation(sc: TestClient) -> None:
    data = sc.get(f"/t/{THREAD}.json").json()
    text = sc.get(f"/t/{THREAD}").text
    assert data["messages"] and all(m["conversation_id"] == THREAD for m in data["messages"])
    for m in data["messages"]:
        assert f'<a class="conv-link" href="/conv/{THREAD}#m{m["id"]}"' in text


def test_search_hits_link_their_conversation(sc: TestClient, db: sqlite3.Connection) -> None:
    data = sc.get(f"/search.json?q=in:conversation:{THREAD}&sort=oldest").json()
    expected = conversation_of(db, THREAD)
    assert data["total"] > 0 and [h["id"] for h in data["hits"]] == [
        i for i in expected if i in {h["id"] for h in data["hits"]}
    ]
    assert all(h["conversation_id"] == THREAD for h in data["hits"])
    assert [f["text"] for f in data["filters"]] == [f"in:conversation:{THREAD}"]
    text = sc.get(f"/search?q=in:conversation:{THREAD}&sort=oldest").text
    assert (
        f'<a class="conv-link" href="/conv/{THREAD}#m{data["hits"][0]["id"]}">Show this conversation</a>'
        in text
    )
    unknown = sc.get("/search.json?q=in:conversation:42").json()
    assert unknown["total"] == 0 and unknown["hints"][0].startswith(
        "There is no conversation 42 in the archive"
    )


def test_unlinked_archive_has_no_conversation_links(client: TestClient, community: Community) -> None:
    # test_web_app's archive was ingested file by file, without the conversation pass.
    data = client.get(f"/m/{community.hello}.json").json()
    assert (data["conversation_id"], data["conversation_url"]) == (None, None)
    assert "Show this conversation" not in client.get(f"/m/{community.hello}").text
    assert 'class="conv-mark' not in client.get(f"/c/{GENERAL}").text
    assert client.get(f"/conv/{community.hello}").status_code == 404


# -- the channel timeline -------------------------------------------------------------------------


def test_channel_timeline_marks_each_message_with_its_conversation(
    sc: TestClient, db: sqlite3.Connection
) -> None:
    data = sc.get(f"/c/{SAMPLE_GENERAL}.json").json()
    text = sc.get(f"/c/{SAMPLE_GENERAL}").text
    assert len(data["messages"]) == 50
    hues: dict[str, set[str]] = {}
    for m in data["messages"]:
        (cid,) = sql_ids(db, "SELECT conversation_id FROM links WHERE message_id = ?", int(m["id"]))
        assert m["conversation_id"] == cid
        size = len(conversation_of(db, cid))
        assert m["conversation_size"] == size
        article = re.search(
            rf'<article class="msg[^"]*" id="m{m["id"]}"[^>]*>\s*<a class="conv-mark ([^"]+)" href="([^"]+)"',
            text,
        )
        assert article, m["id"]
        assert html.unescape(article.group(2)) == f"/c/{SAMPLE_GENERAL}?conversation={cid}"
        expected_class = "conv-solo" if size == 1 else f"conv-h{conversation_hue(cid)}"
        assert article.group(1) == expected_class
        hues.setdefault(cid, set()).add(article.group(1))
    assert all(len(v) == 1 for v in hues.values())  # one colour per conversation
    assert len({c for c, v in hues.items() if v != {"conv-solo"}}) > 1  # interleaved discussions differ
    assert "show only this conversation in the channel" in text  # the accessible label


def test_channel_conversation_filter_shows_only_that_conversation(
    sc: TestClient, db: sqlite3.Connection
) -> None:
    cid = an_inferred_conversation(db)
    (channel,) = sql_ids(
        db,
        "SELECT DISTINCT m.channel_id FROM links l JOIN messages m ON m.id = l.message_id WHERE l.conversation_id = ?",
        int(cid),
    )
    data = sc.get(f"/c/{channel}.json?conversation={cid}").json()
    assert [m["id"] for m in data["messages"]] == conversation_of(db, cid)
    assert data["conversation"] == {"id": cid, "exists": True, "message_count": len(data["messages"]),
                                    "url": f"/conv/{cid}", "clear_url": f"/c/{channel}"}  # fmt: skip
    assert (data["has_older"], data["has_newer"], data["older_url"], data["newer_url"]) == (
        False,
        False,
        None,
        None,
    )
    text = sc.get(f"/c/{channel}?conversation={cid}").text
    assert ids_in(text) == [m["id"] for m in data["messages"]]
    assert (
        "Showing one conversation" in text
        and f'<a href="/c/{channel}" aria-label="Show all messages in the channel">show all</a>' in text
    )
    # The thread's conversation spans #research and the thread: each channel shows its own part.
    research = sc.get(f"/c/{RESEARCH}.json?conversation={THREAD}").json()
    assert [m["id"] for m in research["messages"]] == sql_ids(
        db, "SELECT l.message_id FROM links l JOIN messages m ON m.id = l.message_id"
        " WHERE l.conversation_id = ? AND m.channel_id = ? ORDER BY l.message_id", int(THREAD), int(RESEARCH)
    )  # fmt: skip
    assert THREAD in [m["id"] for m in research["messages"]]
    # Unfiltered, the page has no chip.
    assert sc.get(f"/c/{channel}.json").json()["conversation"] is None
    assert "Showing one conversation" not in sc.get(f"/c/{channel}").text


def test_channel_conversation_filter_unknown_or_bad(sc: TestClient) -> None:
    data = sc.get(f"/c/{SAMPLE_GENERAL}.json?conversation=42").json()
    assert data["messages"] == [] and data["conversation"]["exists"] is False
    text = sc.get(f"/c/{SAMPLE_GENERAL}?conversation=42").text
    assert "No messages of conversation 42 in this channel." in text and "show all" in text
    for bad in ("abc", "-1", "99999999999999999999"):
        assert sc.get(f"/c/{SAMPLE_GENERAL}.json?conversation={bad}").status_code == 400, bad


def test_conversation_pages_have_no_inline_scripts_or_styles(sc: TestClient) -> None:
    for path in (f"/conv/{THREAD}", f"/c/{SAMPLE_GENERAL}", f"/c/{RESEARCH}?conversation={THREAD}"):
        text = sc.get(path).text
        assert "<script>" not in text and "<style" not in text and " style=" not in text, path


def test_conversation_empty_archive_is_a_404(tmp_path: Path) -> None:
    """An archive with the links table but no links yet: conversation pages 404 with the usual hint."""
    conn = archive.connect(tmp_path / "data" / archive.ARCHIVE_FILE)
    conn.close()
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as c:
        r = c.get(f"/conv/{THREAD}.json")
        assert r.status_code == 404 and r.json()["error"] == f"No conversation {THREAD} in this archive"


def test_conversation_archive_from_before_conversations(tmp_path: Path) -> None:
    """A v1 archive (no links table) read by the viewer: other pages work, /conv says how to link it."""
    conn = archive.connect(tmp_path / "data" / archive.ARCHIVE_FILE)
    conn.executescript("DROP TABLE links; PRAGMA user_version = 1;")
    conn.close()
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as c:
        assert c.get("/").status_code == 200
        r = c.get(f"/conv/{THREAD}.json")
        assert r.status_code == 404
        assert r.json()["detail"] == (
            "This archive was made before conversations existed: run `hallway ingest` once to link it."
        )


def test_conversation_page_groups_runs_and_says_each_link_once(sc: TestClient) -> None:
    data = sc.get(f"/conv/{THREAD}.json").json()
    text = sc.get(f"/conv/{THREAD}").text
    repeats = [m for m in data["messages"] if m["link"]["repeat"]]
    assert repeats, "the sample thread has a run of lines by one author"
    for m in repeats:
        article = text.split(f'id="m{m["id"]}"', 1)[1].split("</article>", 1)[0]
        assert 'class="link-ref' not in article and 'class="meta"' not in article  # no header, no label again
    # One label per line that starts a run or joins differently: fewer labels than lines.
    assert text.count('<p class="link-ref') == len(data["messages"]) - len(repeats)


def test_conversation_search_box_sends_the_id_apart(sc: TestClient) -> None:
    r = sc.get("/search", params={"q": "sparsity", "conversation": THREAD}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/search?q=in%3Aconversation%3A{THREAD}+sparsity")
    page = sc.get(r.headers["location"]).text
    assert f"in:conversation:{THREAD}" in page  # the results page shows the whole query and its chip
