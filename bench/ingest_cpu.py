"""CPU seconds of a fresh ingest per process: the archive writer (this process) and the index worker (its child).

    python bench/ingest_cpu.py bench/cache/corpus-1m        # conversations off: the two processes alone
    python bench/ingest_cpu.py bench/cache/corpus-100k --conversations

User+sys seconds stay meaningful on a shared machine, where wall times are the other jobs'. Run it in two trees
(before/after), alternating, to compare code.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, ".")  # the tree it is run from (before/after comparisons run it in two trees)

import pipeline


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument(
        "--conversations", action="store_true", help="also link conversations (worker CPU adds up)"
    )
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="hallway-cpu-"))
    try:
        began, cpu0 = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        report = pipeline.run_ingest([args.corpus], data, conversations=args.conversations)
        wall = time.perf_counter() - began
        writer, workers = _cpu(resource.RUSAGE_SELF) - cpu0, _cpu(resource.RUSAGE_CHILDREN)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(
        f"wall {wall:.2f} s, archive {report.seconds['archive']:.2f} s, searchable {report.seconds['index']:.2f} s; "
        f"CPU: archive writer {writer:.2f} s, workers {workers:.2f} s; {report.summary.added} messages added"
    )


if __name__ == "__main__":
    main()
