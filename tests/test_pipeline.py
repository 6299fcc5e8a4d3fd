"""The ingest pipeline: its events in order, and kill -9 at every stage leaves no process and no temp file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

import indexer
import pipeline
from pipeline import FileDone, Finished, PhaseDone, PhaseStarted, Progress, Skipped, Started
from tests.conftest import ROOT
from tests.factory import msg, write_export

sys.path.insert(0, str(ROOT / "bench"))
from corpus import generate


def _shape(events: list[object]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for e in events:
        if isinstance(e, Progress):
            continue
        if isinstance(e, PhaseStarted | PhaseDone):
            out.append((type(e).__name__, e.phase))
        elif isinstance(e, FileDone):
            out.append(("FileDone", Path(e.result.path).name, e.result.status))
        elif isinstance(e, Skipped):
            out.append(("Skipped", Path(e.note.split(":")[0]).name, str(e.failed)))
        elif isinstance(e, Started):
            out.append(("Started", str(e.files)))
        elif isinstance(e, Finished):
            out.append(("Finished", str(e.exit_code)))
    return out


def test_run_ingest_reports_every_phase_in_order(tmp_path: Path) -> None:
    write_export(tmp_path / "in" / "a.json", [msg(1, "first file"), msg(2, "reply here")])
    write_export(tmp_path / "in" / "b.json", [msg(3, "second file")], channel_id="900000000000000077")
    (tmp_path / "in" / "notes.md").write_text("notes\n")
    events: list[object] = []
    report = pipeline.run_ingest(
        [tmp_path / "in"], tmp_path / "data", on_event=events.append, index_worker_after=0
    )
    assert _shape(events) == [
        ("Started", "2"),
        ("Skipped", "notes.md", "False"),
        ("PhaseStarted", "archive"),
        ("PhaseStarted", "index"),
        ("FileDone", "a.json", "ok"),
        ("FileDone", "b.json", "ok"),
        ("PhaseDone", "archive"),
        ("PhaseStarted", "conversations"),
        ("PhaseDone", "index"),
        ("PhaseDone", "conversations"),
        ("Finished", "0"),
    ]
    assert report.exit_code == 0
    assert report.index is not None and (report.index.mode, report.index.indexed) == ("rebuild", 3)
    assert report.linked == 3
    assert [h.id for h in indexer.search(indexer.open_index(tmp_path / "data"), "second").hits] == [
        int(msg(3, "")["id"])
    ]
    # Again: nothing changed, so no worker starts and nothing is linked; the index says unchanged.
    events.clear()
    again = pipeline.run_ingest([tmp_path / "in"], tmp_path / "data", on_event=events.append)
    assert [s for s in _shape(events) if s[0] == "FileDone"] == [
        ("FileDone", "a.json", "unchanged"),
        ("FileDone", "b.json", "unchanged"),
    ]
    assert again.index is not None and again.index.mode == "unchanged"
    assert ("PhaseStarted", "conversations") not in _shape(events) or again.linked == 0


def test_a_newer_export_updates_the_index_through_the_worker(tmp_path: Path) -> None:
    write_export(tmp_path / "v1" / "a.json", [msg(1, "old words")])
    pipeline.run_ingest([tmp_path / "v1"], tmp_path / "data", conversations=False, index_worker_after=0)
    edited = msg(1, "new words", timestampEdited="2023-11-15T00:00:00.000+00:00")
    write_export(
        tmp_path / "v2" / "a.json", [edited, msg(2, "more words")], exported_at="2030-01-01T00:00:00+00:00"
    )
    report = pipeline.run_ingest(
        [tmp_path / "v2"], tmp_path / "data", conversations=False, index_worker_after=0
    )
    assert report.index is not None and report.index.mode == "update"
    index = indexer.open_index(tmp_path / "data")
    assert indexer.search(index, "old").total == 0
    assert indexer.search(index, "words").total == 2


def test_overlapping_exports_in_one_first_run_index_each_message_once(tmp_path: Path) -> None:
    # The index is built while the files are read: the second file's version of message 1 replaces
    # the first's (same channel, an id range already fed), message 2 is simply added.
    write_export(tmp_path / "in" / "a.json", [msg(1, "old words")])
    edited = msg(1, "new words", timestampEdited="2023-11-15T00:00:00.000+00:00")
    write_export(
        tmp_path / "in" / "b.json", [edited, msg(2, "more words")], exported_at="2030-01-01T00:00:00+00:00"
    )
    report = pipeline.run_ingest(
        [tmp_path / "in"], tmp_path / "data", conversations=False, index_worker_after=0
    )
    assert report.index is not None and report.index.mode == "rebuild"
    index = indexer.open_index(tmp_path / "data")
    assert indexer.search(index, "old").total == 0
    assert [h.id for h in indexer.search(index, "words", sort="oldest").hits] == [
        int(edited["id"]),
        int(msg(2, "")["id"]),
    ]


# -- kill -9 at every stage ---------------------------------------------------------------------


@pytest.mark.parametrize("links_worker_after", [0, None], ids=["worker", "in-process"])
def test_the_conversation_phase_reports_messages_linked_so_far(
    tmp_path: Path, links_worker_after: int | None
) -> None:
    write_export(
        tmp_path / "in" / "a.json", [msg(i, f"message {i} about topic {i % 3}") for i in range(1, 40)]
    )
    events: list[object] = []
    report = pipeline.run_ingest(
        [tmp_path / "in"], tmp_path / "data", on_event=events.append, links_worker_after=links_worker_after
    )
    counts = [e.done for e in events if isinstance(e, Progress) and e.phase == "conversations"]
    assert report.linked == 39
    assert counts and counts[-1] == 39 and counts == sorted(counts)
    started = next(
        i for i, e in enumerate(events) if isinstance(e, PhaseStarted) and e.phase == "conversations"
    )
    ended = next(i for i, e in enumerate(events) if isinstance(e, PhaseDone) and e.phase == "conversations")
    conversation_progress = [
        i for i, e in enumerate(events) if isinstance(e, Progress) and e.phase == "conversations"
    ]
    assert started < min(conversation_progress) and max(conversation_progress) < ended


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kill") / "corpus"
    generate(30_000, out, single=False, partition=1500, seed=5)
    return out


def _leftovers(data: Path) -> list[str]:
    found = [p.name for p in (data / "index").glob("build-*")]
    found += [p.name for p in data.glob("*.tmp")]
    return sorted(found)


_EARLY_WORKER = """
import sys
from pathlib import Path
from pipeline import run_ingest
from pipeline.console import ConsoleProgress
from rich.console import Console
run_ingest([Path(sys.argv[1])], Path(sys.argv[2]), on_event=ConsoleProgress(Console(stderr=True)),
           index_worker_after=0)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "stage",
    [
        "archive",  # files still being read, the index worker following
        "index",  # archive done: the index worker committing, conversations computing
        pytest.param(
            "conversations",  # searchable: only the conversation links remain
        ),
    ],
)
def test_kill_9_in_each_stage_leaves_no_process_and_no_temp_file(
    corpus: Path, tmp_path: Path, stage: str
) -> None:
    data = tmp_path / "data"
    cmd = [sys.executable, str(ROOT / "cli.py"), "ingest", str(corpus), "--data-dir", str(data)]
    killed = cmd
    if stage == "archive":
        # The index worker starts at the first file here (not after 20k messages), so the kill lands while
        # files are still being read however fast the archive phase has become and however busy the machine.
        killed = [sys.executable, "-c", _EARLY_WORKER, str(corpus), str(data)]
    proc = subprocess.Popen(killed, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)  # type: ignore[arg-type]
    reader.start()
    me = psutil.Process(proc.pid)
    seen: dict[int, psutil.Process] = {}
    cmdlines: dict[int, str] = {}
    marker = {"archive": None, "index": " files: ", "conversations": "index: "}[stage]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            for child in me.children(recursive=True):
                if child.pid not in seen:
                    seen[child.pid] = child
                    cmdlines[child.pid] = " ".join(child.cmdline())
        except psutil.Error:
            pass
        workers = [pid for pid, cmd in cmdlines.items() if "link_worker" in cmd or "index_worker" in cmd]
        if marker:
            ready = any(marker in line for line in lines)
        else:  # the index worker follows while files are still being read
            ready = any("index_worker" in cmd for cmd in cmdlines.values()) and not any(
                " files: " in x for x in lines
            )
        if ready and workers:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"ingest ended before the {stage} stage: {lines}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert seen, "no worker process was started"
    _, alive = psutil.wait_procs(list(seen.values()), timeout=5)
    left = [cmdlines[p.pid] for p in alive]
    for p in alive:  # never leave them behind on the test machine, even when the test fails
        p.kill()
    assert left == [], f"still running after kill -9 in the {stage} stage"
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert _leftovers(data) == []
