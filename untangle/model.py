"""The model: weights of both stages, the weights file, and link probabilities of a batch."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from untangle.decode import Candidates, Structure, decode
from untangle.errors import UntangleError
from untangle.features import WINDOW, featurize
from untangle.lines import ChatLine
from untangle.slots import BLOCK
from untangle.stage2 import stage2_features

__all__ = ["FEATURE_VERSION", "WEIGHTS_PATH", "Model", "link_probabilities", "load_model", "softmax_rows"]

WEIGHTS_PATH = Path(__file__).with_name("weights.json")
FEATURE_VERSION = 2


@dataclass(frozen=True, slots=True)
class Model:
    """Stage-1 weights over the stage-1 slots; optional stage-2 weights over stage-1 +
    stage-2 slots (one flat vector each)."""

    stage1: np.ndarray
    slots1: tuple[tuple[str, int], ...]
    stage2: np.ndarray | None = None
    slots2: tuple[tuple[str, int], ...] = ()
    window: int = WINDOW

    def to_json(self) -> dict[str, Any]:
        """The weights file's content (weights rounded to 4 decimals)."""

        def r(w: np.ndarray | None) -> list[float] | None:
            return None if w is None else [round(float(x), 4) for x in w]

        return {
            "feature_version": FEATURE_VERSION,
            "window": self.window,
            "slots1": [list(s) for s in self.slots1],
            "slots2": [list(s) for s in self.slots2],
            "stage1": r(self.stage1),
            "stage2": r(self.stage2),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "conversation weights") -> Model:
        """A model from a weights file's content; UntangleError if it was made for other features."""
        if data.get("feature_version") != FEATURE_VERSION:
            raise UntangleError(
                f"{source}: trained for feature version {data.get('feature_version')!r},"
                f" this untangler reads version {FEATURE_VERSION}; retrain them"
            )
        try:
            s2 = data.get("stage2")
            return cls(
                stage1=np.asarray(data["stage1"], dtype=np.float64),
                slots1=tuple((str(a), int(b)) for a, b in data["slots1"]),
                stage2=None if s2 is None else np.asarray(s2, dtype=np.float64),
                slots2=tuple((str(a), int(b)) for a, b in data.get("slots2") or ()),
                window=int(data["window"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise UntangleError(f"{source}: not a weights file ({e})") from None


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> Model:
    """The model in a weights file (default: the shipped weights), cached."""
    where = path or str(WEIGHTS_PATH)
    try:
        with open(where, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as e:
        raise UntangleError(f"{where}: cannot read the conversation weights ({e})") from None
    return Model.from_json(data, where)


def check_slots(expected: Sequence[tuple[str, int]], names: Sequence[str], sizes: Sequence[int]) -> None:
    """UntangleError unless the weights were trained for this feature layout."""
    if tuple(expected) != tuple(zip(names, sizes, strict=True)):
        raise UntangleError("conversation weights do not match the feature layout; retrain them")


def softmax_rows(scores: np.ndarray, allowed: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Row-wise softmax over the allowed candidates (the others get probability 0); ``in_place``
    overwrites ``scores`` (a float64 array) instead of allocating."""
    out = scores if in_place else np.array(scores, dtype=np.float64)
    for r0 in range(0, len(out), BLOCK):  # row blocks: each step of a block runs in the CPU cache
        s, ok = out[r0 : r0 + BLOCK], allowed[r0 : r0 + BLOCK]
        np.copyto(s, -np.inf, where=~ok)
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
    return out


def link_probabilities(
    lines: Sequence[ChatLine],
    model: Model,
    *,
    allowed: np.ndarray | None = None,
    structure: Structure | None = None,
) -> np.ndarray:
    """(n, window+1) probability that line i links to line i-k (k = 0: starts a conversation).

    ``allowed`` masks candidates out (False); ``structure`` says which links are already
    decided (stored, explicit), which the stage-1 decoding behind the stage-2 features keeps.
    """
    f = featurize(lines, model.window)
    check_slots(model.slots1, f.names, f.sizes)
    ok = f.valid if allowed is None else f.valid & allowed
    if model.stage2 is None:
        return softmax_rows(f.score(model.stage1), ok, in_place=True)
    score1, score2 = f.scores((model.stage1, model.stage2))  # the stage-1 slots under both weights
    p1 = softmax_rows(score1, ok, in_place=True)
    st = structure or Structure.free(len(lines))
    rows = np.flatnonzero(~st.fixed)
    d1 = decode(Candidates.of_rows(rows, p1), st)
    s2 = stage2_features(f, d1)
    check_slots(model.slots2, f.names + s2.names, f.sizes + s2.sizes)
    score2 += s2.score(model.stage2, *ok.shape)
    return softmax_rows(score2, ok, in_place=True)
