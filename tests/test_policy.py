"""Privacy policy: excluded, dropped, pseudonymized and taken-down content never reaches the archive."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import archive
from archive import Ingester, Policy, PolicyError, load_policy, save_policy
from archive.policy import pseudonym_for
from tests.conftest import rows
from tests.factory import ALICE, BOB, CAROL, msg, sf, write_export

Make = Callable[..., Ingester]
SECRET_TEXT = "zanzibar-quokka-secret"


def _corpus(tmp_path: Path) -> Path:
    root = tmp_path / "exports"
    general = [
        msg(1, "hello from alice", ALICE),
        msg(2, f"bob says {SECRET_TEXT} here", BOB),
        msg(
            3,
            "hi @Bob B and @Carol C",
            CAROL,
            mentions=[BOB, CAROL],
            type="Reply",
            reference={
                "messageId": sf(2),
                "channelId": "200000000000000001",
                "guildId": "300000000000000001",
            },
        ),
        msg(
            4,
            "please take this down: ostrich-takedown-words",
            ALICE,
            reactions=[{"emoji": {"id": "", "name": "x"}, "count": 2, "users": [BOB, CAROL]}],
        ),
        msg(5, "the third person's own words", CAROL, interaction={"id": "1", "name": "cmd", "user": CAROL}),
    ]
    write_export(root / "general.json", general)
    write_export(
        root / "mod-talk.json",
        [msg(6, "moderators only: pangolin-private", ALICE)],
        channel_id="200000000000000002",
        channel_name="mod-talk",
    )
    write_export(
        root / "thread.json",
        [msg(7, "thread of mods: narwhal-hidden", ALICE)],
        channel_id="200000000000000003",
        channel_name="a mod thread",
        channel_type="GuildPublicThread",
        category_id="200000000000000002",
        category="mod-talk",
    )
    return root


POLICY = Policy(
    exclude=("mod-*",),
    drop_users=frozenset({int(BOB["id"])}),
    pseudonymize_users=frozenset({int(CAROL["id"])}),
    takedowns={int(sf(4)): "removed at the author's request"},
)


def _check_withheld(conn: sqlite3.Connection, db: Path, secret: bytes) -> None:
    pid, pname = pseudonym_for(secret, int(CAROL["id"]))
    assert rows(conn, "SELECT id, author_id, content, redacted FROM messages ORDER BY id") == [
        (int(sf(1)), int(ALICE["id"]), "hello from alice", None),
        (int(sf(2)), None, None, "author opted out"),
        (int(sf(3)), pid, f"hi @removed-user and @{pname}", None),
        (int(sf(4)), None, None, "removed at the author's request"),
        (int(sf(5)), pid, "the third person's own words", None),
    ]
    assert rows(conn, "SELECT id, name, nickname, pseudonym FROM users ORDER BY id") == [
        (int(ALICE["id"]), "alice", "Alice A", 0),
        (pid, pname, pname, 1),
    ]
    assert rows(conn, "SELECT count(*) FROM reactions") == [(0,)]
    assert rows(conn, "SELECT user_id FROM mentions") == [(pid,)]
    assert rows(conn, "SELECT id FROM channels") == [(200000000000000001,)]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = db.read_bytes() + (
        db.with_name(db.name + "-wal").read_bytes() if db.with_name(db.name + "-wal").exists() else b""
    )
    for needle in (
        SECRET_TEXT,
        "ostrich-takedown",
        "pangolin-private",
        "narwhal-hidden",
        "Bob B",
        "Carol C",
        "carol",
        CAROL["id"],
        BOB["id"],
    ):
        assert needle.encode() not in data, needle


def test_policy_at_ingest_never_writes_withheld_content(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    root = _corpus(tmp_path)
    ing = ingester(POLICY)
    summary = ing.ingest([root])
    assert sorted((Path(f.path).name, f.status) for f in summary.files) == [
        ("general.json", "ok"),
        ("mod-talk.json", "excluded"),
        ("thread.json", "excluded"),
    ]
    db = tmp_path / "data" / archive.ARCHIVE_FILE
    _check_withheld(conn, db, ing.secret)
    # Re-ingesting the originals (even with --force) brings nothing back.
    ing.ingest([root])
    ing.ingest([root], force=True)
    _check_withheld(conn, db, ing.secret)


def test_policy_change_after_ingest_purges(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    root = _corpus(tmp_path)
    ingester().ingest([root])
    assert rows(conn, "SELECT count(*) FROM messages WHERE content LIKE ?", f"%{SECRET_TEXT}%") == [(1,)]
    ing = ingester(POLICY)
    assert ing.apply_policy() == 2 + 2  # mod-talk + thread removed, bob's message, the takedown
    assert rows(conn, "SELECT count(*) FROM removed") == [(2,)]
    _check_withheld(conn, tmp_path / "data" / archive.ARCHIVE_FILE, ing.secret)
    ing.ingest([root])
    _check_withheld(conn, tmp_path / "data" / archive.ARCHIVE_FILE, ing.secret)


def test_pseudonym_is_stable_and_keyed(tmp_path: Path) -> None:
    a = pseudonym_for(b"k1", 42)
    assert a == pseudonym_for(b"k1", 42)
    assert a != pseudonym_for(b"k2", 42)
    assert a[1].startswith("anon-") and len(a[1]) == 9


def test_load_and_save_policy_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[channels]\ninclude = ["*"]\nexclude = ["mod-*", "123456789012345678"]\n'
        '[users]\ndrop = ["111111111111111111"]\npseudonymize = ["222222222222222222"]\n'
        '[[takedown]]\nmessage = "333333333333333333"\nreason = "removed at the author\'s request"\n'
    )
    policy = load_policy(path)
    assert policy == Policy(
        ("*",),
        ("mod-*", "123456789012345678"),
        frozenset({111111111111111111}),
        frozenset({222222222222222222}),
        {333333333333333333: "removed at the author's request"},
    )
    save_policy(policy, tmp_path / "copy.toml")
    assert load_policy(tmp_path / "copy.toml") == policy


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[channels\n", "not valid TOML"),
        ('[users]\ndrop = ["bob"]\n', "[users.drop] has 'bob', which is not a user id"),
        ('[[takedown]]\nreason = "x"\n', 'takedown #1 needs message = "<message id>"'),
        ("[channels]\nexclude = 5\n", "channels.exclude must be a list of channel ids or name globs"),
    ],
)
def test_bad_policy_gives_one_line_error(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as exc:
        load_policy(path)
    assert str(exc.value).startswith(f"{path}: ")
    assert error in str(exc.value)
    assert "\n" not in str(exc.value)
