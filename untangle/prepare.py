"""Per-line arrays of a batch: who wrote it, whom it addresses or mentions, its cues and tokens."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from untangle.cues import AT_RE, CUES, EDGE_PUNCT, STOP_WORDS, length_bucket
from untangle.lines import ChatLine
from untangle.scan import TextScan, scan

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

    def __init__(self, lines: Sequence[ChatLine], keys: list[str]) -> None:
        names: dict[str, str] = dict(zip(keys, keys, strict=True))  # each line's author key (lowercased)
        for ln, key in zip(lines, keys, strict=True):
            if ln.names:
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


_LENGTH = np.array([length_bucket(i) for i in range(17)], dtype=np.int64)


def _opening(words: Iterable[str], resolve: Callable[[str, bool], int]) -> dict[str, tuple[int, int]]:
    """First word -> (author it addresses or -1, its cue code), for each distinct first word."""
    out: dict[str, tuple[int, int]] = {}
    for first in words:
        bare = first.lstrip("@").rstrip(EDGE_PUNCT)
        who = resolve(bare, first[-1] in ":,") if bare else -1
        out[first] = (who, CUES.get(first.rstrip(_CUE_PUNCT), 0))
    return out


def prepare(lines: Sequence[ChatLine]) -> LineArrays:
    """Per-line arrays of a batch of lines (one channel, time order).

    The text is read by one vectorized :func:`untangle.scan.scan`; what is left in Python runs
    per distinct first word, and per line only for lines that mention someone.
    """
    keys = [ln.author.lower() for ln in lines]
    nm = _Names(lines, keys)
    names, ids, resolve = nm.names, nm.ids, nm.resolve
    n = len(lines)
    author_l = [ids[k] for k in keys]
    author = np.asarray(author_l, dtype=np.int32)
    system = np.fromiter((ln.is_system for ln in lines), dtype=bool, count=n)
    sc = scan([ln.text for ln in lines])
    # "name:" / "name," / "@name" opening a line addresses that author; the opening word's cue
    opening = _opening(dict.fromkeys(sc.first).keys() - {""}, resolve)
    opening[""] = (-1, 0)
    row = {w: i for i, w in enumerate(opening)}
    first = np.array(list(opening.values()), dtype=np.int64)[
        np.fromiter(map(row.__getitem__, sc.first), dtype=np.intp, count=n)
    ]
    spoken = (sc.n_words > 0) & ~system
    who = first[:, 0]
    addressed = np.where(spoken & (who >= 0) & (who != author), who, -1)
    cue = np.where(spoken, first[:, 1], 0)
    again = np.flatnonzero((cue == 0) & (addressed >= 0) & (sc.n_words > 1))
    cue[again] = [CUES.get(w.rstrip(EDGE_PUNCT), 0) for w in sc.seconds(again)]
    mention_rows = np.full((n, MAX_MENTIONS), -1, dtype=np.int32)
    mention_rows[:, 0] = addressed
    has_at = sc.has_at.tolist()
    addressed_l = addressed.tolist()
    for i, ln in enumerate(lines):
        mentioned = ln.mentions
        if not mentioned and not has_at[i]:
            continue
        me = author_l[i]
        ment = [addressed_l[i]] if addressed_l[i] >= 0 else []
        for key in mentioned:
            k = key.lower()
            got = ids[names.get(k, k)]
            if got != me and got not in ment:
                ment.append(got)
        if has_at[i]:
            for m in AT_RE.findall(sc.line(i)):
                got = resolve(m.rstrip(EDGE_PUNCT), False)
                if got >= 0 and got != me and got not in ment:
                    ment.append(got)
        ment = ment[:MAX_MENTIONS]
        mention_rows[i, : len(ment)] = ment
    token_line, token_id = _content_words(sc, names)
    return LineArrays(
        n=n,
        author=author,
        system=system,
        minutes=np.fromiter((ln.ts for ln in lines), dtype=np.float64, count=n) / 60.0,
        addressed=addressed.astype(np.int32),
        mentions=mention_rows,
        question=sc.has_question,
        cue=cue,
        length=_LENGTH[np.minimum(sc.n_words, 16)],
        url=sc.has_url,
        token_line=token_line,
        token_id=token_id,
    )


def _content_words(sc: TextScan, names: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """(line, vocabulary id) of every content word occurrence of every line (a word may repeat).

    Stop words and names are left out; vocabulary ids follow sorted word order, so that the
    cosine sums always run in the same order.
    """
    # sc.words starts with a sorted run: sorting the kept words is close to a merge
    kept = sorted([w for w in sc.words if w not in STOP_WORDS and w not in names])
    rank = {w: i for i, w in enumerate(kept)}
    group_id = np.fromiter((rank.get(w, -1) for w in sc.words), dtype=np.int64, count=len(sc.words))
    ids = group_id[sc.token_group]
    keep = ids >= 0
    return sc.token_line[keep], ids[keep]
