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
   system lines.  The arg-max antecedent is the parent; its softmax probability is the
   confidence.  Conversations are connected components, i.e. a line inherits its parent's
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

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["WINDOW", "ChatLine", "Link", "Model", "load_model", "untangle"]

#: How many earlier lines are considered as antecedents of a line.
WINDOW = 100
#: Max number of mentioned authors kept per line.
MAX_MENTIONS = 4
WEIGHTS_PATH = Path(__file__).with_name("conversation_weights.json")
FEATURE_VERSION = 1


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
    """a about above after again all am an and any are as at be because been before being
    but by can could did do does doing don dont down during each few for from further had has
    have having he her here hers him his how i i'm if im in into is isn it it's its itself
    just me more most my no nor not now of off on once only or other our out over own same
    she should so some such than that thats the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your yours yes yeah ok okay hi hello hey thanks thank thx ty lol get
    got know like one also use using try tried need want think see well still really
    """.split()
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

    def resolve(word: str, allow_prefix: bool) -> int:
        key = names.get(word)
        if key is not None:
            return aid(key)
        if not allow_prefix or len(word) < 3:
            return -1
        got = prefix_cache.get(word)
        if got is None:
            hits = {v for k, v in names.items() if k.startswith(word)}
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
        out += np.bincount(
            msg[lag:][ok] * (window + 1) + dist[ok], weights=w2[lag:][ok], minlength=out.size
        )
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
    """Collects categorical feature slots into one (n, k, S) index array."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.sizes: list[int] = []
        self.values: list[np.ndarray] = []

    def add(self, name: str, values: np.ndarray, size: int) -> None:
        self.names.append(name)
        self.sizes.append(size)
        self.values.append(values)

    def stack(self) -> np.ndarray:
        offsets = np.cumsum([0, *self.sizes[:-1]])
        return np.stack([v + o for v, o in zip(self.values, offsets, strict=True)], axis=-1).astype(np.int32)


@dataclass(slots=True)
class Features:
    """Stage-1 feature indices for every (line i, candidate i-k), k = 0..window
    (k = 0: "starts a new conversation"), plus what stage 2 needs."""

    idx: np.ndarray  # (n, window+1, S) int32, already offset into one weight vector
    valid: np.ndarray  # (n, window+1) bool: candidate exists
    names: list[str]
    sizes: list[int]
    ctx: dict[str, Any]


def featurize(lines: Sequence[ChatLine], window: int = WINDOW) -> Features:
    """Stage-1 features of a batch of lines (see :class:`Features`)."""
    m = _prepare(lines)
    n = m.n
    kk = np.arange(window + 1)
    ii = np.arange(n)[:, None]
    jj = ii - kk[None, :]
    valid = jj >= 0
    j = np.clip(jj, 0, None)
    is_self = kk[None, :] == 0
    link = ~is_self
    self_b = np.broadcast_to(is_self, (n, window + 1))

    def at_j(arr: np.ndarray) -> np.ndarray:
        return arr[j]

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
        addresses_cand * 1
        + mentions_cand * 2
        + cand_mentions_me * 4
        + same * 8
        + other_i * 16
        + addr_j * 32
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
    mention_gap = at_i(last_mention)
    recent_mention = (mention_gap >= 0) & ((ii - mention_gap) <= window)
    # minutes since my previous line
    gap_own = np.where(prv >= 0, m.minutes - m.minutes[np.maximum(prv, 0)], 1e9)
    gap_own_b = np.where(prv >= 0, np.searchsorted(_GAP_EDGES, gap_own) + 1, 0)  # 0 = none
    prev_gap = np.zeros(n)
    prev_gap[1:] = m.minutes[1:] - m.minutes[:-1]
    prev_gap_b = np.searchsorted(_TIME_EDGES, prev_gap)

    cos = _lexical_cosine(m, window)
    cb = np.searchsorted(_COS_EDGES, cos)

    S = _Slots()
    # link features (value 0 reserved for the self candidate)
    def linkv(v: np.ndarray, size: int) -> tuple[np.ndarray, int]:
        return np.where(link, v + 1, 0), size + 1

    S.add("dist_sys", *linkv(dist * 4 + sys_j * 2 + sys_i, 16 * 4))
    S.add("time_dist", *linkv(tb * 16 + dist, 9 * 16))
    S.add("rel_coarse", *linkv(rel * 6 + coarse, 64 * 6))
    S.add("between_rel", *linkv(
        (between_cand * 3 + np.minimum(between_me, 2)) * 8
        + (addresses_cand | mentions_cand) * 4 + cand_mentions_me * 2 + same, 12 * 8))
    S.add("prev_own_time", *linkv(prev_own * 54 + tb * 6 + coarse, 2 * 54))
    S.add("talk", *linkv(
        talked * 16 + cand_mentions_me * 8 + cand_latest * 4 + has_ment_i * 2 + same, 32))
    S.add("last_mention", *linkv(is_last_mention * 4 + addresses_cand * 2 + cand_latest, 8))
    S.add("cos_coarse", *linkv(cb * 6 + coarse, 9 * 6))
    S.add("cos_rel", *linkv(cb * 4 + (addresses_cand | mentions_cand) * 2 + same, 9 * 4))
    S.add("q_cue", *linkv((q_j * 2 + q_i) * N_CUES + cue_i, 4 * N_CUES))
    S.add("cues", *linkv(cue_j * N_CUES + cue_i, N_CUES * N_CUES))
    S.add("len_q", *linkv((len_i * 5 + len_j) * 2 + q_j, 50))
    S.add("url", *linkv(url_i * 2 + url_j, 4))
    S.add("latest_coarse", *linkv((cand_latest * 2 + has_ment_i) * 6 + coarse, 24))
    # self features (value 0 reserved for link candidates)
    def selfv(v: np.ndarray, size: int) -> tuple[np.ndarray, int]:
        return np.where(self_b, v + 1, 0), size + 1

    addr_own = at_i(m.addressed >= 0)
    S.add("self_basic", *selfv(((sys_i * 2 + addr_own) * 2 + has_ment_i) * 2 + q_i, 16))
    S.add("self_cue_len", *selfv(cue_i * 5 + len_i, N_CUES * 5))
    S.add("self_gap", *selfv(at_i(gap_own_b) * 2 + addr_own, 8 * 2))
    S.add("self_mentioned", *selfv(
        recent_mention * 2 + at_i(m.question), 4))
    S.add("self_prev_gap", *selfv(at_i(prev_gap_b) * 2 + at_i(m.system), 18))
    S.add("self_url_q", *selfv(url_i * 2 + q_i, 4))
    idx = S.stack()
    ctx = {
        "m": m, "window": window, "j": j, "link": link, "coarse": coarse, "same": same,
        "prv": prv, "p2": p2, "a_i": a_i, "a_j": a_j, "addresses_cand": addresses_cand,
        "mentions_cand": mentions_cand, "cand_latest": cand_latest, "has_ment_i": has_ment_i,
        "cand_mentions_me": cand_mentions_me,
    }
    return Features(idx, valid, S.names, S.sizes, ctx)


_CONF_EDGES = np.array([0.3, 0.5, 0.7, 0.9])  # -> 5 buckets


def _conversations_from_choice(choice: np.ndarray) -> np.ndarray:
    """conv[i] = batch index of the first line of i's conversation (k = choice[i])."""
    n = len(choice)
    conv = np.arange(n)
    ch = choice.tolist()
    for i in range(n):
        k = ch[i]
        if k:
            conv[i] = conv[i - k]
    return conv


