"""indexer.search over the bundled sample community: every filter checked against SQL over the archive itself."""

from __future__ import annotations

import html
import random
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import archive
import indexer
from archive import Ingester, Policy
from archive.normalizer import is_system_type
from archive.schema import HAS_FLAGS
from tests.conftest import SAMPLES

RESEARCH = 907543031316510423
GENERAL = 907354337968331041
THREAD = 1239970985717853624
FORUM = 1283084569804951307
BRANNOC = 514047187353673251
EDITED = 1171410726615682644
DELETED = 1151251275757880569
LIVE = "m.deleted = 0 AND m.redacted IS NULL AND m.content IS NOT NULL"


def ingest(conn: sqlite3.Connection, paths: list[Path], policy: Policy | None = None) -> None:
    """Ingest exports message by message (the index needs no conversation pass)."""
    ingester = Ingester(conn, policy)
    ingester.apply_policy()
    for path in archive.iter_export_files(paths):
        assert ingester.ingest_file(path).status in ("ok", "unchanged"), path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sqlite3.Connection, indexer.SearchIndex]]:
    data = tmp_path_factory.mktemp("search") / "data"
    conn = archive.connect(data / archive.ARCHIVE_FILE)
    ingest(conn, [SAMPLES])
    indexer.update_index(data, conn)
    yield conn, indexer.open_index(data)
    conn.close()


@pytest.fixture(scope="module")
def conn(env: tuple[sqlite3.Connection, indexer.SearchIndex]) -> sqlite3.Connection:
    return env[0]


@pytest.fixture(scope="module")
def ix(env: tuple[sqlite3.Connection, indexer.SearchIndex]) -> indexer.SearchIndex:
    return env[1]


def all_ids(ix: indexer.SearchIndex, q: str, sort: str = "newest") -> list[int]:
    out: list[int] = []
    while True:
        page = indexer.search(ix, q, sort=sort, limit=100, offset=len(out), facets=False)
        out += [h.id for h in page.hits]
        if not page.hits or len(out) >= page.total:
            assert len(out) == page.total
            return out


def oracle(conn: sqlite3.Connection, where: str, *args: object) -> set[int]:
    sql = f"SELECT m.id FROM messages m LEFT JOIN users u ON u.id = m.author_id WHERE {LIVE} AND ({where})"
    return {r[0] for r in conn.execute(sql, args)}


def live(conn: sqlite3.Connection) -> set[int]:
    return oracle(conn, "1")


# -- filters, each against SQL ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "where", "args"),
    [
        ("from:brannoc", "u.name = ?", ("brannoc",)),
        ("from:BRANNOC", "u.name = ?", ("brannoc",)),
        ("from:@brannoc", "u.name = ?", ("brannoc",)),
        ('from:"Odile Marr-Ruiz"', "u.nickname = ?", ("Odile Marr-Ruiz",)),
        ("from: odile.mr", "u.name = ?", ("odile.mr",)),
        (f"from:{BRANNOC}", "m.author_id = ?", (BRANNOC,)),
        ("from:brannoc from:dax0r", "u.name IN (?, ?)", ("brannoc", "dax0r")),
        ("from:brannoc OR from:dax", "u.name IN (?, ?)", ("brannoc", "dax0r")),
        (f"mentions:{BRANNOC}", "m.id IN (SELECT message_id FROM mentions WHERE user_id = ?)", (BRANNOC,)),
        ("mentions:brannoc", "m.id IN (SELECT message_id FROM mentions WHERE user_id = ?)", (BRANNOC,)),
        ("in:general", "m.channel_id = ?", (GENERAL,)),
        ("in:#General", "m.channel_id = ?", (GENERAL,)),
        (f"in:{GENERAL}", "m.channel_id = ?", (GENERAL,)),
        (
            "in:research",
            "m.channel_id IN (SELECT id FROM channels WHERE id = ? OR parent_id = ?)",
            (RESEARCH,) * 2,
        ),
        (
            f"in:{RESEARCH}",
            "m.channel_id IN (SELECT id FROM channels WHERE id = ? OR parent_id = ?)",
            (RESEARCH,) * 2,
        ),
        (f"in:{THREAD}", "m.channel_id = ?", (THREAD,)),
        ('in:"Feature splitting at 16k vs 65k"', "m.channel_id = ?", (THREAD,)),
        ("in:paper-club", "m.channel_id IN (SELECT id FROM channels WHERE parent_id = ?)", (FORUM,)),
        ("in:general in:code-help", "m.channel_id IN (?, 958773350891717723)", (GENERAL,)),
        ("pinned:true", "m.pinned = 1", ()),
        ("pinned:false", "m.pinned = 0", ()),
        ("edited:true", "m.edited_ts IS NOT NULL", ()),
        ("is:reply", "m.reply_to IS NOT NULL OR m.type = 'Reply'", ()),
        ("author:bot", "u.is_bot = 1", ()),
        ("author:user", "coalesce(u.is_bot, 0) = 0", ()),
        ("before:2023", "m.ts < 1672531200000", ()),
        ("after:2024-12", "m.ts >= 1735689600000", ()),
        ("during:2024-03", "m.ts >= 1709251200000 AND m.ts < 1711929600000", ()),
        ("during:2024-03-21", "m.ts >= 1710979200000 AND m.ts < 1711065600000", ()),
        ("on:2024", "m.ts >= 1704067200000 AND m.ts < 1735689600000", ()),
        ("after:2023-01-01 before:2023-02", "m.ts >= 1672617600000 AND m.ts < 1675209600000", ()),
    ],
)
def test_search_filter_matches_archive(
    ix: indexer.SearchIndex, conn: sqlite3.Connection, q: str, where: str, args: tuple[object, ...]
) -> None:
    expected = oracle(conn, where, *args)
    assert expected, f"the samples should have messages for {q}"
    got = all_ids(ix, q)
    assert len(got) == len(set(got))
    assert set(got) == expected
    # Negated, the same filter gives exactly the rest (same-key ORs are one filter, so negate single ones).
    if " " not in q.replace('" ', "").strip() or q.startswith("from: "):
        assert set(all_ids(ix, "-" + q.replace("from: ", "from:"))) == live(conn) - expected


