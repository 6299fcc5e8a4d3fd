"""Run the conversation untangler on the IRC disentanglement corpus.

Usage::

    python bench/disentangle.py DATA_DIR SPLIT --out FILE [--baseline previous]

Reads ``DATA_DIR/SPLIT/*.ascii.txt`` (IRC logs; ``.raw.txt`` is only used to double-check
the line count), runs :func:`untangle.untangle` on each file (the corpus reader is
:mod:`untangle.irc`) and writes the conversations of the annotated lines (ids >= 1000) in the
``gold.<split>.clusters.txt`` format, one per line::

    2004-11-15_03:1018 1021 1023 ...

Conversations are connected components over all links, also through the 1,000 context
lines, as in the gold files.  Prints the speed in messages per second (all lines of all
files, including the context lines, divided by the time spent in ``untangle``), by the clock
and by this process's CPU time (which other processes on a busy machine disturb less).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from untangle import UntangleError
from untangle.irc import read_irc_file, run_split, split_files


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Untangle the IRC disentanglement corpus.")
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("split")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--baseline", choices=["previous"], help="write a baseline instead of the model")
    args = ap.parse_args(argv)
    try:
        for path in split_files(args.data_dir, args.split):
            raw = path.with_name(path.name.replace(".ascii.txt", ".raw.txt"))
            if raw.exists():
                with open(raw, encoding="utf-8", errors="replace") as fh:
                    n_raw = sum(1 for _ in fh)
                if n_raw != len(read_irc_file(path)):
                    print(f"warning: {raw.name} has {n_raw} lines, ascii differs", file=sys.stderr)
        run = run_split(args.data_dir, args.split, baseline=args.baseline == "previous")
    except UntangleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.write_text("\n".join(run.clusters) + "\n", encoding="utf-8")
    rate = run.messages / run.seconds if run.seconds > 0 else float("inf")
    cpu_rate = run.messages / run.cpu_seconds if run.cpu_seconds > 0 else float("inf")
    print(
        f"{run.files} files, {run.messages} messages in {run.seconds:.2f}s: {rate:,.0f} messages/s"
        f" (CPU time {run.cpu_seconds:.2f}s: {cpu_rate:,.0f} messages/s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
