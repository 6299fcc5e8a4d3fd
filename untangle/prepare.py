"""Per-line arrays of a batch: who wrote it, whom it addresses or mentions, its cues and tokens."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from untangle.cues import AT_RE, CUES, EDGE_PUNCT, STOP_WORDS, TOKEN_RE, WORD_RE, length_bucket
from untangle.lines import ChatLine

__all__ = ["MAX_MENTIONS", "LineArrays", "prepare"]

#: Max number of mentioned authors kept per line.
MAX_MENTIONS = 4
_CUE_PUNCT = EDGE_PUNCT.replace(")", "").replace("(", "")


@dataclass(frozen=True, slots=True)
class LineArrays:
    """Per-line arrays for a batch (index = position in the batch)."""

    n: int
    author: np.ndarray  # int author index
    system: np.ndarray  # bool
    minutes: np.ndarray  # float
    addressed: np.ndarray  # int author index or -1
    mentions: np.ndarray  # (n, MAX_MENTIONS) author indices, -1 padded
    question: np.ndarray  # bool
    cue: np.ndarray  # int
    length: np.ndarray  # int bucket
    url: np.ndarray  # bool
    tokens: list[list[str]]  # distinct content words of each line


class _Names:
    """Resolves a word to an author index: exact names, else an unambiguous prefix (>= 3 letters)."""

    def __init__(self, lines: Sequence[ChatLine]) -> None:
        names: dict[str, str] = {}
        for ln in lines:
            names.setdefault(ln.author.lower(), ln.author.lower())
        for ln in lines:
            for nm in ln.names:
                names.setdefault(nm.lower(), ln.author.lower())
        self.names = names
        self.ids: dict[str, int] = {}
        self._prefix: dict[str, int] = {}
        # Sorted names: the names starting with a prefix are one contiguous run, found by bisection
        # (a scan of every name per word cost O(words x names): 17 s per 100k lines with 3,000 authors).
        self._sorted = sorted(names)

    def author(self, key: str) -> int:
        got = self.ids.get(key)
        if got is None:
            got = self.ids[key] = len(self.ids)
        return got

    def resolve(self, word: str, allow_prefix: bool) -> int:
        key = self.names.get(word)
        if key is not None:
            return self.author(key)
        if not allow_prefix or len(word) < 3:
            return -1
        got = self._prefix.get(word)
        if got is None:
            hits: set[str] = set()
            names, sorted_names = self.names, self._sorted
            i = bisect.bisect_left(sorted_names, word)
            while i < len(sorted_names) and sorted_names[i].startswith(word) and len(hits) < 2:
                hits.add(names[sorted_names[i]])
                i += 1
            got = self.author(next(iter(hits))) if len(hits) == 1 else -1
            self._prefix[word] = got
        return got


def prepare(lines: Sequence[ChatLine]) -> LineArrays:
    """Per-line arrays of a batch of lines (one channel, time order)."""
    nm = _Names(lines)
    names = nm.names
    n = len(lines)
    author = np.empty(n, dtype=np.int64)
    system = np.zeros(n, dtype=bool)
    minutes = np.empty(n, dtype=np.float64)
    addressed = np.full(n, -1, dtype=np.int64)
    mentions = np.full((n, MAX_MENTIONS), -1, dtype=np.int64)
    question = np.zeros(n, dtype=bool)
    cue = np.zeros(n, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    url = np.zeros(n, dtype=bool)
    tokens: list[list[str]] = []
    for i, ln in enumerate(lines):
        me = nm.author(ln.author.lower())
        author[i] = me
        system[i] = ln.is_system
        minutes[i] = ln.ts / 60.0
        text = ln.text
        low = text.lower()
        words = WORD_RE.findall(low)
        ment: list[int] = []
        if words and not ln.is_system:
            first = words[0]
            bare = first.lstrip("@").rstrip(EDGE_PUNCT)
            if bare:
                who = nm.resolve(bare, allow_prefix=first[-1] in ":,")
                if who >= 0 and who != me:
                    addressed[i] = who
                    ment.append(who)
            c = CUES.get(words[0].rstrip(_CUE_PUNCT), 0)
            if c == 0 and addressed[i] >= 0 and len(words) > 1:
                c = CUES.get(words[1].rstrip(EDGE_PUNCT), 0)
            cue[i] = c
        for key in ln.mentions:
            who = nm.author(names.get(key.lower(), key.lower()))
            if who != me and who not in ment:
                ment.append(who)
        if "@" in low:
            for m in AT_RE.findall(low):
                who = nm.resolve(m.rstrip(EDGE_PUNCT), allow_prefix=False)
                if who >= 0 and who != me and who not in ment:
                    ment.append(who)
        for slot, who in enumerate(ment[:MAX_MENTIONS]):
            mentions[i, slot] = who
        question[i] = "?" in text
        length[i] = length_bucket(len(words))
        url[i] = "http" in low or "www." in low
        toks = []
        seen = set()
        for t in TOKEN_RE.findall(low):
            t = t.rstrip(".-/'")
            if len(t) < 2 or t in STOP_WORDS or t in names or t in seen:
                continue
            seen.add(t)
            toks.append(t)
        tokens.append(toks)
    return LineArrays(n, author, system, minutes, addressed, mentions, question, cue, length, url, tokens)
