"""Privacy leak test, end to end: what the policy withholds is found nowhere the archive publishes.

The policy excludes a channel (and its thread), drops one user, pseudonymizes another and takes a message
down. The original exports are ingested twice with `hallway ingest --policy` (the second time with --force),
and the index is rebuilt. Then every distinctive string of the withheld content, and the pseudonymized
person's real name, username and id, is looked for in: the archive file bytes (+ WAL) and its SQL dump,
every file of the index, `hallway search --json` and `hallway stats`, and the HTTP response of every page
and twin the viewer has: home, channels, permalinks (.json, .md, every citation), threads, reply trees,
users, conversations, search pages and their facets for each distinctive word (and prefix/fuzzy variants),
and every internal link those pages lead to.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
from fastapi.testclient import TestClient

import archive
from tests.factory import ALICE, BOB, msg, sf, write_export
from web.app import create_app
from web.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GUILD = "300000000000000001"
GENERAL = "200000000000000001"
SECRET_CHANNEL = "200000000000000099"
MAX_PAGES = 1500

DROPPED: dict[str, Any] = {
    "id": "100000000000000044",
    "name": "droppyzephyr",
    "discriminator": "0000",
    "nickname": "Zephyrine Dropwell",
    "color": None,
    "isBot": False,
    "roles": [],
    "avatarUrl": "https://cdn.discordapp.com/avatars/100000000000000044/zephyravatarhash.png",
}
PSEUDO: dict[str, Any] = {
    "id": "100000000000000055",
    "name": "quokkarealname",
    "discriminator": "0000",
    "nickname": "Quentin Quokkaworth",
    "color": None,
    "isBot": False,
    "roles": [],
    "avatarUrl": "https://cdn.discordapp.com/avatars/100000000000000055/quokkaavatarhash.png",
}
TAKEDOWN_ID = sf(30)

# Everything withheld, each distinctive enough that a hit can only be a leak.
WITHHELD_TEXT = [
    "pangolinexcludedwords",  # excluded channel content
    "mod-quasarvault",  # excluded channel name
    "quasartopicline",  # its topic
    "narwhalthreadhidden",  # a thread under the excluded channel
    "narwhalthreadname",  # that thread's name
    "zephyrdroppedwords",  # the dropped user's message
    "zephyrrevisionwords",  # the dropped user's earlier revision
    "zephyrattachment",  # the dropped user's attachment name
    "zephyrembedtitle",  # the dropped user's embed
    "zephyravatarhash",
    "ostrichtakedownwords",  # the taken-down message
    "ostrichattachment",
    "ostrichembedtitle",
    "ostrichstickername",
    "ostrichrevisionwords",  # an earlier revision of the taken-down message
    "zephyrforumtitle",  # a forum post started by the dropped user: its title
    "zephyrforumbody",
    "pangolinforwardedcopy",  # a forwarded copy of a message of the excluded channel
    "ostrichstarredcopy",  # a starboard embed quoting the taken-down message
    "droppyzephyr",
    "Zephyrine Dropwell",
    "Zephyrine",
    DROPPED["id"],
    SECRET_CHANNEL,
]
PSEUDO_IDENTITY = ["quokkarealname", "Quentin Quokkaworth", "Quokkaworth", "quokkaavatarhash", PSEUDO["id"]]
SECRETS = WITHHELD_TEXT + PSEUDO_IDENTITY
# Words searched for (each secret word, plus prefix and fuzzy variants that would surface indexed terms).
SEARCH_WORDS = [s for s in SECRETS if re.fullmatch(r"[A-Za-z0-9-]+", s)] + [
    "zephyr*",
    "ostrich*",
    "quokka*",
    "pangolin*",
    "narwhal*",
    "zephyrdroppedword~2",
    "ostrichtakedownword~2",
    f"from:{DROPPED['id']}",
    f"from:{PSEUDO['id']}",
    "from:droppyzephyr",
    "from:quokkarealname",
    f"mentions:{DROPPED['id']}",
    "in:mod-quasarvault",
    f"in:{SECRET_CHANNEL}",
    "has:file",
    "has:embed",
    "has:sticker",
    "quokka",
    "zephyr",
]


def _reactions(*users: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"emoji": {"id": "", "name": "👍", "code": "thumbsup"}, "count": len(users), "users": list(users)}
    ]


def build_exports(root: Path) -> Path:
    """Two exports of #general (older and newer, with edits) plus the excluded channel and its thread."""
    ref = {"channelId": GENERAL, "guildId": GUILD}
    takedown_v1 = msg(30, "first draft ostrichrevisionwords", ALICE, timestampEdited=None)
    takedown_v2 = {
        **takedown_v1,
        "content": "please remove ostrichtakedownwords",
        "timestampEdited": "2023-11-14T23:00:00.000+00:00",
        "attachments": [
            {"id": "7", "url": "https://cdn.discordapp.com/attachments/1/2/ostrichattachment.pdf",
             "fileName": "ostrichattachment.pdf", "fileSizeBytes": 12}
        ],
        "embeds": [{"title": "ostrichembedtitle", "url": "https://example.org/ostrich", "description": "x",
                    "fields": [], "images": [], "inlineEmojis": []}],
        "stickers": [{"id": "8", "name": "ostrichstickername", "format": "Png",
                      "sourceUrl": "https://cdn.discordapp.com/stickers/8.png"}],
    }  # fmt: skip
    dropped_v1 = msg(40, "zephyrrevisionwords at first", DROPPED)
    dropped_v2 = {
        **dropped_v1,
        "content": "zephyrdroppedwords now",
        "timestampEdited": "2023-11-14T23:30:00.000+00:00",
        "attachments": [
            {"id": "9", "url": "https://cdn.discordapp.com/attachments/1/3/zephyrattachment.png",
             "fileName": "zephyrattachment.png", "fileSizeBytes": 3}
        ],
        "embeds": [{"title": "zephyrembedtitle", "url": "https://example.org/z", "description": "y",
                    "fields": [], "images": [], "inlineEmojis": []}],
    }  # fmt: skip

    def starboard(who: dict[str, Any], quoted: str, text: str) -> dict[str, Any]:
        return {
            "title": None, "url": None, "description": text,
            "author": {"name": who["nickname"], "iconUrl": who["avatarUrl"]},
            "fields": [{"name": "Source", "value": f"<@{who['id']}> in <#{GENERAL}>", "isInline": False},
                       {"name": "Jump", "value": f"[go](https://discord.com/channels/{GUILD}/{GENERAL}/{quoted})"}],
            "footer": {"text": who["nickname"]}, "images": [], "inlineEmojis": [],
        }  # fmt: skip

    common = [
        msg(10, "hello everyone, plain public words", ALICE, reactions=_reactions(DROPPED, PSEUDO, BOB)),
        msg(17, "starboard", ALICE, embeds=[starboard(PSEUDO, sf(12), "the pseudonymous person writes")]),
        msg(18, "starboard", ALICE, embeds=[starboard(DROPPED, sf(40), "zephyr said it")]),
        msg(19, "starboard", ALICE, embeds=[starboard(BOB, TAKEDOWN_ID, "ostrichstarredcopy")]),
        msg(
            20,
            "",
            BOB,
            reference={"messageId": sf(60), "channelId": SECRET_CHANNEL, "guildId": GUILD, "type": "Forward"},
            forwardedMessage={"content": "pangolinforwardedcopy", "embeds": [], "attachments": []},
        ),
        msg(
            11,
            f"hi <@{DROPPED['id']}> and <@{PSEUDO['id']}> and @Zephyrine Dropwell and @Quentin Quokkaworth",
            BOB,
            mentions=[DROPPED, PSEUDO],
        ),
        msg(12, "the pseudonymous person writes publicly", PSEUDO),
        msg(
            13,
            "answering the dropped person",
            ALICE,
            type="Reply",
            reference={"messageId": sf(40), **ref},
        ),
        msg(
            14,
            "answering the taken-down message",
            BOB,
            type="Reply",
            reference={"messageId": TAKEDOWN_ID, **ref},
        ),
        msg(
            15,
            "slash command by the pseudonymous person",
            ALICE,
            type="20",
            interaction={"id": "1", "name": "cmd", "user": PSEUDO},
        ),
        msg(
            16,
            "a reply to the pseudonymous person",
            BOB,
            type="Reply",
            reference={"messageId": sf(12), **ref},
            mentions=[PSEUDO],
        ),
    ]
    write_export(
        root / "old" / "general.json",
        [*common, takedown_v1, dropped_v1],
        exported_at="2023-11-14T22:00:00.000+00:00",
    )
    newer = write_export(
        root / "new" / "general.json", [*common, takedown_v2, dropped_v2, msg(50, "later words", ALICE)]
    )
    text = newer.read_text(encoding="utf-8").replace('"topic": null', f'"topic": "ask <@{DROPPED["id"]}>"', 1)
    newer.write_text(text, encoding="utf-8")
    write_export(  # a thread started from the taken-down message, named after its text
        root / "new" / "takedown-thread.json",
        [msg(31, "talking in the thread", ALICE)],
        channel_id=TAKEDOWN_ID,
        channel_name="please remove ostrichtakedownwords",
        channel_type="GuildPublicThread",
        category_id=GENERAL,
        category="general",
    )
    write_export(  # a forum post started by the dropped user
        root / "new" / "forum-post.json",
        [msg(80, "zephyrforumbody", DROPPED), msg(81, "a public answer", ALICE)],
        channel_id=sf(80),
        channel_name="zephyrforumtitle",
        channel_type="GuildPublicThread",
        category_id="200000000000000077",
        category="questions",
    )
    secret = write_export(
        root / "new" / "mod-quasarvault.json",
        [msg(60, "pangolinexcludedwords in here", ALICE), msg(61, "more", DROPPED)],
        channel_id=SECRET_CHANNEL,
        channel_name="mod-quasarvault",
    )
    text = secret.read_text(encoding="utf-8").replace('"topic": null', '"topic": "quasartopicline"')
    secret.write_text(text, encoding="utf-8")
    write_export(
        root / "new" / "narwhalthreadname.json",
        [msg(70, "narwhalthreadhidden words", BOB)],
        channel_id="200000000000000098",
        channel_name="narwhalthreadname",
        channel_type="GuildPublicThread",
        category_id=SECRET_CHANNEL,
        category="mod-quasarvault",
    )
    return root


