"""Any valid JSON layout of a DCE export is read, with the same limits as DCE's own layout."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from archive.sources import dce_json
from archive.sources.dce_json import ExportReader
from tests.test_formats import _generated


def _doc() -> dict[str, Any]:
    header, messages = copy.deepcopy(_generated(60))
    return {**header, "messages": messages, "messageCount": len(messages)}


LAYOUTS = {
    "dce": lambda d: json.dumps(d, indent=2, ensure_ascii=False),
    "indent0": lambda d: json.dumps(d, indent=0, ensure_ascii=False),
    "tabs": lambda d: json.dumps(d, indent="\t", ensure_ascii=False),
    "crlf": lambda d: json.dumps(d, indent=2, ensure_ascii=False).replace("\n", "\r\n"),
    "minified": lambda d: json.dumps(d, separators=(",", ":")),
    "one-message-per-line": lambda d: (
        "{\n"
        + ",\n".join(
            f"  {json.dumps(k)}: "
            + (
                "[\n    " + ",\n    ".join(json.dumps(m) for m in v) + "\n  ]"
                if k == "messages"
                else json.dumps(v)
            )
            for k, v in d.items()
        )
        + "\n}"
    ),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_json_layout_reads_all_messages_and_the_count(tmp_path: Path, layout: str) -> None:
    doc = _doc()
    path = tmp_path / f"{layout}.json"
    path.write_text(LAYOUTS[layout](doc), encoding="utf-8")
    with ExportReader(path) as reader:
        got = [m for b in reader.batches() for _, _, m in b]
        assert reader.declared_count == 60
    assert got == doc["messages"]


@pytest.mark.parametrize("layout", ["dce", "minified", "indent0"])
def test_an_oversized_message_is_refused_in_every_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    monkeypatch.setattr(dce_json, "MAX_MESSAGE_BYTES", 1 << 20)
    doc = _doc()
    doc["messages"][3]["content"] = "a" * (3 << 20)
    path = tmp_path / f"{layout}.json"
    path.write_text(LAYOUTS[layout](doc), encoding="utf-8")
    with ExportReader(path) as reader, pytest.raises(dce_json.ExportFormatError) as e:
        for _ in reader.batches():
            pass
    assert str(e.value).endswith("(message 4): message 4 is over 1 MB: not a Discord message")
