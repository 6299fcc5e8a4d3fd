"""What the untangler reads (one chat line) and what it returns (one link per line)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ChatLine", "Link", "make_links"]


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One line of one channel, as the untangler sees it."""

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
    """The line a line replies to, how sure we are, and the conversation it belongs to."""

    id: int
    parent: int | None  # None: the line starts a new conversation
    confidence: float  # in [0, 1]
    explicit: bool  # from reply_to / thread_id rather than inferred
    conversation: int  # id of the conversation's first message


_SETTERS = tuple(Link.__dict__[f].__set__ for f in ("id", "parent", "confidence", "explicit", "conversation"))


def make_links(
    ids: Sequence[int],
    parents: Sequence[int | None],
    confidences: Sequence[float],
    explicit: bool,
    conversations: Sequence[int],
) -> list[Link]:
    """``[Link(*fields) for fields in zip(...)]``, built slot by slot: the generated __init__ of a
    frozen dataclass sets each field through ``object.__setattr__``, twice as slow for a batch."""
    set_id, set_parent, set_confidence, set_explicit, set_conversation = _SETTERS
    new = object.__new__
    out = []
    for i, p, c, v in zip(ids, parents, confidences, conversations, strict=True):
        lk = new(Link)
        set_id(lk, i)
        set_parent(lk, p)
        set_confidence(lk, c)
        set_explicit(lk, explicit)
        set_conversation(lk, v)
        out.append(lk)
    return out
