"""One withholding mechanism: each numbered case of the privacy report, as a regression test.

Every test builds a real archive and a real index in tmp_path and looks for the withheld words in the
archive's values and in search results.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import archive
import indexer
from archive import Ingester, Policy
from archive.policy import pseudonym_for
from tests.factory import ALICE, BOB, export_doc, msg, sf, write_export, write_json
from tests.ingesting import ingest_archive
from web.media import media_headers

GENERAL = "200000000000000001"
GUILD = "300000000000000001"
ZED: dict[str, Any] = {
    "id": "100000000000000077",
    "name": "zedrealname",
    "discriminator": "0000",
    "nickname": "Zedediah Withers",
    "color": None,
    "isBot": False,
    "roles": [],
    "avatarUrl": "https://cdn.discordapp.com/avatars/100000000000000077/zedavatarhash.png",
}
ZED_ID = int(ZED["id"])
ZED_SECRETS = ("zedrealname", "Zedediah", "zedavatarhash", ZED["id"])


def _open(tmp_path: Path) -> sqlite3.Connection:
    return archive.connect(tmp_path / "data" / archive.ARCHIVE_FILE)


def _values(conn: sqlite3.Connection) -> str:
    """Every value of every table as text."""
    out = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            out += [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row]
    return "\n".join(out)


def _leaks(conn: sqlite3.Connection, secrets: tuple[str, ...]) -> list[str]:
    text = _values(conn).lower()
    return [s for s in secrets if s.lower() in text]


def _search_ids(data: Path, q: str) -> list[int]:
    page = indexer.search(indexer.open_index(data), q, limit=100)
    return [h.id for h in page.hits]


def _starboard(author: dict[str, Any], quoted_id: str) -> dict[str, Any]:
    return {
        "title": None,
        "url": None,
        "description": "a starred line",
        "author": {"name": author["nickname"], "iconUrl": author["avatarUrl"]},
        "fields": [
            {"name": "Source", "value": f"<@{author['id']}> in <#{GENERAL}>", "isInline": False},
            {"name": "Jump", "value": f"[link](https://discord.com/channels/{GUILD}/{GENERAL}/{quoted_id})"},
        ],
        "footer": {"text": f"{author['nickname']}"},
        "images": [],
        "inlineEmojis": [],
    }


# 1 ---------------------------------------------------------------------------------------------


def test_case1_redact_between_two_files_of_a_running_ingest_applies_to_the_next(tmp_path: Path) -> None:
    a = write_export(tmp_path / "a.json", [msg(1, "first file", ALICE)])
    b = write_export(
        tmp_path / "b.json", [msg(2, "zedlaterwords one", ZED), msg(3, "ok", ALICE)], channel_id=GENERAL
    )
    running = Ingester(_open(tmp_path))  # started with the old (empty) policy, kept in memory
    assert running.ingest_file(a).status == "ok"
    # Meanwhile, another process: hallway redact --user ZED.
    other = Ingester(_open(tmp_path), Policy(drop_users=frozenset({ZED_ID})))
    other.apply_policy(force=True)
    assert running.ingest_file(b).status == "ok"
    conn = running.conn
    assert conn.execute("SELECT redacted FROM messages WHERE id = ?", (int(sf(2)),)).fetchone() == (
        "author opted out",
    )
    assert _leaks(conn, ("zedlaterwords", *ZED_SECRETS)) == []
    indexer.update_index(tmp_path / "data", conn)
    assert _search_ids(tmp_path / "data", "zedlaterwords") == []
    # Even with --force and a fresh Ingester that was never told about the rule.
    ingest_archive(Ingester(conn), [b], force=True)
    assert _leaks(conn, ("zedlaterwords", *ZED_SECRETS)) == []


# 2 ---------------------------------------------------------------------------------------------


def test_case2_drop_after_pseudonymize_purges_the_pseudonyms_messages(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "e.json", [msg(1, "zedwordsbefore", ZED), msg(2, f"hi <@{ZED['id']}>", BOB)]
    )
    conn = _open(tmp_path)
    ingest_archive(Ingester(conn), [path])
    ing = Ingester(conn, Policy(pseudonymize_users=frozenset({ZED_ID})))
    ing.apply_policy()
    pid, pname = pseudonym_for(ing.secret, ZED_ID)
    assert conn.execute("SELECT author_id FROM messages WHERE id = ?", (int(sf(1)),)).fetchone() == (pid,)
    drop = Ingester(conn, Policy(drop_users=frozenset({ZED_ID}), pseudonymize_users=frozenset({ZED_ID})))
    assert drop.apply_policy() == 1
    assert conn.execute("SELECT content, redacted FROM messages ORDER BY id").fetchall() == [
        (None, "author opted out"),
        ("hi @removed-user", None),
    ]
    assert conn.execute("SELECT count(*) FROM users WHERE id IN (?, ?)", (pid, ZED_ID)).fetchone() == (0,)
    assert _leaks(conn, ("zedwordsbefore", pname, *ZED_SECRETS)) == []


# 3 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("late", [False, True], ids=["policy-at-ingest", "policy-after-ingest"])
def test_case3_embeds_keep_no_name_id_or_avatar_of_a_withheld_user(tmp_path: Path, late: bool) -> None:
    starred = msg(5, "alice's own words", ALICE, embeds=[_starboard(ZED, sf(1))])
    path = write_export(tmp_path / "e.json", [msg(1, "zed writes", ZED), starred])
    conn = _open(tmp_path)
    policy = Policy(pseudonymize_users=frozenset({ZED_ID}))
    if late:
        ingest_archive(Ingester(conn), [path])
        Ingester(conn, policy).apply_policy()
    else:
        ingest_archive(Ingester(conn, policy), [path])
    assert _leaks(conn, ZED_SECRETS) == []
    pid, pname = pseudonym_for(Ingester(conn).secret, ZED_ID)
    (data,) = conn.execute("SELECT CAST(data AS TEXT) FROM embeds").fetchone()
    assert f"<@{pid}>" in data and pname in data
    indexer.update_index(tmp_path / "data", conn)
    assert _search_ids(tmp_path / "data", "zedediah") == []


def test_case3_a_dropped_users_starboard_embed_goes_whole(tmp_path: Path) -> None:
    starred = msg(5, "look at this", ALICE, embeds=[_starboard(ZED, sf(1))])
    path = write_export(tmp_path / "e.json", [msg(1, "zedstarredwords", ZED), starred])
    conn = _open(tmp_path)
    ingest_archive(Ingester(conn, Policy(drop_users=frozenset({ZED_ID}))), [path])
    assert conn.execute("SELECT count(*) FROM embeds").fetchone() == (0,)
    assert _leaks(conn, ("zedstarredwords", *ZED_SECRETS)) == []


# 4 ---------------------------------------------------------------------------------------------


def test_case4_thread_titles_topics_and_forwards(tmp_path: Path) -> None:
    takedown = sf(10)
    root = tmp_path / "e"
    doc = export_doc(
        [
            msg(10, "ostrichtitlewords to take down", ALICE),
            msg(
                11,
                "",
                BOB,
                reference={
                    "messageId": sf(50),
                    "channelId": "200000000000000066",
                    "guildId": GUILD,
                    "type": "Forward",
                },
                forwardedMessage={"content": "forwardedsecretwords", "embeds": [], "attachments": []},
            ),
        ]
    )
    doc["channel"]["topic"] = f"ask <@{ZED['id']}> about it"
    write_json(root / "general.json", doc)
    write_export(  # a thread started from the taken-down message: named after it
        root / "thread.json",
        [msg(12, "inside the thread", ALICE)],
        channel_id=takedown,
        channel_name="ostrichtitlewords to take down",
        channel_type="GuildPublicThread",
        category_id=GENERAL,
        category="general",
    )
    post = sf(20)
    write_export(  # a forum post started by the dropped user: titled by them
        root / "post.json",
        [msg(20, "zedforumbody", ZED), msg(21, "a reply", ALICE)],
        channel_id=post,
        channel_name="zedforumtitle",
        channel_type="GuildPublicThread",
        category_id="200000000000000055",
        category="forum",
    )
    write_export(
        root / "mod.json", [msg(50, "forwardedsecretwords original", ALICE)], channel_id="200000000000000066",
        channel_name="mod-room",
    )  # fmt: skip
    conn = _open(tmp_path)
    policy = Policy(exclude=("mod-*",), drop_users=frozenset({ZED_ID}), takedowns={int(takedown): "asked"})
    ingest_archive(Ingester(conn, policy), [root])
    secrets = ("ostrichtitlewords", "zedforumtitle", "zedforumbody", "forwardedsecretwords", *ZED_SECRETS)
    assert _leaks(conn, secrets) == []
    assert conn.execute(
        "SELECT name FROM channels WHERE id IN (?, ?) ORDER BY id", (takedown, post)
    ).fetchall() == [
        ("withheld thread",),
        ("withheld thread",),
    ]
    assert conn.execute("SELECT topic FROM channels WHERE id = ?", (GENERAL,)).fetchone() == (
        "ask @removed-user about it",
    )


def test_case4_after_the_fact_titles_and_forwards_go_too(tmp_path: Path) -> None:
    root = tmp_path / "e"
    write_export(
        root / "general.json",
        [
            msg(10, "ostrichtitlewords to take down", ALICE),
            msg(11, "", BOB, reference={"messageId": sf(50), "channelId": "200000000000000066", "guildId": GUILD,
                                       "type": "Forward"},
                forwardedMessage={"content": "forwardedsecretwords"}),
        ],
    )  # fmt: skip
    write_export(
        root / "thread.json", [msg(12, "inside", ALICE)], channel_id=sf(10), channel_name="ostrichtitlewords",
        channel_type="GuildPublicThread", category_id=GENERAL, category="general",
    )  # fmt: skip
    write_export(
        root / "mod.json", [msg(50, "x", ALICE)], channel_id="200000000000000066", channel_name="mod-room"
    )
    conn = _open(tmp_path)
    ingest_archive(Ingester(conn), [root])
    Ingester(conn, Policy(exclude=("mod-*",), takedowns={int(sf(10)): "asked"})).apply_policy()
    assert _leaks(conn, ("ostrichtitlewords", "forwardedsecretwords")) == []


# 5 ---------------------------------------------------------------------------------------------


def test_case5_search_never_serves_a_purge_the_index_has_not_caught_up_with(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e.json", [msg(1, "lagwalrus words", BOB), msg(2, "lagwalrus too", ALICE)])
    data = tmp_path / "data"
    conn = _open(tmp_path)
    ingest_archive(Ingester(conn), [path])
    indexer.update_index(data, conn)
    assert sorted(_search_ids(data, "lagwalrus")) == [int(sf(1)), int(sf(2))]
    # The purge commits, then the process dies before touching the index (kill -9 inside `redact`).
    Ingester(conn, Policy(drop_users=frozenset({int(BOB["id"])}))).apply_policy()
    reader = indexer.open_index(data)
    assert [h.id for h in indexer.search(reader, "lagwalrus").hits] == [int(sf(2))]
    assert indexer.search(reader, "lagwalrus").total == 1
    # redact's own path: deleted by id from the live index, committed, no rebuild needed for that.
    st = indexer.withhold_now(data, conn)
    assert st.mode == "update"
    assert _search_ids(data, "lagwalrus") == [int(sf(2))]


def test_case5_abandoned_and_failed_build_folders_are_removed(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e.json", [msg(1, "hello", ALICE)])
    data = tmp_path / "data"
    conn = _open(tmp_path)
    ingest_archive(Ingester(conn), [path])
    indexer.update_index(data, conn)
    stale = data / "index" / "build-999-1"
    stale.mkdir()
    (stale / "segment").write_text("withheld words of a killed rebuild")
    indexer.rebuild_index(data, conn)
    assert not stale.exists()
    assert [p.name for p in (data / "index").iterdir() if p.name.startswith("build-")] == []


# 6 ---------------------------------------------------------------------------------------------


def test_case6_losing_policy_toml_never_writes_a_real_name_back(tmp_path: Path) -> None:
    conn = _open(tmp_path)
    first = write_export(tmp_path / "old.json", [msg(1, "zed writes", ZED)])
    ingest_archive(Ingester(conn, Policy(pseudonymize_users=frozenset({ZED_ID}))), [first])
    newer = write_export(
        tmp_path / "new.json",
        [msg(1, "zed writes", ZED), msg(2, "zed again", ZED), msg(3, f"cc @{ZED['nickname']}", ALICE)],
        exported_at="2026-01-01T00:00:00.000+00:00",
    )
    ingest_archive(Ingester(conn, Policy()), [newer])  # policy.toml gone: an empty policy
    assert _leaks(conn, ZED_SECRETS) == []
    pid, pname = pseudonym_for(Ingester(conn).secret, ZED_ID)
    assert conn.execute(
        "SELECT DISTINCT author_id FROM messages WHERE id != ?", (int(sf(3)),)
    ).fetchall() == [(pid,)]
    assert conn.execute("SELECT content FROM messages WHERE id = ?", (int(sf(3)),)).fetchone() == (
        f"cc @{pname}",
    )


# 7 ---------------------------------------------------------------------------------------------


def test_case7_a_renamed_excluded_channel_stays_excluded(tmp_path: Path) -> None:
    conn = _open(tmp_path)
    policy = Policy(exclude=("mod-*",))
    a = write_export(tmp_path / "a.json", [msg(1, "modsecretwords", ALICE)], channel_id="200000000000000009",
                     channel_name="mod-talk")  # fmt: skip
    assert Ingester(conn, policy).ingest_file(a).status == "excluded"
    b = write_export(tmp_path / "b.json", [msg(2, "modsecretwords renamed", ALICE)], channel_id="200000000000000009",
                     channel_name="staff-chat")  # fmt: skip
    assert Ingester(conn, policy).ingest_file(b).status == "excluded"
    assert _leaks(conn, ("modsecretwords", "staff-chat")) == []


# 8 ---------------------------------------------------------------------------------------------


def test_case8_post_hoc_pseudonymize_is_token_exact_and_finds_raw_ids(tmp_path: Path) -> None:
    ghost = 100000000000000099  # mentioned by raw id only: no user row
    texts = [
        "@bobabel is someone else",
        "mail bob@bob.example.org",
        "hello @bob and @Bob B.",
        f"ping <@{ghost}>",
    ]
    path = write_export(
        tmp_path / "e.json", [msg(i + 1, t, ALICE) for i, t in enumerate(texts)] + [msg(9, "x", BOB)]
    )
    conn = _open(tmp_path)
    ingest_archive(Ingester(conn), [path])
    before = conn.execute(
        "SELECT id, generation FROM messages WHERE id IN (?, ?) ORDER BY id", (int(sf(1)), int(sf(2)))
    ).fetchall()
    ing = Ingester(conn, Policy(pseudonymize_users=frozenset({int(BOB["id"]), ghost})))
    ing.apply_policy()
    _, bob = pseudonym_for(ing.secret, int(BOB["id"]))
    gid, _ = pseudonym_for(ing.secret, ghost)
    got = [r[0] for r in conn.execute("SELECT content FROM messages WHERE id < ? ORDER BY id", (int(sf(9)),))]
    assert got == [texts[0], texts[1], f"hello @{bob} and @{bob}.", f"ping <@{gid}>"]
    # Unrelated messages were not touched, so their citation hashes stay.
    after = conn.execute(
        "SELECT id, generation FROM messages WHERE id IN (?, ?) ORDER BY id", (int(sf(1)), int(sf(2)))
    ).fetchall()
    assert after == before


# 9 ---------------------------------------------------------------------------------------------


def test_case9_media_is_never_cached_publicly(tmp_path: Path) -> None:
    _, headers = media_headers(str(tmp_path / "photo.png"))
    assert "public" not in headers["Cache-Control"]
    assert headers["Cache-Control"] == "private, no-cache"


# 10 --------------------------------------------------------------------------------------------


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "deep"}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("withheld", [False, True], ids=["no-policy", "with-policy"])
def test_case10_hostile_nesting_skips_the_message_not_the_run(tmp_path: Path, withheld: bool) -> None:
    root = tmp_path / "e"
    write_export(
        root / "a.json",
        [
            msg(1, "fine before", ALICE),
            msg(2, "deep embed", ALICE, embeds=[{"title": "t", **_nested(300)}]),
            msg(3, "deep extra", ALICE, unmodeled=_nested(300)),
            msg(4, "fine after", ALICE),
        ],
    )
    write_export(root / "b.json", [msg(5, "other file words", ALICE)], channel_id="200000000000000002")
    conn = _open(tmp_path)
    policy = Policy(drop_users=frozenset({ZED_ID})) if withheld else Policy()
    summary = ingest_archive(Ingester(conn, policy), [root])
    by_name = {Path(f.path).name: f for f in summary.files}
    assert (by_name["a.json"].status, by_name["a.json"].skipped, by_name["b.json"].status) == (
        "partial",
        2,
        "ok",
    )
    assert all(f"message {sf(n)}" in w for n, w in zip((2, 3), by_name["a.json"].warnings, strict=True))
    indexer.update_index(tmp_path / "data", conn)
    assert _search_ids(tmp_path / "data", "other file words") == [int(sf(5))]
