"""The MCP server with the SDK's own client: over stdio (`hallway mcp`) and over streamable HTTP at /mcp of a
live `hallway serve --mcp`, against the sample community. One server process per transport: each runs
one scripted session (`_session`) in a module fixture, and the tests read what it answered.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

import archive
from tests.conftest import ROOT, SAMPLES
from tests.live import build_data_dir, serve
from tests.test_formats import _corpus
from web import mcp_tools
from web.app import create_app
from web.settings import Settings

PHRASE_QUERY = '"asking for a friend"'
PHRASE_ID = "1174452264815863321"  # the only sample message with that phrase
THREAD_ID = "1239970985717853624"  # "Feature splitting at 16k vs 65k"
TOOLS = ["search", "get_message", "get_conversation", "get_thread", "digest", "cite"]
WEEK = {"since": "2024-05-14", "until": "2024-05-20"}
BAD_CALLS: dict[str, tuple[str, dict[str, Any], str]] = {
    "unknown message": (
        "get_message",
        {"id": "123"},
        "Message 123 is not in the archive. The message may be in an export that hasn't been ingested yet, "
        "or the id has a typo.",
    ),
    "not an id": (
        "get_message",
        {"id": "abc"},
        "'abc' is not a message id: Message ids are Discord snowflakes, all digits.",
    ),
    "unknown conversation": (
        "get_conversation",
        {"id": "42"},
        "No conversation 42 in this archive. A conversation is named after its first message, or a thread "
        "or forum post. Open a message and follow “Show this conversation”.",
    ),
    "unknown thread": (
        "get_thread",
        {"id": "42"},
        "No thread or message 42 in this archive. /t/ takes a thread or forum post id, or a message id to "
        "show the replies it received.",
    ),
    "malformed query": (
        "search",
        {"query": '"'},
        "Nothing in this query could be searched: "
        "A quote was not closed: it was taken to run to the end of the query.",
    ),
    "empty query": (
        "search",
        {"query": "  "},
        'The query is empty: give words or filters, e.g. "rotary embeddings" from:alice.',
    ),
    "wrong sort": (
        "search",
        {"query": "sae", "sort": "best"},
        "Unknown sort 'best': choose relevance, newest or oldest.",
    ),
    "limit too large": (
        "search",
        {"query": "sae", "limit": 1000},
        "limit must be between 1 and 25; got 1000.",
    ),
    "wrong format": (
        "cite",
        {"id": PHRASE_ID, "format": "apa"},
        "Unknown citation format 'apa': choose bibtex, csl-json, ris or markdown.",
    ),
    "unknown version": (
        "cite",
        {"id": PHRASE_ID, "format": "bibtex", "version": 9},
        "Message 1174452264815863321 has no version 9. It has 1 version(s): ?v=1 is the original, ?v=1 the "
        "current text.",
    ),
    "digest date": (
        "digest",
        {"since": "last week"},
        "since='last week' is not a date: use YYYY-MM-DD, e.g. 2024-03-05.",
    ),
    "digest window reversed": (
        "digest",
        {"since": "2024-05-20", "until": "2024-05-14"},
        "since=2024-05-20 is after until=2024-05-14: the window would be empty.",
    ),
    "digest window too long": (
        "digest",
        {"since": "2020-01-01", "until": "2024-01-01"},
        "The window is 1462 days; ask for at most 366 at a time.",
    ),
    "digest unknown channel": (
        "digest",
        {**WEEK, "channel": "nosuch"},
        "No channel 'nosuch' in the archive, so in=nosuch was left out.",
    ),
    "context too large": (
        "get_message",
        {"id": PHRASE_ID, "context": 50},
        "context must be between 0 and 8; got 50.",
    ),
}


async def _session(client: Client) -> dict[str, Any]:
    """One scripted session: everything the tests look at, keyed by what was asked."""
    out: dict[str, Any] = {}
    async with client as c:
        out["tools"] = (await c.list_tools()).tools
        out["templates"] = (await c.list_resource_templates()).resource_templates
        out["search"] = await c.call_tool("search", {"query": PHRASE_QUERY})
        out["empty search"] = await c.call_tool("search", {"query": "zzqxv"})
        out["misspelled search"] = await c.call_tool("search", {"query": "rotery embedings"})
        out["paged search"] = await c.call_tool("search", {"query": "sae", "limit": 2, "sort": "oldest"})
        out["message"] = await c.call_tool("get_message", {"id": PHRASE_ID, "context": 2})
        conversation = out["message"].structured_content["conversation_id"]
        out["conversation"] = await c.call_tool("get_conversation", {"id": conversation})
        out["conversation by message"] = await c.call_tool("get_conversation", {"id": int(PHRASE_ID)})
        out["thread"] = await c.call_tool("get_thread", {"id": THREAD_ID})
        out["digest"] = await c.call_tool("digest", WEEK)
        out["digest of a channel"] = await c.call_tool("digest", {**WEEK, "channel": ["research"]})
        for style in ("bibtex", "csl-json", "ris", "markdown"):
            out[f"cite {style}"] = await c.call_tool("cite", {"id": PHRASE_ID, "format": style})
        for name, (tool, args, _) in BAD_CALLS.items():
            out[name] = await c.call_tool(tool, args)
        out["message resource"] = (await c.read_resource(f"hallway://m/{PHRASE_ID}")).contents[0].text
        out["conversation resource"] = (
            (await c.read_resource(f"hallway://conv/{conversation}")).contents[0].text
        )
        try:
            await c.read_resource("hallway://m/123")
        except MCPError as e:
            out["missing resource"] = e.error.message
    return out


def _run(client: Client) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        with anyio.fail_after(60):
            return await _session(client)

    return anyio.run(go)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("mcp") / "data"
    build_data_dir(data, [SAMPLES])
    return data


@pytest.fixture(scope="module")
def viewer(data_dir: Path) -> TestClient:
    """The viewer as `hallway mcp` sees it (its default base URL), for comparing with twins and citations."""
    return TestClient(create_app(Settings(data_dir=data_dir)))


@pytest.fixture(scope="module")
def stdio(data_dir: Path, viewer: TestClient) -> dict[str, Any]:
    args = [str(ROOT / "cli.py"), "mcp", "--data-dir", str(data_dir)]
    out = _run(Client(StdioServerParameters(command=sys.executable, args=args, cwd=str(ROOT))))
    return out | {"base": "http://127.0.0.1:8000", "get": lambda path: viewer.get(path).text}


@pytest.fixture(scope="module")
def live(data_dir: Path) -> Iterator[str]:
    with serve(data_dir, "--mcp") as url:
        yield url


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        text: str = r.read().decode()
        return text


@pytest.fixture(scope="module")
def http(live: str) -> dict[str, Any]:
    """The same session against the live server; its pages come from that server too."""
    return _run(Client(f"{live}/mcp")) | {"base": live, "get": lambda path: _get(live + path)}


def test_mcp_http_serves_handshake_era_clients_too(live: str) -> None:
    async def go() -> tuple[str, list[str], bool]:
        async with Client(f"{live}/mcp", mode="legacy") as c:
            names = [t.name for t in (await c.list_tools()).tools]
            found = await c.call_tool("search", {"query": PHRASE_QUERY})
            return c.protocol_version, names, found.structured_content["hits"][0]["id"] == PHRASE_ID

    version, names, found = anyio.run(go)
    assert (version, sorted(names), found) == ("2025-11-25", sorted(TOOLS), True)


@pytest.fixture(scope="module", params=["stdio", "http"])
def answers(request: pytest.FixtureRequest) -> dict[str, Any]:
    result: dict[str, Any] = request.getfixturevalue(request.param)
    return result


def _text(result: CallToolResult) -> str:
    assert len(result.content) == 1 and isinstance(result.content[0], TextContent)
    return result.content[0].text


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, _text(result)
    assert result.structured_content is not None
    return result.structured_content


def test_mcp_lists_the_tools_with_schemas_and_descriptions(answers: dict[str, Any]) -> None:
    tools = {t.name: t for t in answers["tools"]}
    assert sorted(tools) == sorted(TOOLS)
    for tool in tools.values():
        assert tool.description and "\n" not in tool.description.strip()
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    assert tools["cite"].input_schema["properties"]["format"]["enum"] == [
        "bibtex",
        "csl-json",
        "ris",
        "markdown",
    ]
    assert tools["cite"].input_schema["required"] == ["id", "format"]
    assert tools["search"].input_schema["properties"]["sort"]["enum"] == ["relevance", "newest", "oldest"]
    assert sorted(t.uri_template for t in answers["templates"]) == [
        "hallway://conv/{conversation_id}",
        "hallway://m/{message_id}",
    ]


def test_mcp_search_finds_a_known_phrase(answers: dict[str, Any]) -> None:
    found = _ok(answers["search"])
    assert (found["total"], found["cut"], found["next_offset"], found["hints"]) == (1, False, None, [])
    assert found["hits"] == [
        {
            "id": PHRASE_ID,
            "permalink": f"{answers['base']}/m/{PHRASE_ID}",
            "author": {"id": "1164895793971317769", "name": "Zinnia Oduya"},
            "channel": {"id": "907354337968331041", "name": "general"},
            "thread_id": None,
            "timestamp": "2023-11-15T20:54:00.200Z",
            "snippet": "does lens-kit support models with rotary embeddings? **asking** **for** **a** **friend** (me)",
            "tombstone": None,
            "conversation_id": PHRASE_ID,
            "reply_to": None,
        }
    ]


def test_mcp_search_that_finds_nothing_is_an_empty_list_with_its_hint(answers: dict[str, Any]) -> None:
    empty = _ok(answers["empty search"])
    assert (empty["hits"], empty["total"], empty["cut"]) == ([], 0, False)
    assert empty["hints"] == ["Nothing matched. Try fewer words, or remove a filter."]


def test_mcp_search_suggests_as_the_search_box_does(answers: dict[str, Any]) -> None:
    found = _ok(answers["misspelled search"])
    page = orjson.loads(answers["get"]("/search.json?q=rotery+embedings"))
    assert (
        (found["hits"], found["suggestion"]) == ([], "rotary embeddings") == ([], page["suggestion"]["query"])
    )
    assert _ok(answers["search"])["suggestion"] is None


def test_mcp_search_says_when_it_was_cut(answers: dict[str, Any]) -> None:
    page = _ok(answers["paged search"])
    assert len(page["hits"]) == 2 and page["total"] > 2
    assert (page["cut"], page["next_offset"]) == (True, 2)
    assert page["hits"][0]["timestamp"] <= page["hits"][1]["timestamp"]


def test_mcp_get_message_has_text_history_context_and_replies(answers: dict[str, Any]) -> None:
    m = _ok(answers["message"])
    page = orjson.loads(answers["get"](f"/m/{PHRASE_ID}.json"))
    assert (
        m["content"]
        == page["content"]
        == "does lens-kit support models with rotary embeddings? asking for a friend (me)"
    )
    assert (m["tombstone"], m["version"], m["versions"], m["cut"], m["low_fidelity"]) == (
        None,
        1,
        1,
        False,
        False,
    )
    assert m["revisions"] == [
        {"n": 1, "edited_timestamp": None, "current": True, "chars": len(page["content"])}
    ]
    assert m["sha256"] == page["citation"]["sha256"]
    assert [b["id"] for b in m["context_before"]] == [b["id"] for b in page["context"]["before"][-2:]]
    assert [b["id"] for b in m["context_after"]] == [b["id"] for b in page["context"]["after"][:2]]
    assert [r["id"] for r in m["replies"]] == [r["id"] for r in page["replies"]]
    assert m["markdown_uri"] == f"hallway://m/{PHRASE_ID}"


def test_mcp_get_conversation_is_the_md_twin(answers: dict[str, Any]) -> None:
    conv = _ok(answers["conversation"])
    twin = answers["get"](f"/conv/{conv['id']}.md")
    assert conv["markdown"] == twin == _text(answers["conversation"])
    assert (conv["kind"], conv["offset"], conv["shown"], conv["cut"]) == (
        "conversation",
        0,
        conv["message_count"],
        False,
    )
    assert _ok(answers["conversation by message"])["markdown"] == twin
    assert answers["conversation resource"] == twin


def test_mcp_get_thread_is_the_md_twin(answers: dict[str, Any]) -> None:
    thread = _ok(answers["thread"])
    twin = answers["get"](f"/t/{THREAD_ID}.md")
    assert thread["markdown"] == twin
    assert twin.startswith("# Feature splitting at 16k vs 65k in #research\n")
    assert (thread["kind"], thread["message_count"], thread["cut"]) == ("thread", thread["shown"], False)


def test_mcp_cite_gives_the_same_text_as_the_cite_files(answers: dict[str, Any]) -> None:
    for style, ext in (("bibtex", "bib"), ("csl-json", "json"), ("ris", "ris")):
        assert _ok(answers[f"cite {style}"])["text"] == answers["get"](f"/m/{PHRASE_ID}/cite.{ext}")
    markdown = _ok(answers["cite markdown"])
    page = orjson.loads(answers["get"](f"/m/{PHRASE_ID}.json"))
    assert markdown["text"] == _text(answers["cite markdown"]) == page["citation"]["formats"]["markdown"]
    assert (markdown["version"], markdown["sha256"]) == (1, page["citation"]["sha256"])


def test_mcp_cite_bibtex_over_http_matches_the_live_route(http: dict[str, Any], live: str) -> None:
    with urllib.request.urlopen(f"{live}/m/{PHRASE_ID}/cite.bib") as r:
        route = r.read().decode()
    assert _ok(http["cite bibtex"])["text"] == route
    assert f"url = {{{live}/m/{PHRASE_ID}?v=1}}" in route


def test_mcp_digest_is_the_digest_page(answers: dict[str, Any]) -> None:
    d = _ok(answers["digest"])
    query = f"since={WEEK['since']}&until={WEEK['until']}"
    page = orjson.loads(answers["get"](f"/digest.json?{query}"))
    assert d["markdown"] == answers["get"](f"/digest.md?{query}") == _text(answers["digest"])
    assert (d["total_messages"], d["total_conversations"]) == (
        page["total_messages"],
        page["total_conversations"],
    )
    assert d["total_messages"] > 0 and d["cut"] is False
    assert [c["name"] for c in d["channels"]] == [s["channel"]["name"] for s in page["channels"]]
    assert [c["id"] for c in d["channels"][0]["conversations"]] == [
        c["id"] for c in page["channels"][0]["conversations"][:5]
    ]
    research = _ok(answers["digest of a channel"])
    assert research["markdown"] == answers["get"](f"/digest.md?{query}&in=research")


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_mcp_bad_input_is_an_error_result_with_a_clear_message(answers: dict[str, Any], name: str) -> None:
    result = answers[name]
    assert result.is_error is True
    assert _text(result) == BAD_CALLS[name][2]


def test_mcp_resources_are_the_md_twins(answers: dict[str, Any]) -> None:
    assert answers["message resource"] == answers["get"](f"/m/{PHRASE_ID}.md")
    assert answers["missing resource"].startswith("Message 123 is not in the archive.")


def test_mcp_http_refuses_a_foreign_host(live: str) -> None:
    request = urllib.request.Request(
        f"{live}/mcp", data=b"{}", headers={"Host": "evil.example", "Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request)
    assert e.value.code == 421


def test_mcp_is_not_mounted_without_the_flag(viewer: TestClient) -> None:
    assert viewer.post("/mcp", json={}).status_code == 404


def test_mcp_readme_client_configuration_runs_this_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    config = orjson.loads(re.findall(r"```json\n(.*?)```", readme, flags=re.S)[0])
    server = config["mcpServers"]["hallway"]
    assert server["command"].endswith("/bin/hallway")
    assert server["args"] == ["mcp", "--data-dir", "/path/to/hallway-data"]
    assert (
        "claude mcp add hallway -- /path/to/.venv/bin/hallway mcp --data-dir /path/to/hallway-data" in readme
    )


def test_mcp_follows_a_merged_record_to_the_real_message(tmp_path: Path) -> None:
    # A CSV record later merged into the real message answers as the real one, as its URLs redirect there.
    (tmp_path / "exports").mkdir()
    exports = _corpus(tmp_path / "exports")[2]
    data = tmp_path / "data"
    build_data_dir(data, [exports["csv"]])
    conn = sqlite3.connect(data / archive.ARCHIVE_FILE)
    (record,) = conn.execute("SELECT id FROM messages ORDER BY id LIMIT 1").fetchone()
    conn.close()
    assert mcp_tools.get_message(
        mcp_tools.ArchiveReader.open(Settings(data_dir=data)), record, 0, None
    ).low_fidelity
    build_data_dir(data, [exports["html"]])
    conn = sqlite3.connect(data / archive.ARCHIVE_FILE)
    alias, real = conn.execute(
        "SELECT alias_id, message_id FROM aliases ORDER BY alias_id LIMIT 1"
    ).fetchone()
    conn.close()
    reader = mcp_tools.ArchiveReader.open(Settings(data_dir=data))
    followed = mcp_tools.get_message(reader, alias, 0, None)
    assert (followed.id, followed.low_fidelity) == (str(real), False)
    assert mcp_tools.cite_message(reader, str(alias), "ris", None).id == str(real)
    assert mcp_tools.message_markdown(reader, str(alias)) == mcp_tools.message_markdown(reader, str(real))


def test_mcp_sdk_is_imported_only_when_asked_for() -> None:
    # Importing it costs about a second; every other command and a viewer without --mcp skip that.
    code = (
        "import sys, cli; from web.app import create_app; from web.settings import Settings;"
        " create_app(Settings(data_dir='.')); print('mcp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "False\n"), out.stderr


def test_mcp_tools_say_when_the_index_or_archive_is_missing(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "no-index").mkdir()
    (tmp_path / "no-index" / archive.ARCHIVE_FILE).write_bytes((data_dir / archive.ARCHIVE_FILE).read_bytes())
    reader = mcp_tools.ArchiveReader.open(Settings(data_dir=tmp_path / "no-index"))
    with pytest.raises(
        mcp_tools.ToolInputError, match=r"^Search is unavailable right now: no search index at "
    ):
        mcp_tools.search(reader, "sae", "relevance", 5, 0)
    assert mcp_tools.get_message(reader, PHRASE_ID, 0, None).id == PHRASE_ID  # the rest still works
    nothing = mcp_tools.ArchiveReader.open(Settings(data_dir=tmp_path / "nothing"))
    with pytest.raises(mcp_tools.ToolInputError, match=r"^The archive can't be read: no archive at "):
        mcp_tools.get_message(nothing, PHRASE_ID, 0, None)


def test_mcp_command_without_an_archive_says_what_to_do(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "mcp", "--data-dir", str(tmp_path / "none")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == f"Error: no archive at {tmp_path / 'none'}: run `hallway ingest PATH` first\n"
