"""The driver: explicit structure first, then the model links the rest of a channel's lines."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from untangle.decode import Candidates, Structure, decode
from untangle.errors import UntangleError
from untangle.features import lagged
from untangle.lines import ChatLine, Link, make_links
from untangle.model import Model, link_probabilities, load_model

__all__ = ["conversations", "untangle"]


def _plan(lines: Sequence[ChatLine], known: Mapping[int, Link]) -> tuple[Structure, np.ndarray]:
    """What explicit structure decides: the structure of the batch, and which lines (thread lines
    the model does not attach) link explicitly to their thread's starter."""
    n = len(lines)
    if not known and all(ln.reply_to is None and ln.thread_id is None for ln in lines):
        # no explicit structure (a plain chat log): every line is the model's
        ids = np.fromiter((ln.id for ln in lines), dtype=np.int64, count=n)
        free = Structure.free(n)
        return Structure(free.fixed, free.choice, free.anchor, ids), np.zeros(n, dtype=bool)
    pos = {ln.id: i for i, ln in enumerate(lines)}
    fixed = np.zeros(n, dtype=bool)
    choice = np.full(n, -1, dtype=np.int64)
    anchor = np.full(n, -1, dtype=np.int64)
    label = np.empty(n, dtype=np.int64)
    to_thread = np.zeros(n, dtype=bool)
    for i, ln in enumerate(lines):
        lk = known.get(ln.id)
        if lk is not None:
            fixed[i], label[i] = True, lk.conversation
            if lk.parent is None:
                choice[i] = 0
            elif pos.get(lk.parent, i) < i:
                choice[i] = i - pos[lk.parent]
            continue
        rt, tid = ln.reply_to, ln.thread_id
        if rt is not None and rt < ln.id:
            p = pos.get(rt)
            if tid is None or (p is not None and lines[p].thread_id == tid):
                fixed[i] = True
                if p is not None:
                    anchor[i], choice[i], label[i] = p, i - p, rt
                else:  # a reply to a line we have never seen: keyed by that id (or the known link's)
                    target = known.get(rt)
                    label[i] = target.conversation if target is not None else tid if tid is not None else rt
                continue
        if tid is not None and tid != ln.id:
            to_thread[i] = True
            p = pos.get(tid)
            if p is not None and p < i:
                anchor[i], label[i] = p, tid
            else:
                starter = known.get(tid)
                label[i] = starter.conversation if starter is not None else tid
        else:
            label[i] = ln.id
    return Structure(fixed, choice, anchor, label), to_thread


def _allowed(lines: Sequence[ChatLine], window: int) -> np.ndarray | None:
    """Explicit thread structure restricts candidates: thread lines link within their thread
    (None: no line is in a thread, nothing is restricted)."""
    if all(ln.thread_id is None for ln in lines):
        return None
    threads = np.array([-1 if ln.thread_id is None else ln.thread_id for ln in lines], dtype=np.int64)
    ids = np.array([ln.id for ln in lines], dtype=np.int64)
    own = threads[:, None]
    allowed: np.ndarray = (lagged(threads, window, -2) == own) | (
        (own >= 0) & (lagged(ids, window, -2) == own)
    )
    allowed[:, 0] = True
    return allowed


def untangle(
    lines: Sequence[ChatLine],
    *,
    known: Mapping[int, Link] | None = None,
    model: Model | None = None,
) -> list[Link]:
    """Link every line of one channel to its antecedent; see the package docstring.

    ``lines`` must be in time order with increasing ids.  Lines whose id is in ``known``
    are returned with their known link; the others are linked, using all supplied lines
    (and ``known``) as context.  Returns one :class:`Link` per input line, in input order.
    """
    known = known or {}
    if not lines:
        return []
    for a, b in itertools.pairwise(lines):
        if b.id <= a.id:
            raise UntangleError(f"lines must have strictly increasing ids: {b.id} follows {a.id}")
    if all(ln.id in known for ln in lines):
        return [known[ln.id] for ln in lines]
    model = model or load_model()
    structure, to_thread = _plan(lines, known)
    model_rows = np.flatnonzero(~structure.fixed)
    n = len(lines)
    start = n if not model_rows.size else max(0, int(model_rows[0]) - model.window)
    head = decode(Candidates.none(model.window + 1), structure.head(start))
    choice, conv, conf = head.choice.tolist(), head.conv.tolist(), head.conf.tolist()
    if start < n:
        sub = lines[start:]
        sub_structure = structure.after(start, head.conv)
        probs = link_probabilities(sub, model, allowed=_allowed(sub, model.window), structure=sub_structure)
        rows = model_rows - start
        final = decode(Candidates.of_rows(rows, probs), sub_structure)
        choice += final.choice.tolist()
        conv += final.conv.tolist()
        conf += final.conf.tolist()
    confidence = np.clip(np.asarray(conf), 0.0, 1.0).tolist()
    ids = [ln.id for ln in lines]
    if not known and not structure.fixed.any() and not to_thread.any():  # a plain chat log
        parents = [ids[i - k] if k > 0 else None for i, k in enumerate(choice)]
        return make_links(ids, parents, confidence, False, conv)
    fixed = structure.fixed.tolist()
    thread_start = to_thread.tolist()
    out: list[Link] = []
    for i, ln in enumerate(lines):
        lk = known.get(ln.id)
        if lk is not None:
            out.append(lk)
        elif fixed[i]:
            out.append(Link(ln.id, ln.reply_to, 1.0, True, conv[i]))
        elif choice[i] > 0:
            out.append(Link(ln.id, ids[i - choice[i]], confidence[i], False, conv[i]))
        elif thread_start[i]:  # first visible line of a thread: attach to the thread starter
            out.append(Link(ln.id, ln.thread_id, 1.0, True, conv[i]))
        else:
            out.append(Link(ln.id, None, confidence[i], False, conv[i]))
    return out


def conversations(links: Sequence[Link]) -> dict[int, list[int]]:
    """Group line ids by conversation id (ids in input order)."""
    groups: dict[int, list[int]] = {}
    for lk in links:
        groups.setdefault(lk.conversation, []).append(lk.id)
    return groups