POLICY_TOML = f"""
[channels]
exclude = ["mod-*"]

[users]
drop = ["{DROPPED["id"]}"]
pseudonymize = ["{PSEUDO["id"]}"]

[[takedown]]
message = "{TAKEDOWN_ID}"
reason = "removed at the author's request"
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _hits(text: str) -> list[str]:
    low = text.lower()
    return [s for s in SECRETS if s.lower() in low]


def _id_bytes(value: str) -> bytes:
    """How SQLite stores a 64-bit integer in a record (big-endian, 8 bytes for values this large)."""
    return int(value).to_bytes(8, "big")


@pytest.fixture(scope="module")
def leak_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = _ingest_with_policy(tmp_path_factory.mktemp("leak"), policy_first=True)
    r = _cli("reindex", "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    return data


def _text_dump(conn: sqlite3.Connection) -> str:
    """Every value of every table as text (BLOBs such as `extra` JSON decoded, which iterdump shows as hex)."""
    out = []
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            out += [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row]
    return "\n".join(out)


def _ingest_with_policy(tmp: Path, *, policy_first: bool) -> Path:
    """Ingest the exports with the policy from the start, or without it first and then with it."""
    exports = build_exports(tmp / "exports")
    policy = tmp / "policy.toml"
    policy.write_text(POLICY_TOML, encoding="utf-8")
    data = tmp / "data"
    runs = [["--policy", str(policy)], ["--policy", str(policy), "--force"]]
    if not policy_first:
        runs = [[], ["--policy", str(policy)]]
    for extra in runs:
        for sub in ("old", "new"):  # oldest export first, so the edits are revisions
            r = _cli("ingest", str(exports / sub), "--data-dir", str(data), "-q", *extra)
            assert r.returncode == 0, r.stderr
    return data


@pytest.fixture(scope="module")
def late_policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The policy applied after everything was ingested in the clear (purge + index update, no reindex)."""
    return _ingest_with_policy(tmp_path_factory.mktemp("late"), policy_first=False)


