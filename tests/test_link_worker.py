"""The conversation worker dies with its parent, and a killed run's temp file does not outlive the next run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import archive
from archive import Ingester
from archive.link_worker import ROOT as WORKER_ROOT
from archive.link_worker import PendingLinks, remove_stale_link_files, share_out, worker_command
from tests.conftest import ROOT
from tests.factory import msg, write_export

sys.path.insert(0, str(ROOT / "bench"))
import crash_trials

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _ppid_and_state(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def _running(pid: int) -> bool:
    got = _ppid_and_state(pid)
    return got is not None and got[1] != "Z"  # a zombie has exited; only its parent has not reaped it


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            got = _ppid_and_state(int(entry.name))
            if got is not None:
                children.setdefault(got[0], []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {p for p in pids if _running(p)}
        if not left:
            return set()
        time.sleep(0.05)
    return {p for p in pids if _running(p)}


def test_stale_temp_files_of_dead_runs_are_removed(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(done.stdout)
    for pid in (dead_pid, os.getpid(), os.getppid()):
        (tmp_path / f"links-{pid}-1.tmp").write_bytes(b"x")  # links-<parent pid>-<worker>.tmp
    (tmp_path / f"links-{dead_pid}.tmp").write_bytes(b"x")  # an older run's name
    (tmp_path / "links-notapid.tmp").write_bytes(b"x")
    assert remove_stale_link_files(tmp_path) == sorted(
        [tmp_path / f"links-{dead_pid}-1.tmp", tmp_path / f"links-{dead_pid}.tmp"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"links-{os.getpid()}-1.tmp", f"links-{os.getppid()}-1.tmp", "links-notapid.tmp"]
    )


@linux_only
@pytest.mark.parametrize("main_thread", [True, False], ids=["death-signal", "watchdog-only"])
def test_worker_exits_soon_after_its_parent_is_killed(tmp_path: Path, main_thread: bool) -> None:
    # parent: starts a child that calls die_with_parent and would otherwise sleep for a minute
    script = textwrap.dedent(
        f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", '''
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from archive.lifeline import die_with_parent
        die_with_parent(os.getppid(), parent_main_thread={main_thread})
        print("armed", flush=True)
        time.sleep(60)
        '''], stdout=sys.stdout)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "armed"
    workers = _descendants(parent.pid)
    assert len(workers) == 1
    parent.kill()
    parent.wait()
    assert _wait_gone(workers, 3.0) == set()


@linux_only
@pytest.mark.slow
def test_kill_9_of_ingest_while_the_worker_runs_leaves_no_process_and_no_temp_file(tmp_path: Path) -> None:
    # more new messages than pipeline.run.LINKS_WORKER_AFTER, so that the links are made by the worker
    corpus = crash_trials.make_corpus(tmp_path / "corpus", 24_000) / "v1"
    data = tmp_path / "data"
    proc = subprocess.Popen(
        crash_trials.hallway("ingest", str(corpus), "--data-dir", str(data), "--quiet"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    temp = data / f"links-{proc.pid}-0.tmp"  # one worker below POOL_AFTER lines
    deadline = time.monotonic() + 120
    while not (temp.exists() and temp.stat().st_size > 0) and proc.poll() is None:
        assert time.monotonic() < deadline, "the conversation worker never started"
        time.sleep(0.005)
    tree = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tree, "the ingest finished before the kill; make the corpus larger"
    assert _wait_gone(tree, 5.0) == set()
    assert temp.exists()  # the killed run could not clean up after itself

    rerun = subprocess.run(
        crash_trials.hallway("ingest", str(corpus), "--data-dir", str(data), "--quiet"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in data.glob("links-*.tmp")) == []
    clean = tmp_path / "clean"
    subprocess.run(
        crash_trials.hallway("ingest", str(corpus), "--data-dir", str(clean), "--quiet"),
        check=True,
        capture_output=True,
        timeout=600,
    )

    def links(folder: Path) -> list[tuple[int, int | None, int]]:
        conn = sqlite3.connect(f"file:{folder / 'archive.sqlite'}?mode=ro", uri=True)
        try:
            return conn.execute(
                "SELECT message_id, parent_id, conversation_id FROM links ORDER BY 1"
            ).fetchall()
        finally:
            conn.close()

    got, want = links(data), links(clean)
    assert len(got) == len(want) == 24_000
    assert got == want


def _archive_with_unlinked_messages(tmp_path: Path, n: int) -> tuple[Path, Ingester]:
    write_export(
        tmp_path / "in" / "a.json", [msg(i * 30, f"worker message {i} about {i % 7}") for i in range(n)]
    )
    db = tmp_path / "data" / archive.ARCHIVE_FILE
    db.parent.mkdir()
    ing = Ingester(archive.connect(db))
    for f in archive.iter_export_files([tmp_path / "in"]):
        ing.ingest_file(f)
    return db, ing


# what a conversation worker must never load: the CLI, the viewer and MCP stacks, the index
HEAVY = {
    "cli",
    "web",
    "publish",
    "pipeline",
    "indexer",
    "tantivy",
    "fastapi",
    "starlette",
    "uvicorn",
    "mcp",
    "typer",
}


def test_the_worker_is_a_plain_process_that_imports_neither_the_cli_nor_the_web_stack(tmp_path: Path) -> None:
    db, ing = _archive_with_unlinked_messages(tmp_path, 12)
    ing.conn.close()
    out = tmp_path / "links-test.tmp"
    cmd = worker_command(db, out)
    assert cmd[1:3] == ["-c", "from archive.link_worker import main; main()"]
    done = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]],
        input="",  # no channel list: every channel with new messages
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(WORKER_ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["progress 12", "done 12"]
    loaded = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert {"archive.links", "untangle.linker"} <= loaded
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []


@linux_only
def test_a_worker_killed_midway_is_reported_and_the_links_are_computed_here(tmp_path: Path) -> None:
    db, ing = _archive_with_unlinked_messages(tmp_path, 40)
    pending = ing.start_conversations()
    workers = [p for p in psutil.Process().children() if "link_worker" in " ".join(p.cmdline())]
    assert len(workers) == 1
    workers[0].kill()
    seen: list[int] = []
    assert pending.finish(seen.append) == 40
    assert pending.error == "conversation worker: exited without a result (exit code -9)"
    assert seen[-1] == 40
    assert ing.conn.execute("SELECT count(*) FROM links").fetchone() == (40,)
    assert sorted(p.name for p in db.parent.glob("links-*.tmp")) == []


def test_links_are_stored_chunk_by_chunk_while_the_worker_still_computes(tmp_path: Path) -> None:
    # The caller stored nothing until the worker had finished every channel: a serial tail of ~5 s at 1M.
    for c in range(3):
        write_export(
            tmp_path / "in" / f"c{c}.json",
            [msg((c * 100 + i) * 30, f"channel {c} message {i}") for i in range(30)],
            channel_id=str(200000000000000100 + c),
            channel_name=f"c{c}",
        )
    db = tmp_path / "data" / archive.ARCHIVE_FILE
    db.parent.mkdir()
    ing = Ingester(archive.connect(db))
    for f in archive.iter_export_files([tmp_path / "in"]):
        ing.ingest_file(f)
    pending = ing.start_conversations()
    stored_when_told: list[tuple[int, int]] = []

    def heard(n: int) -> None:
        stored_when_told.append((n, ing.conn.execute("SELECT count(*) FROM links").fetchone()[0]))

    assert pending.finish(heard) == 90
    assert pending.error is None
    # one chunk per channel, each stored by the time its count is reported
    assert stored_when_told == [(30, 30), (60, 60), (90, 90)]


def test_channels_are_shared_out_largest_first() -> None:
    sizes = {(1, 10): 500, (2, 20): 300, (3, 30): 250, (4, 40): 100, (5, 50): 100}
    assert share_out(sizes, 2) == [[(1, 10), (4, 40)], [(2, 20), (3, 30), (5, 50)]]  # 600 and 650 lines
    assert share_out({(1, 10): 5}, 2) == [[(1, 10)]]


def test_two_workers_make_the_same_links_as_one(tmp_path: Path) -> None:
    def build(root: Path, workers: int) -> list[tuple[object, ...]]:
        for c in range(5):
            write_export(
                root / "in" / f"c{c}.json",
                [
                    msg((c * 1000 + i) * 30, f"channel {c} question {i % 9}? answer {i % 4}")
                    for i in range(40 + 30 * c)
                ],
                channel_id=str(200000000000000200 + c),
                channel_name=f"c{c}",
            )
        db = root / "data" / archive.ARCHIVE_FILE
        db.parent.mkdir(parents=True)
        ing = Ingester(archive.connect(db))
        for f in archive.iter_export_files([root / "in"]):
            ing.ingest_file(f)
        pending = PendingLinks(ing.conn, db, workers=workers)
        assert pending.workers == workers
        assert pending.finish() == sum(40 + 30 * c for c in range(5))
        assert pending.error is None
        assert sorted(p.name for p in db.parent.glob("links-*.tmp")) == []
        return ing.conn.execute("SELECT * FROM links ORDER BY message_id").fetchall()

    assert build(tmp_path / "two", 2) == build(tmp_path / "one", 1)
