"""untangle: explicit structure, inferred links, incremental recomputation."""

from __future__ import annotations

import dataclasses
import random

import pytest

from untangle import ChatLine, Link, UntangleError, untangle


def L(i: int, author: str, text: str, t: float | None = None, **kw: object) -> ChatLine:
    return ChatLine(id=i, ts=float(i * 20 if t is None else t), author=author, text=text, **kw)  # type: ignore[arg-type]


def check_consistent(lines: list[ChatLine], links: list[Link], known: dict[int, Link] | None = None) -> None:
    assert [lk.id for lk in links] == [ln.id for ln in lines]
    by_id = {**(known or {}), **{lk.id: lk for lk in links}}
    for lk in links:
        assert 0.0 <= lk.confidence <= 1.0
        if lk.parent is None:
            assert lk.conversation == lk.id
        else:
            assert lk.parent < lk.id
            if lk.parent in by_id:
                assert lk.conversation == by_id[lk.parent].conversation
        assert lk.conversation <= lk.id


def chatter(n: int, seed: int = 7) -> list[ChatLine]:
    rng = random.Random(seed)
    people = ["alice", "bob", "carol", "dave", "erin", "frank"]
    words = [
        "install",
        "driver",
        "kernel",
        "wifi",
        "grub",
        "boot",
        "sound",
        "nvidia",
        "apt",
        "package",
        "error",
        "update",
        "mount",
        "disk",
    ]
    out = []
    t = 0.0
    for i in range(n):
        t += rng.choice([5, 20, 60, 200])
        who = rng.choice(people)
        other = rng.choice([p for p in people if p != who])
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        if rng.random() < 0.4:
            text = f"{other}: {text}"
        if rng.random() < 0.3:
            text += " ?"
        out.append(L(100 + i, who, text, t=t, mentions=(other,) if text.startswith(other) else ()))
    return out


def test_empty_and_order() -> None:
    assert untangle([]) == []
    with pytest.raises(UntangleError):
        untangle([L(2, "a", "x"), L(1, "b", "y")])


def test_reply_chain_is_explicit() -> None:
    lines = [
        L(1, "alice", "how do I mount an nfs share?"),
        L(2, "bob", "what's for lunch"),
        L(3, "carol", "use mount -t nfs", reply_to=1),
        L(4, "alice", "thanks, that worked", reply_to=3),
    ]
    links = {lk.id: lk for lk in untangle(lines)}
    assert links[1].parent is None and links[1].conversation == 1
    assert links[3] == Link(3, 1, 1.0, True, 1)
    assert links[4] == Link(4, 3, 1.0, True, 1)
    check_consistent(lines, list(links.values()))


def test_reply_to_missing_message_joins_conversation_keyed_by_that_id() -> None:
    lines = [
        L(10, "alice", "anyone around?"),
        L(11, "bob", "yes that's the bug", reply_to=5),
        L(12, "carol", "same here", reply_to=5),
        L(13, "dave", "and here", reply_to=11),
    ]
    links = {lk.id: lk for lk in untangle(lines)}
    assert links[11] == Link(11, 5, 1.0, True, 5)
    assert links[12] == Link(12, 5, 1.0, True, 5)
    assert links[13].conversation == 5
    # when the target's link is known, the reply joins the target's real conversation
    known = {5: Link(5, 3, 0.8, False, 3)}
    links = {lk.id: lk for lk in untangle(lines, known=known)}
    assert links[11] == Link(11, 5, 1.0, True, 3)
    assert links[13].conversation == 3
    # replies to later ids are ignored (treated as an ordinary line)
    odd = untangle([L(1, "a", "hi"), L(2, "b", "hello", reply_to=9)])
    assert odd[1].parent != 9 and not odd[1].explicit


