"""The one decoding path: each line joins the most probable conversation, or starts one.

The probability of joining a conversation is the total probability of its lines among the
line's candidates (candidates below :data:`MIN_PROB` are ignored); the line joins the most
probable conversation -- parent: its most probable line there -- unless "new conversation"
is more probable, and that probability is the confidence.  Lines whose link is already
decided (stored links, explicit replies) are *fixed*: they take the conversation of their
anchor line, or a given label.  Stage 1 (for the stage-2 features) and the final decision
both run :func:`decode`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_PROB", "Candidates", "Decision", "Structure", "decode"]

#: Candidates below this probability are ignored when summing a conversation's probability.
MIN_PROB = 0.002
# A candidate above this probability wins outright: its conversation holds more than half of the mass.
_SURE = 0.5 + 1e-9


@dataclass(frozen=True, slots=True)
class Structure:
    """What is decided before the model speaks, per line of the batch.

    ``fixed``: the line's link is given (stored, or an explicit reply); its ``choice`` is the
    offset k of its parent in the batch (0: starts one, -1: parent outside the batch).
    A fixed line, or a model line that starts a conversation, takes the conversation of line
    ``anchor`` (an earlier batch index, e.g. a reply target or a thread's starter) or, when
    ``anchor`` is -1, the conversation label ``label``.
    """

    fixed: np.ndarray  # (n,) bool
    choice: np.ndarray  # (n,) int: offset of a fixed line's parent (-1 outside the batch)
    anchor: np.ndarray  # (n,) int batch index or -1
    label: np.ndarray  # (n,) int conversation label when anchor is -1

    @classmethod
    def free(cls, n: int) -> Structure:
        """Nothing decided: every line is the model's; new conversations are labelled by batch index."""
        return cls(
            fixed=np.zeros(n, dtype=bool),
            choice=np.full(n, -1, dtype=np.int64),
            anchor=np.full(n, -1, dtype=np.int64),
            label=np.arange(n, dtype=np.int64),
        )

    def head(self, stop: int) -> Structure:
        """The structure of lines [0, stop)."""
        return Structure(self.fixed[:stop], self.choice[:stop], self.anchor[:stop], self.label[:stop])

    def after(self, start: int, head_conv: np.ndarray) -> Structure:
        """The structure of lines [start, n), anchors before ``start`` replaced by their labels
        (``head_conv``: the conversation labels of lines [0, start))."""
        anchor = self.anchor[start:]
        before = (anchor >= 0) & (anchor < start)
        label = self.label[start:].copy()
        label[before] = head_conv[anchor[before]]
        choice = self.choice[start:].copy()
        choice[choice > np.arange(len(choice))] = -1  # parent before the batch
        return Structure(self.fixed[start:], choice, np.where(anchor >= start, anchor - start, -1), label)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Link probabilities of some lines of a batch, sparse: the rows are batch indices."""

    rows: np.ndarray  # (r,) batch index of each row, increasing
    probs: np.ndarray  # (r, window+1) probability of each candidate (k = 0: new conversation)

    @classmethod
    def of_rows(cls, rows: np.ndarray, probs: np.ndarray) -> Candidates:
        """The rows ``rows`` of a batch's (n, window+1) probabilities (no copy when that is every row)."""
        return cls(rows, probs if len(rows) == len(probs) else probs[rows])

    @classmethod
    def dense(cls, probs: np.ndarray) -> Candidates:
        """Every line of the batch is a row."""
        return cls(np.arange(len(probs)), probs)

    @classmethod
    def none(cls, width: int) -> Candidates:
        """No model rows (every line is fixed)."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros((0, width)))


@dataclass(frozen=True, slots=True)
class Decision:
    """Per line of the batch: the chosen offset k (0: new, -1: parent outside), the conversation
    label and the probability of the decision (1 for fixed lines)."""

    choice: np.ndarray
    conv: np.ndarray
    conf: np.ndarray


def decode(cands: Candidates, structure: Structure) -> Decision:
    """Decide every line left to right (see the module docstring)."""
    n = len(structure.fixed)
    p = cands.probs
    rows = cands.rows
    # Lines whose best candidate holds more than half of the mass need no per-conversation sums.
    top = p.argmax(axis=1) if len(rows) else np.zeros(0, dtype=np.int64)
    sure = p[np.arange(len(rows)), top] > _SURE if len(rows) else np.zeros(0, dtype=bool)
    easy = np.full(n, -2, dtype=np.int64)  # -2: not a model row
    easy[rows] = np.where(sure, top, -1)  # -1: needs the sums
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[rows] = np.arange(len(rows))
    above = p > MIN_PROB
    above[:, 0] = False  # "new conversation" is not a line's mass
    r_idx, k_idx = np.divmod(np.flatnonzero(above), p.shape[1])
    k_idx -= 1  # offsets k - 1, as for p[:, 1:]
    v_all = p[r_idx, k_idx + 1]
    # only the lines that need the sums go through Python
    hard = ~sure[r_idx] if len(rows) else np.zeros(0, dtype=bool)
    hr = r_idx[hard]
    k_list = (k_idx[hard] + 1).tolist()
    v_list = v_all[hard].tolist()
    bounds = np.searchsorted(hr, np.arange(len(rows) + 1)).tolist()
    self_p = p[:, 0].tolist() if len(rows) else []

    fixed = structure.fixed.tolist()
    anchor = structure.anchor.tolist()
    label = structure.label.tolist()
    easy_l = easy.tolist()
    row_l = row_of.tolist()
    choice = structure.choice.tolist()
    conv = [0] * n
    for i in range(n):
        e = easy_l[i]
        if fixed[i] or e == -2 or e == 0:
            if not fixed[i]:
                choice[i] = 0
            a = anchor[i]
            conv[i] = conv[a] if a >= 0 else label[i]
            continue
        if e > 0:
            choice[i] = e
            conv[i] = conv[i - e]
            continue
        r = row_l[i]
        best_c, best_m, found = 0, self_p[r], False
        mass: dict[int, float] = {}
        top_in: dict[int, tuple[float, int]] = {}
        for t in range(bounds[r], bounds[r + 1]):
            k = k_list[t]
            v = v_list[t]
            c = conv[i - k]
            mass[c] = mass.get(c, 0.0) + v
            if v > top_in.get(c, (-1.0, 0))[0]:
                top_in[c] = (v, k)
        for c, mv in mass.items():
            if mv > best_m:
                best_c, best_m, found = c, mv, True
        if found:
            choice[i] = top_in[best_c][1]
            conv[i] = best_c
        else:
            choice[i] = 0
            a = anchor[i]
            conv[i] = conv[a] if a >= 0 else label[i]
    ch = np.asarray(choice, dtype=np.int64)
    cv = np.asarray(conv, dtype=np.int64)
    conf = np.ones(n)
    if len(rows):
        ch_r = ch[rows]
        joined = ch_r > 0
        # confidence of a join: the mass of the chosen conversation among the candidates
        cand_conv = cv[np.maximum(rows[r_idx] - (k_idx + 1), 0)]
        hit = cand_conv == cv[rows[r_idx]]
        mass_r = np.bincount(r_idx[hit], weights=v_all[hit], minlength=len(rows))
        conf_r = np.where(joined, np.minimum(1.0, mass_r), np.minimum(1.0, p[:, 0]))
        model_rows = ~structure.fixed[rows]
        conf[rows[model_rows]] = conf_r[model_rows]
    return Decision(ch, cv, conf)
