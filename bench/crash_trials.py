"""Crash safety: kill -9 `hallway ingest` / `hallway reindex` / `hallway redact` / the policy purge at random
moments, rerun, compare with a clean run.

    python bench/crash_trials.py --trials 20 --size 20000
    python bench/crash_trials.py --trials 12 --size 5000 --kinds redact,purge

Redact and purge trials start from a fully ingested copy of the data dir. A redact trial kills
`hallway redact --user U --message M`; a purge trial kills `hallway ingest --policy P` while it purges what the
changed policy withholds. Right after the kill, before anything reruns, search must not find what the archive
already withholds (`leaked_after_kill`); then the command is rerun and the result compared with a clean redact.

Each trial: a fresh data dir; start `hallway ingest CORPUS` (two generations of exports: the newer
one edits, deletes and adds messages); SIGKILL it after a random delay; rerun to completion (half the
trials also kill a `hallway reindex` and rerun it); then compare messages, revisions, tombstones,
provenance, exports, conversation links and the results of a fixed query set with a clean run.
0 lost, 0 duplicated is the pass mark. Results go to bench/out/crash.json and bench/RESULTS.md.

Ingest kills are aimed at each stage in turn: while files are read (the index worker following), while
the index commits (the conversation worker running beside it), and while only conversations are left. A
kill waits for the line of the phase before its stage, then a random part of that stage's clean-run length. Each trial records the stage the kill landed in (from the lines
the killed command had printed) and the hallway processes alive at the kill; any of them still alive 5 s
later is an orphan, and any `*.tmp` or `build-*` left after the rerun is a stale temp file.
"""

from __future__ import annotations

import argparse
import random
import re
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
import psutil

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


STAGES = ("archive", "index", "conversations")
_PHASE_LINES = (  # the line each phase prints when it ends (pipeline/run.py), and its seconds
    ("archive", re.compile(r"^\d+ files?: .* in ([\d.]+)s$", re.M)),
    ("index", re.compile(r"^index: .*searchable after ([\d.]+)s$", re.M)),
    ("conversations", re.compile(r"^conversations: .* linked in ([\d.]+)s$", re.M)),
)


def phase_times(log: str) -> dict[str, float]:
    """Seconds since the start at which each phase ended, from an ingest's stderr."""
    return {name: float(m.group(1)) for name, rx in _PHASE_LINES if (m := rx.search(log))}


def stage_of(log: str, killed: bool) -> str:
    """The stage a kill landed in: the first phase whose end line had not been printed."""
    if not killed:
        return "finished"
    done = phase_times(log)
    return next((name for name in STAGES if name not in done), "checkpoint")


def _kind(p: psutil.Process) -> str:
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return "?"
    for key, name in (("index_worker", "index worker"), ("link_worker", "link worker"), ("spawn", "spawned")):
        if key in cmd:
            return name
    return "other"


def kill_tree(proc: subprocess.Popen[bytes]) -> tuple[list[str], int]:
    """SIGKILL the command (only it: its workers must notice by themselves); return the kinds of workers
    alive at that moment and how many of them are still alive 5 s later (orphans)."""
    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        kids = []
    kinds = sorted(_kind(k) for k in kids)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _gone, alive = psutil.wait_procs(kids, timeout=5)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:  # don't let one orphan spoil the next trials
        p.kill()
    return kinds, len(alive)


def stale_files(data: Path) -> list[str]:
    """Temp files and abandoned index builds left in the data dir."""
    left = [p for p in data.rglob("*.tmp")] + [p for p in (data / "index").glob("build-*")]
    return sorted(str(p.relative_to(data)) for p in left)


def aim(rng: random.Random, times: dict[str, float], stage: str, total: float) -> tuple[str | None, float]:
    """Where to kill for a stage: (the phase that must have ended first, or None) and a delay after that,
    within the stage's length in the clean run. Waiting for the previous phase's line, not for a time since
    the start, keeps the aim when the machine is slower than during the clean run."""
    before = {"archive": None, "index": "archive", "conversations": "index"}[stage]
    start = times.get(before, 0.0) if before else 0.0
    length = max(0.05, times.get(stage, total) - start)
    return before, rng.uniform(0.02, 0.9 * length)


