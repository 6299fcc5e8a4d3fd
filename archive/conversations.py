"""Untangle a busy chat channel into conversations.

Input is a time-ordered sequence of :class:`ChatLine` (one channel); output is one
:class:`Link` per line: the line it replies to (``parent``), how sure we are, whether the
link came from explicit structure, and the conversation it belongs to (the id of the
conversation's first message).

Algorithm
---------
1. **Explicit structure first.**

   * ``thread_id``: the line belongs to the thread's conversation.  Its parent is its
     ``reply_to`` when that is inside the thread, otherwise the best earlier line of the
     same thread (or the thread's starter message, whose id is ``thread_id``) chosen by the
     model below; when no earlier line of the thread is available the parent is the
     ``thread_id`` itself (explicit, confidence 1).  The conversation is the starter's
     conversation when the starter is known, else ``thread_id``.
   * ``reply_to``: the parent is the reply target (explicit, confidence 1), also when the
     target is not in the input.  **Missing targets:** the line joins the target's
     conversation if the target's link is in ``known``; otherwise it joins the
     conversation keyed by the missing target id -- so several replies to the same
     unseen message end up together, and the key is the id of the conversation's first
     message (the unseen target).  Reply targets that are not earlier than the line are
     ignored.

2. **Inferred links** for every other line: a log-linear ranking model scores the line
   itself ("starts a new conversation") and each of the previous :data:`WINDOW` lines as
   antecedent, over bucketed features and their conjunctions: distance in lines and
   minutes, same author, name addressing (``alice:``/``alice,``/``@alice``) and mentions in
   both directions, whether the candidate is its author's latest line, how many lines each
   author wrote in between, who-talked-to-whom (whether the author's previous line
   addressed the candidate's author), lexical overlap (idf-weighted cosine), question
   marks, opening cue words (thanks / greetings / yes-no / question words), lengths, URLs,
   system lines; a second stage adds conversation-level features computed from a first
   decoding.  Candidates more than :data:`MAX_GAP` earlier are never linked.
   **Decision per conversation:** the probability of joining a conversation is the total
   probability of its lines among the candidates; the line joins the most probable
   conversation (parent: its most probable line there) unless "new conversation" is more
   probable, and that probability is the confidence.  A line inherits its parent's
   conversation.  Weights are learned on the Ubuntu IRC disentanglement corpus (see
   ``bench/train_disentangle.py``) and shipped in ``conversation_weights.json``.

Incremental use
---------------
The archive calls :func:`untangle` per channel with the tail of already-processed lines
(at least :data:`WINDOW` of them, as context) followed by the newly arrived lines, and
passes the stored links of the tail as ``known``.  Lines whose id is in ``known`` keep
their link unchanged (they are returned as given); only the other lines are linked.  Pass
in ``known`` also the links of explicit reply/thread targets that are older than the tail,
so replies to them join the right conversation.  Results of incremental runs can differ
marginally from one batch run because a few statistics (idf, who-mentioned-whom) are
computed from the lines supplied.

Runtime dependencies: stdlib + numpy.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "WINDOW",
    "ChatLine",
    "Link",
    "Model",
    "conversations",
    "link_probabilities",
    "load_model",
    "untangle",
]

#: How many earlier lines are considered as antecedents of a line.
WINDOW = 100
#: Inferred links never reach back more than this many seconds.
MAX_GAP = 3 * 3600.0
#: Candidates below this probability are ignored when summing a conversation's probability.
MIN_PROB = 0.002
#: Max number of mentioned authors kept per line.
MAX_MENTIONS = 4
WEIGHTS_PATH = Path(__file__).with_name("conversation_weights.json")
FEATURE_VERSION = 2


@dataclass(frozen=True, slots=True)
class ChatLine:
    id: int  # unique, increasing in time order
    ts: float  # seconds
    author: str  # stable author key (lowercased username)
    text: str
    is_system: bool = False
    reply_to: int | None = None  # explicit reply target (may be an id not in the input)
    thread_id: int | None = None  # explicit thread / forum post this line belongs to
    mentions: tuple[str, ...] = ()  # author keys explicitly mentioned
    names: tuple[str, ...] = ()  # display names / aliases of the author


@dataclass(frozen=True, slots=True)
class Link:
    id: int
    parent: int | None  # None: the line starts a new conversation
    confidence: float  # in [0, 1]
    explicit: bool  # from reply_to / thread_id rather than inferred
    conversation: int  # id of the conversation's first message


# --------------------------------------------------------------------------- text cues

_STOP = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don",
        "dont",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "i'm",
        "if",
        "im",
        "in",
        "into",
        "is",
        "isn",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "thats",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yes",
        "yeah",
        "ok",
        "okay",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "thx",
        "ty",
        "lol",
        "get",
        "got",
        "know",
        "like",
        "one",
        "also",
        "use",
        "using",
        "try",
        "tried",
        "need",
        "want",
        "think",
        "see",
        "well",
        "still",
        "really",
    ]
)
_CUES: dict[str, int] = {}
for _code, _words in (
    (1, "thanks thank thx ty tyvm thnx thanx cheers"),
    (2, "hi hello hey hiya yo greetings morning evening heya howdy"),
    (3, "yes no yeah yep nope ok okay sure right k yup nah correct exactly"),
    (4, "how what why where when which who can does is anyone any do should could would has are"),
    (5, "lol haha hehe heh :) :( :p :d ;) hmm hm oh ah ahh wow"),
    (6, "but and also so then well"),
):
    for _w in _words.split():
        _CUES[_w] = _code
N_CUES = 7

_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9_\-\.\+/']*")
_WORD_RE = re.compile(r"\S+")
_AT_RE = re.compile(r"@([\w\-\.\[\]\|\^`{}\\]+)")
_EDGE_PUNCT = ":,;.!?>)(\"'<"


def _length_bucket(n: int) -> int:
    return 0 if n <= 1 else 1 if n <= 3 else 2 if n <= 7 else 3 if n <= 15 else 4


# --------------------------------------------------------------------------- features


def _bucket_table(edges: Sequence[int], size: int) -> np.ndarray:
    """Lookup table v -> bucket for 0 <= v < size; edges are the inclusive upper bounds."""
    table = np.zeros(size, dtype=np.int64)
    b = 0
    for v in range(size):
        while b < len(edges) and v > edges[b]:
            b += 1
        table[v] = b
    return table


_DIST = _bucket_table([0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 23, 31, 47, 63], WINDOW + 1)  # 16 values
_COARSE = _bucket_table([0, 1, 3, 8, 20], WINDOW + 1)  # 6 values (0 = self)
_TIME_EDGES = np.array([0.5, 1.5, 2.5, 3.5, 5.5, 9.5, 19.5, 59.5])  # minutes -> 9 buckets
_COS_EDGES = np.array([1e-9, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6])  # -> 9 buckets
_GAP_EDGES = np.array([0.5, 1.5, 3.5, 7.5, 15.5, 60.5])  # minutes since author's last line -> 7


@dataclass(frozen=True, slots=True)
class _Msgs:
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
    tokens: list[list[str]]


def _prepare(lines: Sequence[ChatLine]) -> _Msgs:
    names: dict[str, str] = {}
    for ln in lines:
        names.setdefault(ln.author.lower(), ln.author.lower())
    for ln in lines:
        for nm in ln.names:
            names.setdefault(nm.lower(), ln.author.lower())
    author_ids: dict[str, int] = {}

    def aid(key: str) -> int:
        got = author_ids.get(key)
        if got is None:
            got = author_ids[key] = len(author_ids)
        return got

    prefix_cache: dict[str, int] = {}
    # Sorted names: the names starting with a prefix are one contiguous run, found by bisection
    # (a scan of every name per word cost O(words x names): 17 s per 100k lines with 3,000 authors).
    sorted_names = sorted(names)

    def resolve(word: str, allow_prefix: bool) -> int:
        key = names.get(word)
        if key is not None:
            return aid(key)
        if not allow_prefix or len(word) < 3:
            return -1
        got = prefix_cache.get(word)
        if got is None:
            hits: set[str] = set()
            i = bisect.bisect_left(sorted_names, word)
            while i < len(sorted_names) and sorted_names[i].startswith(word) and len(hits) < 2:
                hits.add(names[sorted_names[i]])
                i += 1
            got = aid(next(iter(hits))) if len(hits) == 1 else -1
            prefix_cache[word] = got
        return got

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
        me = aid(ln.author.lower())
        author[i] = me
        system[i] = ln.is_system
        minutes[i] = ln.ts / 60.0
        text = ln.text
        low = text.lower()
        words = _WORD_RE.findall(low)
        ment: list[int] = []
        if words and not ln.is_system:
            first = words[0]
            bare = first.lstrip("@").rstrip(_EDGE_PUNCT)
            if bare:
                who = resolve(bare, allow_prefix=first[-1] in ":,")
                if who >= 0 and who != me:
                    addressed[i] = who
                    ment.append(who)
            c = _CUES.get(words[0].rstrip(_EDGE_PUNCT.replace(")", "").replace("(", "")), 0)
            if c == 0 and addressed[i] >= 0 and len(words) > 1:
                c = _CUES.get(words[1].rstrip(_EDGE_PUNCT), 0)
            cue[i] = c
        for key in ln.mentions:
            k = names.get(key.lower(), key.lower())
            who = aid(k)
            if who != me and who not in ment:
                ment.append(who)
        if "@" in low:
            for m in _AT_RE.findall(low):
                who = resolve(m.rstrip(_EDGE_PUNCT), allow_prefix=False)
                if who >= 0 and who != me and who not in ment:
                    ment.append(who)
        for slot, who in enumerate(ment[:MAX_MENTIONS]):
            mentions[i, slot] = who
        question[i] = "?" in text
        length[i] = _length_bucket(len(words))
        url[i] = "http" in low or "www." in low
        toks = []
        seen = set()
        for t in _TOKEN_RE.findall(low):
            t = t.rstrip(".-/'")
            if len(t) < 2 or t in _STOP or t in names or t in seen:
                continue
            seen.add(t)
            toks.append(t)
        tokens.append(toks)
    return _Msgs(n, author, system, minutes, addressed, mentions, question, cue, length, url, tokens)


def _lexical_cosine(m: _Msgs, window: int) -> np.ndarray:
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
        cos = np.where(denom > 0, res / np.where(denom > 0, denom, 1.0), 0.0)
    return cos


def _next_same_author(author: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(author)
    nxt = np.full(n + 1, n + WINDOW + 1, dtype=np.int64)  # sentinel "far in the future"
    prv = np.full(n, -1, dtype=np.int64)
    last: dict[int, int] = {}
    for i, a in enumerate(author.tolist()):
        p = last.get(a)
        if p is not None:
            nxt[p] = i
            prv[i] = p
        last[a] = i
    return nxt, prv


class _Slots:
    """Categorical feature slots.  Link slots hold an (n, window+1) value array (used for
    k >= 1), self slots an (n,) array (used for k = 0).  Each slot's value 0 is reserved for
    "not applicable" (the other kind of candidate), so a slot of ``size`` values takes
    ``size + 1`` weights; slots follow each other in one weight vector from ``base``."""

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.names: list[str] = []
        self.sizes: list[int] = []
        self.offsets: list[int] = []
        self.link_slots: list[tuple[int, np.ndarray]] = []
        self.self_slots: list[tuple[int, np.ndarray]] = []

    def _new(self, name: str, size: int) -> int:
        off = self.base + sum(self.sizes)
        self.names.append(name)
        self.sizes.append(size + 1)
        self.offsets.append(off)
        return off

    def add_link(self, name: str, values: np.ndarray, size: int) -> None:
        off = self._new(name, size)
        self.link_slots.append((off, values + (off + 1)))

    def add_self(self, name: str, values: np.ndarray, size: int) -> None:
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


@dataclass(slots=True)
class Features:
    """Stage-1 features for every (line i, candidate i-k), k = 0..window
    (k = 0: "starts a new conversation"), plus what stage 2 needs."""

    slots: _Slots
    valid: np.ndarray  # (n, window+1) bool: candidate exists
    ctx: dict[str, Any]

    @property
    def names(self) -> list[str]:
        return self.slots.names

    @property
    def sizes(self) -> list[int]:
        return self.slots.sizes

    @property
    def idx(self) -> np.ndarray:
        return self.slots.index(*self.valid.shape)

    def score(self, w: np.ndarray) -> np.ndarray:
        return self.slots.score(w, *self.valid.shape)


def featurize(lines: Sequence[ChatLine], window: int = WINDOW) -> Features:
    """Stage-1 features of a batch of lines (see :class:`Features`)."""
    m = _prepare(lines)
    n = m.n
    kk = np.arange(window + 1)
    ii = np.arange(n)[:, None]
    jj = ii - kk[None, :]
    valid = jj >= 0
    j = np.clip(jj, 0, None)

    def at_j(arr: np.ndarray) -> np.ndarray:
        out: np.ndarray = arr[j]
        return out

    def at_i(arr: np.ndarray) -> np.ndarray:
        return np.broadcast_to(arr[:, None], (n, window + 1))

    a_i, a_j = at_i(m.author), at_j(m.author)
    sys_i, sys_j = at_i(m.system), at_j(m.system)
    q_i, q_j = at_i(m.question), at_j(m.question)
    cue_i, cue_j = at_i(m.cue), at_j(m.cue)
    len_i, len_j = at_i(m.length), at_j(m.length)
    url_i, url_j = at_i(m.url), at_j(m.url)
    dist = np.broadcast_to(_DIST[kk][None, :], (n, window + 1))
    coarse = np.broadcast_to(_COARSE[kk][None, :], (n, window + 1))
    dt = at_i(m.minutes) - at_j(m.minutes)
    tb = np.searchsorted(_TIME_EDGES, dt)
    # no inferred link across a long silence (7 of 52,641 gold links in train span > 3 h)
    valid &= dt <= MAX_GAP / 60.0
    valid[:, 0] = True

    same = a_i == a_j
    addr_i = at_i(m.addressed)
    addresses_cand = (addr_i >= 0) & (addr_i == a_j)
    ment_i = m.mentions
    mentions_cand = np.zeros((n, window + 1), dtype=bool)
    for s in range(MAX_MENTIONS):
        col = ment_i[:, s][:, None]
        mentions_cand |= (col >= 0) & (col == a_j)
    mentions_cand &= ~addresses_cand
    cand_mentions_me = np.zeros((n, window + 1), dtype=bool)
    for s in range(MAX_MENTIONS):
        cand_mentions_me |= m.mentions[:, s][j] == a_i
    has_ment_i = at_i(m.mentions[:, 0] >= 0)
    other_i = has_ment_i & ~addresses_cand & ~mentions_cand
    addr_j = at_j(m.addressed) >= 0
    rel = (
        addresses_cand * 1 + mentions_cand * 2 + cand_mentions_me * 4 + same * 8 + other_i * 16 + addr_j * 32
    )

    nxt, prv = _next_same_author(m.author)
    # lines by the candidate's author strictly between j and i (0, 1, 2, 3+)
    n1 = nxt[j]
    n2 = nxt[np.minimum(n1, n)]
    n3 = nxt[np.minimum(n2, n)]
    between_cand = (n1 < ii).astype(np.int64) + (n2 < ii) + (n3 < ii)
    cand_latest = between_cand == 0
    # lines by this line's author strictly between j and i (0, 1, 2+)
    p1 = prv
    p2 = np.where(p1 >= 0, prv[np.maximum(p1, 0)], -1)
    between_me = (at_i(p1) > j).astype(np.int64) + (at_i(p2) > j)
    prev_own = same & (at_i(p1) == j)
    # who talks to whom: my previous line addressed/mentioned the candidate's author
    pm = np.where(p1[:, None] >= 0, m.mentions[np.maximum(p1, 0)], -1)
    talked = np.zeros((n, window + 1), dtype=bool)
    for s in range(MAX_MENTIONS):
        col = pm[:, s][:, None]
        talked |= (col >= 0) & (col == a_j)
    # latest line (before i) that mentioned my author
    last_mention = np.full(n, -1, dtype=np.int64)
    seen_mention: dict[int, int] = {}
    for i in range(n):
        last_mention[i] = seen_mention.get(int(m.author[i]), -1)
        for w in m.mentions[i].tolist():
            if w >= 0:
                seen_mention[w] = i
    is_last_mention = at_i(last_mention) == j
    # minutes since my previous line
    gap_own = np.where(prv >= 0, m.minutes - m.minutes[np.maximum(prv, 0)], 1e9)
    gap_own_b = np.where(prv >= 0, np.searchsorted(_GAP_EDGES, gap_own) + 1, 0)  # 0 = none
    prev_gap = np.zeros(n)
    prev_gap[1:] = m.minutes[1:] - m.minutes[:-1]
    prev_gap_b = np.searchsorted(_TIME_EDGES, prev_gap)

    cos = _lexical_cosine(m, window)
    cb = np.searchsorted(_COS_EDGES, cos)

    S = _Slots()
    # link features
    S.add_link("dist_sys", dist * 4 + sys_j * 2 + sys_i, 16 * 4)
    S.add_link("time_dist", tb * 16 + dist, 9 * 16)
    S.add_link("rel_coarse", rel * 6 + coarse, 64 * 6)
    S.add_link(
        "between_rel",
        (between_cand * 3 + np.minimum(between_me, 2)) * 8
        + (addresses_cand | mentions_cand) * 4
        + cand_mentions_me * 2
        + same,
        12 * 8,
    )
    S.add_link("prev_own_time", prev_own * 54 + tb * 6 + coarse, 2 * 54)
    S.add_link("talk", talked * 16 + cand_mentions_me * 8 + cand_latest * 4 + has_ment_i * 2 + same, 32)
    S.add_link("last_mention", is_last_mention * 4 + addresses_cand * 2 + cand_latest, 8)
    S.add_link("cos_coarse", cb * 6 + coarse, 9 * 6)
    S.add_link("cos_rel", cb * 4 + (addresses_cand | mentions_cand) * 2 + same, 9 * 4)
    S.add_link("q_cue", (q_j * 2 + q_i) * N_CUES + cue_i, 4 * N_CUES)
    S.add_link("cues", cue_j * N_CUES + cue_i, N_CUES * N_CUES)
    S.add_link("len_q", (len_i * 5 + len_j) * 2 + q_j, 50)
    S.add_link("url", url_i * 2 + url_j, 4)
    S.add_link("latest_coarse", (cand_latest * 2 + has_ment_i) * 6 + coarse, 24)
    # self features ("this line starts a new conversation")
    addr_own = m.addressed >= 0
    has_ment = m.mentions[:, 0] >= 0
    recent_mention = (last_mention >= 0) & ((np.arange(n) - last_mention) <= window)
    S.add_self("self_basic", ((m.system * 2 + addr_own) * 2 + has_ment) * 2 + m.question, 16)
    S.add_self("self_cue_len", m.cue * 5 + m.length, N_CUES * 5)
    S.add_self("self_gap", gap_own_b * 2 + addr_own, 8 * 2)
    S.add_self("self_mentioned", recent_mention * 2 + m.question, 4)
    S.add_self("self_prev_gap", prev_gap_b * 2 + m.system, 18)
    S.add_self("self_url_q", m.url * 2 + m.question, 4)
    ctx = {
        "m": m,
        "window": window,
        "j": j,
        "coarse": coarse,
        "same": same,
        "prv": prv,
        "p2": p2,
        "addresses_cand": addresses_cand,
        "cand_latest": cand_latest,
        "has_ment_i": has_ment_i,
        "cb": cb,
        "last_mention": last_mention,
    }
    return Features(S, valid, ctx)


_CONF_EDGES = np.array([0.3, 0.5, 0.7, 0.9])  # -> 5 buckets


def _conversations_from_choice(choice: np.ndarray) -> np.ndarray:
    """conv[i] = batch index of the first line of i's conversation (k = choice[i])."""
    n = len(choice)
    conv = np.arange(n)
    ch = choice.tolist()
    for i in range(n):
        k = ch[i]
        if 0 < k <= i:  # a parent before the batch start cannot be followed: the line starts one here
            conv[i] = conv[i - k]
    return conv


