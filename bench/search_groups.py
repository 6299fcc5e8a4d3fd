"""Static search, messages per Pagefind page: index time, bundle size and time to the first result in
Chromium, for one archive indexed with several group sizes side by side (1 = a Pagefind page per message).

    python bench/search_groups.py --size 100k [--groups 1,25,100,400] [--queries tokenizer,and,the]
    python bench/search_groups.py --data DATA_DIR

Each bundle is served with the site's own search page (taken from the sample community's site) by
`python -m http.server`; every query opens the search page with ?q= in a new browser context (cold cache).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import archive
from bench.corpus import generate, parse_size
from pipeline.run import run_ingest
from publish import publish_site
from publish.plan import Part, build_plan, walk
from publish.search_index import BUNDLE, write_bundle
from tests.live import free_port

CHROMIUM = "/usr/bin/chromium"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_exports"
QUERIES = ["tokenizer", '"the model"', "and", "the", "has:link"]


def first_results(site: Path, queries: list[str], repeat: int) -> dict[str, list[float]]:
    """Seconds from opening ?q=<query> to the first result on screen, `repeat` times per query."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, list[float]] = {q: [] for q in queries}
    try:
        time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            for _ in range(repeat):
                for q in queries:
                    context = browser.new_context()
                    page = context.new_page()
                    start = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/search/index.html?q={q}")
                    page.wait_for_selector("body[data-searches]", state="attached", timeout=300_000)
                    out[q].append(time.perf_counter() - start)
                    context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="10k")
    ap.add_argument("--data", type=Path, help="an ingested data dir to use instead of a generated corpus")
    ap.add_argument("--groups", default="1,25,100,400")
    ap.add_argument("--queries", default=",".join(QUERIES))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="search-groups-"))
    try:
        data = args.data
        if data is None:
            generate(parse_size(args.size), work / "corpus", single=False, partition=0, seed=7)
            data = work / "data"
            run_ingest([work / "corpus"], data)
        run_ingest([SAMPLES], work / "sample")
        publish_site(work / "sample", work / "base")  # the search page, its script and styles
        conn = archive.connect(data / archive.ARCHIVE_FILE, readonly=True)
        try:
            records = build_plan(walk(conn), 50, Part()).records
        finally:
            conn.close()
        queries = args.queries.split(",")
        rows = []
        for size in [int(g) for g in args.groups.split(",")]:
            site = work / f"g{size}"
            for folder in ("search", "static", "assets"):
                shutil.copytree(work / "base" / folder, site / folder)
            staging = work / f"staging{size}"
            clock = time.perf_counter()
            bundle = write_bundle(records, staging, group_size=size)
            seconds = time.perf_counter() - clock
            shutil.move(bundle, site / BUNDLE)
            shutil.rmtree(staging)
            files = [f for f in (site / BUNDLE).rglob("*") if f.is_file()]
            times = first_results(site, queries, args.repeat)
            rows.append((size, seconds, len(files), sum(f.stat().st_size for f in files), times))
            print(f"  group {size}: indexed in {seconds:.1f} s", flush=True)
        print(f"\n{len(records):,} messages; first result in Chromium, median of {args.repeat} (s)")
        head = f"{'msgs/page':>9} {'index s':>8} {'files':>8} {'MB':>7} " + " ".join(
            f"{q[:14]:>14}" for q in queries
        )
        print(head)
        for size, seconds, nfiles, nbytes, times in rows:
            cells = " ".join(f"{statistics.median(times[q]):>14.2f}" for q in queries)
            print(f"{size:>9} {seconds:>8.1f} {nfiles:>8,} {nbytes / 1e6:>7.1f} {cells}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
