"""The search language is lenient: whatever a person types gives a SearchPage (maybe empty) and hints, never an error."""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archive
import indexer
from archive import Ingester, Policy
from indexer.query import QueryBuilder, _date_span
from indexer.schema import build_schema
from tests.conftest import SAMPLES

PIECES = [
    "c++",
    "park.",
    '"',
    '""',
    '"unbalanced',
    'a"b',
    ":",
    "::",
    "from:",
    'from:"',
    "in:",
    "has:",
    "has:nothing",
    "before:",
    "before:2024-13-45",
    "after:yesterday",
    "during:0000",
    "during:9999-12-31",
    "is:",
    "is:banana",
    "pinned:maybe",
    "author:",
    "-",
    "--",
    '-"',
    "- -",
    "NOT",
    "OR",
    "AND",
    "OR OR",
    "NOT NOT x",
    "((",
    "))",
    "(a OR b)",
    "*",
    "**",
    "a*",
    "ab*",
    "~",
    "a~",
    "abcd~",
    "abcdefgh~9",
    "word~~",
    "^",
    "^2",
    "a^5",
    "[",
    "]",
    "{",
    "}",
    "\\",
    '\\"',
    "/",
    "/gr.b/",
    ".*",
    "(?i)x",
    "$",
    "|",
    "||",
    "&&",
    "!",
    "?",
    "+",
    "+a",
    "%",
    "#",
    "#general",
    "@",
    "@@",
    "<@123>",
    "<#456>",
    "<script>alert(1)</script>",
    "&amp;",
    "'",
    "it's",
    "`code`",
    "```",
    "ÿ",
    "é",
    "ß",
    "北京",
    "Ⅻ",
    "🦊",
    "👩‍👩‍👧",
    "\u200b",
    "\u0000",
    "\ud7ff",
    "\ud800",
    "\t",
    "\n",
    " ",
    "in:#",
    "from:@",
    "mentions:<@>",
    "in:<#1>",
    "from:99999999999999999999999",
    "in:-1",
    "has:links",
    "is:replies",
    "tokenizer",
    '"the tokenizer"',
    "https://example.org/a?b=c",
    "key:value",
    "FROM:BRANNOC",
    "from:brannoc#1234",
    "x" * 300,
    "ab " * 200,
    "from:a " * 80,
    '"' * 101,
    "-from:",
    "NOT from:brannoc",
    "OR from:brannoc",
    "1e309",
    "-0",
    "0x1f",
]


def ingest(conn: sqlite3.Connection, paths: list[Path], policy: Policy | None = None) -> None:
    """Ingest exports message by message (the index needs no conversation pass)."""
    ingester = Ingester(conn, policy)
    ingester.apply_policy()
    for path in archive.iter_export_files(paths):
        assert ingester.ingest_file(path).status in ("ok", "unchanged"), path


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[indexer.SearchIndex]:
    data = tmp_path_factory.mktemp("query") / "data"
    conn = archive.connect(data / archive.ARCHIVE_FILE)
    ingest(conn, [SAMPLES])
    indexer.update_index(data, conn)
    conn.close()
    yield indexer.open_index(data)


def hostile_strings() -> list[str]:
    rng = random.Random(1234)
    out = list(PIECES)
    out += [a + b for a, b in itertools.product(PIECES[:40], ["", " x", '"'])]
    for _ in range(300):
        out.append(rng.choice(" ").join(rng.choice(PIECES) for _ in range(rng.randint(2, 6))))
        out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(2, 4))))
    out.append("grokking " * 5000)
    return out


def test_search_never_raises_on_hostile_input(ix: indexer.SearchIndex) -> None:
    strings = hostile_strings()
    assert len(strings) > 500
    for q in strings:
        for sort in ("relevance", "newest"):
            page = indexer.search(ix, q, sort=sort, limit=5, facets=sort == "newest")
            assert isinstance(page, indexer.SearchPage), q
            assert page.total >= len(page.hits)
            assert all(isinstance(h, str) and h for h in page.hints)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_search_never_raises_on_random_text(ix: indexer.SearchIndex, q: str) -> None:
    page = indexer.search(ix, q, limit=3, facets=False)
    assert isinstance(page, indexer.SearchPage)


