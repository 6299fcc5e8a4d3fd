"""Digest and feed latency beside the search page: server time in process, same archive, interleaved rounds.

    python bench/digest_latency.py --size 1m --repeat 20
    python bench/digest_latency.py --size tiny --repeat 2 --no-record

Data dir: search_latency's `ensure_hallway(size)` (bench/out/data-<size>, ingested once and reused).
Requests go through the viewer's ASGI app in this process (Starlette's TestClient: routing, page builder,
template or JSON, no network), so the figures are server time. The viewer keeps the last digests of each
archive generation; the cache is emptied before every request, so each one builds its digest. Paths, each run once per round in a
rotated order after one warm-up round:
  digest 30d html / json / md   /digest?since=…&until=… over a 30-day window (a different window each round,
                                all inside the archive's busy span)
  digest 7d html                the same for a week
  build_digest 30d              the page builder alone (no rendering)
  feed channel / search / conv / digest   /c/{busiest}.atom, /search.atom?q=<word>, /conv/{id}.atom,
                                /digest.atom (the weekly digest: four digests of a week)
  search page                   /search?q=<word> (the page the issue compares with)
Prints p50/p95 wall time per path with its ratio to the search page, and the median CPU time of the process
per request (what a request costs when it has a core to itself: on a shared, loaded machine wall time
mostly measures waiting for one); the 30-day digest target is p50 <= 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from _results import machine_info, record  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from ingest_bench import ensure_corpus  # noqa: E402
from search_latency import ensure_hallway  # noqa: E402

import archive  # noqa: E402
from web.app import create_app  # noqa: E402
from web.digest import build_digest  # noqa: E402
from web.settings import Settings  # noqa: E402

TARGET_MS = 200.0
WORDS = ("model", "training", "loss", "data", "paper", "step")


def _windows(conn: Any, days: int, count: int, seed: int) -> list[tuple[date, date]]:
    """Windows of `days` days spread over the middle of the archive (where every channel is active)."""
    first, last = conn.execute("SELECT min(ts), max(ts) FROM messages").fetchone()
    lo = datetime.fromtimestamp(first / 1000, tz=UTC).date() + timedelta(days=30)
    hi = datetime.fromtimestamp(last / 1000, tz=UTC).date() - timedelta(days=days + 30)
    span = max((hi - lo).days, 1)
    rng = random.Random(seed)
    starts = [lo + timedelta(days=rng.randrange(span)) for _ in range(count)]
    return [(s, s + timedelta(days=days - 1)) for s in starts]


def _digest_url(fmt: str, window: tuple[date, date]) -> str:
    return f"/digest{fmt}?since={window[0]}&until={window[1]}"


def run(size: str, repeat: int, seed: int) -> dict[str, Any]:
    data = ensure_hallway(size, ensure_corpus(size, False))
    conn = archive.connect(data / archive.ARCHIVE_FILE, readonly=True)
    busiest = conn.execute(
        "SELECT channel_id FROM messages GROUP BY channel_id ORDER BY count(*) DESC LIMIT 1"
    )
    channel = busiest.fetchone()[0]
    conversation = conn.execute(
        "SELECT conversation_id FROM links GROUP BY conversation_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    month = _windows(conn, 30, repeat + 1, seed)
    week = _windows(conn, 7, repeat + 1, seed + 1)
    client = TestClient(create_app(Settings(data_dir=data, base_url="https://bench.example")))
    sample = build_digest(conn, *month[0])
    paths: dict[str, Any] = {
        "search page": lambda n: f"/search?q={WORDS[n % len(WORDS)]}",
        "digest 30d html": lambda n: _digest_url("", month[n]),
        "digest 30d json": lambda n: _digest_url(".json", month[n]),
        "digest 30d md": lambda n: _digest_url(".md", month[n]),
        "digest 7d html": lambda n: _digest_url("", week[n]),
        "build_digest 30d": None,
        "feed channel": lambda n: f"/c/{channel}.atom",
        "feed search": lambda n: f"/search.atom?q={WORDS[n % len(WORDS)]}",
        "feed conversation": lambda n: f"/conv/{conversation}.atom",
        "feed digest": lambda n: "/digest.atom",
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    for n in range(repeat + 1):  # round 0 warms up
        order = names[n % len(names) :] + names[: n % len(names)]
        for name in order:
            make = paths[name]
            client.app.state.digests.clear()  # type: ignore[attr-defined]  # every request builds its digest
            t, c = time.perf_counter(), time.process_time()
            if make is None:
                build_digest(conn, *month[n])
            else:
                r = client.get(make(n))
                assert r.status_code == 200, (name, r.status_code, r.text[:200])
            if n:
                times[name].append((time.perf_counter() - t) * 1000)
                cpu[name].append((time.process_time() - c) * 1000)
    conn.close()
    base = statistics.median(times["search page"])
    rows = {
        name: {
            "p50_ms": round(statistics.median(ts), 1),
            "p95_ms": round(sorted(ts)[max(0, int(len(ts) * 0.95) - 1)], 1),
            "vs_search_page": round(statistics.median(ts) / base, 1) if base else None,
            "cpu_p50_ms": round(statistics.median(cpu[name]), 1),
        }
        for name, ts in times.items()
    }
    return {
        "size": size,
        "repeat": repeat,
        "messages": sample["total_messages"],
        "window_example": {"since": sample["since"], "until": sample["until"],
                           "messages": sample["total_messages"], "conversations": sample["total_conversations"]},
        "paths": rows,
        "target_ms": TARGET_MS,
        "load_average": round(os.getloadavg()[0], 1),
        "machine": machine_info(),
    }  # fmt: skip


def table(summary: dict[str, Any]) -> list[str]:
    w = summary["window_example"]
    lines = [
        f"digest and feed latency, {summary['size']}: server time in process, {summary['repeat']} interleaved rounds;"
        f" a 30-day window holds e.g. {w['messages']:,} messages in {w['conversations']:,} conversations",
        f"{'path':<22}{'p50 ms':>10}{'p95 ms':>10}{'x search page':>16}{'CPU p50 ms':>12}",
    ]
    for name, r in summary["paths"].items():
        lines.append(
            f"{name:<22}{r['p50_ms']:>10.1f}{r['p95_ms']:>10.1f}{r['vs_search_page']:>16}{r['cpu_p50_ms']:>12.1f}"
        )
    page = summary["paths"]["digest 30d html"]
    verdict = "met" if page["p50_ms"] <= summary["target_ms"] else "NOT met"
    lines.append(
        f"30-day digest page p50 {page['p50_ms']} ms wall ({page['cpu_p50_ms']} ms CPU; load average"
        f" {summary['load_average']}): target <= {summary['target_ms']:.0f} ms {verdict} on wall time"
    )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100k", help="tiny, 10k, 100k or 1m (ingest_bench's corpora)")
    ap.add_argument("--repeat", type=int, default=20, help="measured rounds (after one warm-up)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--no-record", action="store_true", help="don't append to bench/RESULTS.md")
    args = ap.parse_args()
    summary = run(args.size, args.repeat, args.seed)
    lines = table(summary)
    print("\n".join(lines))
    command = f"bench/digest_latency.py --size {args.size} --repeat {args.repeat}"
    record(f"digest-{args.size}", summary, lines, command, write_md=not args.no_record)


if __name__ == "__main__":
    main()