def _wait_for_phase(log: Path, phase: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if phase in phase_times(log.read_text(errors="replace")):
            return
        time.sleep(0.005)


def run_trial(
    corpus: Path,
    work: Path,
    rng: random.Random,
    delay: float,
    with_reindex: bool,
    clean_seconds: float,
    after: str | None = None,
) -> dict[str, Any]:
    """One kill -9 (`delay` seconds after the start, or after phase `after` ended) and a rerun; return what
    happened and the comparison inputs."""
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "killed.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            hallway("ingest", str(corpus), "--data-dir", str(data)), stdout=subprocess.DEVNULL, stderr=err
        )
        if after is not None:
            _wait_for_phase(log, after, proc)
        time.sleep(delay)
        killed = proc.poll() is None
        workers, orphans = kill_tree(proc) if killed else ([], 0)
        proc.wait()
    stage = stage_of(log.read_text(errors="replace"), killed)
    rerun = subprocess.run(
        hallway("ingest", str(corpus), "--data-dir", str(data), "--quiet"), capture_output=True, timeout=600
    )
    stale = stale_files(data)
    reindex_killed = False
    if with_reindex and rerun.returncode == 0:
        proc = subprocess.Popen(
            hallway("reindex", "--data-dir", str(data)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, max(0.1, clean_seconds / 2)))
        reindex_killed = proc.poll() is None
        if reindex_killed:
            _kinds, more = kill_tree(proc)
            orphans += more
        proc.wait()
        # The next ingest (nothing new) must repair the index by itself; reindex is the explicit path.
        subprocess.run(
            hallway("ingest", str(corpus), "--data-dir", str(data), "--quiet"),
            capture_output=True,
            timeout=600,
        )
        stale += stale_files(data)
    return {
        "delay": round(delay, 3),
        "after": after,
        "killed": killed,
        "stage": stage,
        "workers_at_kill": workers,
        "orphans": orphans,
        "stale_files": stale,
        "rerun_exit": rerun.returncode,
        "rerun_stderr": rerun.stderr.decode()[-500:],
        "reindex_killed": reindex_killed,
        "data": data,
    }


WITHHELD_QUERIES = ["from:{uid}", "{word}"]


def _victim(clean: Path) -> tuple[int, int, str]:
    """A busy author to drop, one message of another author to take down, and a word of that message."""
    conn = sqlite3.connect(f"file:{clean / 'archive.sqlite'}?mode=ro", uri=True)
    try:
        uid = conn.execute(
            "SELECT author_id FROM messages GROUP BY author_id ORDER BY count(*) DESC LIMIT 1 OFFSET 3"
        ).fetchone()[0]
        mid, content = conn.execute(
            "SELECT id, content FROM messages WHERE author_id != ? AND length(content) > 20 ORDER BY id LIMIT 1"
            " OFFSET 100",
            (uid,),
        ).fetchone()
    finally:
        conn.close()
    word = max(content.split(), key=len).strip(".,!?()[]*_`'\"")
    return uid, mid, word


def _withheld_found(data: Path, uid: int, mid: int, word: str) -> tuple[int, bool, bool]:
    """Search hits for what the archive withholds right now (0 is the promise, even mid-purge); whether the
    archive had purged, and whether the index was behind it (the case only the readers' guard covers)."""
    conn = sqlite3.connect(f"file:{data / 'archive.sqlite'}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'withheld_generation'").fetchone()
        purged_at = int(row[0]) if row else 0
        redacted = conn.execute("SELECT redacted FROM messages WHERE id = ?", (mid,)).fetchone()
        dropped = conn.execute("SELECT count(*) FROM messages WHERE author_id = ?", (uid,)).fetchone()[0] == 0
    finally:
        conn.close()
    # This trial's purge committed when the victim is withheld; the index is behind when no version reflects it.
    states = [orjson.loads(p.read_bytes()) for p in (data / "index").glob("v*/hallway.json")]
    purged = dropped or bool(redacted and redacted[0])
    lagging = purged and all(st.get("generation", 0) < purged_at for st in states)
    found = 0
    for query, withheld in ((f"from:{uid}", dropped), (f'"{word}"', redacted is not None and redacted[0])):
        if not withheld:
            continue
        out = subprocess.run(
            hallway("search", query, "--json", "--limit", "100", "--data-dir", str(data)),
            capture_output=True,
            timeout=120,
        )
        if out.returncode == 0:
            hits = orjson.loads(out.stdout)["hits"]
            found += sum(1 for h in hits if query.startswith("from:") or h["id"] == mid)
    return found, purged, lagging


