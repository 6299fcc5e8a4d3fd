"""Score a clustering of the IRC disentanglement corpus against the gold one.

Usage::

    python bench/disentangle_eval.py GOLD_CLUSTERS AUTO_CLUSTERS [--per-file]

The metrics (1 - scaled VI, one-to-one overlap, exact-match P/R/F, as in Kummerfeld et al.
2019) live in :mod:`untangle.evaluate`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from untangle import UntangleError
from untangle.evaluate import evaluate, format_report, read_clusters


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gold")
    ap.add_argument("auto")
    ap.add_argument("--per-file", action="store_true", help="also print per-file averaged VI and 1-1")
    args = ap.parse_args(argv)
    try:
        scores = evaluate(read_clusters(args.gold), read_clusters(args.auto))
    except UntangleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(scores, args.per_file))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