@pytest.mark.parametrize("name", sorted(HAS_FLAGS))
def test_search_has_filter_matches_flags(
    ix: indexer.SearchIndex, conn: sqlite3.Connection, name: str
) -> None:
    expected = oracle(conn, "m.flags & ? != 0", HAS_FLAGS[name])
    assert set(all_ids(ix, f"has:{name}")) == expected
    assert set(all_ids(ix, f"-has:{name}")) == live(conn) - expected


def test_search_is_thread_and_system(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    in_threads = oracle(conn, "m.channel_id IN (SELECT id FROM channels WHERE is_thread = 1)")
    assert in_threads <= set(all_ids(ix, "is:thread"))
    assert THREAD in set(all_ids(ix, "is:thread"))  # the starter message in #research
    system = {
        r[0]
        for r in conn.execute(f"SELECT m.id, m.type FROM messages m WHERE {LIVE}")
        if is_system_type(r[1])
    }
    assert system and set(all_ids(ix, "is:system")) == system


def test_search_filters_combine_with_words(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    got = set(all_ids(ix, "sweep from:brannoc in:research"))
    assert EDITED in got
    assert got <= oracle(conn, "u.name = 'brannoc' AND m.channel_id = ?", RESEARCH)
    assert all_ids(ix, "sweep -from:brannoc in:research") and EDITED not in all_ids(ix, "sweep -from:brannoc")


def test_search_filter_chips(ix: indexer.SearchIndex) -> None:
    page = indexer.search(ix, 'from:"Odile Marr-Ruiz" -has:link pinned:true x')
    assert [str(c) for c in page.filters] == ['from:"Odile Marr-Ruiz"', "-has:link", "pinned:true"]


# -- text matching -----------------------------------------------------------------------------


def test_search_words_are_stemmed(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    stemmed = set(all_ids(ix, "tokenizers"))
    assert stemmed == set(all_ids(ix, "tokenizer"))
    assert stemmed >= oracle(conn, "m.content LIKE '%tokenizers%' AND m.content NOT LIKE '%tokenizers_%'")


def test_search_phrase_is_exact_and_unstemmed(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    phrase = oracle(conn, "lower(m.content) LIKE '%the tokenizer ate our whitespace again%'")
    assert phrase and set(all_ids(ix, '"the tokenizer ate our whitespace again"')) == phrase
    # Unstemmed: "tokenizers" in quotes does not find the singular.
    assert set(all_ids(ix, '"tokenizers"')) == oracle(
        conn,
        "m.content LIKE '%tokenizers%' COLLATE NOCASE OR m.id IN (SELECT message_id FROM attachments"
        " WHERE file_name LIKE '%tokenizers%') OR m.id IN (SELECT message_id FROM embeds WHERE title LIKE"
        " '%tokenizers%' OR description LIKE '%tokenizers%')",
    )
    assert set(all_ids(ix, '"tokenizers"')) < set(all_ids(ix, "tokenizers"))


def test_search_words_are_anded_and_or_widens(ix: indexer.SearchIndex) -> None:
    a, b = set(all_ids(ix, "grokking")), set(all_ids(ix, "plateau"))
    assert set(all_ids(ix, "grokking plateau")) == a & b
    assert set(all_ids(ix, "grokking AND plateau")) == a & b
    assert set(all_ids(ix, "grokking OR plateau")) == a | b
    assert set(all_ids(ix, "grokking -plateau")) == a - b
    assert set(all_ids(ix, "grokking NOT plateau")) == a - b


def test_search_prefix(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    got = set(all_ids(ix, "grok*"))
    assert got >= set(all_ids(ix, '"grokking"')) | set(all_ids(ix, '"grok"'))
    assert got == set(all_ids(ix, "GROK*"))
    page = indexer.search(ix, "g*")
    assert any("prefix" in h for h in page.hints)


def test_search_fuzzy(ix: indexer.SearchIndex) -> None:
    exact = set(all_ids(ix, '"tokenizer"'))
    assert exact and set(all_ids(ix, "tokenizr~")) >= exact
    assert not all_ids(ix, '"tokenizr"')
    assert any("Fuzzy" in h for h in indexer.search(ix, "abc~").hints)


# -- sorting, paging, facets, snippets ---------------------------------------------------------


def test_search_sorts(ix: indexer.SearchIndex) -> None:
    newest = all_ids(ix, "in:general", sort="newest")
    assert newest == sorted(newest, reverse=True)
    assert all_ids(ix, "in:general", sort="oldest") == newest[::-1]
    page = indexer.search(ix, "tokenizer", limit=100)
    scores = [h.score for h in page.hits]
    assert all(s is not None for s in scores)
    keys = [(-(h.score or 0), -h.id) for h in page.hits]
    assert keys == sorted(keys)  # best first, newest first on ties
    assert any("sort" in h for h in indexer.search(ix, "x", sort="sideways").hints)


def test_search_paging_is_consistent(ix: indexer.SearchIndex) -> None:
    for sort in indexer.SORTS:
        whole = indexer.search(ix, "the", sort=sort, limit=100).hits
        paged: list[int] = []
        for offset in range(0, 100, 7):
            paged += [h.id for h in indexer.search(ix, "the", sort=sort, limit=7, offset=offset).hits]
        assert paged[:100] == [h.id for h in whole]
    page = indexer.search(ix, "", offset=10**12)
    assert page.hits == [] and page.total > 0


def test_search_facets(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    page = indexer.search(ix, "from:brannoc")
    assert page.facets is not None
    assert page.facets.authors == [(BRANNOC, "Brannoc Ilvey", page.total)]
    expected = conn.execute(
        f"SELECT m.channel_id, c.name, count(*) FROM messages m JOIN channels c ON c.id = m.channel_id"
        f" WHERE {LIVE} AND m.author_id = ? GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 10",
        (BRANNOC,),
    ).fetchall()
    assert sorted(page.facets.channels, key=lambda t: (-t[2], t[0])) == [tuple(r) for r in expected]
    months = conn.execute(
        f"SELECT strftime('%Y-%m', m.ts / 1000, 'unixepoch'), count(*) FROM messages m WHERE {LIVE}"
        " AND m.author_id = ? GROUP BY 1 ORDER BY 1",
        (BRANNOC,),
    ).fetchall()
    assert page.facets.months == [tuple(r) for r in months]
    assert indexer.search(ix, "x", facets=False).facets is None


def test_search_snippets_mark_matches_and_escape(ix: indexer.SearchIndex) -> None:
    page = indexer.search(ix, "tokenizers")
    for hit in page.hits:
        text = re.sub(r"</?mark>", "", hit.snippet)
        assert "<" not in text and ">" not in text  # everything else is escaped
    assert any(
        "<mark>tokenizers</mark>" in h.snippet.lower() or "<mark>tokenizer</mark>" in h.snippet.lower()
        for h in page.hits
    )
    plain = indexer.search(ix, "from:brannoc", limit=5)
    assert all("<mark>" not in h.snippet for h in plain.hits)
    assert all(h.snippet for h in plain.hits if h.snippet)


def test_search_hit_json(ix: indexer.SearchIndex) -> None:
    page = indexer.search(ix, f"in:{RESEARCH} sweep", limit=1).to_dict()
    assert isinstance(page["total"], int) and page["hits"]
    hit = page["hits"][0]
    assert isinstance(hit["id"], str) and isinstance(hit["channel_id"], str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", hit["timestamp"])
    assert set(page["facets"]) == {"channels", "authors", "months"}


# -- known item --------------------------------------------------------------------------------


def test_search_known_item_phrase_in_top_3(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    """For random messages, a distinctive 3-word run of their text puts them in the top 3."""
    rng = random.Random(7)
    rows = conn.execute(f"SELECT m.id, m.content FROM messages m WHERE {LIVE} ORDER BY m.id").fetchall()
    plain = indexer.schema.build_analyzers()[0]
    tried = 0
    for mid, content in rng.sample(rows, len(rows)):
        words = plain.analyze(content)
        if len(words) < 6:
            continue
        start = rng.randrange(len(words) - 2)
        phrase = " ".join(words[start : start + 3])
        # Distinctive: the same three words appear in at most 2 other live messages.
        if len(all_ids(ix, f'"{phrase}"')) > 3:
            continue
        ranked = [h.id for h in indexer.search(ix, phrase, limit=3).hits]
        assert mid in ranked, (phrase, html.unescape(content))
        tried += 1
        if tried == 40:
            break
    assert tried == 40
