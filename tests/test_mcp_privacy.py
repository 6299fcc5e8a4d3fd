"""What the privacy policy withholds never reaches an MCP tool result or resource.

The archive is the privacy leak test's (an excluded channel and its thread, a dropped user, a
pseudonymized one, a taken-down message with revisions). One `hallway mcp` process answers every tool
for every message, channel and conversation id in the archive, every withheld id asked for directly,
and every search of the leak test; no answer may contain any withheld string.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

import archive
import indexer
from tests.conftest import ROOT
from tests.factory import sf
from tests.test_privacy_leak import (
    DROPPED,
    POLICY_TOML,
    PSEUDO,
    SEARCH_WORDS,
    SECRET_CHANNEL,
    SECRETS,
    TAKEDOWN_ID,
    build_exports,
)

STYLES = ("bibtex", "csl-json", "ris", "markdown")
# Ids of withheld things, asked for by name: the dropped user's message, the excluded channel's messages,
# its thread, and the people.
PROBES = [
    TAKEDOWN_ID,
    sf(40),
    sf(60),
    sf(61),
    sf(70),
    SECRET_CHANNEL,
    "200000000000000098",
    DROPPED["id"],
    PSEUDO["id"],
]


def _build(tmp: Path) -> Path:
    policy_file = tmp / "policy.toml"
    policy_file.write_text(POLICY_TOML, encoding="utf-8")
    exports = build_exports(tmp / "exports")
    data = tmp / "data"
    conn = archive.connect(data / archive.ARCHIVE_FILE)
    try:
        ingester = archive.Ingester(conn, archive.load_policy(policy_file))
        for sub in ("old", "new"):  # oldest first, so the edits are revisions
            for path in archive.iter_export_files([exports / sub]):
                ingester.ingest_file(path)
        ingester.update_conversations()
        indexer.update_index(data, conn)
    finally:
        conn.close()
    return data


def _ids(data: Path) -> tuple[list[str], list[str], list[str]]:
    conn = sqlite3.connect(data / archive.ARCHIVE_FILE)
    try:
        messages = [str(r[0]) for r in conn.execute("SELECT id FROM messages")]
        channels = [str(r[0]) for r in conn.execute("SELECT id FROM channels")]
        conversations = [str(r[0]) for r in conn.execute("SELECT DISTINCT conversation_id FROM links")]
    finally:
        conn.close()
    return messages, channels, conversations


def _text(result: CallToolResult) -> str:
    parts = [c.text for c in result.content if isinstance(c, TextContent)]
    return "\n".join(parts) + "\n\n" + orjson.dumps(result.structured_content).decode()


async def _ask_everything(data: Path) -> list[tuple[str, str, str | None]]:
    """(what was asked, the answer's text and structured content, the query it may echo)."""
    messages, channels, conversations = _ids(data)
    args = [str(ROOT / "cli.py"), "mcp", "--data-dir", str(data)]
    calls: list[tuple[str, dict[str, Any]]] = []
    for mid in messages + PROBES:
        calls += [("get_message", {"id": mid, "context": 8}), ("get_thread", {"id": mid})]
        calls += [("get_conversation", {"id": mid})]
        calls += [("cite", {"id": mid, "format": s}) for s in STYLES]
        calls += [("cite", {"id": mid, "format": "bibtex", "version": 1})]
        calls += [("get_message", {"id": mid, "version": 1})]
    calls += [("get_thread", {"id": c}) for c in channels]
    calls += [("get_conversation", {"id": c}) for c in conversations]
    for word in SEARCH_WORDS:
        calls += [("search", {"query": word, "limit": 25, "sort": s}) for s in ("relevance", "oldest")]
    year = {"since": "2023-01-01", "until": "2023-12-31"}
    calls += [("digest", year)] + [
        ("digest", {**year, "channel": c}) for c in ("general", "mod-quasarvault", SECRET_CHANNEL)
    ]
    out: list[tuple[str, str, str | None]] = []
    async with Client(StdioServerParameters(command=sys.executable, args=args, cwd=str(ROOT))) as c:
        for tool, arguments in calls:
            result = await c.call_tool(tool, arguments)
            echo = arguments.get("query") or arguments.get("channel")
            echo = echo or (arguments["id"] if arguments.get("id") in PROBES else None)
            out.append((f"{tool} {arguments}", _text(result), echo))
        for uri in [f"hallway://m/{m}" for m in messages + PROBES] + [
            f"hallway://conv/{c}" for c in conversations + PROBES
        ]:
            try:
                contents = (await c.read_resource(uri)).contents
                out.append((uri, "\n".join(getattr(x, "text", "") for x in contents), None))
            except MCPError as e:  # an unknown id: the message names the id asked for, nothing else
                out.append((uri, e.error.message, uri.rsplit("/", 1)[1]))
    return out


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str | None]]:
    data = _build(tmp_path_factory.mktemp("mcp-privacy"))

    async def go() -> list[tuple[str, str, str | None]]:
        with anyio.fail_after(120):
            return await _ask_everything(data)

    return anyio.run(go)