def test_thread_lines_form_one_conversation() -> None:
    lines = []
    for i in range(1000, 1021):  # the thread (id 500) was created before these lines
        if i % 3 == 0:
            lines.append(L(i, f"t{i % 2}", f"thread message {i} about grub", thread_id=500))
        else:
            lines.append(L(i, f"c{i % 4}", f"channel message {i} about wifi"))
    links = untangle(lines)
    by_id = {lk.id: lk for lk in links}
    thread_ids = [ln.id for ln in lines if ln.thread_id == 500]
    for tid in thread_ids:
        assert by_id[tid].conversation == 500
        assert by_id[tid].parent == 500 or by_id[tid].parent in thread_ids
    first = by_id[thread_ids[0]]
    assert first.parent == 500 and first.explicit
    for ln in lines:
        if ln.thread_id is None:
            lk = by_id[ln.id]
            assert lk.parent is None or lk.parent not in thread_ids
            assert lk.conversation != 500
    check_consistent(lines, links)


def test_thread_with_starter_in_input_joins_starter_conversation() -> None:
    lines = [
        L(1, "alice", "release notes for 2.0 are up"),
        L(2, "bob", "nice", thread_id=1),
        L(3, "carol", "unrelated: my wifi broke"),
        L(4, "dave", "thanks alice", thread_id=1),
    ]
    by_id = {lk.id: lk for lk in untangle(lines)}
    assert by_id[2].parent == 1 and by_id[2].conversation == by_id[1].conversation
    assert by_id[4].parent in (1, 2) and by_id[4].conversation == by_id[1].conversation
    assert by_id[3].conversation != by_id[1].conversation or by_id[3].parent == 1


def test_inferred_links_are_confident_and_consistent() -> None:
    # random chatter with a three-hour silence in the middle
    lines = [
        ln if k < 200 else dataclasses.replace(ln, ts=ln.ts + 3 * 3600) for k, ln in enumerate(chatter(400))
    ]
    links = untangle(lines)
    check_consistent(lines, links)
    assert all(not lk.explicit for lk in links)
    assert any(lk.parent is not None for lk in links)
    assert any(lk.parent is None for lk in links[1:])
    # nothing after the silence joins a conversation from before it
    before = {lk.conversation for lk in links[:200]}
    assert not before & {lk.conversation for lk in links[200:]}


def test_name_addressing_links_to_addressed_person() -> None:
    lines = [
        L(1, "alice", "how do I change the default kernel in grub?", t=0),
        L(2, "bob", "anyone know a good music player?", t=10),
        L(3, "carol", "alice: edit /etc/default/grub and run update-grub", t=30),
        L(4, "dave", "bob: try rhythmbox", t=40),
        L(5, "bob", "dave: thanks, installing it now", t=60),
        L(6, "alice", "carol: that worked, thanks!", t=70),
    ]
    by_id = {lk.id: lk for lk in untangle(lines)}
    assert by_id[3].parent == 1
    assert by_id[4].parent == 2
    assert by_id[5].parent == 4
    assert by_id[6].parent == 3
    assert by_id[6].conversation == 1 and by_id[5].conversation == 2


def test_discord_style_mentions_and_names() -> None:
    lines = [
        L(1, "u1", "is the dataset loader broken on main?", names=("Ada",)),
        L(2, "u2", "who wants lunch", names=("Bo",)),
        L(3, "u3", "@ada yes, fixed in #42", mentions=("u1",), names=("Cy",)),
        L(4, "u4", "Ada, pull again", names=("Di",)),
    ]
    by_id = {lk.id: lk for lk in untangle(lines)}
    assert by_id[3].parent == 1
    assert by_id[4].parent in (1, 3)


def test_incremental_keeps_known_links_and_extends() -> None:
    lines = chatter(300, seed=3)
    first = untangle(lines[:200])
    known = {lk.id: lk for lk in first}
    # the archive passes a tail of earlier lines (context) + the new lines
    tail_and_new = lines[100:]
    links = untangle(tail_and_new, known=known)
    got = {lk.id: lk for lk in links}
    for ln in lines[100:200]:
        assert got[ln.id] is known[ln.id]
    check_consistent(tail_and_new, links, known)
    # new lines whose parent is an old line inherit the old line's conversation
    for ln in lines[200:]:
        lk = got[ln.id]
        if lk.parent is not None and lk.parent in known:
            assert lk.conversation == known[lk.parent].conversation
    # nothing new: known links come back unchanged
    assert untangle(lines[:200], known=known) == first
