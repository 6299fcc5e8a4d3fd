"""Static-site benchmark: `hallway publish` build time, rebuild after 1% new messages, sizes, file count,
and time to the first search result in Chromium (the site served by `python -m http.server`).

    python bench/publish_bench.py --size 10k [--split]
    python bench/publish_bench.py --size 100k --no-browser
    python bench/publish_bench.py --size 1m --split-only --no-browser   # one split build (and a rebuild)
    python bench/publish_bench.py --split-only --corpus bench/cache/corpus-1m --data DATA  # already ingested
    python bench/publish_bench.py --size 1m --split-only --split-by month --jobs 2 --no-browser

Rebuilds: unchanged; after a newer export holding 1% new messages (as DCE `--after`); and after a full
re-export with 1% more (every old message is then seen in one more export, which its permalink shows).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import generate, parse_size
from bench.ingest_bench import one_percent_more
from pipeline.run import run_ingest
from publish import PublishReport, publish_site
from tests.live import free_port

CHROMIUM = "/usr/bin/chromium"


def first_result_seconds(site: Path, query: str) -> float:
    """Seconds from opening the search page with ?q= to the first result on screen (cold browser cache)."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/search/index.html?q={query}")
            page.wait_for_selector("#search-results .hit", timeout=120_000)
            seconds = time.perf_counter() - start
            browser.close()
        return seconds
    finally:
        server.terminate()
        server.wait(timeout=10)


def _say(line: str) -> None:
    """A build's progress, with the time (a large build's parts and phases can be timed from the log)."""
    print(f"    {time.strftime('%H:%M:%S')} {line}", flush=True)


def _cpu() -> float:
    """CPU seconds of this process and of every child it has waited for (parts built side by side,
    Pagefind)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(label: str, data: Path, site: Path, **kw: object) -> PublishReport:
    """One publish, with its wall and CPU time and what it rendered, kept and wrote."""
    clock, cpu = time.perf_counter(), _cpu()
    r = publish_site(data, site, base_url="https://lab.example/archive", progress=_say, **kw)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - clock, _cpu() - cpu
    peak = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    c = r.counts
    print(
        f"{label:<28} wall {wall:6.1f} s  cpu {cpu:6.1f} s  pages rendered {r.pages:,}, kept {r.kept:,}; "
        f"files written {c.written:,}, same bytes {c.unchanged:,}, kept {c.kept:,}, removed {c.removed:,}; "
        f"Pagefind {'ran' if r.indexed else 'skipped'} "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in r.seconds.items())}); peak RSS so far {peak / 1e6:.1f} GB",
        flush=True,
    )
    return r


def _split_only(corpus: Path, data: Path, work: Path, by: str = "year", jobs: int = 1) -> None:
    """The large sizes: the split site built, republished unchanged, and rebuilt after 1% more."""
    kw = {"split_by": by, "jobs": jobs}
    split = _timed(f"split by {by}, full build", data, work / "split", **kw)
    for p in split.parts:
        print(f"  {p.folder}: {p.messages:,} messages, {p.files:,} files, {p.bytes / 1e6:.1f} MB")
    for w in split.warnings:
        print(f"warning: {w}")
    _timed("unchanged", data, work / "split", **kw)
    added = one_percent_more(corpus, work / "new", only_new=True)
    run_ingest([work / "new"], data)
    _timed(f"+{added} new messages (1%)", data, work / "split", **kw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="10k")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--split", action="store_true", help="also build the site split by year (sizes per part)")
    ap.add_argument(
        "--split-only",
        action="store_true",
        help="only the site split by year: full build, unchanged republish, +1%% new messages",
    )
    ap.add_argument(
        "--split-by", default="year", choices=("guild", "year", "month"), help="with --split-only"
    )
    ap.add_argument("--jobs", type=int, default=1, help="processes building the parts (with --split-only)")
    ap.add_argument("--corpus", type=Path, help="an export folder to use instead of generating one")
    ap.add_argument("--data", type=Path, help="… and its ingested data dir (changed: the +1%% is ingested)")
    args = ap.parse_args()
    total = parse_size(args.size)
    work = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        corpus = args.corpus or work / "corpus"
        if args.corpus is None:
            generate(total, corpus, single=False, partition=0, seed=7)
        data = args.data or work / "data"
        if args.data is None:
            run_ingest([corpus], data)
        site = work / "site"
        if args.split_only:
            _split_only(corpus, data, work, args.split_by, args.jobs)
            return
        full = _timed("full build", data, site)
        _timed("unchanged", data, site)
        added = one_percent_more(corpus, work / "new", only_new=True)
        run_ingest([work / "new"], data)
        _timed(f"+{added} new messages (1%)", data, site)
        shutil.copytree(data, work / "data-b")
        _timed("same archive, fresh build", work / "data-b", work / "site-b")
        first = None if args.no_browser else first_result_seconds(site, "the")
        again = one_percent_more(corpus, work / "again")
        run_ingest([work / "again"], data)
        _timed(f"re-export +{again} (1%)", data, site)
        sizes = ", ".join(
            f"{k} {v / 1e6:.1f} MB" for k, v in sorted(full.sizes.items(), key=lambda kv: -kv[1])
        )
        print(
            f"messages {full.messages:,}; pages {full.pages:,}; files {full.files:,}; {full.bytes / 1e6:.1f} MB"
        )
        print(f"  by folder: {sizes}")
        if first is not None:
            print(f"first search result in Chromium: {first:.2f} s")
        for w in full.warnings:
            print(f"warning: {w}")
        if args.split:
            split = _timed("split by year, full build", data, work / "split", split_by="year")
            for p in split.parts:
                print(f"  {p.folder}: {p.messages:,} messages, {p.files:,} files, {p.bytes / 1e6:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
