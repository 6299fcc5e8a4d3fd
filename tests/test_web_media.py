"""/media/…: local --media files are served from the export's folder, and nothing else ever is."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import test_web_app
from tests.test_web_app import PNG, SECRET, Community
from web.media import MEDIA_CSP, resolve_inside

# The shared module-scoped fixtures (an archive ingested from crafted exports, and a client on it).
community = test_web_app.community
client = test_web_app.client


def test_media_image_is_served_inline_and_sandboxed(client: TestClient, community: Community) -> None:
    r = client.get(f"/media/{community.media}/0")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"] == 'inline; filename="pic-ABCDE.png"'
    assert r.headers["content-security-policy"] == MEDIA_CSP
    assert r.headers["x-content-type-options"] == "nosniff"


def test_media_other_files_are_downloads(client: TestClient, community: Community) -> None:
    r = client.get(f"/media/{community.media}/1")
    assert r.status_code == 200 and r.text == "notes"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == 'attachment; filename="notes-ABCDE.txt"'


def test_media_embed_thumbnail_is_served(client: TestClient, community: Community) -> None:
    assert client.get(f"/media/{community.media}/thumbnail/0").content == PNG


@pytest.mark.parametrize(
    "pos, why",
    [("2", "a CDN URL, not a local file"), ("3", "../ out of the folder"), ("4", "a symlink out of the folder"),
     ("5", "an absolute path"), ("6", "backslash traversal"), ("99", "no such attachment")],
)  # fmt: skip
def test_media_refuses_paths_outside_the_export_folder(
    client: TestClient, community: Community, pos: str, why: str
) -> None:
    r = client.get(f"/media/{community.media}/{pos}")
    assert r.status_code == 404, why
    assert SECRET not in r.text and "root:" not in r.text


@pytest.mark.parametrize(
    "path",
    ["/media/{m}/..%2f..%2foutside%2fsecret.txt", "/media/{m}/%2e%2e/%2e%2e/outside/secret.txt",
     "/media/%2e%2e/%2e%2e/etc/passwd", "/media/{m}/../../../etc/passwd", "/media/{m}/-1",
     "/media/{m}/sticker/0", "/media/{m}/avatar/0", "/media/{m}/thumbnail/..%2f0",
     "/media/{m}//etc/passwd"],
)  # fmt: skip
def test_media_refuses_traversal_in_the_url(client: TestClient, community: Community, path: str) -> None:
    r = client.get(path.format(m=community.media))
    assert r.status_code == 404
    assert SECRET not in r.text and "root:" not in r.text


def test_media_of_tombstones_is_not_served(client: TestClient, community: Community) -> None:
    assert client.get(f"/media/{community.deleted}/0").status_code == 404
    assert client.get(f"/media/{community.taken_down}/0").status_code == 404


def test_resolve_inside_refuses_escapes(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    (folder / "f").mkdir(parents=True)
    (folder / "f" / "ok.png").write_bytes(b"x")
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", folder / "f" / "out")
    os.symlink(folder / "f" / "ok.png", folder / "f" / "in")
    assert resolve_inside(str(folder), "f/ok.png") == os.path.realpath(folder / "f" / "ok.png")
    assert resolve_inside(str(folder), "f\\ok.png") == os.path.realpath(folder / "f" / "ok.png")
    assert resolve_inside(str(folder), "f/in") == os.path.realpath(folder / "f" / "ok.png")
    for bad in ("../secret", "f/../../secret", "f/out", str(tmp_path / "secret"), "C:\\secret", "", ".", "f",
                "f/ok.png\x00.txt"):  # fmt: skip
        assert resolve_inside(str(folder), bad) is None, bad


RAW_PATHS = [
    "/media/{m}/../../../../etc/passwd", "/media/{m}/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/media/{m}/%2e%2e/%2e%2e/%2e%2e/outside/secret.txt", "/media/{m}/..\\..\\..\\outside\\secret.txt",
    "/media/{m}/%252e%252e%252f%252e%252e%252fsecret.txt", "/media/{m}/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt",
    "/media/{m}//{outside}", "/media/{m}/0/../../../../{outside}", "/media/{m}/0%00.png",
    "/static/../../../../etc/passwd", "/static/..%2f..%2f..%2fcli.py", "/static/%2e%2e/app.py",
    "/static/..\\..\\cli.py", "/static//etc/passwd", "/static/{outside}", "/assets/../../../etc/passwd",
    "//etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/m/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
]  # fmt: skip


def test_media_and_static_refuse_raw_unnormalized_paths_on_a_live_server(community: Community) -> None:
    """http.client sends the request line as written (no ../ folding, unlike httpx): uvicorn + the app see it raw."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    cmd = [
        sys.executable,
        str(root / "cli.py"),
        "serve",
        "--data-dir",
        str(community.data_dir),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "hallway serve did not come up"
                time.sleep(0.2)
        served: list[tuple[str, int]] = []
        for template in RAW_PATHS:
            path = template.format(
                m=community.media, outside=str(community.outside / "secret.txt").lstrip("/")
            )
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.putrequest("GET", path, skip_accept_encoding=True)
            conn.endheaders()
            r = conn.getresponse()
            body = r.read().decode("utf-8", "replace")
            if r.status < 300 or r.status >= 500 or SECRET in body or "root:" in body or "import " in body:
                served.append((path, r.status))
            conn.close()
        # The real file is still served: the refusals above are not a dead server.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", f"/media/{community.media}/0")
        assert conn.getresponse().read() == PNG
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert served == []
