"""Static-site benchmark: `hallway publish` build time, rebuild after 1% new messages, sizes, file count,
and time to the first search result in Chromium (the site served by `python -m http.server`).

    python bench/publish_bench.py --size 10k
    python bench/publish_bench.py --size 100k --no-browser
"""

from __future__ import annotations

import argparse
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
from publish import publish_site
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="10k")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    total = parse_size(args.size)
    work = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        corpus = work / "corpus"
        generate(total, corpus, single=False, partition=0, seed=7)
        data = work / "data"
        run_ingest([corpus], data)
        site = work / "site"
        clock = time.perf_counter()
        full = publish_site(data, site, base_url="https://lab.example/archive")
        build = time.perf_counter() - clock
        more = work / "more"
        added = one_percent_more(corpus, more)
        run_ingest([more], data)
        clock = time.perf_counter()
        again = publish_site(data, site, base_url="https://lab.example/archive")
        rebuild = time.perf_counter() - clock
        first = None if args.no_browser else first_result_seconds(site, "the")
        sizes = ", ".join(
            f"{k} {v / 1e6:.1f} MB" for k, v in sorted(full.sizes.items(), key=lambda kv: -kv[1])
        )
        print(
            f"messages {full.messages:,}; pages {full.pages:,}; files {full.files:,}; {full.bytes / 1e6:.1f} MB"
        )
        print(f"  by folder: {sizes}")
        print(f"full build {build:.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in full.seconds.items())})")
        print(
            f"after +{added} messages (1%): {rebuild:.1f} s; {again.counts.written:,} files written, "
            f"{again.counts.unchanged:,} unchanged, {again.counts.removed:,} removed"
        )
        if first is not None:
            print(f"first search result in Chromium: {first:.2f} s")
        for w in full.warnings:
            print(f"warning: {w}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
