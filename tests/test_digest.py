"""The digest: totals agree with search, every window message in exactly one conversation, twins, CLI, errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import archive
import indexer
from archive import digest_views
from cli import app as cli_app
from tests.conftest import REAL, SAMPLES
from tests.live import build_data_dir
from web import digest
from web.app import create_app
from web.digest import DigestError, build_digest, day_ms, search_query
from web.settings import Settings

RESEARCH = "907543031316510423"
FORUM = "1283084569804951307"
THREAD = "1239970985717853624"
WINDOWS = [
    (date(2020, 1, 1), date(2026, 12, 31)),  # everything
    (date(2024, 5, 1), date(2024, 5, 31)),  # a month with a busy thread
    (date(2024, 5, 13), date(2024, 5, 19)),  # a week
    (date(2023, 2, 5), date(2023, 2, 5)),  # one day
]


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("digest") / "data"
    build_data_dir(data, [SAMPLES])
    return data


@pytest.fixture(scope="module")
def conn(sample_dir: Path) -> Iterator[sqlite3.Connection]:
    c = archive.connect(sample_dir / archive.ARCHIVE_FILE, readonly=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def client(sample_dir: Path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=sample_dir, base_url="https://hallway.example")))


def _search_total(data_dir: Path, q: str) -> int:
    return indexer.search(indexer.open_index(data_dir), q, sort="oldest", limit=1, offset=0).total


def _window_conversations(conn: sqlite3.Connection, since: date, until: date) -> dict[str, int]:
    """Ground truth, counted independently: live messages of the window per conversation."""
    lo, hi = day_ms(since), day_ms(until) + 86_400_000
    rows = conn.execute(
        "SELECT coalesce(l.conversation_id, m.id), count(*) FROM messages m LEFT JOIN links l ON l.message_id = m.id"
        " WHERE m.ts >= ? AND m.ts < ? AND m.deleted = 0 AND m.redacted IS NULL GROUP BY 1",
        (lo, hi),
    )
    return {str(c): n for c, n in rows}


def _check_partition(conn: sqlite3.Connection, data_dir: Path, since: date, until: date) -> dict[str, object]:
    d = build_digest(conn, since, until)
    assert d["total_messages"] == _search_total(data_dir, d["search_query"])
    listed = {c["id"]: c["messages"] for c in d["conversations"]}
    assert len(listed) == len(d["conversations"])  # no conversation listed twice
    assert listed == _window_conversations(conn, since, until)
    assert sum(listed.values()) == d["total_messages"]
    assert d["total_conversations"] == len(listed)
    assert sum(s["messages"] for s in d["channels"]) == d["total_messages"]
    return d


@pytest.mark.parametrize(("since", "until"), WINDOWS)
def test_digest_totals_equal_search_and_partition_the_window(
    conn: sqlite3.Connection, sample_dir: Path, since: date, until: date
) -> None:
    d = _check_partition(conn, sample_dir, since, until)
    assert d["search_query"] == search_query(since, until)


def test_digest_whole_sample_has_every_live_message(conn: sqlite3.Connection) -> None:
    d = build_digest(conn, date(2020, 1, 1), date(2026, 12, 31))
    assert d["total_messages"] == archive.stats(conn)["messages"] == 687


def test_digest_channel_filter_brings_threads_and_forum_posts(
    conn: sqlite3.Connection, sample_dir: Path
) -> None:
    d = build_digest(conn, date(2020, 1, 1), date(2026, 12, 31), ["research", FORUM, "nope"])
    assert [s["channel"]["name"] for s in d["channels"]] == ["research", "paper-club"]
    assert d["hints"] == ["No channel 'nope' in the archive, so in=nope was left out."]
    q = f"{d['search_query']} in:{RESEARCH} in:{FORUM}"
    assert d["total_messages"] == _search_total(sample_dir, q) == 242
    research = d["channels"][0]
    top = research["conversations"][0]
    assert (top["id"], top["title"], top["thread"]["id"]) == (
        THREAD,
        "Feature splitting at 16k vs 65k",
        THREAD,
    )
    assert top["opening"]["id"] == THREAD  # the starter message in #research opens the thread's conversation
    forum = d["channels"][1]
    assert sorted(c["title"] for c in forum["conversations"]) == [
        "Are tokenizers hidden variables in probing?",
        "Grokking Without Weight Decay: A Reading",
        "Induction Heads Revisited: Formation Under Curriculum",
    ]
    assert [t["name"] for t in d["new_threads"]] == [
        "Feature splitting at 16k vs 65k",
        "Induction Heads Revisited: Formation Under Curriculum",
        "Are tokenizers hidden variables in probing?",
        "Grokking Without Weight Decay: A Reading",
    ]


def test_digest_ranks_by_messages_then_participants_then_reactions(conn: sqlite3.Connection) -> None:
    d = build_digest(conn, date(2020, 1, 1), date(2026, 12, 31))
    keys = [(c["messages"], c["participants"], c["reactions"]) for c in d["conversations"]]
    assert keys == sorted(keys, reverse=True)
    for s in d["channels"]:
        shown = [(c["messages"], c["participants"], c["reactions"]) for c in s["conversations"]]
        assert shown == sorted(shown, reverse=True)


def test_digest_standout_is_the_most_replied_or_reacted_message(conn: sqlite3.Connection) -> None:
    d = build_digest(conn, date(2024, 5, 1), date(2024, 5, 31), [RESEARCH])
    top = d["channels"][0]["conversations"][0]
    standout = top["standout"]
    assert standout is not None and standout["id"] != top["opening"]["id"]
    score = standout["replies_in_window"] + standout["reactions_total"]
    lo, hi = day_ms(date(2024, 5, 1)), day_ms(date(2024, 6, 1))
    rows = conn.execute(
        "SELECT m.id, m.reaction_count + (SELECT count(*) FROM messages r WHERE r.reply_to = m.id"
        " AND r.ts >= ? AND r.ts < ?) FROM messages m JOIN links l ON l.message_id = m.id"
        " WHERE l.conversation_id = ? AND m.ts >= ? AND m.ts < ?",
        (lo, hi, int(THREAD), lo, hi),
    ).fetchall()
    assert score == max(n for _, n in rows) > 0


def test_digest_pins_and_announcements(conn: sqlite3.Connection) -> None:
    d = build_digest(conn, date(2020, 1, 1), date(2026, 12, 31))
    assert {m["id"] for m in d["pinned"]} == {
        "959832080043421299", "1125350221576931000", "1318653945924698188", "911677273273272077",
        "1062294732878693274", "1315686896147499186",
    }  # fmt: skip
    assert len(d["announcements"]) == 27
    assert all(m["channel_id"] == "907357559193800260" for m in d["announcements"])


def test_digest_bad_dates_are_one_clear_error(conn: sqlite3.Connection) -> None:
    with pytest.raises(DigestError, match=r"since=2024-05-02 is after until=2024-05-01"):
        build_digest(conn, date(2024, 5, 2), date(2024, 5, 1))


def test_digest_pages_and_twins_agree(client: TestClient, conn: sqlite3.Connection) -> None:
    query = "since=2024-05-01&until=2024-05-31&in=research"
    data = client.get(f"/digest.json?{query}").json()
    assert data == orjson.loads(
        orjson.dumps(build_digest(conn, date(2024, 5, 1), date(2024, 5, 31), ["research"]))
    )
    page = client.get(f"/digest?{query}")
    assert page.status_code == 200
    assert "Feature splitting at 16k vs 65k" in page.text
    assert f'href="/conv/{THREAD}"' in page.text
    md = client.get(f"/digest.md?{query}")
    assert md.headers["content-type"].startswith("text/markdown")
    assert f"<https://hallway.example/conv/{THREAD}>" in md.text
    assert f"- {data['total_messages']} messages in {data['total_conversations']} conversations" in md.text


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("since=2024-13-01", "since=&#39;2024-13-01&#39; is not a date: use YYYY-MM-DD"),
        ("since=2024-05-02&until=2024-05-01", "since=2024-05-02 is after until=2024-05-01"),
    ],
)
def test_digest_bad_query_is_a_400_page(client: TestClient, query: str, text: str) -> None:
    r = client.get(f"/digest?{query}")
    assert r.status_code == 400
    assert text in r.text
    j = client.get(f"/digest.json?{query}")
    assert j.status_code == 400 and j.json()["error"] == "This digest can't be made"


@pytest.mark.parametrize(
    "query",
    [
        "since=9999-01-01&until=9999-12-31",
        "since=0001-01-01&until=0001-01-02",
        "since=2080-10-03&until=2107-09-04",
    ],
)
def test_digest_at_the_ends_of_the_calendar_is_empty_not_an_error(client: TestClient, query: str) -> None:
    data = client.get(f"/digest.json?{query}").json()
    assert data["total_messages"] == 0 and data["conversations"] == []
    assert client.get(f"/digest?{query}").status_code == 200
    assert client.get(f"/digest.md?{query}").status_code == 200


def test_digest_empty_window_says_so(client: TestClient) -> None:
    r = client.get("/digest?since=2019-01-01&until=2019-01-07")
    assert r.status_code == 200
    assert "Nothing was written from 2019-01-01 to 2019-01-07." in r.text


def test_cli_digest_formats(sample_dir: Path) -> None:
    runner = CliRunner()
    args = [
        "digest",
        "--since",
        "2024-05-01",
        "--until",
        "2024-05-31",
        "--in",
        "research",
        "--data-dir",
        str(sample_dir),
    ]
    j = runner.invoke(cli_app, [*args, "--format", "json"])
    assert j.exit_code == 0, j.output
    data = orjson.loads(j.stdout)
    md = runner.invoke(cli_app, args)
    assert md.exit_code == 0 and md.stdout.startswith("# Digest 2024-05-01 – 2024-05-31 in #research")
    html = runner.invoke(cli_app, [*args, "--format", "html", "--base-url", "https://x.example"])
    assert html.exit_code == 0 and f'href="https://x.example/conv/{THREAD}"' in html.stdout
    assert data["total_messages"] == sum(c["messages"] for c in data["conversations"])
    bad = runner.invoke(cli_app, ["digest", "--since", "soon", "--data-dir", str(sample_dir)])
    assert bad.exit_code == 1
    assert "Error: --since='soon' is not a date: use YYYY-MM-DD, e.g. 2024-03-05" in bad.output


@pytest.mark.skipif(not REAL.exists(), reason="no real exports in ../shared/data/dce-real")
def test_digest_totals_equal_search_on_real_exports(tmp_path: Path) -> None:
    data = tmp_path / "real"
    build_data_dir(data, [REAL])
    c = archive.connect(data / archive.ARCHIVE_FILE, readonly=True)
    try:
        first, last = c.execute("SELECT min(ts), max(ts) FROM messages").fetchone()
        years = range(date.fromtimestamp(first / 1000).year - 1, date.fromtimestamp(last / 1000).year + 2)
        d = _check_partition(c, data, date(years[0], 1, 1), date(years[-1], 12, 31))
        assert d["total_messages"] == archive.stats(c)["messages"] > 0
        for year in years:  # and each year on its own
            _check_partition(c, data, date(year, 1, 1), date(year, 12, 31))
    finally:
        c.close()


def test_digest_flat_list_is_the_item_shape(conn: sqlite3.Connection) -> None:
    """The inlined list builder agrees with the one-item shape (field positions of `Activity`)."""
    found = digest_views.window_activity(conn, day_ms(date(2020, 1, 1)), day_ms(date(2027, 1, 1)))
    assert digest._items(found.conversations) == [digest._item(c) for c in found.conversations]
    assert len(found.conversations) > 300
