"""Reading fixes: sparklines over each channel's own range, an empty `?date=` day, a forum's posts as its page,
a thread that was never exported, and the home page's "what's new since your last visit"."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SAMPLES
from tests.factory import ALICE, BOB, msg, sf, write_export
from tests.live import build_data_dir
from web.app import create_app
from web.routes.home import activity_bars
from web.settings import Settings

RESEARCH = "907543031316510423"
OFF_TOPIC = "907538753126598743"
FORUM = "1283084569804951307"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    data = tmp_path_factory.mktemp("reading") / "data"
    build_data_dir(data, [SAMPLES])
    return TestClient(create_app(Settings(data_dir=data)))


def test_activity_bars_span_the_channels_own_months() -> None:
    assert activity_bars({"2019-11": 2, "2020-01": 5}) == [
        {"month": "2019-11", "count": 2}, {"month": "2019-12", "count": 0}, {"month": "2020-01", "count": 5},
    ]  # fmt: skip
    assert activity_bars({}) == [] and activity_bars({"2020-01": 0}) == []
    long = activity_bars({"2010-01": 1, "2013-12": 3, "2012-06": 4}, max_bars=24)  # 48 months: 2 per bar
    assert len(long) == 24
    assert long[0] == {"month": "2010-01 – 2010-02", "count": 1}
    assert long[-1] == {"month": "2013-11 – 2013-12", "count": 3}
    assert sum(b["count"] for b in long) == 8


def test_home_sparkline_of_an_old_channel_is_not_blank(client: TestClient) -> None:
    home = client.get("/index.json").json()
    channels = {c["id"]: c for g in home["guilds"] for cat in g["categories"] for c in cat["channels"]}
    off = channels[OFF_TOPIC][
        "activity"
    ]  # #off-topic ended in 2022, years before the archive's newest message
    assert off[0]["month"] == "2022-01" and off[-1]["month"] == "2022-03"
    assert sum(b["count"] for b in off) == channels[OFF_TOPIC]["message_count"] == 74
    assert 'aria-label="Messages from 2022-01 to 2022-03"' in client.get("/").text


def test_date_jump_on_an_empty_day_says_so_and_shows_both_sides(client: TestClient) -> None:
    data = client.get(f"/c/{RESEARCH}.json?date=2023-02-05").json()
    assert data["date_jump"] == {
        "date": "2023-02-05",
        "empty": True,
        "previous": {"id": "1064994593927383683", "date": "2023-01-17", "url": "/m/1064994593927383683"},
        "next": {"id": "1074150531213100680", "date": "2023-02-12", "url": "/m/1074150531213100680"},
    }
    assert data["focus"] == "1074150531213100680"  # the page scrolls to the first message after the day
    stamps = [m["timestamp"][:10] for m in data["messages"]]
    assert min(stamps) < "2023-02-05" < max(stamps)
    assert "2023-01-17" in stamps and "2023-02-12" in stamps
    html = client.get(f"/c/{RESEARCH}?date=2023-02-05").text
    assert "No messages on 2023-02-05 in #research. Shown instead: the nearest messages, before it" in html


def test_date_jump_on_a_day_with_messages_starts_there(client: TestClient) -> None:
    data = client.get(f"/c/{RESEARCH}.json?date=2024-05-14").json()
    assert data["date_jump"]["empty"] is False
    assert data["messages"][0]["timestamp"].startswith("2024-05-14")
    assert "No messages on" not in client.get(f"/c/{RESEARCH}?date=2024-05-14").text


def test_date_jump_after_the_last_message(client: TestClient) -> None:
    data = client.get(f"/c/{RESEARCH}.json?date=2030-01-01").json()
    assert data["date_jump"]["empty"] is True and data["date_jump"]["next"] is None
    assert data["date_jump"]["previous"]["date"] == "2025-01-08" and data["messages"]


def test_forum_page_lists_its_posts(client: TestClient) -> None:
    data = client.get(f"/c/{FORUM}.json").json()
    assert [(p["title"], p["author"]["display_name"], p["replies"]) for p in data["posts"]] == [
        ("Grokking Without Weight Decay: A Reading", "Harlow Bexley", 12),
        ("Are tokenizers hidden variables in probing?", "Zinnia Oduya", 13),
        (
            "Induction Heads Revisited: Formation Under Curriculum",
            data["posts"][2]["author"]["display_name"],
            14,
        ),
    ]
    assert all(p["tags"] == [] and p["last_activity"] for p in data["posts"])
    html = client.get(f"/c/{FORUM}").text
    assert '<h2 id="posts-h">3 posts</h2>' in html
    assert "No messages here" not in html and "<summary>Posts (3)</summary>" not in html
    assert client.get(f"/c/{RESEARCH}.json").json()["posts"] == []  # a channel with its own messages


@pytest.fixture(scope="module")
def missing_thread_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """#general has a message that started a thread (and the ThreadCreated notice), but no thread export."""
    root = tmp_path_factory.mktemp("missing")
    starter = msg(0, "let's discuss the sweep in a thread", ALICE)
    notice = msg(2, "Started a thread.", ALICE, type="ThreadCreated",
                 reference={"messageId": None, "channelId": starter["id"], "guildId": "300000000000000001"})  # fmt: skip
    write_export(root / "exports" / "general.json", [starter, notice, msg(5, "later", BOB)])
    build_data_dir(root / "data", [root / "exports"])
    return TestClient(create_app(Settings(data_dir=root / "data")))


