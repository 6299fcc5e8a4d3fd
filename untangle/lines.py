"""What the untangler reads (one chat line) and what it returns (one link per line)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChatLine", "Link"]


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
