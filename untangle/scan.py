"""One vectorized pass over the text of a batch: words, content tokens and character flags per line.

The lines are joined by NUL (or by a code point no line holds) into one string, lowercased once and
read as code points (a numpy array), so each question about characters is a few array operations
instead of Python work per line or per token.  Every answer equals the per-line Python it replaces:

* words are ``str.split()`` words (whitespace as ``str.isspace``, also beyond ASCII);
* content tokens are :data:`untangle.cues.WORD_TOKEN_RE` matches: inside a run of
  ``[a-z0-9_\\-.+/']`` characters the match runs from the first ``[a-z0-9]`` to the last
  ``[a-z0-9_+]`` (so there is at most one per run, of two characters or more);
* equal tokens are grouped exactly (by their bytes, or by their strings when long).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["BREAK", "UNICODE_SPACE", "TextScan", "scan"]

#: What joins the lines (a character no line contains: NUL, else one of the last code points).
BREAK = "\x00"
# str.isspace() beyond ASCII (tests/test_untangle_scan.py checks this against every code point)
UNICODE_SPACE = (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
_OTHER = 128  # every code point >= 128 is looked up here
_SPACE, _RUN, _START, _END = 1, 2, 4, 8


def _flag_table() -> np.ndarray:
    """Code point (>= 128 as 128) -> the classes it belongs to, as bits."""
    table = np.zeros(_OTHER + 1, dtype=np.uint8)
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    for flag, chars in (
        (_SPACE, "".join(chr(c) for c in range(_OTHER) if chr(c).isspace())),
        (_RUN, alnum + "_-.+/'"),
        (_START, alnum),
        (_END, alnum + "_+"),
    ):
        for c in chars:
            table[ord(c)] |= flag
    return table


_FLAGS = _flag_table()
_SHORT = 8  # tokens up to this long are grouped by their bytes read as one uint64
# the first k bytes of a big-endian uint64 (a token of k characters)
_KEEP = np.array([((1 << (8 * k)) - 1) << (8 * (_SHORT - k)) for k in range(_SHORT + 1)], dtype=np.uint64)
_ZERO, _ONE = np.zeros(1, dtype=np.uint8), np.ones(1, dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class TextScan:
    """What :func:`scan` found in a batch of ``n`` lines."""

    text: str  # the lines, lowercased, joined by a break character
    breaks: np.ndarray  # (n-1,) where each line but the last ends in ``text``
    n_words: np.ndarray  # (n,) number of words of each line
    first: list[str]  # first word of each line ("" when none)
    word_start: np.ndarray  # (w,) where each word starts in ``text`` (words in text order)
    word_stop: np.ndarray  # (w,) where it ends
    first_word: np.ndarray  # (n,) index of each line's first word
    has_question: np.ndarray  # (n,) bool: "?" in the line
    has_at: np.ndarray  # (n,) bool: "@" in the line
    has_url: np.ndarray  # (n,) bool: "http" or "www." in the line
    token_line: np.ndarray  # (t,) line of each content token occurrence, in text order
    token_group: np.ndarray  # (t,) index into ``words`` of each occurrence
    words: list[str]  # the distinct content tokens (those of up to 8 characters sorted, then the longer ones)

    def line(self, line: int) -> str:
        """The (lowercased) text of a line."""
        start = int(self.breaks[line - 1]) + 1 if line else 0
        return self.text[start : int(self.breaks[line]) if line < len(self.breaks) else len(self.text)]

    def seconds(self, lines: np.ndarray) -> list[str]:
        """The second word of each of these lines ("" for a line with fewer than two)."""
        if not len(self.word_start):
            return [""] * len(lines)
        w = np.minimum(self.first_word[lines] + 1, max(len(self.word_start) - 1, 0))
        two = (self.n_words[lines] >= 2).tolist()
        text = self.text
        spans = zip(two, self.word_start[w].tolist(), self.word_stop[w].tolist(), strict=True)
        return [text[a:b] if ok else "" for ok, a, b in spans]


def _joined(texts: list[str]) -> tuple[str, int]:
    """The lines joined by a character that none of them contains, and that character's code."""
    text = BREAK.join(texts)
    if text.count(BREAK) == len(texts) - 1:
        return text, ord(BREAK)
    plain = "\n".join(texts)
    sep = next(chr(c) for c in range(0x10FFFF, 0, -1) if chr(c) not in plain)
    return sep.join(texts), ord(sep)


def _lines_with(text: str, sub: str, breaks: np.ndarray, n: int) -> np.ndarray:
    """(n,) bool: the lines containing ``sub`` (positions found by str.find, mapped to lines)."""
    found = []
    at = text.find(sub)
    while at >= 0:
        found.append(at)
        at = text.find(sub, at + 1)
    out = np.zeros(n, dtype=bool)
    if found:
        out[np.searchsorted(breaks, np.asarray(found))] = True
    return out