def run_redact_trial(
    ingested: Path,
    work: Path,
    rng: random.Random,
    seconds: float,
    kind: str,
    victim: tuple[int, int, str],
    corpus: Path,
) -> dict[str, Any]:
    """Kill `hallway redact` (kind=redact) or the purge of `hallway ingest --policy` (kind=purge), rerun it."""
    uid, mid, word = victim
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(ingested, data)
    if kind == "redact":
        cmd = hallway("redact", "--user", str(uid), "--message", str(mid), "--data-dir", str(data))
    else:
        policy = work / "policy.toml"
        policy.write_text(
            f'[users]\ndrop = ["{uid}"]\n[[takedown]]\nmessage = "{mid}"\nreason = "taken down"\n',
            encoding="utf-8",
        )
        # --force re-reads every export after the purge: the index stays behind the archive for that long.
        cmd = hallway(
            "ingest", str(corpus), "--force", "--policy", str(policy), "--data-dir", str(data), "-q"
        )
    delay = rng.uniform(0.05, seconds)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    killed = proc.poll() is None
    workers, orphans = kill_tree(proc) if killed else ([], 0)
    proc.wait()
    leaked, purged, lagging = _withheld_found(data, uid, mid, word)
    rerun = subprocess.run(cmd, capture_output=True, timeout=600)
    return {
        "kind": kind,
        "delay": round(delay, 3),
        "killed": killed,
        "stage": kind if killed else "finished",
        "workers_at_kill": workers,
        "orphans": orphans,
        "stale_files": stale_files(data),
        "leaked_after_kill": leaked,
        "archive_purged_at_kill": purged,
        "index_behind_at_kill": lagging,
        "rerun_exit": rerun.returncode,
        "rerun_stderr": rerun.stderr.decode()[-500:],
        "reindex_killed": False,
        "data": data,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--size", type=int, default=20_000, help="messages in the first export generation")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--kinds", default="ingest,redact,purge", help="trial kinds, taken in turn")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    work = Path(tempfile.mkdtemp(prefix="hallway-crash-"))
    try:
        corpus = make_corpus(work / "corpus", args.size)
        started = time.perf_counter()
        first = subprocess.run(
            hallway("ingest", str(corpus), "--data-dir", str(work / "clean")), check=True, capture_output=True
        )
        clean_seconds = time.perf_counter() - started
        times = phase_times(first.stderr.decode(errors="replace"))
        print(f"clean ingest: {clean_seconds:.1f}s, phases ended at {times}")
        clean = snapshot(work / "clean")
        redacted: dict[str, Any] = {}
        redact_seconds = 0.0
        victim = (0, 0, "")
        if {"redact", "purge"} & set(kinds):
            victim = _victim(work / "clean")
            shutil.copytree(work / "clean", work / "clean-redacted")
            started = time.perf_counter()
            subprocess.run(
                hallway("redact", "--user", str(victim[0]), "--message", str(victim[1]), "--data-dir",
                        str(work / "clean-redacted")),
                check=True, capture_output=True,
            )  # fmt: skip
            redact_seconds = time.perf_counter() - started
            redacted = snapshot(work / "clean-redacted")
        rng = random.Random(args.seed)
        trials = []
        for i in range(args.trials):
            kind = kinds[i % len(kinds)]
            if kind == "ingest":
                aimed = STAGES[(i // len(kinds)) % len(STAGES)]
                after, delay = aim(rng, times, aimed, clean_seconds)
                t = run_trial(
                    corpus,
                    work / "trial",
                    rng,
                    delay,
                    with_reindex=(i // len(kinds)) % 2 == 1,
                    clean_seconds=clean_seconds,
                    after=after,
                )
                t["aimed_at"] = aimed
                diff = compare(clean, snapshot(t.pop("data")))
                t["kind"] = "ingest"
            else:
                t = run_redact_trial(
                    work / "clean", work / "trial", rng, redact_seconds, kind, victim, corpus
                )
                diff = compare(redacted, snapshot(t.pop("data")))
            trials.append({**t, **diff})
            print(
                f"trial {i + 1:2} ({t['kind']}): kill {t['delay']:.2f}s after {t.get('after') or 'the start'}, in {t['stage']} "
                f"(workers {t['workers_at_kill']}) orphans={t['orphans']} stale={t['stale_files']} "
                f"reindex_killed={t['reindex_killed']} leaked_after_kill={t.get('leaked_after_kill', 0)} -> {diff}"
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
        or t.get("leaked_after_kill")
        or t["orphans"]
        or t["stale_files"]
        or t["rerun_exit"]
        or any(v for k, v in t.items() if k.endswith("_mismatch"))
    ]
    summary = {
        "trials": len(trials),
        "killed": sum(t["killed"] for t in trials),
        "by_kind": {k: sum(1 for t in trials if t["kind"] == k) for k in kinds},
        "redact_s": round(redact_seconds, 2),
        "index_behind_at_kill": sum(1 for t in trials if t.get("index_behind_at_kill")),
        "reindex_killed": sum(t["reindex_killed"] for t in trials),
        "by_stage": {
            st: sum(1 for t in trials if t["stage"] == st) for st in sorted({t["stage"] for t in trials})
        },
        "orphans": sum(t["orphans"] for t in trials),
        "stale_files": sum(len(t["stale_files"]) for t in trials),
        "failed": len(bad),
        "messages": len(clean["messages"]),
        "clean_ingest_s": round(clean_seconds, 2),
        "results": trials,
        "machine": machine_info(),
    }
    by_kind = ", ".join(f"{n} {k}" for k, n in summary["by_kind"].items())
    by_stage = ", ".join(f"{n} {k}" for k, n in summary["by_stage"].items())
    lines = [
        f"{summary['trials']} trials ({by_kind}; killed in: {by_stage}; {summary['killed']} killed mid-run, "
        f"{summary['reindex_killed']} "
        f"reindexes killed too; {summary['index_behind_at_kill']} killed with the archive purged and the index "
        f"behind it), {summary['messages']} messages: {summary['failed']} differ from the clean run "
        "(lost, duplicated, changed, revisions, tombstones, provenance, links, search results) or served "
        "withheld messages right after the kill, or exited non-zero on the rerun; "
        f"{summary['orphans']} orphaned processes, {summary['stale_files']} stale temp files"
    ]
    print(lines[0])
    record("crash", summary, lines, " ".join(sys.argv), write_md=not args.no_record)
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
