"""Learn the weights of the conversation untangler from the TRAIN split.

Usage::

    python bench/train_disentangle.py DATA_DIR [--out archive/conversation_weights.json]
        [--epochs 10] [--lr 0.02] [--l2 1e-6] [--seed 13] [--dev]

Model: a log-linear ranking model.  For every annotated line i, the candidates are i itself
("starts a conversation") and the previous WINDOW lines; each (i, candidate) pair is a set
of categorical features (see ``archive.conversations.featurize``); the score is the sum of
their weights and the candidates are normalised with a softmax.  Training maximises the
log of the total probability of the gold antecedents (a line may have several), with L2
regularisation, using mini-batch Adam.  Reproducible: fixed seed, deterministic order.

``--dev`` evaluates the trained weights on the dev split afterwards (never used for
anything automatic; the test split is never read).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from disentangle import clusters_for_file, file_key, read_irc_file  # noqa: E402
from disentangle_eval import evaluate, format_report, parse_clusters, read_clusters  # noqa: E402

from archive.conversations import (  # noqa: E402
    WINDOW,
    ChatLine,
    Model,
    _softmax_rows,
    decode_batch,
    featurize,
    stage2_features,
    untangle,
)


def read_antecedents(path: Path) -> dict[int, set[int]]:
    gold: dict[int, set[int]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2:
                continue
            a, b = int(parts[0]), int(parts[1])
            child, parent = max(a, b), min(a, b)
            gold.setdefault(child, set()).add(parent)
    return gold


def gold_components(anno: dict[int, set[int]], n: int) -> np.ndarray:
    """Conversation (connected component of the gold links) of every line; lines without a
    gold link are their own component."""
    root = list(range(n))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    for child, parents in anno.items():
        for p in parents:
            if child < n and 0 <= p < n:
                a, b = find(child), find(p)
                if a != b:
                    root[max(a, b)] = min(a, b)
    return np.asarray([find(i) for i in range(n)], dtype=np.int64)


def gold_rows(
    anno: dict[int, set[int]], n: int, window: int, target: str = "cluster"
) -> tuple[list[int], list[np.ndarray], int]:
    """Gold candidates of each annotated line: its gold antecedents, plus (``target ==
    "cluster"``) every earlier line in the window of the same gold conversation -- the
    decoder assigns a line to the conversation with the largest total probability, so the
    training target is the total probability of the right conversation."""
    rows, golds, skipped = [], [], 0
    comp = gold_components(anno, n) if target == "cluster" else None
    for child, parents in sorted(anno.items()):
        if child >= n:
            continue
        g = np.zeros(window + 1, dtype=bool)
        for p in parents:
            k = child - p
            if 0 <= k <= window:
                g[k] = True
        if comp is not None and not g[0]:
            lo = max(0, child - window)
            same = comp[lo:child] == comp[child]
            g[1 : child - lo + 1] |= same[::-1]
        if not g.any():
            skipped += 1
            continue
        rows.append(child)
        golds.append(g)
    return rows, golds, skipped


def build(
    corpus: list[tuple[list[ChatLine], dict[int, set[int]]]],
    window: int,
    weights_for_file=None,
    target: str = "cluster",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str], list[int]]:
    """Training rows of every file.  Without ``weights_for_file``: stage-1 features; with it
    (file number -> stage-1 weights): stage-1 + stage-2 features, stage 2 computed from a
    stage-1 linking by those weights."""
    idx_parts, valid_parts, gold_parts, file_parts = [], [], [], []
    names: list[str] = []
    sizes: list[int] = []
    skipped = 0
    for fno, (lines, anno) in enumerate(corpus):
        f = featurize(lines, window)
        idx, names, sizes = f.idx, f.names, f.sizes
        if weights_for_file is not None:
            w1 = weights_for_file(fno)
            p1 = _softmax_rows(f.score(w1), f.valid)
            choice, conf = decode_batch(p1)
            s2 = stage2_features(f, choice, conf)
            idx = np.concatenate([idx, s2.index(*f.valid.shape)], axis=-1)
            names, sizes = names + s2.names, sizes + s2.sizes
        rows, golds, sk = gold_rows(anno, len(lines), window, target)
        skipped += sk
        if rows:
            r = np.asarray(rows)
            idx_parts.append(idx[r])
            valid_parts.append(f.valid[r])
            gold_parts.append(np.stack(golds))
            file_parts.append(np.full(len(r), fno))
    print(f"  {sum(len(v) for v in valid_parts)} training lines ({skipped} with no gold link in the window)")
    dtype = np.int16 if sum(sizes) < 32767 else np.int32
    return (
        np.concatenate(idx_parts).astype(dtype),
        np.concatenate(valid_parts),
        np.concatenate(gold_parts),
        np.concatenate(file_parts),
        names,
        sizes,
    )


def train(
    idx: np.ndarray,
    valid: np.ndarray,
    gold: np.ndarray,
    n_feat: int,
    *,
    epochs: int,
    l2: float,
    lr: float,
    batch: int,
    seed: int,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = np.zeros(n_feat)
    m = np.zeros(n_feat)
    v = np.zeros(n_feat)
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    n = len(idx)
    n_slots = idx.shape[-1]
    for epoch in range(epochs):
        order = rng.permutation(n)
        total_ll = 0.0
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            bi, bv, bg = idx[rows].astype(np.int64), valid[rows], gold[rows]
            s = w[bi].sum(axis=-1)
            s = np.where(bv, s, -np.inf)
            s -= s.max(axis=1, keepdims=True)
            e = np.exp(s)
            p = e / e.sum(axis=1, keepdims=True)
            pg = np.where(bg, p, 0.0)
            z = pg.sum(axis=1, keepdims=True)
            total_ll += float(np.log(z).sum())
            q = pg / z
            g = (p - q) / len(rows)
            grad = np.bincount(bi.reshape(-1), weights=np.repeat(g.reshape(-1), n_slots), minlength=n_feat)
            grad += l2 * w
            step += 1
            m = b1 * m + (1 - b1) * grad
            v = b2 * v + (1 - b2) * grad * grad
            mh = m / (1 - b1**step)
            vh = v / (1 - b2**step)
            w -= lr * mh / (np.sqrt(vh) + eps)
        print(f"  epoch {epoch + 1}: mean log-likelihood {total_ll / n:.4f}")
    return w


def evaluate_split(data_dir: Path, split: str, model: Model) -> dict[str, float]:
    files = sorted((data_dir / split).glob("*.ascii.txt"))
    out: list[str] = []
    for path in files:
        lines = read_irc_file(path)
        links = untangle(lines, model=model)
        out.extend(clusters_for_file(file_key(path), len(lines), [(lk.id, lk.parent) for lk in links]))
    gold = read_clusters(data_dir / f"gold.{split}.clusters.txt")
    return evaluate(gold, parse_clusters(out))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "archive" / "conversation_weights.json")
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

    files = sorted((args.data_dir / "train").glob("*.ascii.txt"))
    t0 = time.perf_counter()
    print(f"reading {len(files)} train files")
    corpus = [
        (read_irc_file(p), read_antecedents(p.with_name(p.name.replace(".ascii.txt", ".annotation.txt"))))
        for p in files
    ]
    hyper = {"epochs": args.epochs, "l2": args.l2, "lr": args.lr, "batch": args.batch}
    print("stage 1 features")
    idx, valid, gold, fno, names1, sizes1 = build(corpus, WINDOW, target=args.target)
    print(f"  {sum(sizes1)} features in {len(sizes1)} slots ({time.perf_counter() - t0:.1f}s)")
    print("stage 1: all train files")
    w1 = train(idx, valid, gold, sum(sizes1), seed=args.seed, **hyper)
    folds = []
    if not args.stage1_only:
        # cross-fitting: stage-2 features of a file come from stage-1 weights not trained on it
        for fold in range(2):
            print(f"stage 1: fold {fold} (files with parity {1 - fold})")
            keep = (fno % 2) != fold
            folds.append(
                train(idx[keep], valid[keep], gold[keep], sum(sizes1), seed=args.seed + 1 + fold, **hyper)
            )
    del idx, valid, gold
    w2 = None
    names2: list[str] = []
    sizes2: list[int] = []
    if not args.stage1_only:
        print("stage 2 features")
        idx, valid, gold, fno, names2, sizes2 = build(corpus, WINDOW, lambda f: folds[f % 2], args.target)
        print("stage 2")
        w2 = train(idx, valid, gold, sum(sizes2), seed=args.seed + 3, **hyper)
    model = Model(
        stage1=w1,
        slots1=tuple(zip(names1, sizes1, strict=True)),
        stage2=w2,
        slots2=tuple(zip(names2, sizes2, strict=True)),
        window=WINDOW,
    )
    data = model.to_json()
    data["trained_on"] = "irc-disentanglement train split (Kummerfeld et al. 2019)"
    data["hyper"] = {**hyper, "seed": args.seed, "target": args.target}
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {time.perf_counter() - t0:.1f}s")
    if args.dev:
        model = Model.from_json(data)  # evaluate exactly what was shipped (rounded weights)
        print(format_report(evaluate_split(args.data_dir, "dev", model)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
