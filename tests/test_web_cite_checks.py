"""Citing from the permalink: the Cite action sits in the message's row with the box right after it, a
loopback base URL is called out, and the BibTeX parses with a real BibTeX parser (bibtexparser)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import pytest
from fastapi.testclient import TestClient

from tests.factory import msg, sf, write_export
from tests.live import build_data_dir
from web.app import create_app
from web.settings import Settings

CONTENT = "the 🚀 launch ✨ notes — café"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp: Path = tmp_path_factory.mktemp("cite")
    author = {"id": "100000000000000009", "name": "zed", "discriminator": "0000", "nickname": "Zed 🦊",
              "color": None, "isBot": False, "roles": [], "avatarUrl": "x.png"}  # fmt: skip
    messages = [msg(i, f"before {i}") for i in range(5)] + [msg(10.25, CONTENT, author)]
    messages += [msg(20 + i, f"after {i}") for i in range(5)]
    path = write_export(tmp / "e.json", messages, channel_name="💻-lcars-terminal-27", guild_name="Guild ⚡")
    build_data_dir(tmp / "data", [path], conversations=False)
    return tmp / "data"


@pytest.fixture(scope="module")
def local(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=data_dir))) as c:
        yield c


def test_cite_action_in_the_row_and_the_box_next_to_the_message(local: TestClient) -> None:
    mid = sf(10.25)
    text = local.get(f"/m/{mid}").text
    start = text.index(f'id="m{mid}"')
    row_end = text.index("</article>", start)
    assert '<a class="cite-action" href="#cite">Cite</a>' in text[start:row_end]
    assert text.count('class="cite-action"') == 1  # only on the message the page is about
    box = text.index('id="cite"')
    # The box comes right after the message's row, before the next message of the context.
    assert row_end < box < text.index(f'id="m{sf(20)}"')


def test_loopback_base_url_is_called_out_on_the_page(local: TestClient, data_dir: Path) -> None:
    mid = sf(10.25)
    warning = local.get(f"/m/{mid}.json").json()["citation"]["base_url_warning"]
    assert warning == (
        "Permalinks and citations use http://127.0.0.1:8000, which works only on this machine: "
        "start the viewer with `hallway serve --base-url https://your.public.address` before citing."
    )
    assert 'class="notice base-url-warning"' in local.get(f"/m/{mid}").text
    with TestClient(create_app(Settings(data_dir=data_dir, base_url="https://archive.example.org"))) as c:
        assert c.get(f"/m/{mid}.json").json()["citation"]["base_url_warning"] is None
        assert "base-url-warning" not in c.get(f"/m/{mid}").text


def test_bibtex_parses_with_whole_second_dates_and_no_emoji(local: TestClient) -> None:
    mid = sf(10.25)
    bib = local.get(f"/m/{mid}/cite.bib").text
    library = bibtexparser.parse_string(bib)
    assert library.failed_blocks == [] and len(library.entries) == 1
    entry = library.entries[0]
    fields = {f.key: f.value for f in entry.fields}
    assert entry.entry_type == "misc" and entry.key == f"hallway-{mid}-v1"
    # biblatex dates are ISO 8601 without fractions (the milliseconds stay in the note).
    assert fields["date"] == "2023-11-14T22:13:30Z"
    assert "2023-11-14T22:13:30.250Z" in fields["note"]
    assert fields["howpublished"] == "Discord message, Guild, \\#-lcars-terminal-27"
    assert fields["author"] == "{Zed}" and fields["title"] == "{the launch notes — café}"
    for value in fields.values():  # nothing pdfLaTeX has no glyph for
        assert not [c for c in value if unicodedata.category(c) in ("So", "Sk", "Cf", "Cc")], value
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", fields["date"])
