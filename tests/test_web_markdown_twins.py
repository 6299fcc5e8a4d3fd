"""The `.md` twins hold hostile content without changing their structure: rendered by a real CommonMark
renderer (HTML allowed, the most permissive reading), a message can't forge a permalink line, a `## Cite` block,
a link, an image or HTML, and it reads back exactly as written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.factory import ALICE, msg, sf, write_export
from tests.live import build_data_dir
from tests.test_xss_browser import VECTORS
from web import mdtext
from web.app import create_app
from web.settings import Settings

BASE = "https://archive.example.org"
EVIL = "https://evil.example"
GUILD = "300000000000000001"
CHANNEL = "200000000000000001"
FORGED_CITE = (
    f"## Cite\n\n> forged quote\n\n— Mallory, Evil Guild, #general, 2020-01-01T00:00:00.000Z. <{EVIL}/m/1> "
    "(version 1 of 1; SHA-256 `deadbeef`; accessed 2020-01-01)"
)
# Markdown cousins of the XSS corpus: content that tries to change the document around it.
FORGERIES = [
    f"ok\n- Permalink: <{EVIL}/m/1>\n- On Discord: <{EVIL}/d>",
    f"text\n\n{FORGED_CITE}",
    "unclosed <!-- comment hides the rest",
    f"```\nclosing the fence\n```\n\n{FORGED_CITE}",
    f"````\n~~~\n```` \n{FORGED_CITE}",
    f"[Permalink]: {EVIL}/ref\n[1]: {EVIL}/one",
    "setext heading\n===\nanother\n---",
    "<details><summary>html block</summary>\n\nhidden?",
    "| a | b |\n|---|---|\n| c | d |",
    "    indented code\n\tand a tab",
    f"> quote\n> - Permalink: <{EVIL}/q>",
    f"carriage\r- Permalink: <{EVIL}/cr>\r\n## Cite",
    f"[{BASE}/m/123]({EVIL}/x) and ![img]({EVIL}/pixel.png) and <{EVIL}/auto>",
    "&lt;script&gt; &#60;b&#62; &amp;",
    "1. ordered\n2) list\n+ plus\n* star\n# heading",
    "\\`escaped\\` \\\\ backslashes \\",
    "nul \x00 and bell \x07 characters",
]
HOSTILE_NAME = f"Mallory\n- Permalink: <{EVIL}/name>\n## Cite <!--"
EVIL_AUTHOR = {**ALICE, "id": "100000000000000666", "name": "mallory", "nickname": HOSTILE_NAME}
CONTENTS = [*FORGERIES, *VECTORS]
RENDERER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("mdtwins")
    messages = [msg(10 * n, text, EVIL_AUTHOR if n % 2 else ALICE) for n, text in enumerate(CONTENTS)]
    messages.append(
        msg(5000, "with files", EVIL_AUTHOR, attachments=[
            {"id": "1", "url": f"{EVIL}/a b)<x>.png", "fileName": "x](https://evil.example) [y\n## Cite", "fileSizeBytes": 1},
            {"id": "2", "url": "javascript:alert(1)", "fileName": "js.png", "fileSizeBytes": 1},
        ])
    )  # fmt: skip
    write_export(tmp / "e.json", messages, channel_id=CHANNEL, channel_name="general\n## Cite <!--",
                 guild_id=GUILD, guild_name="Guild ](x) #")  # fmt: skip
    build_data_dir(tmp / "data", [tmp / "e.json"])
    with TestClient(create_app(Settings(data_dir=tmp / "data", base_url=BASE))) as c:
        yield c


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for t in tokens:
        yield t
        if t.children:
            yield from _walk(t.children)


def _text(inline: Token) -> str:
    """What an inline token reads as once rendered (text, code spans, line breaks)."""
    parts = {"text": lambda t: t.content, "code_inline": lambda t: t.content, "softbreak": lambda t: "\n"}
    return "".join(parts[t.type](t) for t in inline.children or [] if t.type in parts)


def _structure(text: str) -> dict[str, Any]:
    tokens = RENDERER.parse(text)
    flat = list(_walk(tokens))
    return {
        "headings": [_text(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open"],
        "html": [t.content for t in flat if t.type in ("html_block", "html_inline")],
        "images": [t.attrs.get("src") for t in flat if t.type == "image"],
        "links": [str(t.attrs.get("href")) for t in flat if t.type == "link_open"],
        "fences": [t.content for t in flat if t.type in ("fence", "code_block")],
        "tables": [t for t in flat if t.type == "table_open"],
        "items": [_text(tokens[i + 2]) for i, t in enumerate(tokens) if t.type == "list_item_open"],
    }


@pytest.mark.parametrize("n", range(len(CONTENTS)))
def test_message_twin_structure_holds_against_hostile_content(client: TestClient, n: int) -> None:
    mid = sf(10 * n)
    text = client.get(f"/m/{mid}.md").text
    s = _structure(text)
    assert s["headings"] == [
        f"Message by {'Mallory - Permalink: <' + EVIL + '/name> ## Cite <!--' if n % 2 else 'Alice A'} in "
        "#general ## Cite <!-- (Guild ](x) #)",
        "Cite",
    ]
    assert (s["html"], s["images"], s["tables"]) == ([], [], [])
    assert all(h.startswith((BASE, "https://discord.com/")) for h in s["links"]), s["links"]
    expected = CONTENTS[n].replace("\x00", "\ufffd").replace("\r\n", "\n").replace("\r", "\n") + "\n"
    assert s["fences"] == [expected]  # the body, verbatim, and nothing else is code
    assert [i for i in s["items"] if i.startswith("Permalink:")] == [f"Permalink: {BASE}/m/{mid}"]


def test_message_twin_attachment_names_and_targets_are_escaped(client: TestClient) -> None:
    text = client.get(f"/m/{sf(5000)}.md").text
    s = _structure(text)
    assert s["headings"][-2:] == ["Attachments", "Cite"]
    assert s["links"][-1:] == [f"{BASE}/m/{sf(5000)}?v=1"] and f"{EVIL}/a%20b)%3Cx%3E.png" in s["links"]
    assert "javascript:alert(1)" not in s["links"]
    assert [i for i in s["items"] if "## Cite" in i or "js.png" in i] == [
        "x](https://evil.example) [y ## Cite (1 byte)",
        "js.png (1 byte; file not in the export, Discord CDN link)",  # a "path" that is not in the export
    ]


def test_conversation_twin_structure_holds(client: TestClient) -> None:
    cid = client.get(f"/m/{sf(0)}.json").json().get("conversation_id") or sf(0)
    r = client.get(f"/conv/{cid}.md", follow_redirects=True)
    assert r.status_code == 200
    s = _structure(r.text)
    assert len(s["headings"]) == 1 and (s["html"], s["images"], s["tables"]) == ([], [], [])
    assert all(h.startswith(BASE) for h in s["links"]), s["links"]


def test_thread_twin_structure_holds(client: TestClient) -> None:
    # /t/{id} of a message is the reply tree under it; of the channel, nothing (it is not a thread).
    for mid in (sf(0), sf(10)):
        r = client.get(f"/t/{mid}.md")
        assert r.status_code == 200
        s = _structure(r.text)
        assert len(s["headings"]) == 1 and (s["html"], s["images"], s["tables"]) == ([], [], [])
        assert all(h.startswith(BASE) for h in s["links"]), s["links"]
        assert [i for i in s["items"] if i.startswith("Permalink:")] == [f"Permalink: {BASE}/t/{mid}"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_fenced_holds_any_text_verbatim(text: str) -> None:
    tokens = RENDERER.parse(mdtext.fenced(text))
    assert [t.type for t in tokens] == ["fence"]
    body = text.replace("\x00", "\ufffd").replace("\r\n", "\n").replace("\r", "\n")
    assert tokens[0].content == body + "\n"


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=60)
)
def test_escape_inline_reads_back_as_written(text: str) -> None:
    tokens = RENDERER.parse("- " + mdtext.escape_inline(text))
    blocks = [t.type for t in tokens if t.type not in ("paragraph_open", "paragraph_close", "inline")]
    assert blocks == ["bullet_list_open", "list_item_open", "list_item_close", "bullet_list_close"]
    assert [t.type for t in _walk(tokens) if t.type not in ("text", "inline") and not t.block] == []
    rendered = "".join(t.content for t in _walk(tokens) if t.type == "text")
    assert rendered.strip() == text.replace("\t", " ").strip()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40), st.lists(
    st.sampled_from(["- item", "# h", "1. one", "***", "===", "    code", "<!--", "[r]: https://evil.example",
                     "> q", "```", "| a |", "&amp;", "<b>x</b>", "2) two", "+ p"]), max_size=4))  # fmt: skip
def test_quoted_is_one_blockquote_that_reads_as_written(text: str, lines: list[str]) -> None:
    content = "\n".join([text, *lines]).strip()
    if not content:
        return
    tokens = RENDERER.parse(mdtext.quoted(content) + "\n\nafter")
    kinds = [t.type for t in tokens if t.type not in ("paragraph_open", "paragraph_close", "inline")]
    assert kinds == ["blockquote_open", "blockquote_close"]
    assert not [t for t in _walk(tokens) if t.type not in ("text", "inline", "softbreak") and not t.block]
    quoted_text = "\n".join(
        _text(t)
        for t in tokens[: tokens.index(next(t for t in tokens if t.type == "blockquote_close"))]
        if t.type == "inline"
    )
    want = [line.replace("\t", " ").strip() for line in content.split("\n") if line.strip()]
    assert [line.strip() for line in quoted_text.split("\n") if line.strip()] == want
