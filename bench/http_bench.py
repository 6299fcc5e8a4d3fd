"""HTTP throughput of `hallway serve`: the search page and message permalinks under a bounded load.

    python bench/http_bench.py --size 1m --duration 20
    python bench/http_bench.py --size tiny --duration 2 --no-record

Serves bench/out/data-<size>/ (the search bench's data dir, ingested from ingest_bench's corpus when
missing) with `hallway serve --workers N` for each N of --workers, side by side and interleaved (the
order rotates each round). Each run is a fixed-duration closed-loop load from 127.0.0.1 on
`/search?q=…` (rotating queries of every class from the search bench, a few of them deep pages) and on
`/m/<id>` (rotating permalinks), with --connections keep-alive connections. Load generator: wrk when
installed (one thread, a Lua script rotating the paths, wrk's latency percentiles), else a Python one
(threads + http.client keep-alive); either stops by itself after --duration (and --max-requests for the
Python one). Reports req/s, p50/p99 and non-2xx/errors per run, medians over --rounds; writes
bench/out/http-<size>.json and (unless --no-record) a section in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from _results import machine_info, record  # noqa: E402
from ingest_bench import ensure_corpus  # noqa: E402
from search_latency import ensure_hallway, make_queries  # noqa: E402

HOST = "127.0.0.1"
PAGE_SIZE = 50  # the viewer's page size: page 21 starts at result 1000
SCENARIOS = ("search", "permalink")

LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def search_paths(data: Path, seed: int) -> list[str]:
    paths = []
    for q in make_queries(data / "archive.sqlite", per_class=6, seed=seed):
        if q.cls == "facets":  # the page always has facets: this class is "1 word" again
            continue
        params: dict[str, Any] = {"q": q.text}
        if q.offset:
            params["page"] = q.offset // PAGE_SIZE + 1
        paths.append("/search?" + urlencode(params))
    random.Random(seed).shuffle(paths)
    return paths


def permalink_paths(data: Path, seed: int, n: int = 400) -> list[str]:
    rng = random.Random(seed)
    db = sqlite3.connect(f"file:{data / 'archive.sqlite'}?mode=ro", uri=True)
    lo, hi = db.execute("SELECT min(id), max(id) FROM messages").fetchone()
    ids = set()
    for _ in range(n):
        row = db.execute(
            "SELECT id FROM messages WHERE id >= ? AND deleted = 0 ORDER BY id LIMIT 1",
            (rng.randint(lo, hi),),
        ).fetchone()
        if row:
            ids.add(row[0])
    db.close()
    return [f"/m/{i}" for i in sorted(ids)]


# -- the server -------------------------------------------------------------------------------------


class Server:
    """`hallway serve` in its own process group, so stopping it stops its workers too."""

    def __init__(self, data: Path, workers: int) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        cmd = [
            sys.executable,
            str(ROOT / "cli.py"),
            "serve",
            "--data-dir",
            str(data),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(workers),
        ]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(self.port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                self.log.seek(0)
                raise SystemExit(f"hallway serve did not come up:\n{self.log.read().decode()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.log.close()


def get(port: int, path: str, timeout: float = 10) -> tuple[int, int]:
    """One GET on a fresh connection: (status, body bytes)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, len(resp.read())
    finally:
        conn.close()


# -- the load generators ----------------------------------------------------------------------------


def load_wrk(port: int, paths: list[str], connections: int, duration: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths))
        script = fh.name
    try:
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s"]
        cmd += ["--latency", "-s", script, f"http://{HOST}:{port}/"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    finally:
        os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    requests, micros, connect, read, write, status, timeout, p50, p99, mx = map(int, line.split()[1:])
    return {
        "requests": requests,
        "rps": requests / (micros / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "max_ms": mx / 1000,
        "non_2xx": status,
        "errors": connect + read + write + timeout,
    }


def load_python(
    port: int, paths: list[str], connections: int, duration: float, max_requests: int
) -> dict[str, Any]:
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"non_2xx": 0, "errors": 0}
    stop_at = time.perf_counter() + duration

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        i = k * 7919
        mine: list[float] = []
        bad = err = 0
        while time.perf_counter() < stop_at:
            with lock:
                if len(latencies) + len(mine) >= max_requests:
                    break
            path = paths[i % len(paths)]
            i += 1
            t = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if not 200 <= resp.status < 300:
                    bad += 1
            except (OSError, http.client.HTTPException):
                err += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=10)
                continue
            mine.append((time.perf_counter() - t) * 1000)
            if len(mine) >= 256:
                with lock:
                    latencies.extend(mine)
                mine = []
        conn.close()
        with lock:
            latencies.extend(mine)
            counts["non_2xx"] += bad
            counts["errors"] += err

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 30)
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies) + counts["errors"],
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "max_ms": max(latencies, default=0.0),
        **counts,
    }


