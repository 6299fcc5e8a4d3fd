"""Privacy policy: excluded, dropped, pseudonymized and taken-down content never reaches the archive."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archive
from archive import Ingester, Policy, PolicyError, load_policy, save_policy
from archive.policy import pseudonym_for
from tests.conftest import rows
from tests.factory import ALICE, BOB, CAROL, msg, sf, write_export
from tests.ingesting import ingest_archive

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
    summary = ingest_archive(ing, [root])
    assert sorted((Path(f.path).name, f.status) for f in summary.files) == [
        ("general.json", "ok"),
        ("mod-talk.json", "excluded"),
        ("thread.json", "excluded"),
    ]
    db = tmp_path / "data" / archive.ARCHIVE_FILE
    _check_withheld(conn, db, ing.secret)
    # Re-ingesting the originals (even with --force) brings nothing back.
    ingest_archive(ing, [root])
    ingest_archive(ing, [root], force=True)
    _check_withheld(conn, db, ing.secret)


def test_policy_change_after_ingest_purges(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    root = _corpus(tmp_path)
    ingest_archive(ingester(), [root])
    assert rows(conn, "SELECT count(*) FROM messages WHERE content LIKE ?", f"%{SECRET_TEXT}%") == [(1,)]
    ing = ingester(POLICY)
    assert ing.apply_policy() == 2 + 2  # mod-talk + thread removed, bob's message, the takedown
    assert rows(conn, "SELECT count(*) FROM removed") == [(2,)]
    _check_withheld(conn, tmp_path / "data" / archive.ARCHIVE_FILE, ing.secret)
    ingest_archive(ing, [root])
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


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[channel]\nexclude = ["mod-*"]\n', "unknown section [channel]: did you mean [channels]?"),
        ('[user]\ndrop = ["1"]\n', "unknown section [user]: did you mean [users]?"),
        ('[[takedowns]]\nmessage = "1"\n', "unknown section [takedowns]: did you mean [[takedown]]?"),
        (
            '[users]\nexclude = ["mod-*"]\n',
            "unknown key 'exclude' in [users]: exclude belongs under [channels]",
        ),
        ('[users]\ndrops = ["1"]\n', "unknown key 'drops' in [users]: did you mean drop?"),
        ('[users]\ndrop = ["²"]\n', "[users.drop] has '²', which is not a user id"),
        ('[[takedown]]\nmessage = "²"\n', 'takedown #1 needs message = "<message id>"'),
    ],
)
def test_policy_unknown_keys_and_non_ids_are_refused_naming_the_closest(
    tmp_path: Path, text: str, error: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy(path)
    assert str(exc.value) == f"{path}: {error}"


def test_a_refused_policy_changes_nothing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    data = tmp_path / "d"
    good = tmp_path / "good.toml"
    good.write_text('[channels]\nexclude = ["mod-*"]\n', encoding="utf-8")
    export = write_export(tmp_path / "e.json", [msg(1, "hi", ALICE)])
    runner = CliRunner()
    assert (
        runner.invoke(app, ["ingest", str(export), "--policy", str(good), "--data-dir", str(data)]).exit_code
        == 0
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[channel]\nexclude = ["x"]\n', encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(export), "--policy", str(bad), "--data-dir", str(data)])
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        f"Error: {bad}: unknown section [channel]: did you mean [channels]?",
    )
    assert (data / "policy.toml").read_text(encoding="utf-8") == good.read_text(encoding="utf-8")


def test_save_policy_keeps_the_maintainers_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    text = (
        "# Our lab's policy, reviewed 2026-11\n"
        "[channels]\n"
        'exclude = ["mod-*"]  # moderators only\n'
        "\n"
        "[users]\n"
        "# people who opted out\n"
        'drop = ["111111111111111111"]\n'
    )
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    save_policy(
        Policy(
            policy.include, policy.exclude, policy.drop_users, frozenset({22}), {33: "asked\nin two lines"}
        ),
        path,
    )
    saved = path.read_text(encoding="utf-8")
    for kept in ("# Our lab's policy, reviewed 2026-11", "# moderators only", "# people who opted out"):
        assert kept in saved
    assert load_policy(path).takedowns == {33: "asked\nin two lines"}


_REASONS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
_IDS = st.integers(1, 10**19 - 1)


@settings(max_examples=60, deadline=None)
@given(
    exclude=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20), max_size=3
    ),
    drop=st.frozensets(_IDS, max_size=3),
    pseudo=st.frozensets(_IDS, max_size=3),
    takedowns=st.dictionaries(_IDS, _REASONS, max_size=3),
)
def test_save_then_load_policy_round_trips(
    tmp_path_factory: pytest.TempPathFactory,
    exclude: list[str],
    drop: frozenset[int],
    pseudo: frozenset[int],
    takedowns: dict[int, str],
) -> None:
    path = tmp_path_factory.mktemp("p") / "policy.toml"
    policy = Policy(("*",), tuple(dict.fromkeys(exclude)), drop, pseudo, takedowns)
    save_policy(policy, path)
    assert load_policy(path) == policy
    # Saving over a file that holds it already (as `redact` does) changes nothing.
    before = path.read_text(encoding="utf-8")
    save_policy(policy, path)
    assert path.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("lcars-terminal-*", "💻-lcars-terminal-27"),
        ("welcome-and-hellos", "👋｜welcome-and-hellos"),
        ("RULES", "⚖｜rules"),
        ("mod-*", "┃・mod-talk"),
    ],
)
def test_channel_patterns_match_names_as_people_type_them(pattern: str, name: str) -> None:
    assert not Policy(exclude=(pattern,)).channel_allowed([1], [name])
    assert Policy(exclude=(pattern,)).channel_allowed([1], ["general"])


def test_a_pattern_matching_no_channel_is_a_warning(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    policy = tmp_path / "p.toml"
    policy.write_text('[channels]\nexclude = ["lcars-terminal-*", "typo-chanel"]\n', encoding="utf-8")
    export = write_export(
        tmp_path / "e.json",
        [msg(1, "hi", ALICE)],
        channel_id="200000000000000005",
        channel_name="💻-lcars-terminal-27",
    )
    general = write_export(tmp_path / "g.json", [msg(2, "hello", ALICE)])
    runner = CliRunner()
    args = [
        "ingest",
        str(export),
        str(general),
        "--policy",
        str(policy),
        "--data-dir",
        str(tmp_path / "d"),
        "-q",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [
        "warning: policy: channel pattern 'typo-chanel' matches no channel of the archive or of these exports"
    ]
    # The next run reads nothing (files unchanged) and still knows the first pattern matched once.
    again = runner.invoke(app, args)
    assert again.stderr.strip().splitlines() == [
        "warning: policy: channel pattern 'typo-chanel' matches no channel of the archive or of these exports"
    ]


def test_a_second_writer_waits_with_a_notice_then_applies(tmp_path: Path) -> None:
    import threading
    import time

    from archive.errors import ArchiveBusy
    from archive.store import begin_write

    db = tmp_path / "data" / archive.ARCHIVE_FILE
    holder = archive.connect(db)
    Ingester(holder)  # the archive's secret exists before the lock is taken
    holder.execute("BEGIN IMMEDIATE")
    notices: list[str] = []
    waiter = archive.connect(db)
    waiter.execute("PRAGMA busy_timeout = 50")
    with pytest.raises(ArchiveBusy) as exc:
        begin_write(waiter, notices.append, wait_s=0.3)
    assert str(exc.value) == (
        "the archive is busy: another hallway ingest or redact is writing it; try again when it finishes"
        " (nothing was changed)"
    )
    notices.clear()
    threading.Timer(0.4, lambda: holder.execute("COMMIT")).start()
    time.sleep(0.05)
    ing = Ingester(waiter, Policy(takedowns={5: "asked"}), notices.append)
    ing.apply_policy()
    assert notices == ["waiting for another hallway process to finish writing the archive…"]
    assert [r.status for r in ing.last_purge.rules] == ["unknown"]