def _without_echo(text: str, query: str | None) -> str:
    """The answer minus the places it repeats what was typed (an echo of the query is not a leak)."""
    if not query:
        return text
    for typed in sorted({query, query.split(":", 1)[-1]}, key=len, reverse=True):
        text = text.replace(typed, "")
    return text


def test_mcp_no_tool_result_or_resource_holds_withheld_content(
    answers: list[tuple[str, str, str | None]],
) -> None:
    leaks = []
    for asked, text, query in answers:
        low = _without_echo(text, query).lower()
        found = [s for s in SECRETS if s.lower() in low]
        if found:
            leaks.append((asked, found))
    assert leaks == [], leaks[:5]
    assert len(answers) > 250
    # The scan reads real answers: public content is there, and so is an echo of what was typed.
    everything = "\n".join(text for _, text, _ in answers)
    assert "the pseudonymous person writes publicly" in everything
    assert "answering the taken-down message" in everything
    assert any("zephyr*" in text for _, text, query in answers if query == "zephyr*")
    digest = next(text for asked, text, _ in answers if asked.startswith("digest") and "channel" not in asked)
    assert "hello everyone, plain public words" in digest


def test_mcp_taken_down_message_is_a_tombstone_and_not_citable(
    answers: list[tuple[str, str, str | None]],
) -> None:
    by_call = {asked: text for asked, text, _ in answers}
    message = by_call[f"get_message {{'id': '{TAKEDOWN_ID}', 'context': 8}}"]
    assert (
        '"tombstone":"This message was withheld from the archive (removed at the author\'s request)."'
        in message
    )
    assert '"content":null' in message
    cited = by_call[f"cite {{'id': '{TAKEDOWN_ID}', 'format': 'bibtex'}}"]
    assert cited.startswith(
        f"Message {TAKEDOWN_ID} can't be cited: This message was withheld from the archive"
        " (removed at the author's request)."
    )


def test_mcp_withheld_messages_are_unknown_or_tombstones(answers: list[tuple[str, str, str | None]]) -> None:
    by_call = {asked: text for asked, text, _ in answers}
    for mid in (sf(60), sf(70)):  # the excluded channel and its thread were never archived
        asked = f"get_message {{'id': '{mid}', 'context': 8}}"
        assert by_call[asked].startswith(f"Message {mid} is not in the archive.")
    dropped = orjson.loads(by_call[f"get_message {{'id': '{sf(40)}', 'context': 8}}"].rsplit("\n\n", 1)[1])
    assert (dropped["author"], dropped["content"], dropped["attachments"], dropped["revisions"]) == (
        None,
        None,
        [],
        [],
    )
    assert dropped["tombstone"] == "This message was withheld from the archive (author opted out)."
