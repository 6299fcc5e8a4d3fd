"""Channel, thread and forum names the way people type them: one normal form, and the closest names to a miss.

Real servers decorate names: `💻-lcars-terminal-27`, `👋｜welcome-and-hellos`, `⚖｜rules`, `┃📢・announcements`.
Nobody types the emoji or the separators, so names are compared in a normal form:

- NFKC, then case-folded (`ＲＵＬＥＳ`, `Rules` and `rules` are one name);
- emoji, symbols (box drawing, dingbats, arrows…), variation selectors, joiners and other invisible characters are
  dropped;
- decoration separators (`｜ | ¦ ・ · • ┃ │`) and runs of spaces, `-` and `_` become one `-`, so
  `in:"lcars terminal 27"` and `in:lcars_terminal_27` find `lcars-terminal-27`;
- leading and trailing punctuation is dropped (`【rules】`, `-general-`).

A name with nothing left (a channel called `🎉`) keeps its case-folded NFKC form, so no name normalizes to "".
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

# Punctuation-like separators servers put between an emoji and a name (Unicode classes them Po or Sm, so they
# would otherwise survive): they become a word boundary.
DECORATION_SEPARATORS = frozenset("|¦‖｜︱︲・･·•‧∙⋅◦‣⁃※¤")
# Word joiners: runs of these (with decorations and spaces) collapse into one "-".
_JOINERS = " -_"
# Categories dropped wherever they appear: symbols other than math/currency (emoji, box drawing, arrows,
# modifier letters), format characters (ZWJ, bidi marks, tags), controls, private use and unassigned code points,
# enclosing marks (keycaps).
_DROPPED_CATEGORIES = frozenset(("So", "Sk", "Cf", "Cc", "Co", "Cn", "Cs", "Me"))
_RUN = re.compile(r"-{2,}")
SUGGESTIONS = 3
_CUTOFF = 0.6


def _is_dropped(ch: str) -> bool:
    if _is_variation(ch):  # variation selectors are category Mn
        return True
    cp = ord(ch)
    if 0x1F3FB <= cp <= 0x1F3FF:  # skin-tone modifiers
        return True
    return unicodedata.category(ch) in _DROPPED_CATEGORIES


def normalize_name(s: str) -> str:
    """The form two names are compared in: `normalize_name("👋｜Welcome-and-Hellos") == "welcome-and-hellos"`."""
    return _normalize(s, keep="")


def normalize_pattern(pattern: str) -> str:
    """A glob pattern in the same normal form, its wildcards (`*`, `?`) kept, for fnmatch on normalized names.

    `normalize_pattern("💻-LCARS-terminal-*") == "lcars-terminal-*"`.
    """
    return _normalize(pattern, keep="*?")


def _normalize(s: str, keep: str) -> str:
    folded = unicodedata.normalize("NFKC", s).casefold()
    out: list[str] = []
    for ch in folded:
        if ch in keep:
            out.append(ch)
        elif ch in DECORATION_SEPARATORS or ch in _JOINERS or ch.isspace():
            out.append("-")
        elif not _is_dropped(ch):
            out.append(ch)
    name = _RUN.sub("-", "".join(out))
    # Strip punctuation (and the joiners) from both ends; keep it inside (`c#-help`, `v1.2`).
    start, end = 0, len(name)
    while start < end and _is_edge(name[start], keep):
        start += 1
    while end > start and _is_edge(name[end - 1], keep):
        end -= 1
    name = name[start:end]
    if name:
        return name
    # Nothing but decoration: keep something that still tells names apart (and is never empty for real input).
    return "".join(ch for ch in folded if not ch.isspace() and not _is_variation(ch))


def _is_variation(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _is_edge(ch: str, keep: str) -> bool:
    return ch not in keep and (ch == "-" or unicodedata.category(ch).startswith("P"))


def suggest_names(typed: str, names: Iterable[str], limit: int = SUGGESTIONS) -> list[str]:
    """The names closest to what was typed, best first (at most `limit`; none when nothing is close).

    Names that contain the typed text (normalized) come first, shortest first; then close spellings.
    Each distinct normalized name is suggested once, in its first spelling seen.
    """
    want = normalize_name(typed)
    if not want:
        return []
    by_norm: dict[str, str] = {}
    for name in names:
        by_norm.setdefault(normalize_name(name), name)
    containing = sorted((n for n in by_norm if want in n and n != want), key=lambda n: (len(n), n))
    close = difflib.get_close_matches(want, list(by_norm), n=limit + len(containing), cutoff=_CUTOFF)
    picked: list[str] = []
    for norm in [*([want] if want in by_norm else []), *containing, *close]:
        if norm not in picked:
            picked.append(norm)
    return [by_norm[n] for n in picked[:limit]]
