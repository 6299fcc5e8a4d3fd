"""Crash safety: kill -9 `hallway ingest` / `hallway reindex` at random moments, rerun, compare with a clean run.

    python bench/crash_trials.py --trials 20 --size 20000

Each trial: a fresh data dir; start `hallway ingest CORPUS` (two generations of exports: the newer
one edits, deletes and adds messages); SIGKILL it after a random delay; rerun to completion (half the
trials also kill a `hallway reindex` and rerun it); then compare messages, revisions, tombstones,
provenance, exports, conversation links and the results of a fixed query set with a clean run.
0 lost, 0 duplicated is the pass mark. Results go to bench/out/crash.json and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _results import machine_info, record  # noqa: E402
from corpus import generate  # noqa: E402

QUERIES = ["model", "loss gradient", '"the model"', "from:user0001", "has:link", "is:reply training"]


def make_corpus(root: Path, messages: int, seed: int = 3) -> Path:
    """Two generations of exports: v1, and v2 where ~2% are edited, ~1% deleted and ~2% added."""
    v1 = root / "v1"
    generate(messages, v1, single=False, partition=max(500, messages // 20), seed=seed)
    rng = random.Random(seed)
    v2 = root / "v2"
    v2.mkdir()
    for path in sorted(v1.glob("*.json")):
        doc = orjson.loads(path.read_bytes())
        kept = []
        for m in doc["messages"]:
            r = rng.random()
            if r < 0.01:
                continue  # deleted in Discord before the second export
            if r < 0.03:
                m = dict(
                    m, content=m["content"] + " (edited)", timestampEdited="2030-01-01T00:00:00.000+00:00"
                )
            kept.append(m)
        if kept:
            last = int(kept[-1]["id"])
            for i in range(max(1, len(kept) // 50)):
                kept.append(dict(kept[-1], id=str(last + ((i + 1) << 22)), content=f"later message {i}"))
        doc["messages"] = kept
        doc["messageCount"] = len(kept)
        doc["exportedAt"] = "2031-01-01T00:00:00.0000000+00:00"
        (v2 / path.name).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return root


def hallway(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *args]


def snapshot(data: Path) -> dict[str, Any]:
    """Everything the archive promises, in a comparable form (plus fixed search results when indexed)."""
    conn = sqlite3.connect(f"file:{data / 'archive.sqlite'}?mode=ro", uri=True)
    q = conn.execute
    snap: dict[str, Any] = {
        "messages": q(
            "SELECT id, channel_id, author_id, type, content, edited_ts, deleted, redacted, pinned, reaction_count"
            " FROM messages ORDER BY id"
        ).fetchall(),
        "revisions": q("SELECT message_id, edited_ts, content FROM revisions ORDER BY 1, 2, 3").fetchall(),
        "provenance": q(
            "SELECT p.message_id, e.sha256 FROM provenance p JOIN exports e ON e.id = p.export_id ORDER BY 1, 2"
        ).fetchall(),
        "exports": q(
            "SELECT sha256, status, message_count, first_id, last_id FROM exports ORDER BY 1"
        ).fetchall(),
        "links": q("SELECT message_id, parent_id, conversation_id FROM links ORDER BY 1").fetchall(),
        "duplicates": q("SELECT count(*) - count(DISTINCT id) FROM messages").fetchone()[0],
    }
    conn.close()
    if (data / "index").exists():
        results = {}
        for query in QUERIES:
            out = subprocess.run(
                hallway("search", query, "--json", "--limit", "50", "--data-dir", str(data)),
                capture_output=True,
                timeout=120,
            )
            page = orjson.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr.decode()[-300:]}
            results[query] = (page.get("total"), [h["id"] for h in page.get("hits", [])])
        snap["search"] = results
    return snap


def compare(clean: dict[str, Any], got: dict[str, Any]) -> dict[str, int]:
    """Counts of what differs: lost and extra messages, and mismatching other parts."""
    clean_ids = {m[0] for m in clean["messages"]}
    got_ids = {m[0] for m in got["messages"]}
    diff = {
        "lost": len(clean_ids - got_ids),
        "extra": len(got_ids - clean_ids),
        "duplicated": got["duplicates"],
        "changed": len(set(clean["messages"]) ^ set(got["messages"])) // 2,
    }
    for key in ("revisions", "provenance", "exports", "links", "search"):
        if key in clean or key in got:
            diff[f"{key}_mismatch"] = int(clean.get(key) != got.get(key))
    return diff


def run_trial(
    corpus: Path, work: Path, rng: random.Random, clean_seconds: float, with_reindex: bool
) -> dict[str, Any]:
    """One kill -9 and rerun; return what happened and the comparison inputs."""
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    delay = rng.uniform(0.05, clean_seconds)
    proc = subprocess.Popen(
        hallway("ingest", str(corpus), "--data-dir", str(data), "--quiet"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = subprocess.run(
        hallway("ingest", str(corpus), "--data-dir", str(data), "--quiet"), capture_output=True, timeout=600
    )
    reindex_killed = False
    if with_reindex and rerun.returncode == 0:
        proc = subprocess.Popen(
            hallway("reindex", "--data-dir", str(data)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, max(0.1, clean_seconds / 2)))
        reindex_killed = proc.poll() is None
        if reindex_killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The next ingest (nothing new) must repair the index by itself; reindex is the explicit path.
        subprocess.run(
            hallway("ingest", str(corpus), "--data-dir", str(data), "--quiet"),
            capture_output=True,
            timeout=600,
        )
    return {
        "delay": round(delay, 3),
        "killed": killed,
        "rerun_exit": rerun.returncode,
        "rerun_stderr": rerun.stderr.decode()[-500:],
        "reindex_killed": reindex_killed,
        "data": data,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--size", type=int, default=20_000, help="messages in the first export generation")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hallway-crash-"))
    try:
        corpus = make_corpus(work / "corpus", args.size)
        started = time.perf_counter()
        subprocess.run(
            hallway("ingest", str(corpus), "--data-dir", str(work / "clean"), "--quiet"),
            check=True,
            capture_output=True,
        )
        clean_seconds = time.perf_counter() - started
        clean = snapshot(work / "clean")
        rng = random.Random(args.seed)
        trials = []
        for i in range(args.trials):
            t = run_trial(corpus, work / "trial", rng, clean_seconds, with_reindex=i % 2 == 1)
            diff = compare(clean, snapshot(t.pop("data")))
            trials.append({**t, **diff})
            print(
                f"trial {i + 1:2}: kill after {t['delay']:.2f}s killed={t['killed']} "
                f"reindex_killed={t['reindex_killed']} -> {diff}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bad = [
        t
        for t in trials
        if t["lost"]
        or t["extra"]
        or t["duplicated"]
        or t["changed"]
        or any(v for k, v in t.items() if k.endswith("_mismatch"))
    ]
    summary = {
        "trials": len(trials),
        "killed": sum(t["killed"] for t in trials),
        "reindex_killed": sum(t["reindex_killed"] for t in trials),
        "failed": len(bad),
        "messages": len(clean["messages"]),
        "clean_ingest_s": round(clean_seconds, 2),
        "results": trials,
        "machine": machine_info(),
    }
    lines = [
        f"{summary['trials']} trials ({summary['killed']} ingests and {summary['reindex_killed']} reindexes "
        f"killed mid-run), {summary['messages']} messages: {summary['failed']} differ from the clean run "
        "(lost, duplicated, changed, revisions, tombstones, provenance, links, search results)"
    ]
    print(lines[0])
    record("crash", summary, lines, " ".join(sys.argv), write_md=not args.no_record)
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