def test_thread_that_was_not_exported_says_so(missing_thread_client: TestClient) -> None:
    c = missing_thread_client
    starter = sf(0)
    page = c.get(f"/t/{starter}.json").json()
    assert page["title"] == "A thread that was not exported"
    assert page["missing_thread"]["id"] == starter
    assert page["missing_thread"]["notice"].startswith(
        "This message started a thread, but the thread was not exported, so its messages are not in the archive."
    )
    assert "A thread that was not exported" in c.get(f"/t/{starter}").text
    message = c.get(f"/m/{starter}.json").json()
    assert message["missing_thread"]["url"] == f"/t/{starter}"
    assert "the thread was not exported" in c.get(f"/m/{starter}").text
    other = c.get(f"/m/{sf(5)}.json").json()
    assert other["missing_thread"] is None


def test_thread_whose_starter_is_missing_too_says_so(tmp_path: Path) -> None:
    """Only the parent channel's ThreadCreated notice names the thread: /t/{id} still explains, not a 404."""
    thread = sf(0)  # neither this message (the starter) nor the thread is in any export
    notice = msg(2, "Started a thread.", ALICE, type="ThreadCreated",
                 reference={"messageId": None, "channelId": thread, "guildId": "300000000000000001"})  # fmt: skip
    write_export(tmp_path / "exports" / "general.json", [notice, msg(5, "later", BOB)])
    build_data_dir(tmp_path / "data", [tmp_path / "exports"])
    c = TestClient(create_app(Settings(data_dir=tmp_path / "data")))
    page = c.get(f"/t/{thread}.json").json()
    assert page["title"] == "A thread that was not exported"
    assert [m["id"] for m in page["messages"]] == [notice["id"]]
    assert "the thread was not exported" in c.get(f"/t/{thread}").text
    assert c.get(f"/t/{sf(1)}").status_code == 404  # an id nothing names is still a 404


def test_exported_thread_is_not_reported_missing(client: TestClient) -> None:
    assert client.get("/m/1239970985717853624.json").json()["missing_thread"] is None
    assert client.get("/t/1239970985717853624.json").json()["missing_thread"] is None


def test_home_offers_the_digest_since_a_day_without_javascript(client: TestClient) -> None:
    html = client.get("/").text
    assert "What’s new since your last visit" in html
    assert '<form class="digest-form" action="/digest" method="get">' in html
    assert 'id="since-visit" name="since" type="date" value="2025-12-13" max="2025-12-19" required' in html
