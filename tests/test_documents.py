"""The index document of a message: every field the search reads, built as JSON for one add_json call."""

from __future__ import annotations

from pathlib import Path

import orjson
import tantivy

from archive.models import IndexRecord
from archive.schema import HAS_FILE, HAS_IMAGE, HAS_LINK
from indexer.documents import DocumentBuilder, Lookups
from indexer.schema import build_schema

RICH = IndexRecord(
    id=1_100_000_000_000_000_001,
    channel_id=20,
    channel_name="💻｜Help-Desk",
    guild_id=30,
    guild_name="Lab",
    parent_id=21,
    thread_id=20,
    author_id=40,
    author_name="hbexley",
    author_display="Harlow Bexley",
    author_is_bot=False,
    ts=1_700_000_000_000,  # 2023-11-14
    type="Reply",
    content="cafe\u0301\u200b notes",
    is_system=False,
    pinned=True,
    edited=True,
    reply_to=1_100_000_000_000_000_000,
    starts_thread=None,
    mention_ids=(41, 42),
    embed_text="Release ﬁles",
    attachment_names=("plot.png",),
    flags=HAS_LINK | HAS_FILE | HAS_IMAGE,
    reaction_count=3,
)
LOOKUPS = Lookups(parent_names={20: "Support"}, user_names={41: ("bob", "Bob B"), 42: ()})


def test_fields_of_a_rich_message_are_exact() -> None:
    fields = DocumentBuilder(LOOKUPS).fields(RICH)
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()} == {
        "id": RICH.id,
        "channel_id": 20,
        "channel": "💻｜Help-Desk",
        "channel_key": ["💻｜help-desk", "support"],
        "channel_norm": ["help-desk", "support"],
        "guild_id": 30,
        "guild": "Lab",
        "author": "Harlow Bexley",
        "author_username": "hbexley",
        "author_key": ["hbexley", "harlow bexley", "harlow", "bexley"],
        "ts": RICH.ts,
        "month": 202311,
        "type": "Reply",
        "reactions": 3,
        "parent_id": 21,
        "thread_id": 20,
        "author_id": 40,
        "mentions": [41, 42],
        "mention_key": ["bob", "bob b"],
        "reply_to": RICH.reply_to,
        "content": "café notes",
        "content_exact": "café notes",
        "embed": "Release files",
        "embed_exact": "Release files",
        "files": ["plot.png"],
        "has": ["link", "file", "image"],
        "is": ["user", "pinned", "edited", "reply", "thread"],
    }


def test_tantivy_takes_the_json_and_finds_it_by_every_filter(tmp_path: Path) -> None:
    index = tantivy.Index(build_schema(), str(tmp_path), reuse=False)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    builder = DocumentBuilder(LOOKUPS)
    writer.add_json(builder.json(RICH))
    writer.add_json(builder.json(RICH._replace(id=2, author_is_bot=True, pinned=False, content="other")))
    writer.commit()
    index.reload()
    searcher = index.searcher()
    for query, want in [
        ("is:pinned", 1),
        ("is:bot", 1),
        ("has:image", 2),
        ("channel_norm:support", 2),
        ("author_key:harlow", 2),
        ("mention_key:bob", 2),
        ("mentions:42", 2),
        ("content:notes", 1),
        ("files:plot", 2),
    ]:
        assert searcher.search(index.parse_query(query), 10).count == want, query
    stored = searcher.doc(searcher.search(index.parse_query("is:pinned"), 1).hits[0][1]).to_dict()
    assert stored["id"] == [RICH.id] and stored["ts"] == [RICH.ts] and stored["content"] == ["café notes"]
    months = searcher.aggregate(tantivy.Query.all_query(), {"m": {"terms": {"field": "month"}}})
    assert [(b["key"], b["doc_count"]) for b in months["m"]["buckets"]] == [(202311.0, 2)]
    assert orjson.loads(builder.json(RICH))["reactions"] == 3