def decode_batch(p: np.ndarray, forced: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Conversation-level decoding of a whole batch (as :func:`untangle` does per line):
    line i joins the conversation with the largest total probability among its candidates
    (its parent: the most probable line there) unless p[i, 0] ("new conversation") is
    larger.  ``forced`` (n,) fixes the offset of decided lines (-1: undecided).  Returns
    (chosen offset k per line, probability of the decision)."""
    n = len(p)
    r_idx, k_idx = np.nonzero(p[:, 1:] > MIN_PROB)
    k_list = (k_idx + 1).tolist()
    v_list = p[r_idx, k_idx + 1].tolist()
    bounds = np.searchsorted(r_idx, np.arange(n + 1)).tolist()
    self_p = p[:, 0].tolist()
    fc = forced.tolist() if forced is not None else [-1] * n
    conv = list(range(n))
    choice = [0] * n
    conf = [1.0] * n
    for i in range(n):
        if fc[i] >= 0:
            k = fc[i]
            choice[i] = k
            conf[i] = 1.0
            if k:
                conv[i] = conv[i - k]
            continue
        best_c, best_m, best_k = -1, self_p[i], 0
        mass: dict[int, float] = {}
        top: dict[int, tuple[float, int]] = {}
        for t in range(bounds[i], bounds[i + 1]):
            k = k_list[t]
            v = v_list[t]
            c = conv[i - k]
            mass[c] = mass.get(c, 0.0) + v
            if v > top.get(c, (-1.0, 0))[0]:
                top[c] = (v, k)
        for c, mv in mass.items():
            if mv > best_m:
                best_c, best_m = c, mv
        if best_c >= 0:
            best_k = top[best_c][1]
            conv[i] = best_c
        choice[i] = best_k
        conf[i] = min(1.0, best_m)
    return np.asarray(choice, dtype=np.int64), np.asarray(conf)


def stage2_features(f: Features, choice: np.ndarray, conf: np.ndarray) -> _Slots:
    """Conversation-level features computed from a first (stage-1) linking of the batch:
    whether the candidate is the latest line of its conversation, whether my own previous
    lines / the person I address are in the candidate's conversation, the stage-1 pick and
    its confidence.  Slot indices follow the stage-1 slots in the stage-2 weight vector."""
    c = f.ctx
    m: _Msgs = c["m"]
    n, window = m.n, c["window"]
    j, coarse, same = c["j"], c["coarse"], c["same"]
    ii = np.arange(n)[:, None]
    kk = np.arange(window + 1)[None, :]
    conv = _conversations_from_choice(choice)
    # next line of the same (stage-1) conversation
    nxt_conv = np.full(n, n + window + 1, dtype=np.int64)
    last: dict[int, int] = {}
    for i, cv in enumerate(conv.tolist()):
        p = last.get(cv)
        if p is not None:
            nxt_conv[p] = i
        last[cv] = i
    conv_j = conv[j]
    conv_latest = nxt_conv[j] >= ii
    # lexical similarity to the candidate's conversation: best of the candidate and the two
    # lines before it in its conversation
    prv_conv = np.full(n, -1, dtype=np.int64)
    last_in: dict[int, int] = {}
    pos_conv = np.zeros(n, dtype=np.int64)
    for i, cv in enumerate(conv.tolist()):
        if cv != i:
            q = last_in[cv]
            prv_conv[i] = q
            pos_conv[i] = pos_conv[q] + 1
        last_in[cv] = i
    cb = c["cb"]
    conv_cb = cb
    prev_j = j
    for _ in range(2):
        prev_j = np.where(prev_j >= 0, prv_conv[np.maximum(prev_j, 0)], -1)
        k2 = ii - prev_j
        okk = (prev_j >= 0) & (k2 <= window)
        conv_cb = np.maximum(conv_cb, np.where(okk, cb[ii, np.minimum(k2, window)], 0))
    size_b = np.searchsorted(np.array([0, 1, 3, 7]), pos_conv[j])  # lines before j in its conv
    lm = c["last_mention"]
    has_lm = (lm >= 0)[:, None]
    ment_code = np.where(has_lm, 1 + (np.where(lm >= 0, conv[np.maximum(lm, 0)], -2)[:, None] == conv_j), 0)
    prv, p2 = c["prv"], c["p2"]
    own1 = np.where(prv >= 0, conv[np.maximum(prv, 0)], -1)[:, None] == conv_j
    own2 = np.where(p2 >= 0, conv[np.maximum(p2, 0)], -1)[:, None] == conv_j
    has_prev = np.broadcast_to((prv >= 0)[:, None], (n, window + 1))
    # conversation of the addressed person's latest line before i
    addr_last = np.full(n, -1, dtype=np.int64)
    latest_by: dict[int, int] = {}
    a_list = m.author.tolist()
    ad_list = m.addressed.tolist()
    for i in range(n):
        ad = ad_list[i]
        if ad >= 0:
            addr_last[i] = latest_by.get(ad, -1)
        latest_by[a_list[i]] = i
    has_addr_last = (addr_last >= 0)[:, None]
    addr_conv = has_addr_last & (
        np.where(addr_last >= 0, conv[np.maximum(addr_last, 0)], -2)[:, None] == conv_j
    )
    addr_code = np.where(has_addr_last, 1 + addr_conv, 0)  # 0 none, 1 elsewhere, 2 same conv
    starts = choice[j] == 0  # candidate started its conversation
    age = ii - conv_j  # lines since the candidate's conversation started
    age_b = np.searchsorted(np.array([5, 20, 50, 100]), age)
    pick = choice[:, None] == kk
    confb = np.searchsorted(_CONF_EDGES, conf)[:, None]
    # my previous line: how far back (coarse) and was it the latest of its conversation?
    pv = np.maximum(prv, 0)
    prev_conv_active = (prv >= 0) & (nxt_conv[pv] >= np.arange(n))

    S = _Slots(base=sum(f.sizes))
    S.add_link("s1_pick", pick * 5 + confb, 10)
    S.add_self("s1_pick_self", (choice == 0) * 5 + confb[:, 0], 10)
    S.add_link("conv_latest", (conv_latest * 6 + coarse) * 2 + c["has_ment_i"], 24)
    S.add_link("own_conv", (((has_prev * 2 + own1) * 2 + own2) * 2 + conv_latest) * 2 + same, 32)
    S.add_link("addr_conv", (addr_code * 2 + conv_latest) * 2 + c["addresses_cand"], 12)
    S.add_link("conv_age", (age_b * 2 + starts) * 2 + conv_latest, 20)
    S.add_self("self_prev_conv", (prv >= 0) * 2 + prev_conv_active, 4)
    S.add_link("conv_cos", (conv_cb * 2 + conv_latest) * 2 + same, 9 * 4)
    S.add_link("conv_size", (size_b * 2 + conv_latest) * 3 + ment_code, 5 * 6)
    return S


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
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        if data.get("feature_version") != FEATURE_VERSION:
            raise ValueError("conversation weights were trained for a different feature version")
        s2 = data.get("stage2")
        return cls(
            stage1=np.asarray(data["stage1"], dtype=np.float64),
            slots1=tuple((str(a), int(b)) for a, b in data["slots1"]),
            stage2=None if s2 is None else np.asarray(s2, dtype=np.float64),
            slots2=tuple((str(a), int(b)) for a, b in data.get("slots2") or ()),
            window=int(data["window"]),
        )


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> Model:
    with open(path or WEIGHTS_PATH, encoding="utf-8") as fh:
        return Model.from_json(json.load(fh))


def _check_slots(expected: Sequence[tuple[str, int]], names: Sequence[str], sizes: Sequence[int]) -> None:
    if tuple(expected) != tuple(zip(names, sizes, strict=True)):
        raise ValueError("conversation weights do not match the feature layout; retrain them")


def link_probabilities(
    lines: Sequence[ChatLine],
    model: Model,
    *,
    allowed: np.ndarray | None = None,
    forced: np.ndarray | None = None,
) -> np.ndarray:
    """(n, window+1) probability that line i links to line i-k (k = 0: starts a conversation).

    ``allowed`` masks candidates out (False); ``forced`` (n,) gives, for lines whose parent
    is already decided (known/explicit), its offset k (or -1: undecided), which stage 2 uses
    for the conversation structure of the context.
    """
    f = featurize(lines, model.window)
    _check_slots(model.slots1, f.names, f.sizes)
    ok = f.valid if allowed is None else f.valid & allowed
    p1 = _softmax_rows(f.score(model.stage1), ok)
    if model.stage2 is None:
        return p1
    choice, conf = decode_batch(p1, forced)
    s2 = stage2_features(f, choice, conf)
    _check_slots(model.slots2, f.names + s2.names, f.sizes + s2.sizes)
    w = model.stage2
    return _softmax_rows(f.score(w) + s2.score(w, *ok.shape), ok)


def _softmax_rows(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    s = np.where(allowed, scores, -np.inf)
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


# --------------------------------------------------------------------------- untangle


def untangle(
    lines: Sequence[ChatLine],
    *,
    known: Mapping[int, Link] | None = None,
    model: Model | None = None,
) -> list[Link]:
    """Link every line of one channel to its antecedent; see the module docstring.

    ``lines`` must be in time order with increasing ids.  Lines whose id is in ``known``
    are returned with their known link; the others are linked, using all supplied lines
    (and ``known``) as context.  Returns one :class:`Link` per input line, in input order.
    """
    known = known or {}
    n = len(lines)
    if n == 0:
        return []
    ids = [ln.id for ln in lines]
    if any(b <= a for a, b in itertools.pairwise(ids)):
        raise ValueError("lines must have strictly increasing ids")
    todo = [i for i, ln in enumerate(lines) if ln.id not in known]
    if not todo:
        return [known[i] for i in ids]
    model = model or load_model()
    window = model.window
    pos = {lid: i for i, lid in enumerate(ids)}

    # Which lines need a model decision, and with which candidates?
    need_model: list[int] = []
    for i in todo:
        ln = lines[i]
        if (
            ln.reply_to is not None
            and ln.reply_to < ln.id
            and (ln.thread_id is None or _thread_of(ln.reply_to, lines, pos) == ln.thread_id)
        ):
            continue
        need_model.append(i)

    candidates: dict[int, tuple[float, list[int], list[float]]] = {}
    if need_model:
        start = max(0, min(need_model) - window)
        sub = lines[start:]
        ns = len(sub)
        # explicit thread structure restricts candidates: thread lines link within their thread
        threads = np.array([-1 if ln.thread_id is None else ln.thread_id for ln in sub], dtype=np.int64)
        sub_ids = np.array([ln.id for ln in sub], dtype=np.int64)
        jj = np.clip(np.arange(ns)[:, None] - np.arange(window + 1)[None, :], 0, None)
        own_thread = threads[:, None]
        allowed = (threads[jj] == own_thread) | ((own_thread >= 0) & (sub_ids[jj] == own_thread))
        allowed[:, 0] = True
        # already-decided parents (known links, explicit replies) inform stage 2
        forced = np.full(ns, -1, dtype=np.int64)
        for r, ln in enumerate(sub):
            lk = known.get(ln.id)
            par = (
                lk.parent
                if lk is not None
                else (ln.reply_to if ln.reply_to is not None and ln.reply_to < ln.id else -1)
            )
            if lk is not None and par is None:
                forced[r] = 0
            elif par is not None and par in pos and pos[par] >= start and 0 < start + r - pos[par] <= window:
                forced[r] = start + r - pos[par]
        probs = link_probabilities(sub, model, allowed=allowed, forced=forced)
        rows = np.asarray(need_model, dtype=np.int64) - start
        pr = probs[rows]
        # sparse candidate lists (probability mass below MIN_PROB is ignored when summing)
        r_idx, k_idx = np.nonzero(pr[:, 1:] > MIN_PROB)
        k_list = (k_idx + 1).tolist()
        v_list = pr[r_idx, k_idx + 1].tolist()
        bounds = np.searchsorted(r_idx, np.arange(len(rows) + 1)).tolist()
        self_p = pr[:, 0].tolist()
        for r, i in enumerate(need_model):
            a, b = bounds[r], bounds[r + 1]
            candidates[i] = (self_p[r], k_list[a:b], v_list[a:b])

    links: dict[int, Link] = dict(known)
    out: list[Link] = []
    for i, ln in enumerate(lines):
        if ln.id in known:
            out.append(known[ln.id])
            continue
        parent: int | None
        explicit = False
        if i in candidates:
            parent, conf = _choose(i, candidates[i], lines, links)
            if parent is None and ln.thread_id is not None and ln.thread_id != ln.id:
                # first visible line of a thread: attach to the thread starter
                parent, conf, explicit = ln.thread_id, 1.0, True
        else:
            parent, conf, explicit = ln.reply_to, 1.0, True
        if parent is None:
            conv = ln.id
        elif parent in links:
            conv = links[parent].conversation
        elif parent == ln.thread_id or ln.thread_id is not None:
            conv = ln.thread_id if ln.thread_id is not None else parent
        else:
            conv = parent  # reply to a line we have never seen: keyed by that id
        link_ = Link(ln.id, parent, float(min(1.0, max(0.0, conf))), explicit, conv)
        links[ln.id] = link_
        out.append(link_)
    return out


def _choose(
    i: int, cand: tuple[float, list[int], list[float]], lines: Sequence[ChatLine], links: Mapping[int, Link]
) -> tuple[int | None, float]:
    """Conversation-level decision for line i: the probability of joining a conversation is
    the total probability of its lines among the candidates; the line joins the most
    probable conversation (parent: its most probable line there) unless starting a new one
    is more probable.  Returns (parent id or None, probability of the decision)."""
    p_self, ks, ps = cand
    mass: dict[int, float] = {}
    best: dict[int, tuple[float, int]] = {}
    for k, v in zip(ks, ps, strict=True):
        pid = lines[i - k].id
        lk = links.get(pid)
        c = lk.conversation if lk is not None else pid
        mass[c] = mass.get(c, 0.0) + v
        if v > best.get(c, (-1.0, 0))[0]:
            best[c] = (v, pid)
    if mass:
        conv = max(mass, key=mass.__getitem__)
        if mass[conv] > p_self:
            return best[conv][1], mass[conv]
    return None, p_self


def _thread_of(line_id: int, lines: Sequence[ChatLine], pos: Mapping[int, int]) -> int | None:
    p = pos.get(line_id)
    if p is not None:
        return lines[p].thread_id
    return None


def conversations(links: Sequence[Link]) -> dict[int, list[int]]:
    """Group line ids by conversation id (ids in input order)."""
    groups: dict[int, list[int]] = {}
    for lk in links:
        groups.setdefault(lk.conversation, []).append(lk.id)
    return groups
