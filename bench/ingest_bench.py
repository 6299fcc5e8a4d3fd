"""Ingest benchmark: Hallway end to end against its raw limit and the FTS5 pipeline, in one run.

    python bench/ingest_bench.py --size 1m            # generates bench/corpus/1m if missing
    python bench/ingest_bench.py --size 100k --repeat 3
    python bench/ingest_bench.py --format html --size 100k  # HTML beside JSON (bench/format_bench.py)

Each pipeline runs in its own process (peak RSS measured per process with wait4):
  raw limit  orjson parse of each file + tantivy add_document of every message, one commit; no archive
  fts5       orjson parse + SQLite table insert + FTS5 index (what a sqlite-utils/Datasette user builds)
  hallway    pipeline.run_ingest, as `hallway ingest` runs it: the index worker follows the archive
             file by file; conversations in their own worker (searchable = index committed)
  hallway-inline-index  the same with the index built after the archive, in the ingest process
             (the sequencing before the pipeline; kept to measure the stages against)
Also: re-ingest of the unchanged export, and ingest of the same export plus 1% new messages.
Results: printed table, bench/out/ingest-<size>.json, and a section in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from _measure import phases, run_measured  # noqa: E402
from _results import machine_info, record  # noqa: E402
from corpus import generate, parse_size  # noqa: E402


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- the two baselines, run as `python ingest_bench.py --baseline NAME CORPUS OUT` ------------------


def baseline_raw(corpus: Path, out: Path) -> int:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_integer_field("channel_id", indexed=True, fast=True)
    sb.add_integer_field("author_id", indexed=True, fast=True)
    sb.add_integer_field("ts", indexed=True, fast=True)
    sb.add_text_field("content", tokenizer_name="en_stem")
    sb.add_text_field("author", tokenizer_name="default")
    schema = sb.build()
    out.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(schema, path=str(out))
    writer = index.writer(heap_size=256_000_000)
    n = 0
    for path in sorted(corpus.glob("*.json")):
        doc = orjson.loads(path.read_bytes())
        cid = int(doc["channel"]["id"])
        for m in doc["messages"]:
            author = m["author"]
            mid = int(m["id"])
            writer.add_document(
                tantivy.Document(
                    id=mid,
                    channel_id=cid,
                    author_id=int(author["id"]),
                    ts=(mid >> 22) + 1420070400000,
                    content=m["content"],
                    author=author.get("nickname") or author["name"],
                )
            )
            n += 1
        del doc
    writer.commit()
    writer.wait_merging_threads()
    return n


def baseline_fts5(corpus: Path, out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(out)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, channel_id INTEGER, author_id INTEGER, author TEXT,"
        " ts TEXT, content TEXT)"
    )
    n = 0
    for path in sorted(corpus.glob("*.json")):
        doc = orjson.loads(path.read_bytes())
        cid = int(doc["channel"]["id"])
        rows = [
            (
                int(m["id"]),
                cid,
                int(m["author"]["id"]),
                m["author"].get("nickname") or m["author"]["name"],
                m["timestamp"],
                m["content"],
            )
            for m in doc["messages"]
        ]
        with db:
            db.executemany("INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?)", rows)
        n += len(rows)
        del doc, rows
    # sqlite-utils enable_fts(): an external-content FTS5 table filled from the rows.
    with db:
        db.execute(
            "CREATE VIRTUAL TABLE messages_fts USING fts5(content, author, content='messages', content_rowid='id')"
        )
        db.execute(
            "INSERT INTO messages_fts (rowid, content, author) SELECT id, content, author FROM messages"
        )
    db.close()
    return n


def hallway_variant(variant: str, corpus: Path, data: Path) -> int:
    """Run the ingest pipeline itself (as `hallway ingest` does), printing its phase lines on stderr."""
    from rich.console import Console

    import pipeline
    from pipeline.console import ConsoleProgress
    from pipeline.index_worker import WORKER_AFTER

    report = pipeline.run_ingest(
        [corpus],
        data,
        on_event=ConsoleProgress(Console(stderr=True)),
        index_worker_after=None if variant == "hallway-inline-index" else WORKER_AFTER,
    )
    return report.summary.added


# -- the driver -------------------------------------------------------------------------------------


def ensure_corpus(size: str, single: bool) -> Path:
    name = size + ("-single" if single else "")
    path = HERE / "cache" / f"corpus-{name}"  # not bench/corpus/: that would shadow bench/corpus.py
    if not (path / ".done").exists():
        shutil.rmtree(path, ignore_errors=True)
        generate(parse_size(size), path, single=single, partition=0, seed=7)
        (path / ".done").write_text("ok")
    return path


def one_percent_more(corpus: Path, dest: Path, *, only_new: bool = False) -> int:
    """Copy the corpus with 1% new messages appended to each channel (a newer export); `only_new`: the
    newer export holds only the new messages (as `--after` the previous one)."""
    dest.mkdir(parents=True, exist_ok=True)
    added = 0
    for path in sorted(corpus.glob("*.json")):
        doc = orjson.loads(path.read_bytes())
        msgs = doc["messages"]
        extra = max(1, len(msgs) // 100)
        last = int(msgs[-1]["id"])
        for i in range(extra):
            m = dict(msgs[-1 - (i % len(msgs))])
            m["id"] = str(last + ((i + 1) << 22))
            m["content"] = f"fresh message {i} " + m["content"]
            msgs.append(m)
        if only_new:
            msgs = doc["messages"] = msgs[-extra:]
        doc["exportedAt"] = "2030-01-01T00:00:00.0000000+00:00"
        doc["messageCount"] = len(msgs)
        (dest / path.name).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        added += extra
    return added


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100k")
    ap.add_argument("--single", action="store_true", help="one channel in one file")
    ap.add_argument("--repeat", type=int, default=1, help="runs per pipeline (medians reported)")
    ap.add_argument("--baseline", nargs=3, metavar=("NAME", "CORPUS", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--no-record", action="store_true", help="don't append to bench/RESULTS.md")
    ap.add_argument(
        "--variants",
        default="hallway,hallway-inline-index",
        help="hallway pipelines to run beside the baselines (10m: hallway alone saves a long run)",
    )
    ap.add_argument(
        "--format", choices=("json", "html"), default="json", help="html: see bench/format_bench.py"
    )
    ap.add_argument("--rss-size", default="1m", help="--format html: size of the big HTML file (peak RSS)")
    args = ap.parse_args()
    if args.format == "html":
        import format_bench

        rest = ["--size", args.size, "--repeat", str(args.repeat), "--rss-size", args.rss_size]
        format_bench.main(rest + (["--no-record"] if args.no_record else []))
        return
    if args.baseline:
        name, corpus, out = args.baseline
        if name.startswith("hallway"):
            print(hallway_variant(name, Path(corpus), Path(out)))
            return
        fn = {"raw": baseline_raw, "fts5": baseline_fts5}[name]
        print(fn(Path(corpus), Path(out)))
        return

    corpus = ensure_corpus(args.size, args.single)
    corpus_bytes = sum(p.stat().st_size for p in corpus.glob("*.json"))
    work = Path(tempfile.mkdtemp(prefix="hallway-bench-"))
    hallway = [sys.executable, str(ROOT / "cli.py")]
    variants = tuple(v for v in ("hallway", "hallway-inline-index") if v in args.variants.split(","))
    if "hallway" not in variants:
        raise SystemExit("--variants must include hallway")
    results: dict[str, list[dict[str, float]]] = {"raw": [], "fts5": [], **{v: [] for v in variants}}
    messages = 0
    try:
        for r in range(args.repeat):
            # Interleave pipelines so machine noise hits all of them alike.
            for name in ("raw", "fts5", *variants):
                out = work / f"{name}-{r}"
                target = out / "fts.sqlite" if name == "fts5" else out
                cmd = [sys.executable, __file__, "--baseline", name, str(corpus), str(target)]
                secs, rss, stdout = run_measured(cmd)
                entry = {"seconds": secs, "rss": rss, "disk": dir_size(out)}
                if name.startswith("hallway"):
                    entry.update(phases(stdout))
                else:
                    messages = int(stdout.strip().splitlines()[0])
                results[name].append(entry)
                if r < args.repeat - 1 or name != "hallway":
                    shutil.rmtree(out, ignore_errors=True)
        data = work / f"hallway-{args.repeat - 1}"
        reingest = [
            run_measured([*hallway, "ingest", str(corpus), "--data-dir", str(data), "--quiet"])[0]
            for _ in range(3)
        ]
        newer = work / "newer"
        added = one_percent_more(corpus, newer)
        more_secs, more_rss, _ = run_measured(
            [*hallway, "ingest", str(newer), "--data-dir", str(data), "--quiet"]
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(name: str, key: str) -> float:
        return statistics.median(x[key] for x in results[name])

    raw_s, fts5_s = med("raw", "seconds"), med("fts5", "seconds")

    def row(label: str, secs: float, name: str) -> dict[str, object]:
        return {
            "pipeline": label,
            "seconds": round(secs, 2),
            "msgs_per_s": round(messages / secs),
            "vs_raw": round(raw_s / secs, 2),
            "vs_fts5": round(fts5_s / secs, 2),
            "peak_rss_mb": round(med(name, "rss") / 2**20),
            "disk_mb": round(med(name, "disk") / 2**20, 1),
        }

    rows = [
        row("raw limit (orjson + tantivy)", raw_s, "raw"),
        row("FTS5 pipeline (orjson + SQLite FTS5)", fts5_s, "fts5"),
    ]
    phase_medians: dict[str, dict[str, float]] = {}
    for name in variants:
        runs = results[name]
        ph = {
            k: round(statistics.median(r.get(k, 0) for r in runs), 2) for k in ("archive_s", "searchable_s")
        }
        ph["done_s"] = round(med(name, "seconds"), 2)
        phase_medians[name] = ph
        rows.append(row(f"{name}: searchable", ph["searchable_s"] or ph["done_s"], name))
        rows.append(row(f"{name}: conversations done", ph["done_s"], name))
    hall = phase_medians["hallway"]
    summary = {
        "size": args.size,
        "single_file": args.single,
        "messages": messages,
        "corpus_mb": round(corpus_bytes / 2**20),
        "repeat": args.repeat,
        "pipelines": rows,
        "hallway_vs_raw": round(raw_s / hall["done_s"], 2),
        "hallway_vs_fts5": round(fts5_s / hall["done_s"], 2),
        "searchable_vs_raw": round(raw_s / hall["searchable_s"], 2) if hall["searchable_s"] else None,
        "hallway_phases_s": phase_medians,
        "searchable_after_s": hall["searchable_s"],
        "reingest_unchanged_s": round(statistics.median(reingest), 3),
        "ingest_1pct_new": {
            "added": added,
            "seconds": round(more_secs, 2),
            "peak_rss_mb": round(more_rss / 2**20),
        },
        "machine": machine_info(),
    }
    lines = [
        f"{'pipeline':44} {'seconds':>8} {'msg/s':>9} {'vs raw':>7} {'vs FTS5':>7} {'RSS MB':>7} {'disk MB':>8}"
    ]
    lines += [
        f"{r['pipeline']:44} {r['seconds']:>8} {r['msgs_per_s']:>9,} {r['vs_raw']:>6}x {r['vs_fts5']:>6}x"
        f" {r['peak_rss_mb']:>7} {r['disk_mb']:>8}"
        for r in rows
    ]
    lines += [
        "(speed ratios; >1 means faster than the baseline; seconds are medians, each since the command started)",
        *(
            f"{name} phases: archive {ph['archive_s']} s, searchable {ph['searchable_s']} s, done {ph['done_s']} s"
            for name, ph in phase_medians.items()
        ),
        f"re-ingest unchanged: {summary['reingest_unchanged_s']} s   "
        f"ingest +1% ({added} new): {summary['ingest_1pct_new']['seconds']} s",
    ]
    print("\n".join(lines))
    record(
        f"ingest-{args.size}{'-single' if args.single else ''}",
        summary,
        lines,
        " ".join(sys.argv),
        write_md=not args.no_record,
    )


if __name__ == "__main__":
    main()
