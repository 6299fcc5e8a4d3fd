"""Stage-2 features: where each candidate stands in the conversations of a first decoding."""

from __future__ import annotations

import numpy as np

from untangle.decode import Decision
from untangle.features import Features, as_int8, bucket, lagged
from untangle.slots import Slots

__all__ = ["stage2_features"]

_CONF_EDGES = np.array([0.3, 0.5, 0.7, 0.9])  # -> 5 buckets


def _chain(conv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per line: the next line of its conversation (2n+1: none), and how many lines of its
    conversation come before it."""
    n = len(conv)
    nxt = [n * 2 + 1] * n
    pos = [0] * n
    last: dict[int, int] = {}
    for i, cv in enumerate(conv.tolist()):
        q = last.get(cv)
        if q is not None:
            nxt[q] = i
            pos[i] = pos[q] + 1
        last[cv] = i
    return np.asarray(nxt, dtype=np.int32), np.asarray(pos, dtype=np.int32)


def _addressed_latest(author: np.ndarray, addressed: np.ndarray) -> np.ndarray:
    """Per line: the latest earlier line of the person it addresses (-1: none)."""
    out = [-1] * len(author)
    latest_by: dict[int, int] = {}
    for i, (a, ad) in enumerate(zip(author.tolist(), addressed.tolist(), strict=True)):
        if ad >= 0:
            out[i] = latest_by.get(ad, -1)
        latest_by[a] = i
    return np.asarray(out, dtype=np.int64)


def _conversation_cosine(cb: np.ndarray, nxt_conv: np.ndarray) -> np.ndarray:
    """(n, window+1): the best cosine bucket of line i with candidate j = i-k or with one of the
    two lines before j in j's conversation (within the window).

    Computed from the non-zero buckets (pairs sharing a word): bucket (i, j') also counts for
    the next two lines of j''s conversation that are not after i.  Each pass reaches every
    (i, j) from one j' at most, so its maxima can be assigned at once.
    """
    n, w1 = cb.shape
    out = cb.copy()
    flat = np.flatnonzero(cb)
    i, k = np.divmod(flat, w1)
    value = cb.reshape(-1)[flat]
    out_flat = out.reshape(-1)
    later = np.append(nxt_conv, len(nxt_conv))  # n: no next line (nxt_conv is beyond n then)
    later = np.minimum(later, n)
    hop = i - k
    for _ in range(2):
        hop = later[hop]
        ok = hop <= i
        at = i[ok] * w1 + (i[ok] - hop[ok])
        out_flat[at] = np.maximum(out_flat[at], value[ok])
    return out


def stage2_features(f: Features, d: Decision) -> Slots:
    """Conversation-level features computed from a first (stage-1) linking of the batch:
    whether the candidate is the latest line of its conversation, whether my own previous
    lines / the person I address are in the candidate's conversation, the stage-1 pick and
    its confidence.  Slot indices follow the stage-1 slots in the stage-2 weight vector."""
    c = f.ctx
    m = c.lines
    n, window = m.n, c.window
    w1 = window + 1
    coarse, same = c.coarse, c.same
    choice, conf = d.choice, d.conf
    ii = np.arange(n, dtype=np.int32)[:, None]
    kk = np.arange(w1)[None, :]
    # conv[i]: batch index of the first line of i's conversation in this batch
    _, first, inverse = np.unique(d.conv, return_index=True, return_inverse=True)
    conv = first[inverse.reshape(-1)].astype(np.int32)
    nxt_conv, pos_conv = _chain(conv)
    conv_j = lagged(conv, window, -3)
    conv_latest = as_int8(lagged(nxt_conv, window, 2 * n + 1) >= ii)
    # lexical similarity to the candidate's conversation: best of the candidate and the two
    # lines before it in its conversation
    conv_cb = _conversation_cosine(c.cos_bucket, nxt_conv)
    size_b = lagged(np.searchsorted(np.array([0, 1, 3, 7]), pos_conv).astype(np.int8), window, 0)
    lm = c.last_mention
    has_lm = (lm >= 0)[:, None]
    lm_conv = np.where(lm >= 0, conv[np.maximum(lm, 0)], -2)[:, None]
    ment_code = as_int8(has_lm) + as_int8(has_lm & (lm_conv == conv_j))
    prv, p2 = c.prv, c.p2
    own1 = as_int8(np.where(prv >= 0, conv[np.maximum(prv, 0)], -1)[:, None] == conv_j)
    own2 = as_int8(np.where(p2 >= 0, conv[np.maximum(p2, 0)], -1)[:, None] == conv_j)
    has_prev = as_int8((prv >= 0)[:, None])
    # conversation of the addressed person's latest line before i
    addr_last = _addressed_latest(m.author, m.addressed)
    has_addr_last = (addr_last >= 0)[:, None]
    addr_conv = has_addr_last & (
        np.where(addr_last >= 0, conv[np.maximum(addr_last, 0)], -2)[:, None] == conv_j
    )
    addr_code = as_int8(has_addr_last) + as_int8(addr_conv)  # 0 none, 1 elsewhere, 2 same conv
    starts = as_int8(lagged(choice == 0, window, False))  # candidate started its conversation
    age_b = bucket(ii - conv_j, (5, 20, 50, 100))  # lines since the candidate's conversation started
    pick = as_int8(choice[:, None] == kk)
    confb = np.searchsorted(_CONF_EDGES, conf).astype(np.int8)[:, None]
    # my previous line: was it the latest of its conversation?
    pv = np.maximum(prv, 0)
    prev_conv_active = (prv >= 0) & (nxt_conv[pv] >= np.arange(n))

    S = Slots(base=sum(f.sizes))
    S.add_link("s1_pick", pick * 5 + confb, 10)
    S.add_self("s1_pick_self", (choice == 0) * 5 + confb[:, 0].astype(np.int64), 10)
    S.add_link("conv_latest", (conv_latest * 6 + coarse) * 2 + c.has_ment_i, 24)
    S.add_link("own_conv", (((has_prev * 2 + own1) * 2 + own2) * 2 + conv_latest) * 2 + same, 32)
    S.add_link("addr_conv", (addr_code * 2 + conv_latest) * 2 + c.addresses_cand, 12)
    S.add_link("conv_age", (age_b * 2 + starts) * 2 + conv_latest, 20)
    S.add_self("self_prev_conv", (prv >= 0) * 2 + prev_conv_active, 4)
    S.add_link("conv_cos", (conv_cb * 2 + conv_latest) * 2 + same, 9 * 4)
    S.add_link("conv_size", (size_b * 2 + conv_latest) * 3 + ment_code, 5 * 6)
    return S
