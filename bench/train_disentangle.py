"""Learn the weights of the conversation untangler from the TRAIN split.

Usage::

    python bench/train_disentangle.py DATA_DIR [--out untangle/weights.json]
        [--epochs 10] [--lr 0.02] [--l2 1e-6] [--seed 13] [--target cluster|antecedent]
        [--stage1-only] [--dev]

The model and its training are :mod:`untangle.train`.  ``--dev`` evaluates the written
weights on the dev split afterwards (never used for anything automatic; the test split is
never read).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from untangle import Model
from untangle.evaluate import evaluate, format_report, parse_clusters, read_clusters
from untangle.irc import run_split
from untangle.model import WEIGHTS_PATH
from untangle.train import Hyper, fit, read_train_files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--l2", type=float, default=1e-6)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--target",
        choices=["cluster", "antecedent"],
        default="cluster",
        help="gold candidates: the whole gold conversation in the window (default) or only the annotated antecedents",
    )
    ap.add_argument("--stage1-only", action="store_true", help="no conversation-level second stage")
    ap.add_argument("--dev", action="store_true", help="report dev scores after training")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    corpus = read_train_files(args.data_dir)
    print(f"read {len(corpus)} train files")
    hyper = Hyper(args.epochs, args.lr, args.l2, args.batch, args.seed, args.target, args.stage1_only)
    model = fit(corpus, hyper, log=print)
    data = model.to_json()
    data["trained_on"] = "irc-disentanglement train split (Kummerfeld et al. 2019)"
    data["hyper"] = {
        "epochs": hyper.epochs,
        "l2": hyper.l2,
        "lr": hyper.lr,
        "batch": hyper.batch,
        "seed": hyper.seed,
        "target": hyper.target,
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {time.perf_counter() - t0:.1f}s")
    if args.dev:
        shipped = Model.from_json(data)  # evaluate exactly what was written (rounded weights)
        run = run_split(args.data_dir, "dev", shipped)
        gold = read_clusters(args.data_dir / "gold.dev.clusters.txt")
        print(format_report(evaluate(gold, parse_clusters(run.clusters))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
