"""Stage-1 features of every (line, candidate) pair of a batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from untangle.cues import N_CUES
from untangle.lexical import cosine_buckets
from untangle.lines import ChatLine
from untangle.mentions import candidate_mentions, mentions_candidate
from untangle.prepare import MAX_MENTIONS, LineArrays, prepare
from untangle.slots import Slots

__all__ = ["MAX_GAP", "WINDOW", "Features", "PairContext", "as_int8", "featurize", "lagged"]

#: How many earlier lines are considered as antecedents of a line.
WINDOW = 100
#: Inferred links never reach back more than this many seconds.
MAX_GAP = 3 * 3600.0


def _bucket_table(edges: Sequence[int], size: int) -> np.ndarray:
    """Lookup table v -> bucket for 0 <= v < size; edges are the inclusive upper bounds."""
    table = np.zeros(size, dtype=np.int8)
    b = 0
    for v in range(size):
        while b < len(edges) and v > edges[b]:
            b += 1
        table[v] = b
    return table


_DIST = _bucket_table([0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 23, 31, 47, 63], WINDOW + 1)  # 16 values
_COARSE = _bucket_table([0, 1, 3, 8, 20], WINDOW + 1)  # 6 values (0 = self)
_TIME_EDGES = (0.5, 1.5, 2.5, 3.5, 5.5, 9.5, 19.5, 59.5)  # minutes -> 9 buckets
_COS_EDGES = (1e-9, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6)  # -> 9 buckets
_GAP_EDGES = np.array([0.5, 1.5, 3.5, 7.5, 15.5, 60.5])  # minutes since author's last line -> 7


def lagged(values: np.ndarray, window: int, fill: float | int) -> np.ndarray:
    """(n, window+1) read-only view: out[i, k] = values[i-k], ``fill`` where i-k < 0 (no copy)."""
    n = len(values)
    padded = np.empty(n + window, dtype=values.dtype)
    padded[:window] = fill
    padded[window:] = values
    step = padded.strides[0]
    # row i starts at padded[window + i] and reads backwards (sliding_window_view costs 5x more)
    view = np.ndarray((n, window + 1), padded.dtype, padded, window * step, (step, -step))
    view.flags.writeable = False
    return view


def as_int8(flags: np.ndarray) -> np.ndarray:
    """A bool array as 0/1 int8 (so that arithmetic on it stays small)."""
    out: np.ndarray = flags.view(np.int8) if flags.dtype == np.bool_ else flags.astype(np.int8)
    return out


def bucket(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Number of edges below each value (``np.searchsorted(edges, values)``), as int8."""
    out = np.zeros(values.shape, dtype=np.int8)
    for e in edges:
        out += values > e
    return out


@dataclass(frozen=True, slots=True)
class PairContext:
    """What stage 2 reuses from stage 1: per-line arrays and some (n, window+1) pair arrays."""

    lines: LineArrays
    window: int
    coarse: np.ndarray  # (1, window+1) coarse distance bucket
    same: np.ndarray  # same author (int8)
    addresses_cand: np.ndarray  # line addresses the candidate's author (int8)
    has_ment_i: np.ndarray  # (n, 1) line mentions someone (int8)
    cos_bucket: np.ndarray  # (n, window+1) bucketed lexical cosine (int8)
    prv: np.ndarray  # (n,) my previous line or -1
    p2: np.ndarray  # (n,) my line before that or -1
    last_mention: np.ndarray  # (n,) latest earlier line that mentioned my author or -1


@dataclass(frozen=True, slots=True)
class Features:
    """Stage-1 features for every (line i, candidate i-k), k = 0..window
    (k = 0: "starts a new conversation"), plus what stage 2 needs."""

    slots: Slots
    valid: np.ndarray  # (n, window+1) bool: candidate exists
    ctx: PairContext

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
        """(n, window+1) sum of the weights of each pair's stage-1 features."""
        return self.slots.score(w, *self.valid.shape)

    def scores(self, ws: Sequence[np.ndarray]) -> list[np.ndarray]:
        """:meth:`score` for several weight vectors (one pass over the pairs)."""
        return self.slots.scores(ws, *self.valid.shape)


