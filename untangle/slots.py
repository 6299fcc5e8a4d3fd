"""Categorical feature slots laid out in one weight vector."""

from __future__ import annotations

import numpy as np

__all__ = ["Slots"]


class Slots:
    """Categorical feature slots.  Link slots hold an (n, window+1) value array (used for
    k >= 1), self slots an (n,) array (used for k = 0).  Each slot's value 0 is reserved for
    "not applicable" (the other kind of candidate), so a slot of ``size`` values takes
    ``size + 1`` weights; slots follow each other in one weight vector from ``base``."""

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.names: list[str] = []
        self.sizes: list[int] = []
        self.link_slots: list[tuple[int, np.ndarray]] = []
        self.self_slots: list[tuple[int, np.ndarray]] = []

    def _new(self, name: str, size: int) -> int:
        off = self.base + sum(self.sizes)
        self.names.append(name)
        self.sizes.append(size + 1)
        return off

    def add_link(self, name: str, values: np.ndarray, size: int) -> None:
        """A feature of every (line, earlier candidate) pair, values in [0, size)."""
        off = self._new(name, size)
        self.link_slots.append((off, values + (off + 1)))

    def add_self(self, name: str, values: np.ndarray, size: int) -> None:
        """A feature of the "starts a new conversation" candidate, values in [0, size)."""
        off = self._new(name, size)
        self.self_slots.append((off, values + (off + 1)))

    def index(self, n: int, width: int) -> np.ndarray:
        """Dense (n, width, S) int32 index array (for training)."""
        out = np.empty((n, width, len(self.names)), dtype=np.int32)
        s = 0
        for off, v in self.link_slots:
            out[:, :, s] = v
            out[:, 0, s] = off
            s += 1
        for off, v in self.self_slots:
            out[:, :, s] = off
            out[:, 0, s] = v
            s += 1
        return out

    def score(self, w: np.ndarray, n: int, width: int) -> np.ndarray:
        """Sum of the weights of every (i, k) pair, without building the dense index."""
        total = np.zeros((n, width))
        for _, v in self.link_slots:
            total += w[v]
        self_col = np.zeros(n)
        for _, v in self.self_slots:
            self_col += w[v]
        total[:, 0] = self_col + sum(float(w[off]) for off, _ in self.link_slots)
        total[:, 1:] += sum(float(w[off]) for off, _ in self.self_slots)
        return total
