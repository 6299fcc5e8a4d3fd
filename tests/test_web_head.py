"""HEAD answers like GET without a body on every GET route (link checkers probe permalinks with HEAD)."""

from __future__ import annotations

import re
import urllib.request

from fastapi.testclient import TestClient

from tests import test_web_app
from tests.factory import ALICE
from tests.live import serve
from tests.test_web_app import GENERAL, Community

community = test_web_app.community
client = test_web_app.client


def _get_paths(client: TestClient) -> list[str]:
    paths = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        for r in getattr(getattr(route, "original_router", None), "routes", [route]):
            if "GET" in (getattr(r, "methods", None) or ()):
                paths.append(r.path)
    return paths


def _fill(path: str, c: Community) -> str:
    values = {"message_id": c.media, "channel_id": GENERAL, "thread_id": c.starter, "user_id": ALICE["id"],
              "conversation_id": c.hello, "ext": "bib", "pos": "0", "kind": "thumb"}  # fmt: skip
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def test_head_matches_get_on_every_get_route(client: TestClient, community: Community) -> None:
    paths = [_fill(p, community) for p in _get_paths(client)]
    assert {"/", f"/m/{community.media}", f"/m/{community.media}/cite.bib", "/healthz"} <= set(paths)
    for path in [*paths, "/search?q=hello", "/static/app.css", "/no/such/page"]:
        get = client.get(path, follow_redirects=False)
        head = client.head(path, follow_redirects=False)
        assert (head.status_code, head.content) == (get.status_code, b""), path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
        if "content-length" in get.headers and get.status_code == 200:
            assert head.headers["content-length"] == get.headers["content-length"], path


def test_head_on_a_live_server(community: Community) -> None:
    with serve(community.data_dir) as url:
        for path in ("/", f"/m/{community.hello}", f"/m/{community.hello}/cite.bib", "/healthz"):
            req = urllib.request.Request(url + path, method="HEAD")
            with urllib.request.urlopen(req, timeout=10) as r:
                assert (r.status, r.read()) == (200, b""), path
                assert int(r.headers["content-length"]) > 0, path
