"""Conversation-disentanglement metrics (Kummerfeld et al., ACL 2019).

Clusters are one conversation per line, ``FILE:id id id ...`` (the format of
``gold.<split>.clusters.txt``); a line without ``FILE:`` continues the previous file.

Metrics, as defined in the paper and its public evaluation description:

* **1 - scaled VI** (x100): variation of information ``H(U|V) + H(V|U)`` computed from the
  contingency table of gold vs. system clusters, in bits, divided by ``log2(N)`` (the
  maximum possible VI for N items).  Clusters are scoped to their file; like the
  reference evaluation, the contingency table is built over *all* files at once and
  normalised by the log of the total number of messages.  ``vi_file_mean`` is the
  unweighted mean of the per-file scores.
* **one-to-one overlap** (x100): the largest total overlap obtainable by pairing gold and
  system clusters one-to-one (maximum-weight bipartite matching, solved here with our own
  Hungarian algorithm), divided by N.  Pairs across files never overlap, so the global
  matching equals the sum of per-file matchings.
* **exact match P/R/F** (x100) over conversations with more than one message: a system
  conversation is correct when some gold conversation has exactly the same messages.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from untangle.errors import UntangleError

__all__ = [
    "Clusters",
    "evaluate",
    "exact_match_counts",
    "format_report",
    "max_weight_matching",
    "one_to_one_overlap",
    "parse_clusters",
    "read_clusters",
    "variation_of_information",
]

Clusters = dict[str, list[frozenset[int]]]


def parse_clusters(lines: Iterable[str]) -> Clusters:
    """Conversations per file from lines of ``FILE:id id ...`` (a line without ``FILE:`` continues)."""
    out: Clusters = defaultdict(list)
    current = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if ":" in line:
            head, _, line = line.rpartition(":")
            current = head.split("/")[-1]
        ids = frozenset(int(v) for v in line.split())
        if ids:
            out[current].append(ids)
    return dict(out)


def read_clusters(path: str | Path) -> Clusters:
    """Conversations per file of a clusters file."""
    with open(path, encoding="utf-8") as fh:
        return parse_clusters(fh)


def _contingency(gold: Sequence[frozenset[int]], auto: Sequence[frozenset[int]]) -> Counter[tuple[int, int]]:
    where: dict[int, int] = {}
    for gi, cluster in enumerate(gold):
        for item in cluster:
            where[item] = gi
    table: Counter[tuple[int, int]] = Counter()
    for ai, cluster in enumerate(auto):
        for item in cluster:
            table[where[item], ai] += 1
    return table


def _entropy(counts: Iterable[int], total: int) -> float:
    return -sum(c / total * math.log2(c / total) for c in counts if c)


def variation_of_information(
    tables: Sequence[Counter[tuple[int, int]]],
    gold_sizes: Sequence[Sequence[int]],
    auto_sizes: Sequence[Sequence[int]],
) -> tuple[float, int]:
    """VI in bits over the union of several (file-scoped) contingency tables, and N."""
    total = sum(sum(s) for s in gold_sizes)
    h_joint = _entropy((c for t in tables for c in t.values()), total)
    h_gold = _entropy((c for s in gold_sizes for c in s), total)
    h_auto = _entropy((c for s in auto_sizes for c in s), total)
    # VI = H(G|A) + H(A|G) = 2 H(G,A) - H(G) - H(A)
    return max(0.0, 2 * h_joint - h_gold - h_auto), total


def max_weight_matching(weights: np.ndarray) -> float:
    """Value of a maximum-weight one-to-one assignment of rows to columns.

    Hungarian algorithm with potentials (shortest augmenting paths), O(n^2 m), with the
    inner loop vectorised.  Works on any rectangular non-negative matrix.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0:
        return 0.0
    if w.shape[0] > w.shape[1]:
        w = w.T
    n, m = w.shape
    cost = w.max() - w  # minimise cost  <=>  maximise weight (every row gets a column)
    inf = float("inf")
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    match = np.zeros(m + 1, dtype=np.int64)  # match[j] = row (1-based) assigned to column j
    way = np.zeros(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        match[0] = i
        j0 = 0
        minv = np.full(m + 1, inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = match[j0]
            cur = cost[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            used_idx = np.nonzero(used)[0]
            u[match[used_idx]] += delta
            v[used_idx] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    total = 0.0
    for j in range(1, m + 1):
        if match[j]:
            total += w[match[j] - 1, j - 1]
    return total


def one_to_one_overlap(table: Mapping[tuple[int, int], int], n_gold: int, n_auto: int) -> float:
    """Largest total overlap of a one-to-one pairing of gold and system clusters."""
    mat = np.zeros((n_gold, n_auto))
    for (g, a), c in table.items():
        mat[g, a] = c
    # Only clusters that overlap something matter; drop empty rows/columns to keep it small.
    mat = mat[mat.any(axis=1)][:, mat.any(axis=0)]
    return max_weight_matching(mat)


def exact_match_counts(
    gold: Sequence[frozenset[int]], auto: Sequence[frozenset[int]]
) -> tuple[int, int, int]:
    """(exactly matched, system, gold) counts of conversations with more than one message."""
    g = {c for c in gold if len(c) > 1}
    a = {c for c in auto if len(c) > 1}
    return len(g & a), len(a), len(g)


def _check_same_items(name: str, gold: Sequence[frozenset[int]], auto: Sequence[frozenset[int]]) -> None:
    gi = [x for c in gold for x in c]
    ai = [x for c in auto for x in c]
    if len(gi) != len(set(gi)) or len(ai) != len(set(ai)):
        raise UntangleError(f"{name}: a message appears in more than one cluster")
    if set(gi) != set(ai):
        diff = sorted(set(gi) ^ set(ai))[:10]
        raise UntangleError(f"{name}: gold and system cover different messages, e.g. {diff}")


def evaluate(gold: Clusters, auto: Clusters) -> dict[str, float]:
    """All metrics (x100).  ``vi``/``one_to_one`` pool all files like the reference tool;
    ``vi_file_mean``/``one_to_one_file_mean`` are unweighted means of per-file scores."""
    missing = set(gold) ^ set(auto)
    if missing:
        raise UntangleError(f"files present in only one of gold/system: {sorted(missing)[:5]}")
    tables, gsizes, asizes = [], [], []
    overlap = 0.0
    matched = n_auto = n_gold = 0
    per_vi: list[float] = []
    per_11: list[float] = []
    for name in sorted(gold):
        g, a = gold[name], auto[name]
        _check_same_items(name, g, a)
        table = _contingency(g, a)
        tables.append(table)
        gsizes.append([len(c) for c in g])
        asizes.append([len(c) for c in a])
        ov = one_to_one_overlap(table, len(g), len(a))
        overlap += ov
        m, na, ng = exact_match_counts(g, a)
        matched += m
        n_auto += na
        n_gold += ng
        vi_f, n_f = variation_of_information([table], [gsizes[-1]], [asizes[-1]])
        per_vi.append(100 * (1 - vi_f / math.log2(n_f)) if n_f > 1 else 100.0)
        per_11.append(100 * ov / n_f)
    vi, n = variation_of_information(tables, gsizes, asizes)
    p = 100 * matched / n_auto if n_auto else 0.0
    r = 100 * matched / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if matched else 0.0
    return {
        "vi": 100 * (1 - vi / math.log2(n)) if n > 1 else 100.0,
        "one_to_one": 100 * overlap / n if n else 100.0,
        "precision": p,
        "recall": r,
        "f": f,
        "vi_file_mean": sum(per_vi) / len(per_vi) if per_vi else 100.0,
        "one_to_one_file_mean": sum(per_11) / len(per_11) if per_11 else 100.0,
        "messages": float(n),
    }


def format_report(scores: Mapping[str, float], per_file: bool = False) -> str:
    """The scores as the reference tool prints them."""
    rows = [
        f"{scores['vi']:6.2f}   1 - Scaled VI",
        f"{scores['one_to_one']:6.2f}   One-to-one overlap",
        f"{scores['precision']:6.2f}   Exact-match precision",
        f"{scores['recall']:6.2f}   Exact-match recall",
        f"{scores['f']:6.2f}   Exact-match F",
    ]
    if per_file:
        rows.append(f"{scores['vi_file_mean']:6.2f}   1 - Scaled VI (mean over files)")
        rows.append(f"{scores['one_to_one_file_mean']:6.2f}   One-to-one (mean over files)")
    return "\n".join(rows)
