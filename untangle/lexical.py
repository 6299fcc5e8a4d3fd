"""Lexical overlap between a line and each of its candidates: idf-weighted cosine of word sets."""

from __future__ import annotations

import numpy as np

from untangle.prepare import LineArrays

__all__ = ["lexical_cosine"]


def lexical_cosine(m: LineArrays, window: int) -> np.ndarray:
    """(n, window+1) idf-weighted cosine between line i and line i-k (binary term weights)."""
    n = m.n
    out = np.zeros(n * (window + 1))
    if n == 0:
        return out.reshape(n, window + 1)
    vocab: dict[str, int] = {}
    occ_msg: list[int] = []
    occ_tok: list[int] = []
    for i, toks in enumerate(m.tokens):
        for t in toks:
            occ_msg.append(i)
            occ_tok.append(vocab.setdefault(t, len(vocab)))
    if not occ_msg:
        return out.reshape(n, window + 1)
    msg = np.asarray(occ_msg, dtype=np.int64)
    tok = np.asarray(occ_tok, dtype=np.int64)
    df = np.bincount(tok, minlength=len(vocab)).astype(np.float64)
    idf = np.log((n + 1.0) / df)
    w2 = idf[tok] ** 2
    norms = np.sqrt(np.bincount(msg, weights=w2, minlength=n))
    order = np.lexsort((msg, tok))
    msg, tok, w2 = msg[order], tok[order], w2[order]
    lag = 1
    while lag < len(msg):
        same = tok[lag:] == tok[:-lag]
        dist = msg[lag:] - msg[:-lag]
        ok = same & (dist <= window)
        if not ok.any():
            break
        out += np.bincount(msg[lag:][ok] * (window + 1) + dist[ok], weights=w2[lag:][ok], minlength=out.size)
        lag += 1
    res = out.reshape(n, window + 1)
    k = np.arange(window + 1)
    j = np.arange(n)[:, None] - k[None, :]
    denom = norms[:, None] * norms[np.clip(j, 0, None)]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos: np.ndarray = np.where(denom > 0, res / np.where(denom > 0, denom, 1.0), 0.0)
    return cos
