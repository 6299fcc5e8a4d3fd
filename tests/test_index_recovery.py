"""A writer killed inside commit() must not stop the next writer from committing the same changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import tantivy

from indexer.schema import ID, build_schema
from indexer.writer import UPDATE_HEAP, _writer


def _index_with_ids(path: Path, ids: range) -> None:
    schema = build_schema()
    writer = _writer(tantivy.Index(schema, str(path)), UPDATE_HEAP, 1)
    for i in ids:
        doc = tantivy.Document()
        doc.add_integer(ID, i)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()


def _delete(path: Path, ids: range) -> None:
    writer = _writer(tantivy.Index.open(str(path)), UPDATE_HEAP, 1)
    for i in ids:
        writer.delete_documents_by_term(ID, i)
    writer.commit()
    writer.wait_merging_threads()


def test_update_after_a_writer_killed_inside_commit_succeeds(tmp_path: Path) -> None:
    live, done = tmp_path / "live", tmp_path / "done"
    live.mkdir()
    _index_with_ids(live, range(1, 101))
    shutil.copytree(live, done)
    _delete(done, range(1, 11))
    # What a kill -9 between writing the delete file and publishing meta.json leaves: the file is
    # registered as managed, but meta.json (the last commit) does not name it.
    stale = sorted(set(os.listdir(done)) - set(os.listdir(live)))
    assert [name for name in stale if name.endswith(".del")], stale
    for name in stale:
        if name.endswith(".del"):
            shutil.copy(done / name, live / name)
    shutil.copy(done / ".managed.json", live / ".managed.json")

    _delete(live, range(1, 11))  # raised ValueError: FileAlreadyExists(...del) before the fix

    searcher = tantivy.Index.open(str(live)).searcher()
    assert searcher.num_docs == 90
