""" "Did you mean …?": a close spelling of a query's words, taken from the index's own terms.

Asked only when a query finds nothing or very little (`herculanium` → 0, `herculaneum` → 46). Each plain word that
is rare in the index is compared with the terms sharing its first letters; the commonest term within one or two
edits replaces it.
"""

from __future__ import annotations

import re

import tantivy

from indexer import schema as f
from indexer.schema import normalize_text
from indexer.snippets import within_distance

FEW_RESULTS = 10  # a query finding at most this many gets a suggestion, when one finds clearly more
COMMONER = 10  # a respelling must be in this many times more messages than the word typed
MIN_WORD = 4
MAX_CANDIDATES = 5000  # terms compared per word (the commonest ones sharing its prefix)
_OPERATORS = ("OR", "AND", "NOT", "||", "&&")
_TOKEN = re.compile(r'"[^"]*"?|\S+')


def _distance(word: str) -> int:
    return 1 if len(word) < 7 else 2


def closest_term(searcher: tantivy.Searcher, word: str) -> str | None:
    """The commonest indexed word within one or two edits of `word` that is more common than it, or None."""
    have = searcher.doc_freq(f.CONTENT_EXACT, word)
    limit = _distance(word)
    best: tuple[int, int, str] | None = None  # (distance, -doc freq, term)
    # Typos rarely touch the first two letters; the prefix keeps the walk over the term dictionary short.
    terms = searcher.terms_with_prefix(f.CONTENT_EXACT, word[:2], limit=MAX_CANDIDATES)
    for term, count in terms:
        term = str(term)
        if int(count) <= have * COMMONER:
            break  # sorted commonest first: the rest are no commoner
        if term == word or abs(len(term) - len(word)) > limit or not within_distance(term, word, limit):
            continue
        d = 1 if within_distance(term, word, 1) else 2
        key = (d, -int(count), term)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def _is_plain_word(token: str) -> bool:
    if token in _OPERATORS or token.startswith(('"', "-")) or token.endswith(("*", "~")) or "~" in token:
        return False
    return ":" not in token  # filters, links and times are not respelled


def suggest_query(searcher: tantivy.Searcher, analyzer: tantivy.TextAnalyzer, q: str) -> str | None:
    """`q` with its rare words replaced by close, commoner spellings, or None when there is nothing to offer."""
    changed = False
    parts: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(q):
        parts.append(q[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        plain = normalize_text(token)
        words = [t for t in analyzer.analyze(plain) if t] if _is_plain_word(plain) else []
        if len(words) == 1 and len(words[0]) >= MIN_WORD and not any(c.isdigit() for c in words[0]):
            better = closest_term(searcher, words[0])
            if better is not None:
                parts.append(better)
                changed = True
                continue
        parts.append(token)
    parts.append(q[pos:])
    return "".join(parts) if changed else None
