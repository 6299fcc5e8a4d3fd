"""Pair relations through mentions: does line i mention candidate j's author, or j mention i's author.

Most lines mention nobody, and few mention more than one person, so a mention column is compared
only on the rows that hold a mention (dense when more than a quarter do).  The results equal the
dense comparisons of every pair.
"""

from __future__ import annotations

import numpy as np

__all__ = ["candidate_mentions", "mentions_candidate"]


def mentions_candidate(who: np.ndarray, cand_author: np.ndarray, out: np.ndarray) -> None:
    """out[i, k] |= who[i] is the author of candidate k of line i (who[i] = -1: nobody).

    ``cand_author`` is the (n, window+1) view of the candidates' authors (-1 where none).
    """
    rows = np.flatnonzero(who >= 0)
    if len(rows) * 4 > len(who):
        col = who[:, None]
        out |= (col >= 0) & (col == cand_author)
    elif len(rows):
        out[rows] |= who[rows, None] == cand_author[rows]


def candidate_mentions(who: np.ndarray, author: np.ndarray, out: np.ndarray) -> None:
    """out[i, k] |= line i-k mentions who wrote line i (who[j] = -1: line j mentions nobody)."""
    n, width = out.shape
    rows = np.flatnonzero(who >= 0)
    if len(rows) * 4 > n:
        padded = np.concatenate([np.full(width - 1, -2, dtype=who.dtype), who])
        step = padded.strides[0]
        lagged = np.ndarray((n, width), padded.dtype, padded, (width - 1) * step, (step, -step))
        out |= lagged == author[:, None]
    elif len(rows):
        line = rows[:, None] + np.arange(width)  # the lines whose candidate k is line j
        hit = (line < n) & (author[np.minimum(line, n - 1)] == who[rows, None])
        r, k = np.nonzero(hit)
        out[line[r, k], k] = True