def stage2_features(f: Features, choice: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, list[str], list[int]]:
    """Conversation-level features computed from a first (stage-1) linking of the batch:
    whether the candidate is the latest line of its conversation, whether my own previous
    lines / the person I address are in the candidate's conversation, the stage-1 pick and
    its confidence.  Returned indices are offset to follow the stage-1 slots."""
    c = f.ctx
    m: _Msgs = c["m"]
    n, window = m.n, c["window"]
    j, link, coarse, same = c["j"], c["link"], c["coarse"], c["same"]
    ii = np.arange(n)[:, None]
    kk = np.arange(window + 1)[None, :]
    is_self = kk == 0
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
    addr_conv = has_addr_last & (np.where(addr_last >= 0, conv[np.maximum(addr_last, 0)], -2)[:, None] == conv_j)
    addr_code = np.where(has_addr_last, 1 + addr_conv, 0)  # 0 none, 1 elsewhere, 2 same conv
    starts = choice[j] == 0  # candidate started its conversation
    age = ii - conv_j  # lines since the candidate's conversation started
    age_b = np.searchsorted(np.array([5, 20, 50, 100]), age)
    pick = choice[:, None] == kk
    confb = np.searchsorted(_CONF_EDGES, conf)[:, None]
    # my previous line: how far back (coarse) and was it the latest of its conversation?
    prev_conv_active = np.zeros(n, dtype=bool)
    pv = np.maximum(prv, 0)
    prev_conv_active = (prv >= 0) & (nxt_conv[pv] >= np.arange(n))

    S = _Slots()
    S.add("s1_pick", np.broadcast_to(is_self * 10 + pick * 5 + confb, (n, window + 1)), 20)
    S.add("conv_latest", np.where(link, 1 + (conv_latest * 6 + coarse) * 2 + c["has_ment_i"], 0), 25)
    S.add(
        "own_conv",
        np.where(link, 1 + (((has_prev * 2 + own1) * 2 + own2) * 2 + conv_latest) * 2 + same, 0),
        33,
    )
    S.add(
        "addr_conv",
        np.where(link, 1 + (addr_code * 2 + conv_latest) * 2 + c["addresses_cand"], 0),
        13,
    )
    S.add("conv_age", np.where(link, 1 + (age_b * 2 + starts) * 2 + conv_latest, 0), 21)
    S.add(
        "self_prev_conv",
        np.broadcast_to(np.where(is_self, 1 + (prv >= 0)[:, None] * 2 + prev_conv_active[:, None], 0), (n, window + 1)),
        5,
    )
    idx2 = S.stack() + sum(f.sizes)
    return idx2, S.names, S.sizes


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Model:
    weights: np.ndarray
    slot_names: tuple[str, ...]
    slot_sizes: tuple[int, ...]
    window: int = WINDOW

    def scores(self, idx: np.ndarray) -> np.ndarray:
        return self.weights[idx].sum(axis=-1)

    def to_json(self) -> dict[str, Any]:
        return {
            "feature_version": FEATURE_VERSION,
            "window": self.window,
            "slots": [[n, s] for n, s in zip(self.slot_names, self.slot_sizes, strict=True)],
            "weights": [round(float(w), 4) for w in self.weights],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        if data.get("feature_version") != FEATURE_VERSION:
            raise ValueError("conversation weights were trained for a different feature version")
        slots = data["slots"]
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float64),
            slot_names=tuple(s[0] for s in slots),
            slot_sizes=tuple(int(s[1]) for s in slots),
            window=int(data["window"]),
        )


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> Model:
    with open(path or WEIGHTS_PATH, encoding="utf-8") as fh:
        return Model.from_json(json.load(fh))