def test_privacy_archive_and_index_files_hold_nothing_withheld_after_late_policy(
    late_policy_dir: Path,
) -> None:
    test_privacy_archive_and_index_files_hold_nothing_withheld(late_policy_dir)


def test_privacy_archive_and_index_files_hold_nothing_withheld(leak_dir: Path) -> None:
    db = leak_dir / archive.ARCHIVE_FILE
    blobs = {p: p.read_bytes() for p in leak_dir.glob(archive.ARCHIVE_FILE + "*")}
    index_files = [p for p in (leak_dir / "index").rglob("*") if p.is_file()]
    assert index_files, "no index files"
    blobs.update({p: p.read_bytes() for p in index_files})
    found = []
    for path, data in blobs.items():
        low = data.lower()
        found += [(path.name, s) for s in SECRETS if s.lower().encode() in low]
        found += [
            (path.name, f"int {s}")
            for s in (DROPPED["id"], PSEUDO["id"])
            if path.parent == leak_dir and _id_bytes(s) in data
        ]
    conn = sqlite3.connect(db)
    try:
        dump = _text_dump(conn)
        real_users = conn.execute(
            "SELECT count(*) FROM users WHERE id IN (?, ?)", (DROPPED["id"], PSEUDO["id"])
        ).fetchone()
    finally:
        conn.close()
    found += [("sql dump", s) for s in _hits(dump)]
    print(f"\nprivacy: scanned {len(blobs)} files ({sum(map(len, blobs.values())):,} bytes) and the SQL dump")
    assert found == []
    assert real_users == (0,)
    assert "removed at the author's request" in dump  # the takedown is there, as a tombstone


