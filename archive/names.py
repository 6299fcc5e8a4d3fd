"""Names as people type them: channel, thread and forum names without their decoration.

Real servers decorate channel names (`💻-lcars-terminal-27`, `👋｜welcome-and-hellos`, `⚖｜rules`, `┃・general`).
People type `lcars-terminal-27`. Matching compares normalized forms: NFKC, case-folded, with symbols
(emoji, box drawing, `｜`), format characters (zero-width joiners, variation selectors) and decoration
punctuation removed, and leading/trailing punctuation and spaces stripped.
"""

from __future__ import annotations

import unicodedata

# Punctuation used as decoration between an emoji and the name, dropped wherever it appears.
DECORATION = frozenset("|｜¦・･·•┃│║︱︲〡")
# Marks that only style an emoji (variation selectors, skin tones come through as symbols already).
_STYLE_MARKS = frozenset({"\ufe0e", "\ufe0f", "\u20e3"})


def _kept(ch: str) -> bool:
    if ch in DECORATION or ch in _STYLE_MARKS:
        return False
    category = unicodedata.category(ch)
    # So: emoji and box drawing; Sk: modifiers; Cf: zero-width joiners, soft hyphens; Cs/Co: stray surrogates.
    return category not in ("So", "Sk", "Cf", "Cs", "Co", "Cc")


def normalize_name(s: str) -> str:
    """The comparable form of a channel/thread/forum name: `👋｜Welcome-and-Hellos` -> `welcome-and-hellos`."""
    text = unicodedata.normalize("NFKC", s).casefold()
    text = "".join(ch if _kept(ch) else " " for ch in text)
    text = " ".join(text.split())
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch).startswith("P") or unicodedata.category(ch) == "Sm"
