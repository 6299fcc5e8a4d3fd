"""The site writer alone: N small files, 4 per folder (a permalink stub and its three citation files),
through `SiteWriter.write` and `finish`; the building thread's CPU (what competes with rendering), the
process's CPU (the writer threads too) and the wall time, median of `--runs`.

    python bench/site_writer_bench.py --files 100000 --runs 3
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from publish.writer import SiteWriter


def one(out: Path, files: int) -> tuple[float, float, float]:
    """Write the files into a new site at `out`; (building thread CPU, process CPU, wall) in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, thread0, wall0 = usage.ru_utime + usage.ru_stime, time.thread_time(), time.perf_counter()
    w = SiteWriter(out, force=False)
    for i in range(files // 4):
        for name in ("index.html", "cite.bib", "cite.json", "cite.ris"):
            w.write(f"m/{1_000_000 + i}/{name}", b"<p>message %d, %s</p>" % (i, name.encode()) * 20)
    thread = time.thread_time() - thread0
    w.finish({}, {})
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return thread, usage.ru_utime + usage.ru_stime - cpu0, time.perf_counter() - wall0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="writer-bench-") as tmp:
        for n in range(args.runs):
            out = Path(tmp) / f"site{n}"
            rows.append(one(out, args.files))
            shutil.rmtree(out)
    print(f"{args.files:,} files, {args.runs} runs     building thread CPU   process CPU   wall")
    for thread, cpu, wall in rows:
        print(f"{'':29}{thread:8.2f} s {cpu:13.2f} s {wall:7.2f} s")
    med = [statistics.median(r[k] for r in rows) for k in range(3)]
    print(f"{'median':29}{med[0]:8.2f} s {med[1]:13.2f} s {med[2]:7.2f} s")
    print(f"building thread per file: {med[0] / args.files * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