def test_privacy_cli_search_and_stats_show_nothing_withheld(leak_dir: Path) -> None:
    outputs = [_cli("stats", "--data-dir", str(leak_dir), "--json").stdout]
    for word in SEARCH_WORDS:
        r = _cli("search", word, "--data-dir", str(leak_dir), "--json", "--limit", "100")
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout)
    leaks = [
        (w, _hits(_without_query_echo(out, w)))
        for w, out in zip(["stats", *SEARCH_WORDS], outputs, strict=True)
    ]
    assert [x for x in leaks if x[1]] == []


def _links(body: str) -> list[str]:
    return re.findall(r'href="([^"#]+)', body) + re.findall(r'"url":\s*"(/[^"#]+)"', body)


def _without_query_echo(body: str, q: str) -> str:
    """The page minus the places it repeats what was typed (an echo of the query is not a leak)."""
    typed = [q] + ([q.split(":", 1)[1]] if ":" in q else [])  # a filter chip repeats the value alone
    for text in typed:
        for form in sorted(
            {text, quote(text), quote_plus(text), quote(text, safe="")}, key=len, reverse=True
        ):
            body = body.replace(form, "")
    return body


def test_privacy_every_page_and_twin_shows_nothing_withheld(leak_dir: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=leak_dir)), raise_server_exceptions=False)
    conn = sqlite3.connect(leak_dir / archive.ARCHIVE_FILE)
    try:
        mids = [r[0] for r in conn.execute("SELECT id FROM messages")]
        cids = [r[0] for r in conn.execute("SELECT id FROM channels")]
        uids = [r[0] for r in conn.execute("SELECT id FROM users")]
    finally:
        conn.close()
    seeds = ["/", "/index.json", "/healthz", "/openapi.json"]
    for m in mids:
        seeds += [
            f"/m/{m}",
            f"/m/{m}.json",
            f"/m/{m}.md",
            f"/t/{m}",
            f"/t/{m}.json",
            f"/t/{m}.md",
            f"/m/{m}?v=1",
        ]
        seeds += [f"/m/{m}/cite.{ext}" for ext in ("bib", "ris", "json")]
    for c in cids:
        seeds += [
            f"/c/{c}",
            f"/c/{c}.json",
            f"/t/{c}",
            f"/t/{c}.json",
            f"/t/{c}.md",
            f"/c/{c}.atom",
            f"/t/{c}.atom",
        ]
    seeds += [f"/conv/{m}.atom" for m in mids]
    # the digest of everything, its twins, and the weekly digest feed
    seeds += [f"/digest{fmt}?since=2000-01-01" for fmt in ("", ".json", ".md")] + ["/digest.atom"]
    seeds += [u for uid in uids for u in (f"/u/{uid}", f"/u/{uid}.json")]
    # The withheld ids asked for directly: a 404 (or tombstone) page that names nothing.
    probes = {
        f"/u/{DROPPED['id']}": DROPPED["id"],
        f"/u/{PSEUDO['id']}.json": PSEUDO["id"],
        f"/c/{SECRET_CHANNEL}": SECRET_CHANNEL,
        f"/c/{SECRET_CHANNEL}.json": SECRET_CHANNEL,
    }
    seeds += list(probes)
    searches = {f"/search?q={quote(w)}": w for w in SEARCH_WORDS} | {
        f"/search.json?q={quote(w)}": w for w in SEARCH_WORDS
    }
    seeds += list(searches)

    queue, seen = deque(seeds), set(seeds)
    leaks: list[tuple[str, list[str]]] = []
    kinds: dict[str, int] = {}
    pages = 0
    while queue and pages < MAX_PAGES:
        path = queue.popleft()
        r = client.get(path)
        pages += 1
        assert r.status_code < 500, (path, r.status_code)
        kind = path.split("?")[0].split("/")[1] or "/"
        kinds[kind] = kinds.get(kind, 0) + 1
        body = r.text
        q = searches.get(path) or probes.get(path)
        if q is None and path.startswith("/search"):
            # Any twin or feed of a search (.json, .atom, later pages) echoes the query it was asked.
            q = (parse_qs(urlsplit(path).query).get("q") or [None])[0]
        scanned = _without_query_echo(body, q) if q else body
        if _hits(scanned):
            leaks.append((path, _hits(scanned)))
        for link in _links(body):
            parts = urlsplit(link)
            if parts.netloc or link.startswith(("/static/", "/assets/", "/media/", "/theme", "/docs")):
                continue
            if link.startswith("/") and link not in seen:
                seen.add(link)
                queue.append(link.replace("&amp;", "&"))
    print(
        f"\nprivacy: {pages} pages and twins scanned ({len(SECRETS)} secrets each): {dict(sorted(kinds.items()))}"
    )
    assert leaks == []
    assert pages >= len(seeds)
    assert {
        "c",
        "m",
        "t",
        "u",
        "search",
        "search.json",
        "digest",
        "digest.json",
        "digest.atom",
    } <= kinds.keys()
