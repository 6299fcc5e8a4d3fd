"""Load while writing: search and permalink traffic against `hallway serve` while `hallway ingest` adds new
exports and then `hallway reindex` rebuilds the whole index, on the same data dir.

Loopback only (127.0.0.1), bounded in time (--duration, extended at most to --max-seconds while the writer
still runs) and in count (--max-requests); it stops by itself. The load generator is a small Python client
(threads + httpx keep-alive connections), so every request's status and latency are recorded: a failed
request is any non-200 answer or transport error. Prints a table, writes bench/out/load-while-writing.json
and appends a section to bench/RESULTS.md.

    python bench/load_while_writing.py --duration 20
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench._results import machine_info, record  # noqa: E402
from bench.corpus import generate  # noqa: E402

QUERIES = [
    "the", "install", "error", "ubuntu", "package", "kernel driver", '"does not"', "sudo apt", "grub*",
    "network~1", "help -windows", "sort newest", "update OR upgrade", "file has:link", "boot*",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *args]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Load:
    """Worker threads that alternate search and permalink requests until told to stop or the cap is hit."""

    def __init__(self, base: str, ids: list[int], threads: int, max_requests: int) -> None:
        self.base = base
        self.ids = ids
        self.threads = threads
        self.max_requests = max_requests
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples: list[tuple[float, str, float, int]] = []  # (start offset, kind, seconds, status)
        self.errors: list[str] = []
        self.t0 = 0.0

    def _worker(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.base, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                with self.lock:
                    if len(self.samples) >= self.max_requests:
                        return
                if n % 2 == 0:
                    kind, path = "search", f"/search?q={rng.choice(QUERIES)}"
                else:
                    kind = "permalink"
                    path = f"/m/{rng.choice(self.ids)}" + (".json" if n % 4 == 1 else "")
                n += 1
                started = time.perf_counter()
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError as e:
                    status = 0
                    with self.lock:
                        self.errors.append(f"{path}: {e!r}")
                seconds = time.perf_counter() - started
                with self.lock:
                    self.samples.append((started - self.t0, kind, seconds, status))
                    if status != 200 and status != 0:
                        self.errors.append(f"{path}: HTTP {status}")

    def start(self) -> list[threading.Thread]:
        self.t0 = time.perf_counter()
        workers = [threading.Thread(target=self._worker, args=(i,), daemon=True) for i in range(self.threads)]
        for w in workers:
            w.start()
        return workers


def summarize(
    samples: list[tuple[float, str, float, int]], label: str, lo: float, hi: float
) -> dict[str, Any]:
    """Figures for the requests that started in [lo, hi)."""
    chosen = [s for s in samples if lo <= s[0] < hi]
    lat = [s[2] * 1000 for s in chosen]
    span = max(hi - lo, 1e-9)
    return {
        "phase": label,
        "seconds": round(span, 2),
        "requests": len(chosen),
        "failed": sum(1 for s in chosen if s[3] != 200),
        "rps": round(len(chosen) / span, 1),
        "p50_ms": round(percentile(lat, 50), 1),
        "p95_ms": round(percentile(lat, 95), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(max(lat, default=0.0), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load (at least)")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="hard stop for the load")
    ap.add_argument("--max-requests", type=int, default=50_000)
    ap.add_argument("--threads", type=int, default=4, help="client threads (keep-alive connections)")
    ap.add_argument("--base", type=int, default=20_000, help="messages ingested before the load")
    ap.add_argument("--new", type=int, default=10_000, help="messages ingested during the load")
    ap.add_argument("--no-md", action="store_true", help="don't append to bench/RESULTS.md")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="hallway-lww-") as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        print(f"generating {args.base:,} + {args.new:,} messages ...", flush=True)
        generate(args.base, tmp / "base", single=False, partition=0, seed=7)
        generate(args.new, tmp / "new", single=False, partition=0, seed=8)
        subprocess.run(
            cli("ingest", str(tmp / "base"), "--data-dir", str(data), "-q"), check=True, timeout=600
        )
        conn = sqlite3.connect(f"file:{data / 'archive.sqlite'}?mode=ro", uri=True)
        ids = [r[0] for r in conn.execute("SELECT id FROM messages ORDER BY random() LIMIT 2000")]
        base_count = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        conn.close()

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            cli("serve", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("hallway serve did not come up") from None
                    time.sleep(0.2)

            load = Load(url, ids, args.threads, args.max_requests)
            workers = load.start()
            marks: dict[str, float] = {}
            time.sleep(1.0)  # a moment of load before the writer starts
            marks["ingest_start"] = time.perf_counter() - load.t0
            ingest = subprocess.run(
                cli("ingest", str(tmp / "new"), "--data-dir", str(data), "-q"), capture_output=True, text=True,
                timeout=args.max_seconds,
            )  # fmt: skip
            marks["ingest_end"] = marks["reindex_start"] = time.perf_counter() - load.t0
            reindex = subprocess.run(
                cli("reindex", "--data-dir", str(data)),
                capture_output=True,
                text=True,
                timeout=args.max_seconds,
            )
            marks["reindex_end"] = time.perf_counter() - load.t0
            end = max(args.duration, marks["reindex_end"] + 1.0)
            end = min(end, args.max_seconds)
            while time.perf_counter() - load.t0 < end and any(w.is_alive() for w in workers):
                time.sleep(0.1)
            load.stop.set()
            for w in workers:
                w.join(timeout=35)
            total_s = time.perf_counter() - load.t0
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        conn = sqlite3.connect(f"file:{data / 'archive.sqlite'}?mode=ro", uri=True)
        final_count = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        conn.close()

    if ingest.returncode or reindex.returncode:
        print(ingest.stderr[-2000:], reindex.stderr[-2000:])
    samples = load.samples
    phases = [
        summarize(samples, "before writing", 0.0, marks["ingest_start"]),
        summarize(samples, "during ingest", marks["ingest_start"], marks["ingest_end"]),
        summarize(samples, "during reindex", marks["reindex_start"], marks["reindex_end"]),
        summarize(samples, "after writing", marks["reindex_end"], total_s + 1),
        summarize(samples, "all", 0.0, total_s + 1),
    ]
    by_kind = [
        summarize([s for s in samples if s[1] == kind], kind, 0.0, total_s + 1)
        for kind in ("search", "permalink")
    ]
    header = f"{'phase':<16} {'secs':>6} {'requests':>9} {'failed':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    table = [header]
    for row in phases + by_kind:
        table.append(
            f"{row['phase']:<16} {row['seconds']:>6} {row['requests']:>9,} {row['failed']:>7} {row['rps']:>8} "
            f"{row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8} {row['max_ms']:>8}"
        )
    table.append(
        f"writer: ingest {args.new:,} new messages {marks['ingest_end'] - marks['ingest_start']:.1f}s "
        f"(exit {ingest.returncode}), full reindex {marks['reindex_end'] - marks['reindex_start']:.1f}s "
        f"(exit {reindex.returncode}); archive {base_count:,} -> {final_count:,} messages; "
        f"{args.threads} client threads, loopback, 1 server worker"
    )
    print("\n".join(table))
    for e in load.errors[:10]:
        print("error:", e)
    summary = {
        "machine": machine_info(),
        "args": vars(args),
        "phases": phases,
        "by_kind": by_kind,
        "marks": {k: round(v, 2) for k, v in marks.items()},
        "ingest_exit": ingest.returncode,
        "reindex_exit": reindex.returncode,
        "messages_before": base_count,
        "messages_after": final_count,
        "errors": load.errors[:50],
    }
    command = f"python bench/load_while_writing.py --duration {args.duration:g}"
    record("load-while-writing", summary, table, command, write_md=not args.no_md)
    if load.errors or ingest.returncode or reindex.returncode:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
