"""Learn the untangler's weights from the TRAIN split of the IRC disentanglement corpus.

A log-linear ranking model: for every annotated line i, the candidates are i itself ("starts
a conversation") and the previous WINDOW lines; each (i, candidate) pair is a set of
categorical features (:func:`untangle.features.featurize`); the score is the sum of their
weights and the candidates are normalised with a softmax.  Training maximises the log of the
total probability of the gold candidates (``target="cluster"``: the annotated antecedents
plus every earlier line in the window of the same gold conversation; ``"antecedent"``: the
annotated antecedents only), with L2 regularisation, by mini-batch Adam.  Stage-2 features of
each train file come from stage-1 weights trained on the other half of the files (2-fold
cross-fitting).  Reproducible: fixed seeds, deterministic order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from untangle.decode import Candidates, Structure, decode
from untangle.features import WINDOW, featurize
from untangle.irc import read_antecedents, read_irc_file, split_files
from untangle.lines import ChatLine
from untangle.model import Model, softmax_rows
from untangle.stage2 import stage2_features

__all__ = ["Hyper", "TrainFile", "fit", "gold_components", "gold_rows", "read_train_files"]

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TrainFile:
    """One annotated log: its lines and the gold antecedents of its annotated lines."""

    lines: list[ChatLine]
    antecedents: dict[int, set[int]]


@dataclass(frozen=True, slots=True)
class Hyper:
    """Training settings (the defaults made the shipped weights)."""

    epochs: int = 10
    lr: float = 0.02
    l2: float = 1e-6
    batch: int = 512
    seed: int = 13
    target: str = "cluster"  # or "antecedent"
    stage1_only: bool = False


@dataclass(frozen=True, slots=True)
class _Rows:
    idx: np.ndarray  # (r, window+1, S) feature indices
    valid: np.ndarray  # (r, window+1)
    gold: np.ndarray  # (r, window+1)
    file: np.ndarray  # (r,) file number
    names: list[str]
    sizes: list[int]


def read_train_files(data_dir: Path, split: str = "train") -> list[TrainFile]:
    """Every annotated log of a split."""
    return [
        TrainFile(
            read_irc_file(p), read_antecedents(p.with_name(p.name.replace(".ascii.txt", ".annotation.txt")))
        )
        for p in split_files(data_dir, split)
    ]


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
    training target is the total probability of the right conversation.  Returns (rows, gold
    masks, lines skipped for having no gold candidate in the window)."""
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


def _build(
    corpus: Sequence[TrainFile],
    window: int,
    target: str,
    log: Log,
    weights_for_file: Callable[[int], np.ndarray] | None = None,
) -> _Rows:
    """Training rows of every file.  Without ``weights_for_file``: stage-1 features; with it
    (file number -> stage-1 weights): stage-1 + stage-2 features, stage 2 computed from a
    stage-1 decoding by those weights."""
    idx_parts, valid_parts, gold_parts, file_parts = [], [], [], []
    names: list[str] = []
    sizes: list[int] = []
    skipped = 0
    for fno, tf in enumerate(corpus):
        f = featurize(tf.lines, window)
        idx, names, sizes = f.idx, f.names, f.sizes
        if weights_for_file is not None:
            p1 = softmax_rows(f.score(weights_for_file(fno)), f.valid)
            d1 = decode(Candidates.dense(p1), Structure.free(len(p1)))
            s2 = stage2_features(f, d1)
            idx = np.concatenate([idx, s2.index(*f.valid.shape)], axis=-1)
            names, sizes = names + s2.names, sizes + s2.sizes
        rows, golds, sk = gold_rows(tf.antecedents, len(tf.lines), window, target)
        skipped += sk
        if rows:
            r = np.asarray(rows)
            idx_parts.append(idx[r])
            valid_parts.append(f.valid[r])
            gold_parts.append(np.stack(golds))
            file_parts.append(np.full(len(r), fno))
    log(f"  {sum(len(v) for v in valid_parts)} training lines ({skipped} with no gold link in the window)")
    dtype = np.int16 if sum(sizes) < 32767 else np.int32
    return _Rows(
        np.concatenate(idx_parts).astype(dtype),
        np.concatenate(valid_parts),
        np.concatenate(gold_parts),
        np.concatenate(file_parts),
        names,
        sizes,
    )


def _adam(rows: _Rows, keep: np.ndarray | None, hyper: Hyper, seed: int, log: Log) -> np.ndarray:
    """Weights maximising the log-probability of the gold candidates (mini-batch Adam)."""
    idx, valid, gold = rows.idx, rows.valid, rows.gold
    if keep is not None:
        idx, valid, gold = idx[keep], valid[keep], gold[keep]
    n_feat = sum(rows.sizes)
    rng = np.random.default_rng(seed)
    w = np.zeros(n_feat)
    m = np.zeros(n_feat)
    v = np.zeros(n_feat)
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    n = len(idx)
    n_slots = idx.shape[-1]
    for epoch in range(hyper.epochs):
        order = rng.permutation(n)
        total_ll = 0.0
        for start in range(0, n, hyper.batch):
            sel = order[start : start + hyper.batch]
            bi, bv, bg = idx[sel].astype(np.int64), valid[sel], gold[sel]
            s = w[bi].sum(axis=-1)
            s = np.where(bv, s, -np.inf)
            s -= s.max(axis=1, keepdims=True)
            e = np.exp(s)
            p = e / e.sum(axis=1, keepdims=True)
            pg = np.where(bg, p, 0.0)
            z = pg.sum(axis=1, keepdims=True)
            total_ll += float(np.log(z).sum())
            g = (p - pg / z) / len(sel)
            counts = np.bincount(bi.reshape(-1), weights=np.repeat(g.reshape(-1), n_slots), minlength=n_feat)
            grad: np.ndarray = counts.astype(np.float64) + hyper.l2 * w
            step += 1
            m = b1 * m + (1 - b1) * grad
            v = b2 * v + (1 - b2) * grad * grad
            mh = m / (1 - b1**step)
            vh = v / (1 - b2**step)
            w -= hyper.lr * mh / (np.sqrt(vh) + eps)
        log(f"  epoch {epoch + 1}: mean log-likelihood {total_ll / n:.4f}")
    return w


def fit(corpus: Sequence[TrainFile], hyper: Hyper = Hyper(), log: Log = lambda _: None) -> Model:
    """Train both stages on the corpus; ``log`` receives progress lines."""
    log("stage 1 features")
    r1 = _build(corpus, WINDOW, hyper.target, log)
    log(f"  {sum(r1.sizes)} features in {len(r1.sizes)} slots")
    log("stage 1: all train files")
    w1 = _adam(r1, None, hyper, hyper.seed, log)
    if hyper.stage1_only:
        return Model(w1, tuple(zip(r1.names, r1.sizes, strict=True)), window=WINDOW)
    # cross-fitting: stage-2 features of a file come from stage-1 weights not trained on it
    folds = []
    for fold in range(2):
        log(f"stage 1: fold {fold} (files with parity {1 - fold})")
        folds.append(_adam(r1, (r1.file % 2) != fold, hyper, hyper.seed + 1 + fold, log))
    slots1 = tuple(zip(r1.names, r1.sizes, strict=True))
    del r1
    log("stage 2 features")
    r2 = _build(corpus, WINDOW, hyper.target, log, lambda f: folds[f % 2])
    log("stage 2")
    w2 = _adam(r2, None, hyper, hyper.seed + 3, log)
    return Model(w1, slots1, w2, tuple(zip(r2.names, r2.sizes, strict=True)), WINDOW)