@pytest.mark.parametrize(
    ("q", "hint"),
    [
        ("c++", "Punctuation is ignored: `c++` was searched as `c`."),
        ('"unbalanced', "A quote was not closed: it was taken to run to the end of the query."),
        ("foo:bar", "`foo:` is not a filter, so it was searched as text."),
        (
            "has:banana",
            "has: takes link, embed, file, image, video, sound, sticker, code; has:banana was ignored.",
        ),
        ("from:", "from: needs a value, e.g. from:alice; it was ignored."),
        ("before:soon", "before: takes a date as YYYY, YYYY-MM or YYYY-MM-DD; before:soon was ignored."),
        ("pinned:maybe", "pinned: takes true or false; pinned:maybe was ignored."),
        ("is:banana", "is: takes reply, thread or system; is:banana was ignored."),
        ("a*", "A prefix needs at least 2 letters: `a*` was searched as a word."),
        ("abc~", "Fuzzy search needs one word of 4+ letters: `abc~` was searched exactly."),
        (":", "Nothing searchable in `:`: it was ignored."),
        ("(a OR b)", "Parentheses are ignored: words are ANDed, use OR between alternatives."),
        ("OR x", "OR needs a word or filter on each side; it was ignored."),
    ],
)
def test_query_hints(q: str, hint: str) -> None:
    hints = QueryBuilder(build_schema()).parse(q).hints
    assert any(h.startswith(hint) for h in hints), hints


def test_query_park_with_period_is_the_word_without_hint(ix: indexer.SearchIndex) -> None:
    assert QueryBuilder(build_schema()).parse("park.").hints == []
    assert indexer.search(ix, "sweep.").total == indexer.search(ix, "sweep").total > 0


def test_query_is_capped(ix: indexer.SearchIndex) -> None:
    page = indexer.search(ix, " ".join(f"w{i}" for i in range(100)))
    assert any("more than 64" in h for h in page.hints)
    assert any("cut" in h for h in indexer.search(ix, "x" * 5000).hints)
    assert indexer.search(ix, "", limit=10_000).limit == 100


def test_query_nothing_searchable_finds_nothing_but_blank_browses_all(ix: indexer.SearchIndex) -> None:
    assert indexer.search(ix, "+++").total == 0
    assert indexer.search(ix, "   ").total == indexer.search(ix, "").total > 600


def test_query_date_spans() -> None:
    assert _date_span("2024") == (1704067200000, 1735689600000)
    assert _date_span("2024-12") == (1733011200000, 1735689600000)
    assert _date_span("2024/2/29") == (1709164800000, 1709251200000)
    assert _date_span("2023-02-29") is None
    assert _date_span("24-01") is None


def test_query_from_with_space_after_colon_and_quotes() -> None:
    qb = QueryBuilder(build_schema())
    assert [str(c) for c in qb.parse('from: brannoc in:"Feature splitting" -has:link').filters] == [
        "from:brannoc",
        'in:"Feature splitting"',
        "-has:link",
    ]


def test_search_cli_json_and_errors(tmp_path: Path, ix: indexer.SearchIndex) -> None:
    from typer.testing import CliRunner

    import cli

    runner = CliRunner()
    missing = runner.invoke(cli.app, ["search", "x", "--data-dir", str(tmp_path / "nothing")])
    assert missing.exit_code == 1
    assert "Error: no archive at" in missing.output and "hallway ingest PATH" in missing.output
    data = ix.root.parent
    res = runner.invoke(
        cli.app, ["search", "from:brannoc sweep", "--data-dir", str(data), "--json", "--limit", "2"]
    )
    assert res.exit_code == 0, res.output
    import orjson

    out = orjson.loads(res.stdout)
    assert isinstance(out["total"], int) and out["total"] >= 1
    assert {"id", "channel_id", "author", "timestamp", "snippet"} <= set(out["hits"][0])
    assert isinstance(out["hits"][0]["id"], str) and "facets" in out
    table = runner.invoke(cli.app, ["search", "c++", "--data-dir", str(data)])
    assert table.exit_code == 0 and "hint: Punctuation is ignored" in table.output
