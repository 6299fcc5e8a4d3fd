"""An empty query lists every message in the chosen order, on the web and on the command line."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli import app
from tests import test_web_app
from tests.test_web_app import Community

community = test_web_app.community
client = test_web_app.client


def _ids(client: TestClient, **params: str) -> list[str]:
    return [h["id"] for h in client.get("/search.json", params=params).json()["hits"]]


def test_empty_query_lists_everything_in_the_chosen_order(client: TestClient, community: Community) -> None:
    oldest = _ids(client, q="", sort="oldest")
    newest = _ids(client, q="", sort="newest")
    assert len(oldest) == client.get("/search.json", params={"q": "in:general"}).json()["total"] > 5
    assert oldest == sorted(oldest, key=int) and newest == oldest[::-1]
    assert _ids(client, q="   ", sort="relevance") == newest  # nothing to rank: newest first
    page = client.get("/search", params={"q": "", "sort": "oldest"}).text
    assert '<option value="oldest" selected>oldest</option>' in page
    assert f'href="/m/{oldest[0]}"' in page and "every message, oldest first" in page


def test_cli_empty_query_lists_everything_in_the_chosen_order(community: Community) -> None:
    args = ["search", "", "--sort", "oldest", "--json", "--data-dir", str(community.data_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    ids = [h["id"] for h in orjson.loads(result.stdout)["hits"]]
    assert ids == sorted(ids, key=int) and len(ids) > 5