def _group_tokens(
    text: str, cp: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """(group of each span, the distinct strings): equal spans share a group.

    Token characters are ASCII, so a token of up to 8 characters is exactly its 8 bytes (NUL
    padded) read as a uint64; longer tokens (under 10%) are grouped by their strings.  The
    distinct short tokens come first, in sorted order, then the long ones in order of appearance.
    """
    length = stop - start
    group = np.empty(len(start), dtype=np.int64)
    short = np.flatnonzero(length <= _SHORT)
    padded = np.zeros(len(cp) + _SHORT, dtype=np.uint8)
    padded[: len(cp)] = cp  # wraps above 255: only ASCII positions of tokens are kept below
    windows = sliding_window_view(padded, _SHORT)
    # big-endian, so that the keys sort as the strings do (NUL padding sorts first)
    key = windows[start[short]].view(">u8").reshape(-1).astype(np.uint64) & _KEEP[length[short]]
    order = np.argsort(key)
    ordered = key[order]
    new = np.empty(len(key), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    group[short[order]] = np.cumsum(new) - 1
    reps = order[new]
    words = [text[a:b] for a, b in zip(start[short[reps]].tolist(), stop[short[reps]].tolist(), strict=True)]
    long = np.flatnonzero(length > _SHORT)
    if len(long):
        ids: dict[str, int] = {}
        tokens = [text[a:b] for a, b in zip(start[long].tolist(), stop[long].tolist(), strict=True)]
        base = len(words)
        group[long] = [ids.setdefault(t, base + len(ids)) for t in tokens]
        words += ids
    return group, words


#: Run characters that are not of a class: what str.lstrip/rstrip skips when a run's token is looked for.
_NOT_START, _NOT_END = "_-.+/'", "-./'"


def _nearest_of_class(
    text: str, positions: np.ndarray, flag: int, flags: np.ndarray, step: int, limit: np.ndarray
) -> np.ndarray:
    """For each position in a run: itself if it has ``flag``, else the nearest position with it that is
    ``step`` (+1 or -1) times further, stopping at ``limit`` (the answer when there is none)."""
    out = positions.copy()
    bad = np.flatnonzero((flags[positions] & flag) == 0)
    for _ in range(4):  # usually a step or two (punctuation around a word)
        if not len(bad):
            return out
        nxt = out[bad] + step
        stop = nxt == limit[bad]
        out[bad] = np.where(stop, limit[bad], nxt)
        bad = bad[~stop & ((flags[np.minimum(nxt, len(flags) - 1)] & flag) == 0)]
    # longer runs of punctuation (rare): the rest of the run, stripped as a string
    for b, at, end in zip(bad.tolist(), out[bad].tolist(), limit[bad].tolist(), strict=True):
        if step > 0:
            rest = text[at:end]
            kept = rest.lstrip(_NOT_START)
            out[b] = at + len(rest) - len(kept) if kept else end
        else:
            rest = text[end + 1 : at + 1]
            kept = rest.rstrip(_NOT_END)
            out[b] = end + len(kept) if kept else end
    return out


def scan(texts: list[str]) -> TextScan:
    """Scan a batch of lines, lowercased (see the module docstring)."""
    n = len(texts)
    text, sep = _joined(texts)
    # one lower() for the batch: the break is neither cased nor case-ignorable, so each line
    # lowercases as on its own (a final sigma too), and nothing lowercases to the break
    text = text.lower()
    if text.count(chr(sep)) != n - 1:
        text = chr(sep).join(t.lower() for t in texts)
    # one code point per character of text (lone surrogates too)
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    flags = np.take(_FLAGS, cp, mode="clip")  # code points >= 128 read entry 128
    breaks = np.flatnonzero(cp == sep)  # line l ends at breaks[l]
    flags[breaks] = _SPACE
    if not text.isascii():
        wide = np.flatnonzero(cp >= _OTHER)
        flags[wide[np.isin(cp[wide], UNICODE_SPACE)]] = _SPACE
    # words: runs of non-space characters
    edge = np.diff(np.concatenate((_ONE, flags & _SPACE, _ONE)).view(np.int8))
    w_start, w_stop = np.flatnonzero(edge < 0), np.flatnonzero(edge > 0)
    bounds = np.searchsorted(w_start, np.concatenate(([0], breaks, [len(cp)])))
    first_word = bounds[:-1]
    n_words = np.diff(bounds)
    has = np.flatnonzero(n_words > 0)
    at = first_word[has]
    firsts = [text[a:b] for a, b in zip(w_start[at].tolist(), w_stop[at].tolist(), strict=True)]
    if len(firsts) == n:
        first = firsts
    else:
        first = [""] * n
        for i, word in zip(has.tolist(), firsts, strict=True):
            first[i] = word
    # content tokens: in each run of token characters, first start character .. last end character
    r_edge = np.diff(np.concatenate((_ZERO, flags & _RUN, _ZERO)).view(np.int8))
    r_start, r_stop = np.flatnonzero(r_edge > 0), np.flatnonzero(r_edge < 0)
    t_start = _nearest_of_class(text, r_start, _START, flags, 1, r_stop)
    some = t_start < r_stop
    t_start, r_stop = t_start[some], r_stop[some]
    t_last = _nearest_of_class(text, r_stop - 1, _END, flags, -1, t_start)
    ok = t_last > t_start
    t_start, t_stop = t_start[ok], t_last[ok] + 1
    group, words = _group_tokens(text, cp, t_start, t_stop)
    return TextScan(
        text=text,
        breaks=breaks,
        n_words=n_words,
        first=first,
        word_start=w_start,
        word_stop=w_stop,
        first_word=first_word,
        has_question=_flags(np.flatnonzero(cp == ord("?")), breaks, n),
        has_at=_flags(np.flatnonzero(cp == ord("@")), breaks, n),
        has_url=_lines_with(text, "http", breaks, n) | _lines_with(text, "www.", breaks, n),
        token_line=np.repeat(
            np.arange(n), np.diff(np.searchsorted(t_start, np.concatenate(([0], breaks, [len(cp)]))))
        ),
        token_group=group,
        words=words,
    )


def _flags(at: np.ndarray, breaks: np.ndarray, n: int) -> np.ndarray:
    """(n,) bool: the lines of these positions."""
    out = np.zeros(n, dtype=bool)
    out[np.searchsorted(breaks, at)] = True
    return out
