"""Stage-2 features: where each candidate stands in the conversations of a first decoding."""

from __future__ import annotations

import numpy as np

from untangle.decode import Decision
from untangle.features import Features
from untangle.slots import Slots

__all__ = ["stage2_features"]

_CONF_EDGES = np.array([0.3, 0.5, 0.7, 0.9])  # -> 5 buckets


def stage2_features(f: Features, d: Decision) -> Slots:
    """Conversation-level features computed from a first (stage-1) linking of the batch:
    whether the candidate is the latest line of its conversation, whether my own previous
    lines / the person I address are in the candidate's conversation, the stage-1 pick and
    its confidence.  Slot indices follow the stage-1 slots in the stage-2 weight vector."""
    c = f.ctx
    m = c.lines
    n, window = m.n, c.window
    j, coarse, same = c.j, c.coarse, c.same
    choice, conf = d.choice, d.conf
    ii = np.arange(n)[:, None]
    kk = np.arange(window + 1)[None, :]
    # conv[i]: batch index of the first line of i's conversation in this batch
    _, first, inverse = np.unique(d.conv, return_index=True, return_inverse=True)
    conv = first[inverse.reshape(-1)]
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
    cb = c.cos_bucket
    conv_cb = cb
    prev_j = j
    for _ in range(2):
        prev_j = np.where(prev_j >= 0, prv_conv[np.maximum(prev_j, 0)], -1)
        k2 = ii - prev_j
        okk = (prev_j >= 0) & (k2 <= window)
        conv_cb = np.maximum(conv_cb, np.where(okk, cb[ii, np.minimum(k2, window)], 0))
    size_b = np.searchsorted(np.array([0, 1, 3, 7]), pos_conv[j])  # lines before j in its conv
    lm = c.last_mention
    has_lm = (lm >= 0)[:, None]
    ment_code = np.where(has_lm, 1 + (np.where(lm >= 0, conv[np.maximum(lm, 0)], -2)[:, None] == conv_j), 0)
    prv, p2 = c.prv, c.p2
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

    S = Slots(base=sum(f.sizes))
    S.add_link("s1_pick", pick * 5 + confb, 10)
    S.add_self("s1_pick_self", (choice == 0) * 5 + confb[:, 0], 10)
    S.add_link("conv_latest", (conv_latest * 6 + coarse) * 2 + c.has_ment_i, 24)
    S.add_link("own_conv", (((has_prev * 2 + own1) * 2 + own2) * 2 + conv_latest) * 2 + same, 32)
    S.add_link("addr_conv", (addr_code * 2 + conv_latest) * 2 + c.addresses_cand, 12)
    S.add_link("conv_age", (age_b * 2 + starts) * 2 + conv_latest, 20)
    S.add_self("self_prev_conv", (prv >= 0) * 2 + prev_conv_active, 4)
    S.add_link("conv_cos", (conv_cb * 2 + conv_latest) * 2 + same, 9 * 4)
    S.add_link("conv_size", (size_b * 2 + conv_latest) * 3 + ment_code, 5 * 6)
    return S