# -- the driver -------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100k", help="tiny, 10k, 100k or 1m (ingest_bench's corpora)")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load per run")
    ap.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server worker counts to compare")
    ap.add_argument(
        "--rounds", type=int, default=1, help="runs per (workers, scenario), interleaved; medians"
    )
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    ap.add_argument("--max-requests", type=int, default=500_000, help="cap per run (Python client)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--no-record", action="store_true", help="don't append to bench/RESULTS.md")
    args = ap.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk), or use --client python")

    data = ensure_hallway(args.size, ensure_corpus(args.size, False))
    paths = {"search": search_paths(data, args.seed), "permalink": permalink_paths(data, args.seed)}
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {(s, w): [] for s in SCENARIOS for w in args.workers}
    warm_bad: dict[str, int] = {}

    def load(port: int, scenario: str, duration: float) -> dict[str, Any]:
        if client == "wrk":
            return load_wrk(port, paths[scenario], args.connections, duration)
        return load_python(port, paths[scenario], args.connections, duration, args.max_requests)

    for rnd in range(args.rounds):
        shift = rnd % len(args.workers)
        for w in args.workers[shift:] + args.workers[:shift]:
            server = Server(data, w)
            try:
                for scenario in SCENARIOS:  # check the answers, then warm up with a short unrecorded load
                    for p in paths[scenario][:60]:
                        status, _ = get(server.port, p, timeout=60)
                        if status != 200:
                            warm_bad[p] = status
                    load(server.port, scenario, min(2.0, args.duration / 4))
                order = SCENARIOS if rnd % 2 == 0 else SCENARIOS[::-1]
                for scenario in order:
                    runs[(scenario, w)].append(load(server.port, scenario, args.duration))
            finally:
                server.stop()

    rows = []
    for scenario in SCENARIOS:
        for w in args.workers:
            rs = runs[(scenario, w)]
            rows.append(
                {
                    "scenario": scenario,
                    "workers": w,
                    "rps": round(statistics.median(r["rps"] for r in rs), 1),
                    "p50_ms": round(statistics.median(r["p50_ms"] for r in rs), 2),
                    "p99_ms": round(statistics.median(r["p99_ms"] for r in rs), 2),
                    "max_ms": round(max(r["max_ms"] for r in rs), 1),
                    "requests": sum(r["requests"] for r in rs),
                    "non_2xx": sum(r["non_2xx"] for r in rs),
                    "errors": sum(r["errors"] for r in rs),
                }
            )
    lines = [
        f"http bench, {args.size}: {client}, {args.connections} connections, {args.duration:g} s per run,"
        f" {args.rounds} round(s), 127.0.0.1; {len(paths['search'])} search paths, "
        f"{len(paths['permalink'])} permalinks",
        f"{'scenario':<10} {'workers':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f" {'requests':>9} {'non-2xx':>8} {'errors':>7}",
    ]
    lines += [
        f"{r['scenario']:<10} {r['workers']:>7} {r['rps']:>8.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}"
        f" {r['max_ms']:>8.1f} {r['requests']:>9} {r['non_2xx']:>8} {r['errors']:>7}"
        for r in rows
    ]
    if len(args.workers) > 1:
        lo, hi = min(args.workers), max(args.workers)
        by = {(r["scenario"], r["workers"]): r["rps"] for r in rows}
        lines.append(
            f"req/s ratio {hi} workers / {lo}: "
            + ", ".join(f"{s} {by[(s, hi)] / max(by[(s, lo)], 1e-9):.2f}x" for s in SCENARIOS)
        )
    if warm_bad:
        lines.append(
            f"non-200 answers while warming up: {len(warm_bad)} paths, e.g. {next(iter(warm_bad.items()))}"
        )
    lines.append(
        "target (1m): search page >= 300 req/s, p99 <= 50 ms, 0 errors; load generator shares the 2 cores"
    )
    print("\n".join(lines))
    summary = {
        "size": args.size,
        "client": client,
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "rows": rows,
        "runs": {f"{s}/{w}": rs for (s, w), rs in runs.items()},
        "warmup_non_200": warm_bad,
        "search_paths": paths["search"],
        "machine": machine_info(),
    }
    record(f"http-{args.size}", summary, lines, " ".join(sys.argv), write_md=not args.no_record)


if __name__ == "__main__":
    main()
