"""Stage-1 features of every (line, candidate) pair of a batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from untangle.cues import N_CUES
from untangle.lexical import lexical_cosine
from untangle.lines import ChatLine
from untangle.prepare import MAX_MENTIONS, LineArrays, prepare
from untangle.slots import Slots

__all__ = ["MAX_GAP", "WINDOW", "Features", "PairContext", "featurize"]

#: How many earlier lines are considered as antecedents of a line.
WINDOW = 100
#: Inferred links never reach back more than this many seconds.
MAX_GAP = 3 * 3600.0


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
class PairContext:
    """What stage 2 reuses from stage 1: per-line arrays and some (n, window+1) pair arrays."""

    lines: LineArrays
    window: int
    j: np.ndarray  # (n, window+1) batch index of candidate i-k (clipped at 0)
    coarse: np.ndarray  # coarse distance bucket
    same: np.ndarray  # same author
    addresses_cand: np.ndarray  # line addresses the candidate's author
    has_ment_i: np.ndarray  # line mentions someone
    cos_bucket: np.ndarray  # bucketed lexical cosine
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


def featurize(lines: Sequence[ChatLine], window: int = WINDOW) -> Features:
    """Stage-1 features of a batch of lines (see :class:`Features`)."""
    m = prepare(lines)
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

    cos = lexical_cosine(m, window)
    cb = np.searchsorted(_COS_EDGES, cos)

    S = Slots()
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
    ctx = PairContext(
        lines=m,
        window=window,
        j=j,
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
