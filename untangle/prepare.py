"""Per-line arrays of a batch: who wrote it, whom it addresses or mentions, its cues and tokens."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from untangle.cues import AT_RE, CUES, EDGE_PUNCT, STOP_WORDS, WORD_TOKEN_RE, length_bucket
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
    token_line: np.ndarray  # (t,) line of each content word occurrence (a line may repeat a word)
    token_id: np.ndarray  # (t,) the word's vocabulary id


class _Ids(dict[str, int]):
    """Author key -> author index, numbered on first sight."""

    def __missing__(self, key: str) -> int:
        got = self[key] = len(self)
        return got


class _Names:
    """Resolves a word to an author index: exact names, else an unambiguous prefix (>= 3 letters)."""

    def __init__(self, lines: Sequence[ChatLine]) -> None:
        names: dict[str, str] = {}
        for ln in lines:
            key = ln.author.lower()
            names.setdefault(key, key)
        for ln in lines:
            if ln.names:
                key = ln.author.lower()
                for nm in ln.names:
                    names.setdefault(nm.lower(), key)
        self.names = names
        self.ids = _Ids()
        self._exact: dict[str, int] = {}
        self._prefix: dict[str, int] = {}
        # Sorted names: the names starting with a prefix are one contiguous run, found by bisection
        # (a scan of every name per word cost O(words x names): 17 s per 100k lines with 3,000 authors).
        self._sorted = sorted(names)

    def resolve(self, word: str, allow_prefix: bool) -> int:
        got = self._exact.get(word)
        if got is None:
            key = self.names.get(word)
            got = self._exact[word] = -1 if key is None else self.ids[key]
        if got >= 0 or not allow_prefix or len(word) < 3:
            return got
        got = self._prefix.get(word)
        if got is None:
            hits: set[str] = set()
            names, sorted_names = self.names, self._sorted
            i = bisect.bisect_left(sorted_names, word)
            while i < len(sorted_names) and sorted_names[i].startswith(word) and len(hits) < 2:
                hits.add(names[sorted_names[i]])
                i += 1
            got = self.ids[next(iter(hits))] if len(hits) == 1 else -1
            self._prefix[word] = got
        return got


_LINE_BREAK = "\x00"
_TOKENS_AND_BREAKS = re.compile(_LINE_BREAK + "|" + WORD_TOKEN_RE.pattern)


def _content_words(lows: list[str], names: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """(line, vocabulary id) of every content word occurrence of every line (a word may repeat).

    One regex pass over the whole batch (lines joined by a NUL, which no token contains);
    vocabulary ids in sorted word order, so that the cosine sums always run in the same order.
    """
    text = _LINE_BREAK.join(lows)
    if text.count(_LINE_BREAK) != len(lows) - 1:  # a NUL inside a message: drop it first
        text = _LINE_BREAK.join(low.replace(_LINE_BREAK, " ") for low in lows)
    found = _TOKENS_AND_BREAKS.findall(text)
    present = set(found)
    vocab = dict.fromkeys(present & (STOP_WORDS | names.keys()), -1)
    vocab[_LINE_BREAK] = -2
    vocab.update((w, i) for i, w in enumerate(sorted(present.difference(vocab))))
    ids = np.fromiter(map(vocab.__getitem__, found), dtype=np.int64, count=len(found))
    line = np.cumsum(ids == -2)
    keep = ids >= 0  # -1: stop word or name, -2: line break
    return line[keep], ids[keep]


_LENGTH = np.array([length_bucket(i) for i in range(17)], dtype=np.int64)


def prepare(lines: Sequence[ChatLine]) -> LineArrays:
    """Per-line arrays of a batch of lines (one channel, time order).

    Each property is one pass over the lines (comprehensions; per-line Python is the cost here).
    """
    nm = _Names(lines)
    names, ids, resolve = nm.names, nm.ids, nm.resolve
    n = len(lines)
    author = [ids[ln.author.lower()] for ln in lines]
    system = [ln.is_system for ln in lines]
    texts = [ln.text for ln in lines]
    lows = [text.lower() for text in texts]
    # the same words as WORD_RE; 17 are enough for the length bucket (the last one holds the rest)
    words = [low.split(None, 16) for low in lows]
    addressed = [-1] * n
    cue = [0] * n
    mentions: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        ws = words[i]
        if not ws or system[i]:
            continue
        first = ws[0]
        bare = first.lstrip("@").rstrip(EDGE_PUNCT)
        if bare:
            who = resolve(bare, first[-1] in ":,")
            if who >= 0 and who != author[i]:
                addressed[i] = who
                mentions[i].append(who)
        c = CUES.get(first.rstrip(_CUE_PUNCT), 0)
        if c == 0 and addressed[i] >= 0 and len(ws) > 1:
            c = CUES.get(ws[1].rstrip(EDGE_PUNCT), 0)
        cue[i] = c
    for i in range(n):
        keys, low = lines[i].mentions, lows[i]
        if not keys and "@" not in low:
            continue
        me, ment = author[i], mentions[i]
        for key in keys:
            k = key.lower()
            who = ids[names.get(k, k)]
            if who != me and who not in ment:
                ment.append(who)
        if "@" in low:
            for m in AT_RE.findall(low):
                who = resolve(m.rstrip(EDGE_PUNCT), False)
                if who >= 0 and who != me and who not in ment:
                    ment.append(who)
    pad = [-1] * MAX_MENTIONS
    mention_rows = [(ment + pad)[:MAX_MENTIONS] if ment else pad for ment in mentions]
    token_line, token_id = _content_words(lows, names)
    n_words = np.fromiter(map(len, words), dtype=np.int64, count=n)
    return LineArrays(
        n=n,
        author=np.asarray(author, dtype=np.int32),
        system=np.asarray(system, dtype=bool),
        minutes=np.fromiter((ln.ts for ln in lines), dtype=np.float64, count=n) / 60.0,
        addressed=np.asarray(addressed, dtype=np.int32),
        mentions=np.asarray(mention_rows, dtype=np.int32).reshape(n, MAX_MENTIONS),
        question=np.asarray(["?" in text for text in texts], dtype=bool),
        cue=np.asarray(cue, dtype=np.int64),
        length=_LENGTH[np.minimum(n_words, 16)],
        url=np.asarray(["http" in low or "www." in low for low in lows], dtype=bool),
        token_line=token_line,
        token_id=token_id,
    )
