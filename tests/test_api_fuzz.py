"""API fuzzing: schemathesis generates requests from /openapi.json; no answer may be a 5xx.

Schemathesis covers every documented operation (the `.json`/`.md` twins, citations, media, search) with
valid and invalid parameters. Because random ids almost never exist, a second, hypothesis-driven test
aims the same kind of input (huge, negative, non-numeric cursors and versions) at ids that do exist, on
the HTML pages too (they are left out of the schema).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archive
from tests.live import build_data_dir
from web.app import create_app
from web.settings import Settings

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_exports"
EXAMPLES_PER_OPERATION = 60
COUNTS: dict[str, int] = {"requests": 0, "by_status_4xx": 0, "by_status_2xx": 0}
SEEN_OPERATIONS: set[str] = set()


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The viewer over the sample community (archive + index)."""
    if not any(SAMPLES.glob("*-export")):
        pytest.skip("sample_exports/ has no exports")
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    build_data_dir(data_dir, [SAMPLES])
    yield create_app(Settings(data_dir=data_dir))


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def _operations(api_schema: Any) -> list[Any]:
    return [r.ok() for r in api_schema.get_all_operations()]


def _check(case: Any, failures: list[str]) -> None:
    """One generated request: a 5xx is recorded; a 4xx must be the JSON error shape."""
    response = case.call()
    COUNTS["requests"] += 1
    COUNTS["by_status_2xx" if response.status_code < 400 else "by_status_4xx"] += 1
    SEEN_OPERATIONS.add(case.operation.label)
    if response.status_code >= 500:
        failures.append(f"{case.method} {case.formatted_path} {case.query}: {response.status_code}")
        return
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        where = (case.method, case.formatted_path, case.query, response.status_code, response.text[:200])
        assert "application/json" in str(response.headers.get("content-type")), where
        assert {"error", "detail", "status"} <= response.json().keys(), where


def test_api_fuzz_no_server_errors(api_schema: Any) -> None:
    """Every documented operation, valid and invalid generated inputs: no 5xx, and the 4xx bodies are JSON."""
    failures: list[str] = []
    for op in _operations(api_schema):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )(given(case=op.as_strategy(generation_mode=mode))(lambda case: _check(case, failures)))
            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                pass  # no invalid input exists for an operation without parameters
    print(f"\napi fuzz: {len(SEEN_OPERATIONS)} operations, {COUNTS}")
    assert failures == []
    assert {op.label for op in _operations(api_schema)} <= SEEN_OPERATIONS


def _ids(data_dir: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(data_dir / archive.ARCHIVE_FILE)
    try:
        pick = {
            "m": "SELECT id FROM messages ORDER BY id LIMIT 5",
            "c": "SELECT id FROM channels ORDER BY id LIMIT 5",
            "t": "SELECT id FROM channels WHERE is_thread = 1 LIMIT 3",
            "u": "SELECT id FROM users LIMIT 5",
        }
        return {k: [str(r[0]) for r in conn.execute(sql)] for k, sql in pick.items()}
    finally:
        conn.close()


WILD_INT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(["", "0", "-1", "1e9", "NaN", "inf", "0x10", "9" * 40, "１２", " 5", "5 ", "%00"]),
)
QUERY_KEYS = ("before", "after", "around", "date", "v", "conversation", "min_confidence", "page", "sort", "q")


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    kind=st.sampled_from(["m", "c", "t", "u", "conv"]),
    suffix=st.sampled_from(["", ".json", ".md", "/cite.bib", "/cite.ris", "/cite.json"]),
    pick=st.integers(min_value=0, max_value=4),
    params=st.dictionaries(st.sampled_from(QUERY_KEYS), WILD_INT, max_size=3),
)
def test_api_fuzz_existing_ids_with_wild_parameters(
    fuzz_app: FastAPI, kind: str, suffix: str, pick: int, params: dict[str, object]
) -> None:
    ids = _ids(fuzz_app.state.settings.data_dir)
    pool = ids.get(kind) or ids["m"]
    target = pool[pick % len(pool)]
    if suffix.startswith("/cite") and kind != "m":
        suffix = ".json"
    client = TestClient(fuzz_app, raise_server_exceptions=False)
    r = client.get(f"/{kind}/{target}{suffix}", params={k: str(v) for k, v in params.items()})
    COUNTS["requests"] += 1
    assert r.status_code < 500, (kind, target, suffix, params, r.text[:300])
