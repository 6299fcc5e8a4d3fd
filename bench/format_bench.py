"""HTML ingest beside JSON on the same messages, Lexbor (selectolax) against lxml, and peak RSS on a big HTML file.

    python bench/ingest_bench.py --format html --size 100k       # the usual entry point
    python bench/format_bench.py --size 100k --rss-size 1m        # the same, directly

Both corpora come from bench/corpus.py with the same seed (one channel, one file), so they hold the
same messages. Each run is its own process (peak RSS from wait4):
  hallway ingest        JSON file, then the HTML file, interleaved (--repeat)
  read only             the source reader alone: JSON, HTML with Lexbor, HTML with lxml (same cuts)
  big HTML, read only   the HTML reader on a --rss-size file (1m messages is about 0.9 GB): streaming
                        means its peak RSS does not grow with the file
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from _measure import phases, run_measured  # noqa: E402
from _results import machine_info, record  # noqa: E402


def ensure(size: str, fmt: str) -> Path:
    """The one-channel corpus of this size in this format (cached in bench/cache/)."""
    path = HERE / "cache" / f"corpus-{size}-single-{fmt}"
    if not (path / ".done").exists():
        shutil.rmtree(path, ignore_errors=True)
        # In a child process: a forked child starts with its parent's peak RSS, so the parent stays small.
        cmd = [sys.executable, str(HERE / "corpus.py"), "--size", size, "--single", "--format", fmt]
        subprocess.run([*cmd, "--out", str(path)], check=True, stdout=subprocess.DEVNULL)
        (path / ".done").write_text("ok")
    return path


def export_file(corpus: Path) -> Path:
    return next(p for p in sorted(corpus.iterdir()) if not p.name.startswith("."))


def read_only(path: Path, parser: str) -> int:
    """Messages read by the source reader alone (parser: json, lexbor or lxml)."""
    from archive.sources.dce_html import HtmlExportReader
    from archive.sources.dce_json import ExportReader

    if parser == "json":
        with ExportReader(path) as r:
            return sum(len(b) for b in r.batches())
    if parser == "lexbor":
        with HtmlExportReader(path) as h:
            return sum(len(b) for b in h.batches())
    if parser == "lexbor-min":
        from selectolax.lexbor import LexborHTMLParser

        # The lxml variant's work exactly (id, author, content text), to compare the parsers alone.
        n = 0
        with HtmlExportReader(path) as h:
            for _, data, _ in h._stretches():
                tree = LexborHTMLParser(data.decode("utf-8"))
                for group in tree.css(".chatlog__message-group"):
                    node = group.css_first(".chatlog__author")
                    author = node.attributes.get("data-user-id") if node is not None else None
                    for msg in group.css("[data-message-id]"):
                        body = msg.css_first(".chatlog__markdown-preserve")
                        _ = (msg.attributes.get("data-message-id"), author, body.text() if body else "")
                        n += 1
        return n
    import lxml.html

    # The same cuts as the Lexbor reader; per message the same work: id, author, content text.
    n = 0
    with HtmlExportReader(path) as h:
        for _, data, _ in h._stretches():
            tree = lxml.html.fromstring(data.decode("utf-8"))
            for group in tree.xpath('//div[contains(@class, "chatlog__message-group")]'):
                author = group.xpath('.//*[contains(@class, "chatlog__author")]/@data-user-id')
                for msg in group.xpath(".//*[@data-message-id]"):
                    body = msg.xpath('.//*[contains(@class, "chatlog__markdown-preserve")]')
                    _ = (msg.get("data-message-id"), author[:1], body[0].text_content() if body else "")
                    n += 1
    return n


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100k")
    ap.add_argument("--rss-size", default="1m", help="size of the big HTML file for the peak-RSS run")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--big-ingest", action="store_true", help="also `hallway ingest` the big HTML file")
    ap.add_argument("--read", nargs=2, metavar=("PARSER", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--no-record", action="store_true", help="don't append to bench/RESULTS.md")
    args = ap.parse_args(argv)
    if args.read:
        print(read_only(Path(args.read[1]), args.read[0]))
        return
    corpora = {fmt: ensure(args.size, fmt) for fmt in ("json", "html")}
    files = {fmt: export_file(c) for fmt, c in corpora.items()}
    hallway = [sys.executable, str(ROOT / "cli.py")]
    me = [sys.executable, __file__]
    work = Path(tempfile.mkdtemp(prefix="hallway-formats-"))
    ingest: dict[str, list[tuple[float, int, float]]] = {"json": [], "html": []}
    reads: dict[str, list[tuple[float, int]]] = {"json": [], "lexbor": [], "lexbor-min": [], "lxml": []}
    messages = 0
    try:
        for r in range(args.repeat):
            for fmt in ("json", "html"):  # interleaved: machine noise hits both alike
                out = work / f"{fmt}-{r}"
                secs, rss, text = run_measured(
                    [*hallway, "ingest", str(corpora[fmt]), "--data-dir", str(out)]
                )
                ingest[fmt].append((secs, rss, phases(text).get("archive_s", 0.0)))
                shutil.rmtree(out, ignore_errors=True)
            for parser in reads:
                target = files["json" if parser == "json" else "html"]
                secs, rss, text = run_measured([*me, "--read", parser, str(target)])
                messages = int(text.split()[0])
                reads[parser].append((secs, rss))
        big = export_file(ensure(args.rss_size, "html"))
        big_secs, big_rss, big_text = run_measured([*me, "--read", "lexbor", str(big)])
        big_messages = int(big_text.split()[0])
        big_ingest = None
        if args.big_ingest:
            secs, rss, _ = run_measured([*hallway, "ingest", str(big), "--data-dir", str(work / "big")])
            big_ingest = {"seconds": round(secs, 1), "peak_rss_mb": round(rss / 2**20)}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(values: list[float]) -> float:
        return statistics.median(values)

    rows = []
    for fmt in ("json", "html"):
        secs = med([x[0] for x in ingest[fmt]])
        rows.append(
            {
                "pipeline": f"hallway ingest ({fmt.upper()})",
                "seconds": round(secs, 2),
                "msgs_per_s": round(messages / secs),
                "archive_phase_s": round(med([x[2] for x in ingest[fmt]]), 2),
                "peak_rss_mb": round(med([x[1] for x in ingest[fmt]]) / 2**20),
            }
        )
    labels = {
        "json": "read only: JSON",
        "lexbor": "read only: HTML (full reader)",
        "lexbor-min": "read only: HTML, Lexbor (id+text)",
        "lxml": "read only: HTML, lxml (id+text)",
    }
    for parser, label in labels.items():
        secs = med([x[0] for x in reads[parser]])
        rows.append(
            {
                "pipeline": label,
                "seconds": round(secs, 2),
                "msgs_per_s": round(messages / secs),
                "archive_phase_s": None,
                "peak_rss_mb": round(med([x[1] for x in reads[parser]]) / 2**20),
            }
        )
    summary = {
        "size": args.size,
        "messages": messages,
        "file_mb": {fmt: round(p.stat().st_size / 2**20) for fmt, p in files.items()},
        "repeat": args.repeat,
        "pipelines": rows,
        "lexbor_vs_lxml": round(
            med([x[0] for x in reads["lxml"]]) / med([x[0] for x in reads["lexbor-min"]]), 2
        ),
        "big_html": {
            "messages": big_messages,
            "file_mb": round(big.stat().st_size / 2**20),
            "read_seconds": round(big_secs, 1),
            "read_peak_rss_mb": round(big_rss / 2**20),
            "hallway_ingest": big_ingest,
        },
        "machine": machine_info(),
    }
    lines = [f"{'pipeline':36} {'seconds':>8} {'msg/s':>9} {'archive s':>9} {'RSS MB':>7}"]
    lines += [
        f"{r['pipeline']:36} {r['seconds']:>8} {r['msgs_per_s']:>9,} {r['archive_phase_s'] or '':>9} {r['peak_rss_mb']:>7}"
        for r in rows
    ]
    b = summary["big_html"]
    lines += [
        f"Lexbor vs lxml, same work (id, author, text): {summary['lexbor_vs_lxml']}x faster",
        f"big HTML: {b['file_mb']} MB, {b['messages']:,} messages read in {b['read_seconds']} s, "  # type: ignore[index]
        f"peak RSS {b['read_peak_rss_mb']} MB",  # type: ignore[index]
    ]
    if big_ingest:
        lines.append(
            f"big HTML, hallway ingest: {big_ingest['seconds']} s, peak RSS {big_ingest['peak_rss_mb']} MB"
        )
    print("\n".join(lines))
    record(f"formats-html-{args.size}", summary, lines, " ".join(sys.argv), write_md=not args.no_record)


if __name__ == "__main__":
    main()
