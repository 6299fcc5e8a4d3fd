"""Lexical overlap between a line and each of its candidates: idf-weighted cosine of word sets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from untangle.prepare import LineArrays

__all__ = ["cosine_buckets", "lexical_cosine"]


def _pair_sums(m: LineArrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat pair keys i*(window+1)+k with a shared word, their summed idf^2, per-line norms)."""
    n = m.n
    msg, tok = m.token_line, m.token_id
    if n == 0 or not len(msg):
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(n)
    order = np.lexsort((msg, tok))
    msg, tok = msg[order], tok[order]
    first = np.ones(len(msg), dtype=bool)  # binary weights: a word counts once per line
    first[1:] = (tok[1:] != tok[:-1]) | (msg[1:] != msg[:-1])
    msg, tok = msg[first], tok[first]
    df = np.bincount(tok).astype(np.float64)
    idf = np.log((n + 1.0) / df)
    w2 = idf[tok] ** 2
    norms = np.sqrt(np.bincount(msg, weights=w2, minlength=n))
    # Occurrences of one word are adjacent, in line order: the pairs within the window are the runs
    # (p, p+lag) for lag = 1, 2, ...; a position whose pair at one lag fails fails at every larger lag.
    keys, weights = [], []
    left = np.arange(len(msg) - 1)
    lag = 1
    while len(left):
        right = left + lag
        inside = right < len(msg)
        left, right = left[inside], right[inside]
        dist = msg[right] - msg[left]
        ok = (tok[right] == tok[left]) & (dist <= window)
        left, right, dist = left[ok], right[ok], dist[ok]
        keys.append(msg[right] * (window + 1) + dist)
        weights.append(w2[right])
        lag += 1
    flat = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    sums = np.bincount(flat, weights=np.concatenate(weights) if weights else None, minlength=n * (window + 1))
    nz = np.flatnonzero(sums)
    return nz, sums[nz], norms


def lexical_cosine(m: LineArrays, window: int) -> np.ndarray:
    """(n, window+1) idf-weighted cosine between line i and line i-k (binary term weights)."""
    out = np.zeros(m.n * (window + 1))
    keys, sums, norms = _pair_sums(m, window)
    i, k = np.divmod(keys, window + 1)
    out[keys] = sums / (norms[i] * norms[i - k])
    return out.reshape(m.n, window + 1)


def cosine_buckets(m: LineArrays, window: int, edges: Sequence[float]) -> np.ndarray:
    """(n, window+1) int8: how many ``edges`` lie below the cosine of line i and line i-k."""
    out = np.zeros(m.n * (window + 1), dtype=np.int8)
    keys, sums, norms = _pair_sums(m, window)
    i, k = np.divmod(keys, window + 1)
    cos = sums / (norms[i] * norms[i - k])
    out[keys] = np.searchsorted(np.asarray(edges), cos)
    return out.reshape(m.n, window + 1)
