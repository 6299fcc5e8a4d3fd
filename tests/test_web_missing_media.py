"""A `--media` attachment whose file is not in the export says so, with its name and the CDN link."""

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

CHANNEL = "200000000000000001"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("missing")
    atts = [
        {"id": "900000000000000001", "url": "e.json_Files/here-AAAAA.png", "fileName": "here.png", "fileSizeBytes": 70},
        {"id": "900000000000000002", "url": "e.json_Files/gone-BBBBB.png", "fileName": "gone photo.png",
         "fileSizeBytes": 1234},
        {"id": "900000000000000003", "url": "e.json_Files\\gone-CCCCC.txt", "fileName": "notes.txt", "fileSizeBytes": 5},
    ]  # fmt: skip
    path = write_export(tmp / "e.json", [msg(0, "files", attachments=atts)], channel_id=CHANNEL)
    (tmp / "e.json_Files").mkdir()
    (tmp / "e.json_Files" / "here-AAAAA.png").write_bytes(PNG)
    build_data_dir(tmp / "data", [path], conversations=False)
    with TestClient(create_app(Settings(data_dir=tmp / "data"))) as c:
        yield c


def test_missing_media_file_says_so_with_name_and_cdn_link(client: TestClient) -> None:
    mid = sf(0)
    atts = client.get(f"/m/{mid}.json").json()["attachments"]
    assert [(a["file_name"], a["local"], a["missing"], a["url"]) for a in atts] == [
        ("here.png", True, False, f"/media/{mid}/0"),
        ("gone photo.png", False, True,
         f"https://cdn.discordapp.com/attachments/{CHANNEL}/900000000000000002/gone%20photo.png"),
        ("notes.txt", False, True, f"https://cdn.discordapp.com/attachments/{CHANNEL}/900000000000000003/notes.txt"),
    ]  # fmt: skip
    html = client.get(f"/m/{mid}").text
    assert f'<img src="/media/{mid}/0"' in html and f'src="/media/{mid}/1"' not in html
    assert html.count("file not in the export") == 2
    assert (
        'gone photo.png</span> <span class="muted">1.2 KB · file not in the export · <a href="https://cdn.discordapp.com'
        f'/attachments/{CHANNEL}/900000000000000002/gone%20photo.png" rel="nofollow noopener noreferrer">'
        "Discord CDN link</a> (may have expired)</span>"
    ) in html
    md = client.get(f"/m/{mid}.md").text
    assert (
        f"- [gone photo.png](<https://cdn.discordapp.com/attachments/{CHANNEL}/900000000000000002/gone%20photo.png>)"
        in md
    )
