"""Channel pages carry a "search in this channel" box whose filter finds that channel, typed as people type it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.factory import msg, write_export
from tests.live import build_data_dir
from web.app import create_app
from web.settings import Settings

TERMINAL, GENERAL, CHAT_GENERAL, THREAD = (
    "200000000000000011",
    "200000000000000014",
    "200000000000000015",
    "200000000000000016",
)
GUILD = {"guild_id": "300000000000000001", "guild_name": "Test Guild"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("chsearch")
    paths = [
        write_export(tmp / "t.json", [msg(0, "warp field notes")], channel_id=TERMINAL,
                     channel_name="💻-lcars-terminal-27", **GUILD),
        write_export(tmp / "g.json", [msg(10, "warp in general")], channel_id=GENERAL, channel_name="general",
                     **GUILD),
        write_export(tmp / "c.json", [msg(20, "warp in chat")], channel_id=CHAT_GENERAL,
                     channel_name="💬-general", **GUILD),
        write_export(tmp / "th.json", [msg(30, "warp in thread")], channel_id=THREAD,
                     channel_name="🧵 Warp Core", channel_type="GuildPublicThread", category_id=TERMINAL,
                     category="💻-lcars-terminal-27", **GUILD),
    ]  # fmt: skip
    build_data_dir(tmp / "data", paths)
    with TestClient(create_app(Settings(data_dir=tmp / "data"))) as c:
        yield c


def _box(text: str) -> tuple[str, str]:
    m = re.search(r'<label for="channel-q">([^<]*)</label>\s*<input id="channel-q" name="q" type="search" '
                  r'value="([^"]*)">', text)  # fmt: skip
    assert m, "no search box"
    return m.group(1), html.unescape(m.group(2))


@pytest.mark.parametrize(
    ("cid", "label", "value", "found"),
    [
        (TERMINAL, "Search in this channel", "in:lcars-terminal-27 ", ["warp field notes", "warp in thread"]),
        (THREAD, "Search in this thread", "in:warp-core ", ["warp in thread"]),
        # "general" is also the typed form of 💬-general: the id tells them apart.
        (GENERAL, "Search in this channel", f"in:{GENERAL} ", ["warp in general"]),
        (CHAT_GENERAL, "Search in this channel", f"in:{CHAT_GENERAL} ", ["warp in chat"]),
    ],
)
def test_channel_page_search_box_finds_only_that_channel(
    client: TestClient, cid: str, label: str, value: str, found: list[str]
) -> None:
    page = client.get(f"/c/{cid}")
    assert _box(page.text) == (label, value)
    assert client.get(f"/c/{cid}.json").json()["search_filter"] == value.strip()
    hits = client.get("/search.json", params={"q": value + "warp", "sort": "oldest"}).json()
    assert (hits["hints"], [re.sub("<[^>]+>", "", h["snippet"]) for h in hits["hits"]]) == ([], found)
