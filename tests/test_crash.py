"""kill -9 during ingest and reindex, rerun, and get exactly what a clean run gets (a few seeded trials;
bench/crash_trials.py runs more)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import crash_trials

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crash_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object], float]:
    root = tmp_path_factory.mktemp("crash")
    corpus = crash_trials.make_corpus(root / "corpus", 3000)
    started = time.perf_counter()
    subprocess.run(
        crash_trials.hallway("ingest", str(corpus), "--data-dir", str(root / "clean"), "--quiet"),
        check=True,
        capture_output=True,
        timeout=600,
    )
    return corpus, crash_trials.snapshot(root / "clean"), time.perf_counter() - started


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_kill_9_then_rerun_matches_clean_run(
    crash_setup: tuple[Path, dict[str, object], float], seed: int, tmp_path: Path
) -> None:
    corpus, clean, clean_seconds = crash_setup
    rng = random.Random(seed)
    delay = rng.uniform(0.05, clean_seconds)
    trial = crash_trials.run_trial(
        corpus, tmp_path, rng, delay, with_reindex=seed % 2 == 0, clean_seconds=clean_seconds
    )
    assert trial["rerun_exit"] == 0, trial["rerun_stderr"]
    assert (trial["orphans"], trial["stale_files"]) == (0, []), trial
    diff = crash_trials.compare(clean, crash_trials.snapshot(trial["data"]))
    assert diff == {k: 0 for k in diff}, (trial, diff)
    assert diff["lost"] == 0 and "links_mismatch" in diff


@pytest.fixture(scope="module")
def redact_setup(
    crash_setup: tuple[Path, dict[str, object], float], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, object], float, tuple[int, int, str], Path]:
    """A fully ingested data dir, and what a clean `hallway redact` of one user and one message makes of it."""
    corpus, _clean, _seconds = crash_setup
    root = tmp_path_factory.mktemp("redact")
    subprocess.run(
        crash_trials.hallway("ingest", str(corpus), "--data-dir", str(root / "ingested"), "--quiet"),
        check=True,
        capture_output=True,
        timeout=600,
    )
    victim = crash_trials._victim(root / "ingested")
    shutil.copytree(root / "ingested", root / "redacted")
    started = time.perf_counter()
    args = ["--user", str(victim[0]), "--message", str(victim[1]), "--data-dir", str(root / "redacted")]
    subprocess.run(crash_trials.hallway("redact", *args), check=True, capture_output=True, timeout=600)
    seconds = time.perf_counter() - started
    return root / "ingested", crash_trials.snapshot(root / "redacted"), seconds, victim, corpus


@pytest.mark.parametrize(("kind", "seed"), [("redact", 21), ("purge", 22)])
def test_kill_9_during_redact_or_purge_serves_nothing_withheld_and_rerun_matches(
    redact_setup: tuple[Path, dict[str, object], float, tuple[int, int, str], Path],
    kind: str,
    seed: int,
    tmp_path: Path,
) -> None:
    ingested, redacted, seconds, victim, corpus = redact_setup
    rng = random.Random(seed)
    trial = crash_trials.run_redact_trial(ingested, tmp_path, rng, seconds, kind, victim, corpus)
    assert trial["leaked_after_kill"] == 0, trial
    assert trial["rerun_exit"] == 0, trial["rerun_stderr"]
    assert (trial["orphans"], trial["stale_files"]) == (0, []), trial
    diff = crash_trials.compare(redacted, crash_trials.snapshot(trial["data"]))
    assert diff == {k: 0 for k in diff}, (trial, diff)
