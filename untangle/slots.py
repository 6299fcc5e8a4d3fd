"""Categorical feature slots laid out in one weight vector, and their fast scoring."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

__all__ = ["BLOCK", "TABLE_LIMIT", "Slots"]

#: Link slots are scored in groups: one lookup in a table of the group's summed weights per pair
#: (a group's table has at most this many entries: it stays in the CPU cache).
TABLE_LIMIT = 1 << 16
#: Rows scored together (their indices and lookups fit in the CPU cache).
BLOCK = 256


@lru_cache(maxsize=64)
def _packing(sizes: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Slot numbers per group: first fit, largest slots first (few groups, tables within TABLE_LIMIT)."""
    bins: list[list[int]] = []
    for s in sorted(range(len(sizes)), key=lambda s: -sizes[s]):
        for b in bins:
            if math.prod(sizes[x] for x in b) * sizes[s] <= TABLE_LIMIT:
                b.append(s)
                break
        else:
            bins.append([s])
    return tuple(tuple(b) for b in bins)


def _unsigned(values: np.ndarray) -> np.ndarray:
    """Slot values (>= 0) as an unsigned array of the same bits, so uint16 arithmetic needs no casting."""
    if values.dtype.kind == "i" and values.dtype.itemsize <= 2:
        return values.view(np.uint8 if values.dtype.itemsize == 1 else np.uint16)
    return values.astype(np.uint16)


def _table(w: np.ndarray, members: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Summed weights of a group of slots, indexed by the mixed-radix number of their values."""
    key = (id(w), members)
    got = _TABLES.get(key)
    if got is not None and got[0] is w:
        return got[1]
    out = np.zeros(1)
    for off, size in members:
        out = (out[:, None] + w[off + 1 : off + 1 + size][None, :]).reshape(-1)
    if len(_TABLES) > 256:
        _TABLES.clear()
    _TABLES[key] = (w, out)  # holding w keeps its id from being reused
    return out


# Group tables by (weights, members): the same few per model, built once.
_TABLES: dict[tuple[int, tuple[tuple[int, int], ...]], tuple[np.ndarray, np.ndarray]] = {}


def _rows(values: np.ndarray, r0: int, r1: int) -> np.ndarray:
    """Rows [r0, r1) of a slot's values (a (1, width) array is the same for every row)."""
    return values if values.shape[0] == 1 else values[r0:r1]


class Slots:
    """Categorical feature slots.  Link slots hold an (n, window+1) value array (used for
    k >= 1), self slots an (n,) array (used for k = 0).  Each slot's value 0 is reserved for
    "not applicable" (the other kind of candidate), so a slot of ``size`` values takes
    ``size + 1`` weights; slots follow each other in one weight vector from ``base``."""

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.names: list[str] = []
        self.sizes: list[int] = []
        self.link_slots: list[tuple[int, np.ndarray, int]] = []  # (offset, values, size)
        self.self_slots: list[tuple[int, np.ndarray, int]] = []

    def _new(self, name: str, size: int) -> int:
        off = self.base + sum(self.sizes)
        self.names.append(name)
        self.sizes.append(size + 1)
        return off

    def add_link(self, name: str, values: np.ndarray, size: int) -> None:
        """A feature of every (line, earlier candidate) pair, values in [0, size)."""
        self.link_slots.append((self._new(name, size), values, size))

    def add_self(self, name: str, values: np.ndarray, size: int) -> None:
        """A feature of the "starts a new conversation" candidate, values in [0, size)."""
        self.self_slots.append((self._new(name, size), values, size))

    def index(self, n: int, width: int) -> np.ndarray:
        """Dense (n, width, S) int32 index array (for training)."""
        out = np.empty((n, width, len(self.names)), dtype=np.int32)
        s = 0
        for off, v, _ in self.link_slots:
            out[:, :, s] = v
            out[:, :, s] += off + 1
            out[:, 0, s] = off
            s += 1
        for off, v, _ in self.self_slots:
            out[:, :, s] = off
            out[:, 0, s] = v + (off + 1)
            s += 1
        return out

    def score(self, w: np.ndarray, n: int, width: int) -> np.ndarray:
        """Sum of the weights of every (i, k) pair, without building the dense index."""
        return self.scores((w,), n, width)[0]

    def scores(self, ws: Sequence[np.ndarray], n: int, width: int) -> list[np.ndarray]:
        """:meth:`score` for several weight vectors at once (the group indices are built once).

        Rows are scored in blocks of :data:`BLOCK`, so that a block's group indices and lookups
        stay in the CPU cache; each pair's sum runs over the groups in the same order as a
        whole-array sum would, so the result does not depend on the block size.
        """
        bins = [[self.link_slots[s] for s in b] for b in _packing(tuple(s[2] for s in self.link_slots))]
        tables = [[_table(w, tuple((off, size) for off, _, size in b)) for b in bins] for w in ws]
        totals = [np.empty((n, width)) if bins else np.zeros((n, width)) for _ in ws]
        idx16 = np.empty((min(n, BLOCK), width), dtype=np.uint16)
        idx = np.empty((min(n, BLOCK), width), dtype=np.intp)
        buf = np.empty((min(n, BLOCK), width))
        for r0 in range(0, n, BLOCK):
            r1 = min(n, r0 + BLOCK)
            i16, ix, bf = idx16[: r1 - r0], idx[: r1 - r0], buf[: r1 - r0]
            for g, b in enumerate(bins):
                # a group's index is below TABLE_LIMIT: uint16 arithmetic, one conversion for np.take
                i16[...] = _unsigned(_rows(b[0][1], r0, r1))
                for _, v, size in b[1:]:
                    i16 *= size
                    i16 += _unsigned(_rows(v, r0, r1))
                ix[...] = i16
                for t, total in zip(tables, totals, strict=True):
                    if g == 0:  # the first group's lookup starts the sum
                        np.take(t[g], ix, out=total[r0:r1], mode="clip")  # "raise" would buffer it
                    else:
                        np.take(t[g], ix, out=bf, mode="clip")
                        total[r0:r1] += bf
        for w, total in zip(ws, totals, strict=True):
            self_col = np.zeros(n)
            for off, v, _ in self.self_slots:
                self_col += w[v + (off + 1)]
            total[:, 0] = self_col + sum(float(w[off]) for off, _, _ in self.link_slots)
            total[:, 1:] += sum(float(w[off]) for off, _, _ in self.self_slots)
        return totals
