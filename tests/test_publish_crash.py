"""A publish killed mid-build, then a policy change, then publish again: the site is what a fresh build
of the new archive would be, byte for byte; nothing the dead build wrote survives unchecked."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from publish import publish_site
from tests.publish_site import archive_ids, exclude_channel

ROOT = Path(__file__).resolve().parent.parent
RESEARCH = "907543031316510423"
GENERAL = "907354337968331041"
BASE = "https://lab.example/archive"


def _files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != ".hallway-site.json"
    }


def _plain(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except OSError:
        return data


def _written(out: Path, folder: str) -> bool:
    """Whether the build running in `out` has written a file in `folder`/*/ yet (after its mark)."""
    mark = out / ".hallway-building"
    try:
        since = mark.stat().st_mtime_ns
        return any(
            (
                e.path
                and os.path.exists(f"{e.path}/index.html")
                and os.stat(f"{e.path}/index.html").st_mtime_ns >= since
            )
            for e in os.scandir(out / folder)
        )
    except FileNotFoundError:
        return False


def _children(pid: int) -> list[int]:
    """The processes `pid` started that are still running."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie nobody has reaped yet doesn't)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _killed_publish(data: Path, out: Path, after: str, *options: str) -> list[int]:
    """`hallway publish` in a process of its own, killed (SIGKILL) once it has written a page in `after`;
    returns the processes it had started."""
    cmd = [
        sys.executable,
        str(ROOT / "cli.py"),
        "publish",
        str(out),
        "--data-dir",
        str(data),
        "--base-url",
        BASE,
        *options,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if _written(out, after):
                break
            time.sleep(0.002)
        if proc.poll() is not None:
            pytest.fail(
                f"the build ended (exit {proc.returncode}) before anything was written under {after}/"
            )
        children = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    return children


@pytest.mark.timeout(300)
@pytest.mark.parametrize("first", [False, True], ids=["republish", "first-build"])
def test_a_publish_killed_then_a_policy_change_leaves_what_a_fresh_build_would(
    sample_site: tuple[Path, Path, object], tmp_path: Path, first: bool
) -> None:
    data, site, _ = sample_site
    data2 = tmp_path / "data"
    shutil.copytree(data, data2)
    out = tmp_path / "site"
    if not first:  # a finished build, then one with other bytes in many pages, killed among its permalinks
        shutil.copytree(site, out)
        exclude_channel(data2, GENERAL)  # … so the build that dies rewrites many pages with other bytes
    _killed_publish(data2, out, "u" if not first else "c")  # people's pages change when general goes
    assert (out / ".hallway-building").exists()
    exclude_channel(data2, RESEARCH)
    publish_site(data2, out, base_url=BASE)
    fresh = tmp_path / "fresh"
    publish_site(data2, fresh, base_url=BASE)
    gone = archive_ids(data, f"SELECT id FROM messages WHERE channel_id = {RESEARCH}")
    got, want = _files(out), _files(fresh)
    # Pagefind writes its maps in no fixed order (so their hashed names differ from run to run): its
    # fragments (the text of each search page) are compared by content, its other files by count;
    # everything else by name and bytes
    index = {f for f in got if f.startswith("pagefind/")}
    assert sorted(set(got) - index) == sorted(f for f in want if not f.startswith("pagefind/"))
    assert [f for f in set(got) - index if got[f] != want[f]] == []
    fragments = [
        sorted(_plain(b) for f, b in files.items() if f.startswith("pagefind/fragment/"))
        for files in (got, want)
    ]
    assert fragments[0] == fragments[1] and len(fragments[0]) > 10
    assert len(index) == sum(1 for f in want if f.startswith("pagefind/"))
    assert [m for m in gone if (out / "m" / str(m)).exists()] == [] and gone
    assert not (out / ".hallway-building").exists()


@pytest.mark.timeout(300)
def test_a_split_publish_killed_while_its_parts_build_side_by_side_leaves_no_process_and_heals(
    sample_site: tuple[Path, Path, object], tmp_path: Path
) -> None:
    data, _, _ = sample_site
    data2 = tmp_path / "data"
    shutil.copytree(data, data2)
    out = tmp_path / "site"
    workers = _killed_publish(data2, out, "2022/c", "--split-by", "year", "--jobs", "2")
    assert len(workers) >= 1  # the parts' processes (and Pagefind's, if one had started)
    deadline = time.monotonic() + 1  # (they die at once, or within the watchdog's 0.25 s)
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.05)
    assert [p for p in workers if _alive(p)] == []  # none goes on writing into the folder
    exclude_channel(data2, RESEARCH)
    publish_site(data2, out, base_url=BASE, split_by="year", jobs=2)
    fresh = tmp_path / "fresh"
    publish_site(data2, fresh, base_url=BASE, split_by="year")
    got, want = _files(out), _files(fresh)
    ours = sorted(f for f in got if "/pagefind/" not in f"/{f}")
    assert ours == sorted(f for f in want if "/pagefind/" not in f"/{f}")
    assert [f for f in ours if got[f] != want[f]] == []
    gone = archive_ids(data, f"SELECT id FROM messages WHERE channel_id = {RESEARCH}")
    assert [m for m in gone if (out / "m" / str(m)).exists()] == [] and gone
    assert not (out / ".hallway-building").exists()
