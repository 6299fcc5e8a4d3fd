"""Property tests on the parser: whatever bytes or message shapes come in, no exception escapes ingest,
and the archive stays consistent."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archive
from archive import ExportFormatError, ExportReader, Ingester
from archive.normalizer import MODELED_KEYS
from tests.factory import export_doc, msg
from tests.ingesting import ingest_archive

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.text(max_size=30)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Every modeled key, plus unmodeled ones DCE writes, each of which the strategy may break.
KEYS = [*sorted(MODELED_KEYS), "interaction", "forwardedMessage", "callEndedTimestamp"]


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    base = msg(draw(st.integers(0, 10_000)), draw(st.text(max_size=40)))
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=4)):
        if draw(st.booleans()):
            base.pop(key, None)
        else:
            base[key] = draw(json_values)
    return base


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(messages(), max_size=6), st.sampled_from([2, 4, None]))
def test_any_message_shapes_never_raise(msgs: list[dict[str, Any]], indent: int | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "e.json"
        text = json.dumps(export_doc(msgs), indent=indent) if indent else json.dumps(export_doc(msgs))
        path.write_text(text)
        conn = archive.connect(Path(tmp) / "a.sqlite")
        result = ingest_archive(Ingester(conn), [path]).files[0]
        assert result.status in {"ok", "partial", "failed"}
        stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert stored == result.messages
        assert result.messages + result.skipped <= len(msgs)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


VALID = json.dumps(export_doc([msg(i, f"text {i} \u00e9 \U0001f44d") for i in range(4)]), indent=2).encode()


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID) - 1), st.binary(min_size=0, max_size=3)), min_size=1, max_size=4
    ),
    st.integers(0, len(VALID)),
)
def test_mutated_bytes_only_raise_export_format_error(edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(VALID)
    for pos, new in edits:
        data[pos : pos + len(new)] = new
    data = data[: max(cut, 1)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        path.write_bytes(bytes(data))
        try:
            with ExportReader(path) as reader:
                for _ in reader.batches():
                    pass
        except ExportFormatError as e:
            assert "\n" not in str(e)
            assert str(e).startswith(str(path))
        conn = archive.connect(Path(tmp) / "a.sqlite")
        result = ingest_archive(Ingester(conn), [path], salvage=bool(cut % 2)).files[0]
        assert result.status in {"ok", "partial", "failed"}
        conn.close()