def _same_author_links(author: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(next, previous) line of the same author per line; next is far in the future when none."""
    n = len(author)
    nxt = np.full(n + 1, n + WINDOW + 1, dtype=np.int32)  # sentinel "far in the future"
    prv = np.full(n, -1, dtype=np.int32)
    last: dict[int, int] = {}
    for i, a in enumerate(author.tolist()):
        p = last.get(a)
        if p is not None:
            nxt[p] = i
            prv[i] = p
        last[a] = i
    return nxt, prv


def _last_mentions(m: LineArrays) -> np.ndarray:
    """Latest line before each line that mentioned its author (-1: none)."""
    last_mention = [-1] * m.n
    seen: dict[int, int] = {}
    authors = m.author.tolist()
    for i, ment in enumerate(m.mentions.tolist()):
        last_mention[i] = seen.get(authors[i], -1)
        for w in ment:
            if w >= 0:
                seen[w] = i
    return np.asarray(last_mention, dtype=np.int64)


def featurize(lines: Sequence[ChatLine], window: int = WINDOW) -> Features:
    """Stage-1 features of a batch of lines (see :class:`Features`).

    Pair arrays are (n, window+1): column k holds candidate i-k.  A candidate's per-line values
    are read through :func:`lagged` views, so nothing is gathered pair by pair; values stay in
    int8/int16 (values at pairs that do not exist are never used: ``valid`` masks them).
    """
    m = prepare(lines)
    n = m.n
    w1 = window + 1
    kk = np.arange(w1)
    ii = np.arange(n, dtype=np.int32)[:, None]
    far = n + window + 1

    def i_(arr: np.ndarray) -> np.ndarray:
        return arr[:, None]

    def j_(arr: np.ndarray, fill: float | int = 0) -> np.ndarray:
        return lagged(arr, window, fill)

    a_i, a_j = i_(m.author), j_(m.author, -1)
    sys_, q_, url_ = as_int8(m.system), as_int8(m.question), as_int8(m.url)
    cue_, len_ = m.cue.astype(np.int8), m.length.astype(np.int8)
    dist = _DIST[kk][None, :].astype(np.int16)
    coarse = _COARSE[kk][None, :]
    dt = i_(m.minutes) - j_(m.minutes, -np.inf)  # +inf where there is no candidate: never valid
    tb = bucket(dt, _TIME_EDGES)
    # no inferred link across a long silence (7 of 52,641 gold links in train span > 3 h)
    valid = dt <= MAX_GAP / 60.0
    valid[:, 0] = True

    same = as_int8(a_i == a_j)
    addr_i = i_(m.addressed)
    addresses_cand = as_int8((addr_i >= 0) & (addr_i == a_j))
    mentions_cand = np.zeros((n, w1), dtype=bool)
    cand_mentions_me = np.zeros((n, w1), dtype=bool)
    for s in range(MAX_MENTIONS):
        mentions_candidate(m.mentions[:, s], a_j, mentions_cand)
        candidate_mentions(m.mentions[:, s], m.author, cand_mentions_me)
    mentions_cand &= addresses_cand == 0
    mentions_cand8, cand_mentions_me8 = as_int8(mentions_cand), as_int8(cand_mentions_me)
    has_ment_i = as_int8(i_(m.mentions[:, 0] >= 0))
    other_i = has_ment_i & (addresses_cand == 0) & ~mentions_cand
    addr_j = as_int8(j_(m.addressed, -1) >= 0)
    rel = (
        addresses_cand
        + mentions_cand8 * 2
        + cand_mentions_me8 * 4
        + same * 8
        + as_int8(other_i) * 16
        + addr_j * 32
    )
    addr_or_ment = addresses_cand | mentions_cand8

    nxt, prv = _same_author_links(m.author)
    # lines by the candidate's author strictly between j and i (0, 1, 2, 3+)
    nxt1 = nxt[:n]
    nxt2 = nxt[np.minimum(nxt1, n)]
    nxt3 = nxt[np.minimum(nxt2, n)]
    between_cand = as_int8(j_(nxt1, far) < ii) + as_int8(j_(nxt2, far) < ii) + as_int8(j_(nxt3, far) < ii)
    cand_latest = as_int8(j_(nxt1, far) >= ii)
    # lines by this line's author strictly between j and i (0, 1, 2+): p1 > i-k  <=>  k > i-p1
    p1 = prv
    p2 = np.where(p1 >= 0, prv[np.maximum(p1, 0)], -1)
    idx = np.arange(n, dtype=np.int32)
    d1 = i_(np.where(p1 >= 0, idx - p1, far))
    d2 = i_(np.where(p2 >= 0, idx - p2, far))
    between_me = as_int8(kk > d1) + as_int8(kk > d2)
    prev_own = same & as_int8(kk == d1)
    # who talks to whom: my previous line addressed/mentioned the candidate's author
    pm = np.where(p1[:, None] >= 0, m.mentions[np.maximum(p1, 0)], -1)
    talked = np.zeros((n, w1), dtype=bool)
    for s in range(MAX_MENTIONS):
        mentions_candidate(pm[:, s], a_j, talked)
    last_mention = _last_mentions(m)
    is_last_mention = as_int8(kk == i_(np.where(last_mention >= 0, idx - last_mention, far)))
    # minutes since my previous line
    gap_own = np.where(prv >= 0, m.minutes - m.minutes[np.maximum(prv, 0)], 1e9)
    gap_own_b = np.where(prv >= 0, np.searchsorted(_GAP_EDGES, gap_own) + 1, 0)  # 0 = none
    prev_gap = np.zeros(n)
    prev_gap[1:] = m.minutes[1:] - m.minutes[:-1]
    prev_gap_b = np.searchsorted(np.asarray(_TIME_EDGES), prev_gap)

    cb = cosine_buckets(m, window, _COS_EDGES)
    cb16 = cb.astype(np.int16)
    tb16 = tb.astype(np.int16)
    coarse16 = coarse.astype(np.int16)

    S = Slots()
    # link features
    S.add_link("dist_sys", dist * 4 + j_(sys_) * 2 + i_(sys_), 16 * 4)
    S.add_link("time_dist", tb16 * 16 + dist, 9 * 16)
    S.add_link("rel_coarse", rel.astype(np.int16) * 6 + coarse16, 64 * 6)
    S.add_link(
        "between_rel",
        (between_cand.astype(np.int16) * 3 + between_me) * 8  # between_me is 0, 1 or 2
        + addr_or_ment * 4
        + cand_mentions_me8 * 2
        + same,
        12 * 8,
    )
    S.add_link("prev_own_time", prev_own.astype(np.int16) * 54 + tb16 * 6 + coarse16, 2 * 54)
    S.add_link(
        "talk", as_int8(talked) * 16 + cand_mentions_me8 * 8 + cand_latest * 4 + has_ment_i * 2 + same, 32
    )
    S.add_link("last_mention", is_last_mention * 4 + addresses_cand * 2 + cand_latest, 8)
    S.add_link("cos_coarse", cb16 * 6 + coarse16, 9 * 6)
    S.add_link("cos_rel", cb * 4 + addr_or_ment * 2 + same, 9 * 4)
    S.add_link("q_cue", (j_(q_) * 2 + i_(q_)) * N_CUES + i_(cue_), 4 * N_CUES)
    S.add_link("cues", j_(cue_).astype(np.int16) * N_CUES + i_(cue_), N_CUES * N_CUES)
    S.add_link("len_q", (i_(len_) * 5 + j_(len_)) * 2 + j_(q_), 50)
    S.add_link("url", i_(url_) * 2 + j_(url_), 4)
    S.add_link("latest_coarse", (cand_latest * 2 + has_ment_i) * 6 + coarse, 24)
    # self features ("this line starts a new conversation")
    addr_own = m.addressed >= 0
    has_ment = m.mentions[:, 0] >= 0
    recent_mention = (last_mention >= 0) & ((idx - last_mention) <= window)
    system, question = m.system.astype(np.int64), m.question.astype(np.int64)
    S.add_self("self_basic", ((system * 2 + addr_own) * 2 + has_ment) * 2 + question, 16)
    S.add_self("self_cue_len", m.cue * 5 + m.length, N_CUES * 5)
    S.add_self("self_gap", gap_own_b * 2 + addr_own, 8 * 2)
    S.add_self("self_mentioned", recent_mention * 2 + question, 4)
    S.add_self("self_prev_gap", prev_gap_b * 2 + system, 18)
    S.add_self("self_url_q", m.url.astype(np.int64) * 2 + question, 4)
    ctx = PairContext(
        lines=m,
        window=window,
        coarse=coarse,
        same=same,
        addresses_cand=addresses_cand,
        has_ment_i=has_ment_i,
        cos_bucket=cb,
        prv=prv,
        p2=p2,
        last_mention=last_mention,
    )
    return Features(S, valid, ctx)
