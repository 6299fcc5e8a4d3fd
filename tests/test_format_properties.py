"""Property: messages rendered to each DCE format by bench/dce_render.py come back with the same text.

Modulo what each format loses, spelled out in `_expected`: HTML trims the text and collapses runs of
blank lines (DCE's markup does); TXT cannot hold a line that starts like a message header or a
section (`[`, `{`) after a blank line, nor trailing blank lines.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from archive.sources import find_source
from bench import dce_render

USERS = [
    {"id": "100000000000000001", "name": "alice", "discriminator": "0000", "nickname": "Alice A"},
    {"id": "100000000000000002", "name": "bob", "discriminator": "1234", "nickname": "bob"},
    {
        "id": "100000000000000003",
        "name": "zoë.x",
        "discriminator": "0000",
        "nickname": "Zoë X",
        "isBot": True,
    },
]
HEADER = {
    "guild": {"id": "300000000000000001", "name": "Lab"},
    "channel": {"id": "200000000000000001", "name": "general", "category": "Text"},
}
# Letters of several scripts, digits, punctuation DCE escapes in HTML, emoji, spaces and newlines.
ALPHABET = st.characters(
    codec="utf-8",
    categories=("L", "N", "P", "S", "Zs"),
    exclude_characters="`\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
) | st.sampled_from(["\n", "\n\n", "<b>", "&amp;", '"', "'", "👍", "https://example.org/a?b=1&c=2"])
CONTENT = st.lists(ALPHABET, max_size=40).map("".join)


def _expected(fmt: str, text: str) -> str:
    if fmt == "html":
        return re.sub(r"\n{3,}", "\n\n", text.strip())
    if fmt == "txt":
        return re.sub(r"(\n[ \t\u00a0\u3000]*)+$", "", text).rstrip("\n") if text.strip() else ""
    return text


def _txt_can_hold(text: str) -> bool:
    lines = text.split("\n")
    return not any(line[:1] in ("[", "{") or line.startswith("=" * 62) for line in lines)


def _messages(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 6))
    ms = 1_700_000_000_000
    out = []
    for i in range(n):
        ms += draw(st.integers(1, 600_000))
        mid = ((ms - 1420070400000) << 22) | i
        out.append(
            {
                "id": str(mid),
                "type": "Default",
                "content": draw(CONTENT),
                "author": draw(st.sampled_from(USERS)),
            }
        )
    return out


def _read(path: Path) -> list[str]:
    source, verdict = find_source(path)
    assert source is not None, verdict
    reader = source.open(path)
    try:
        return [m["content"] for b in reader.batches() for _, _, m in b]
    finally:
        reader.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.composite(_messages)())
def test_each_format_gives_back_the_text(messages: list[dict[str, Any]]) -> None:
    texts = [m["content"] for m in messages]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, ext in (("html", "html"), ("csv", "csv"), ("txt", "txt")):
            buf = io.StringIO()
            if fmt == "html":
                dce_render.write_html(buf, HEADER, messages)
            elif fmt == "csv":
                dce_render.write_csv(buf, messages)
            else:
                if not all(_txt_can_hold(t) for t in texts):
                    continue
                dce_render.write_txt(buf, HEADER, messages)
            path = Path(tmp) / f"export [200000000000000001].{ext}"
            path.write_text(buf.getvalue(), encoding="utf-8", newline="")
            assert _read(path) == [_expected(fmt, t) for t in texts], fmt


@settings(max_examples=30, deadline=None)
@given(st.composite(_messages)())
def test_html_themes_and_eras_agree(messages: list[dict[str, Any]]) -> None:
    assume(all(t.strip() == t for t in (m["content"] for m in messages)))
    with tempfile.TemporaryDirectory() as tmp:
        got = []
        for theme, era in (("Dark", "2.4x"), ("Light", "2.4x"), ("Dark", "2.33")):
            buf = io.StringIO()
            dce_render.write_html(buf, HEADER, messages, theme=theme, era=era)
            path = Path(tmp) / f"{theme}-{era}.html"
            path.write_text(buf.getvalue(), encoding="utf-8")
            got.append(_read(path))
        assert got[0] == got[1] == got[2]
