"""Search latency: Hallway against tantivy alone and SQLite FTS5 (bm25), same corpus, same queries, one run.

    python bench/search_latency.py --size 1m --repeat 20
    python bench/search_latency.py --size tiny --repeat 2 --no-record

Corpus: `ensure_corpus(size)` from ingest_bench (bench/corpus/<size>, the ingest bench's corpus).
Indexes, cached under bench/out/ and reused by later runs:
  hallway   bench/out/data-<size>/ (`hallway ingest`; re-running it on a complete archive is a no-op)
  tantivy   bench/out/baselines-<size>/raw: ingest_bench's raw index (id, channel_id, author_id, ts, content
            en_stem, author); queried with `index.parse_query` + Query objects, `searcher.search` with count,
            top 20 by score (or by id when there is no text), stored-doc fetch (its content is not stored, so
            no snippets); facets with `searcher.aggregate` (terms on channel/author ids, histogram on ts)
  fts5      bench/out/baselines-<size>/fts5.sqlite: ingest_bench's FTS5 database plus b-tree indexes on
            channel_id, author_id and ts for the filters; MATCH + ORDER BY bm25() LIMIT 20 with snippet(),
            count(*), plain SQL for filters and date ranges, facets with GROUP BY over the matches
Hallway: `indexer.search` (parse + search + count + snippets), once without and once with facets.

Queries come from a seeded sample of the archive's messages (common and rare words, phrases, people,
channels, date ranges), so all three engines see the same queries. Every round runs every query on every
engine, interleaved (engine order rotates), after one warm-up round. Prints p50/p95/p99 per query class
and engine, with ratios; writes bench/out/search-<size>.json and (unless --no-record) bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import tantivy  # noqa: E402
from _results import machine_info, record  # noqa: E402
from ingest_bench import ensure_corpus  # noqa: E402

import indexer  # noqa: E402

CLASSES = (
    "1 word",
    "2 words",
    "phrase",
    "filter only",
    "word + dates",
    "from: + word",
    "facets",
    "deep page",
)
ENGINES = ("hallway", "hallway+facets", "tantivy", "fts5")
LIMIT = 20
DEEP_OFFSET = 1000
DAY_MS = 86_400_000
MONTH_MS = 2_629_746_000
_WORD = re.compile(r"[A-Za-z]+")
_SKIP = {"and", "or", "not", "near"}  # query-language operators in one engine or another


# -- the data dirs ----------------------------------------------------------------------------------


def corpus_key(corpus: Path) -> str:
    files = sorted(corpus.glob("*.json"))
    return f"{len(files)} files, {sum(p.stat().st_size for p in files)} bytes"


def ensure_hallway(size: str, corpus: Path) -> Path:
    """bench/out/data-<size>: ingested once; `hallway ingest` again is a quick no-op when complete."""
    data = HERE / "out" / f"data-{size}"
    marker = data / ".bench-ready"
    key = corpus_key(corpus)
    if marker.exists() and marker.read_text() == key and (data / "index" / "CURRENT").exists():
        return data
    t = time.perf_counter()
    cmd = [sys.executable, str(ROOT / "cli.py"), "ingest", str(corpus), "--data-dir", str(data), "--quiet"]
    subprocess.run(cmd, check=True)
    marker.write_text(key)
    print(f"hallway ingest of {corpus.name} into {data}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return data


def ensure_baselines(size: str, corpus: Path) -> tuple[Path, Path]:
    """bench/out/baselines-<size>/{raw, fts5.sqlite}, built by ingest_bench's baseline functions."""
    base = HERE / "out" / f"baselines-{size}"
    raw, fts = base / "raw", base / "fts5.sqlite"
    marker = base / ".done"
    key = corpus_key(corpus)
    if marker.exists() and marker.read_text() == key:
        return raw, fts
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    t = time.perf_counter()
    for name, out in (("raw", raw), ("fts5", fts)):
        cmd = [sys.executable, str(HERE / "ingest_bench.py"), "--baseline", name, str(corpus), str(out)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(fts)
    with db:  # what anyone filtering in plain SQL adds
        db.execute("CREATE INDEX IF NOT EXISTS messages_channel ON messages (channel_id)")
        db.execute("CREATE INDEX IF NOT EXISTS messages_author ON messages (author_id)")
        db.execute("CREATE INDEX IF NOT EXISTS messages_ts ON messages (ts)")
    db.execute("ANALYZE")
    db.close()
    marker.write_text(key)
    print(f"baselines built in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return raw, fts


# -- the queries ------------------------------------------------------------------------------------


@dataclass
class Query:
    """One query, spelled for each engine from the same parts."""

    cls: str
    text: str  # Hallway's search box
    words: list[str]
    phrase: bool = False
    author_id: int | None = None
    channel_id: int | None = None
    ts_range: tuple[int, int] | None = None  # [lo, hi) Unix ms
    offset: int = 0
    facets: bool = False


def iso(ms: int) -> str:
    """The corpus's timestamp format (what the FTS5 table stores)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def _usable(w: str) -> bool:
    return 3 <= len(w) <= 15 and w not in _SKIP


def make_queries(archive_db: Path, per_class: int = 8, seed: int = 11, sample: int = 4000) -> list[Query]:
    """Queries for every class, drawn from a seeded sample of the archive's live messages."""
    rng = random.Random(seed)
    db = sqlite3.connect(f"file:{archive_db}?mode=ro", uri=True)
    lo, hi = db.execute("SELECT min(id), max(id) FROM messages").fetchone()
    users = dict(db.execute("SELECT id, name FROM users").fetchall())
    channels = dict(db.execute("SELECT id, name FROM channels").fetchall())
    rows: list[tuple[int, int, int, str]] = []
    for _ in range(sample):
        row = db.execute(
            "SELECT channel_id, author_id, ts, content FROM messages WHERE id >= ? AND deleted = 0"
            " AND content IS NOT NULL ORDER BY id LIMIT 1",
            (rng.randint(lo, hi),),
        ).fetchone()
        if row:
            rows.append(row)
    db.close()
    df: Counter[str] = Counter()
    for _c, _a, _t, content in rows:
        df.update({w for w in words_of(content) if _usable(w)})
    ranked = [w for w, _ in df.most_common()]
    common = ranked[:40]
    rare = sorted(w for w, n in df.items() if n == 1) or ranked[-40:]
    frequent = set(ranked[:2000])
    pairs: Counter[tuple[str, str]] = Counter()
    for *_x, content in rows:
        ws = words_of(content)
        pairs.update(
            (a, b) for a, b in pairwise(ws) if a != b and {a, b} <= frequent and _usable(a) and _usable(b)
        )
    phrases = [p for p, n in pairs.most_common() if n >= 2][:200] or list(pairs)[:200]
    author_counts = Counter(a for _c, a, _t, _x in rows if a in users)
    authors = [a for a, _ in author_counts.most_common(30)]
    channel_counts = Counter(c for c, _a, _t, _x in rows if c in channels)
    chans = [c for c, _ in channel_counts.most_common()]
    by_author: dict[int, list[str]] = {}
    for _c, a, _t, content in rows:
        by_author.setdefault(a, []).extend(w for w in words_of(content) if _usable(w))
    ts_lo = min(t for _c, _a, t, _x in rows)
    ts_hi = max(t for _c, _a, t, _x in rows)

    def word(i: int) -> str:
        return rng.choice(common) if i % 2 == 0 else rng.choice(rare)

    out: list[Query] = []
    for i in range(per_class):
        w = word(i)
        out.append(Query("1 word", w, [w]))
        _c, _a, _t, content = rng.choice(rows)
        ws = [x for x in dict.fromkeys(words_of(content)) if _usable(x)] or [common[0], common[1]]
        a, b = rng.sample(ws, 2) if len(ws) >= 2 else (ws[0], rng.choice(common))
        out.append(Query("2 words", f"{a} {b}", [a, b]))
        p = rng.choice(phrases)
        out.append(Query("phrase", f'"{p[0]} {p[1]}"', list(p), phrase=True))
        if i % 2 == 0:
            c = chans[(i // 2) % len(chans)]
            out.append(Query("filter only", f"in:{channels[c]}", [], channel_id=c))
        else:
            a_id = authors[(i // 2) % len(authors)]
            out.append(Query("filter only", f"from:{users[a_id]}", [], author_id=a_id))
        w = word(i + 1)
        start = rng.randint(ts_lo // DAY_MS, max(ts_lo // DAY_MS, ts_hi // DAY_MS - 30)) * DAY_MS
        end = start + rng.randint(14, 180) * DAY_MS
        # after:D is "after day D" (from D + 1 day), before:D is "before day D".
        out.append(
            Query(
                "word + dates",
                f"{w} after:{day(start - DAY_MS)} before:{day(end)}",
                [w],
                ts_range=(start, end),
            )
        )
        a_id = authors[i % len(authors)]
        w = rng.choice(by_author.get(a_id) or common)
        out.append(Query("from: + word", f"from:{users[a_id]} {w}", [w], author_id=a_id))
        w = word(i)
        out.append(Query("facets", w, [w], facets=True))
        w = common[i % len(common)]
        out.append(Query("deep page", w, [w], offset=DEEP_OFFSET))
    return out


# -- the engines ------------------------------------------------------------------------------------


class Hallway:
    def __init__(self, data: Path) -> None:
        self.index = indexer.open_index(data)

    def run(self, q: Query, facets: bool) -> int:
        page = indexer.search(self.index, q.text, limit=LIMIT, offset=q.offset, facets=facets)
        return page.total


class TantivyAlone:
    def __init__(self, path: Path) -> None:
        self.index = tantivy.Index.open(str(path))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def build(self, q: Query) -> tantivy.Query:
        must: list[tantivy.Query] = []
        if q.words:
            text = f'"{" ".join(q.words)}"' if q.phrase else " ".join(f"+{w}" for w in q.words)
            must.append(self.index.parse_query(text, ["content"]))
        if q.author_id is not None:
            must.append(tantivy.Query.term_query(self.schema, "author_id", q.author_id))
        if q.channel_id is not None:
            must.append(tantivy.Query.term_query(self.schema, "channel_id", q.channel_id))
        if q.ts_range is not None:
            must.append(
                tantivy.Query.range_query(
                    self.schema, "ts", tantivy.FieldType.Integer, q.ts_range[0], q.ts_range[1], True, False
                )
            )
        if len(must) == 1:
            return must[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, m) for m in must])

    def run(self, q: Query) -> int:
        s = self.searcher
        query = self.build(q)
        if q.words:
            res = s.search(query, LIMIT, count=True, offset=q.offset)
        else:
            res = s.search(query, LIMIT, count=True, order_by_field="id", offset=q.offset)
        ids = [s.doc(addr).get_first("id") for _k, addr in res.hits]
        assert len(ids) == len(res.hits)
        if q.facets:
            s.aggregate(
                query,
                {
                    "channels": {"terms": {"field": "channel_id", "size": 10}},
                    "authors": {"terms": {"field": "author_id", "size": 10}},
                    "months": {"histogram": {"field": "ts", "interval": MONTH_MS}},
                },
            )
        return int(res.count or 0)


class Fts5:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("CREATE TEMP TABLE facet_hits (id INTEGER PRIMARY KEY)")

    @staticmethod
    def where(q: Query) -> tuple[str, list[Any]]:
        clauses, args = [], []
        if q.author_id is not None:
            clauses.append("m.author_id = ?")
            args.append(q.author_id)
        if q.channel_id is not None:
            clauses.append("m.channel_id = ?")
            args.append(q.channel_id)
        if q.ts_range is not None:
            clauses.append("m.ts >= ? AND m.ts < ?")
            args += [iso(q.ts_range[0]), iso(q.ts_range[1])]
        return " AND ".join(clauses), args

    def run(self, q: Query) -> int:
        db = self.db
        where, args = self.where(q)
        if not q.words:
            rows = db.execute(
                f"SELECT m.id, m.channel_id, m.author, m.ts, substr(m.content, 1, 200) FROM messages m"
                f" WHERE {where} ORDER BY m.id DESC LIMIT ? OFFSET ?",
                (*args, LIMIT, q.offset),
            ).fetchall()
            total = db.execute(f"SELECT count(*) FROM messages m WHERE {where}", args).fetchone()[0]
            assert len(rows) <= LIMIT
            return int(total)
        if q.phrase:
            match = f'content : "{" ".join(q.words)}"'
        else:
            match = " AND ".join(f'content : "{w}"' for w in q.words)
        extra = f" AND {where}" if where else ""
        rows = db.execute(
            "SELECT m.id, m.channel_id, m.author, m.ts,"
            " snippet(messages_fts, 0, '<mark>', '</mark>', '…', 24)"
            " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
            f" WHERE messages_fts MATCH ?{extra} ORDER BY bm25(messages_fts) LIMIT ? OFFSET ?",
            (match, *args, LIMIT, q.offset),
        ).fetchall()
        assert len(rows) <= LIMIT
        if extra:
            count_sql = (
                "SELECT count(*) FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
                f" WHERE messages_fts MATCH ?{extra}"
            )
        else:
            count_sql = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?"
        total = int(db.execute(count_sql, (match, *args)).fetchone()[0])
        if q.facets:
            db.execute("DELETE FROM temp.facet_hits")
            db.execute(
                "INSERT INTO temp.facet_hits SELECT m.id FROM messages_fts JOIN messages m"
                f" ON m.id = messages_fts.rowid WHERE messages_fts MATCH ?{extra}",
                (match, *args),
            )
            for expr in ("m.channel_id", "m.author_id", "substr(m.ts, 1, 7)"):
                limit = "" if expr.startswith("substr") else " ORDER BY n DESC LIMIT 10"
                db.execute(
                    f"SELECT {expr} AS k, count(*) AS n FROM temp.facet_hits h JOIN messages m ON m.id = h.id"
                    f" GROUP BY k{limit}"
                ).fetchall()
        return total


# -- the driver -------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    t = time.perf_counter()
    n = fn()
    return (time.perf_counter() - t) * 1000, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100k", help="tiny, 10k, 100k or 1m (ingest_bench's corpora)")
    ap.add_argument(
        "--repeat", type=int, default=20, help="timed rounds over all queries (after one warm-up)"
    )
    ap.add_argument("--queries", type=int, default=8, help="queries per class")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--no-record", action="store_true", help="don't append to bench/RESULTS.md")
    ap.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated subset of " + ", ".join(ENGINES) + " (e.g. hallway,hallway+facets at 10m,"
        " where the baselines take long to build)",
    )
    args = ap.parse_args()
    engines_run = tuple(e for e in ENGINES if e in args.engines.split(","))
    if not {"hallway", "hallway+facets"} <= set(engines_run):
        raise SystemExit("--engines must include hallway and hallway+facets")

    corpus = ensure_corpus(args.size, False)
    data = ensure_hallway(args.size, corpus)
    hall = Hallway(data)
    runners: dict[str, Callable[[Query], int]] = {
        "hallway": lambda q: hall.run(q, False),
        "hallway+facets": lambda q: hall.run(q, True),
    }
    if {"tantivy", "fts5"} & set(engines_run):
        raw, fts = ensure_baselines(args.size, corpus)
        tv, ft = TantivyAlone(raw), Fts5(fts)
        runners.update({"tantivy": tv.run, "fts5": ft.run})
    runners = {e: runners[e] for e in engines_run}
    queries = make_queries(data / "archive.sqlite", args.queries, args.seed)
    for q in queries:  # deep page: offset 1000, or as deep as the results go
        if q.offset:
            total = hall.run(Query(q.cls, q.text, q.words), False)
            q.offset = max(0, min(q.offset, total - LIMIT))
    times: dict[str, dict[str, list[float]]] = {c: {e: [] for e in engines_run} for c in CLASSES}
    totals: dict[str, dict[str, list[int]]] = {c: {e: [] for e in engines_run} for c in CLASSES}
    rng = random.Random(args.seed)
    started = time.perf_counter()
    for rnd in range(args.repeat + 1):  # round 0 warms up (caches, page cache, first-open costs)
        order = list(queries)
        rng.shuffle(order)
        for k, q in enumerate(order):
            n = len(engines_run)
            engines = engines_run[k % n :] + engines_run[: k % n]
            for e in engines:
                ms, n = timed(lambda e=e, q=q: runners[e](q))
                if rnd:
                    times[q.cls][e].append(ms)
                else:
                    totals[q.cls][e].append(n)
    elapsed = time.perf_counter() - started

    def cell(xs: list[float]) -> str:
        return "/".join(f"{pct(xs, p):.3g}" for p in (50, 95, 99))

    head = f"{'class':<13}" + "".join(f" {e:>20}" for e in engines_run) + f"{'hw/tantivy':>11}{'fts5/hw':>9}"
    lines = [
        f"search latency, {args.size}: p50/p95/p99 ms per query class; {len(queries) // len(CLASSES)} queries"
        f" x {args.repeat} rounds per class and engine (interleaved)",
        head,
    ]
    classes: dict[str, Any] = {}
    for c in CLASSES:
        hw = "hallway+facets" if c == "facets" else "hallway"
        p50 = {e: pct(times[c][e], 50) for e in engines_run}
        r_tv = p50[hw] / p50["tantivy"] if p50.get("tantivy") else float("nan")
        r_ft = p50["fts5"] / p50[hw] if "fts5" in p50 and p50[hw] else float("nan")
        lines.append(
            f"{c:<13}"
            + "".join(f" {cell(times[c][e]):>20}" for e in engines_run)
            + "".join(f"{r:>10.1f}x" if r == r else f"{'-':>11}" for r in (r_tv, r_ft))
        )
        classes[c] = {
            "queries": [q.text for q in queries if q.cls == c],
            "engines": {
                e: {
                    "p50_ms": round(pct(times[c][e], 50), 3),
                    "p95_ms": round(pct(times[c][e], 95), 3),
                    "p99_ms": round(pct(times[c][e], 99), 3),
                    "max_ms": round(max(times[c][e]), 3),
                    "median_hits": statistics.median(totals[c][e]),
                }
                for e in engines_run
            },
            "hallway_over_tantivy_p50": round(r_tv, 2),
            "fts5_over_hallway_p50": round(r_ft, 2),
        }
    hits_line = f"median hits ({'/'.join(e for e in engines_run if e != 'hallway+facets')}): " + ", ".join(
        f"{c} "
        + "/".join(f"{statistics.median(totals[c][e]):.0f}" for e in engines_run if e != "hallway+facets")
        for c in CLASSES
    )
    every = [x for c in CLASSES for x in times[c]["hallway+facets"]]
    target = {"p50_ms": round(pct(every, 50), 3), "p99_ms": round(pct(every, 99), 3)}
    lines += [
        "hallway = indexer.search with snippets; hallway+facets adds channel/author/month facets; tantivy ="
        " parse + search + count + doc fetch (no snippets); fts5 = MATCH + bm25 + snippet() + count(*);",
        "facets class: all engines compute facets. hw/tantivy = p50 ratio (>1: hallway slower); fts5/hw ="
        " p50 ratio (>1: hallway faster)",
        hits_line,
        f"hallway snippets + facets, all classes: p50 {target['p50_ms']:.2f} ms, p99 {target['p99_ms']:.1f} ms"
        " (target at 1m: p50 <= 2 ms, p99 <= 15 ms)",
    ]
    print("\n".join(lines))
    summary = {
        "size": args.size,
        "repeat": args.repeat,
        "queries_per_class": args.queries,
        "seed": args.seed,
        "messages": hall.index.searcher()[0].num_docs,
        "elapsed_s": round(elapsed, 1),
        "classes": classes,
        "hallway_with_facets_all_classes": target,
        "machine": machine_info(),
    }
    record(f"search-{args.size}", summary, lines, " ".join(sys.argv), write_md=not args.no_record)


if __name__ == "__main__":
    main()