def _check_slots(model: Model, names: Sequence[str], sizes: Sequence[int]) -> None:
    if tuple(names) != model.slot_names or tuple(sizes) != model.slot_sizes:
        raise ValueError("conversation weights do not match the feature layout; retrain them")


def _softmax_rows(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    s = np.where(allowed, scores, -np.inf)
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


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
    if any(b <= a for a, b in zip(ids, ids[1:], strict=False)):
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
        if ln.reply_to is not None and ln.reply_to < ln.id:
            if ln.thread_id is None or _thread_of(ln.reply_to, lines, pos, known) == ln.thread_id:
                continue
        need_model.append(i)

    probs = None
    if need_model:
        start = max(0, min(need_model) - window)
        sub = lines[start:]
        idx, valid, names, sizes = featurize(sub, window)
        _check_slots(model, names, sizes)
        rows = np.asarray(need_model, dtype=np.int64) - start
        idx, valid = idx[rows], valid[rows]
        allowed = valid.copy()
        # explicit thread structure restricts candidates: thread lines link within their thread
        threads = np.array([-1 if ln.thread_id is None else ln.thread_id for ln in sub], dtype=np.int64)
        sub_ids = np.array([ln.id for ln in sub], dtype=np.int64)
        jj = np.clip(rows[:, None] - np.arange(window + 1)[None, :], 0, None)
        own_thread = threads[rows][:, None]
        cand_thread = threads[jj]
        in_thread = (cand_thread == own_thread) | ((own_thread >= 0) & (sub_ids[jj] == own_thread))
        allowed[:, 1:] &= in_thread[:, 1:]
        probs = _softmax_rows(model.scores(idx), allowed)
        choice = probs.argmax(axis=1)
        chosen = dict(zip(need_model, zip(choice.tolist(), probs[np.arange(len(rows)), choice].tolist(), strict=True), strict=True))
    else:
        chosen = {}

    links: dict[int, Link] = dict(known)
    out: list[Link] = []
    for i, ln in enumerate(lines):
        if ln.id in known:
            out.append(known[ln.id])
            continue
        parent: int | None
        explicit = False
        if i in chosen:
            k, conf = chosen[i]
            parent = None if k == 0 else lines[i - k].id
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


def _thread_of(
    line_id: int, lines: Sequence[ChatLine], pos: Mapping[int, int], known: Mapping[int, Link]
) -> int | None:
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


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0
