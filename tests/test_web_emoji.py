"""Custom emoji never load from Discord's CDN: the export's local copy when it has one, else `:name:`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.factory import msg, sf, write_export
from tests.live import build_data_dir
from tests.test_web_app import PNG
from web.app import create_app
from web.settings import Settings


def _emoji(eid: str, name: str, image: str) -> dict[str, object]:
    return {"id": eid, "name": name, "code": name, "isAnimated": False, "imageUrl": image}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("emoji")
    reactions = [
        {"emoji": _emoji("500000000000000001", "pog", "e.json_Files/pog-AAAAA.png"), "count": 2},
        {"emoji": _emoji("500000000000000002", "kekw", "https://cdn.discordapp.com/emojis/500000000000000002.png"),
         "count": 1},
        {"emoji": _emoji("", "👍", "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/1f44d.svg"),
         "count": 3},
    ]  # fmt: skip
    messages = [
        msg(0, "raw <:pog:500000000000000001> and <a:dance:500000000000000003> here", reactions=reactions)
    ]
    path = write_export(tmp / "e.json", messages)
    (tmp / "e.json_Files").mkdir()
    (tmp / "e.json_Files" / "pog-AAAAA.png").write_bytes(PNG)
    build_data_dir(tmp / "data", [path], conversations=False)
    with TestClient(create_app(Settings(data_dir=tmp / "data"))) as c:
        yield c


def test_custom_emoji_use_the_local_copy_or_their_name(client: TestClient) -> None:
    mid = sf(0)
    html = client.get(f"/m/{mid}").text
    assert "cdn.discordapp.com/emojis" not in html and "jsdelivr" not in html
    assert "raw :pog: and :dance: here" in html
    assert f'<img src="/media/{mid}/reaction/0" alt=":pog:" width="16" height="16">' in html
    assert "<span>:kekw:</span>" in html and "<span>👍</span>" in html
    assert [r["image_url"] for r in client.get(f"/m/{mid}.json").json()["reactions"]] == [
        f"/media/{mid}/reaction/0", None, None,
    ]  # fmt: skip
    r = client.get(f"/media/{mid}/reaction/0")
    assert (r.status_code, r.content, r.headers["content-type"]) == (200, PNG, "image/png")
    assert client.get(f"/media/{mid}/reaction/1").status_code == 404  # a CDN URL is never fetched or proxied
