"""Snippets: the best window of a message's text, HTML-escaped, with the query's matches wrapped in <mark>.

Done here rather than with tantivy's SnippetGenerator, which only knows plain terms of one field: this marks
stemmed, exact, prefix and fuzzy matches alike, and always escapes (safe to embed as HTML).
"""

from __future__ import annotations

import html

import tantivy

from indexer.query import Highlight

SNIPPET_CHARS = 200
CONTEXT_BEFORE = 40
MAX_SCAN_CHARS = 20_000
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def within_distance(a: str, b: str, limit: int) -> bool:
    """Whether the Damerau (optimal string alignment) distance between a and b is at most limit."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return False
        prev2, prev = prev, cur
    return prev[-1] <= limit


def match_spans(
    text: str, hl: Highlight, plain: tantivy.TextAnalyzer, stemmed: tantivy.TextAnalyzer
) -> list[tuple[int, int]]:
    """Character spans of the words in `text` that the query matched."""
    if not hl or not text:
        return []
    scan = text[:MAX_SCAN_CHARS]
    words = plain.pre_tokenize(scan).tokens
    stems = stemmed.pre_tokenize(scan).tokens
    if len(stems) != len(words):  # the analyzers differ only by stemming; guard anyway
        stems = words
    spans: list[tuple[int, int]] = []
    for w, s in zip(words, stems, strict=True):
        tok = w.text
        if (
            tok in hl.exact
            or s.text in hl.stems
            or any(tok.startswith(p) for p in hl.prefixes)
            or any(within_distance(tok, target, d) for target, d in hl.fuzzy)
        ):
            spans.append((w.char_offset_from, w.char_offset_to))
    return spans


def _window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    if len(text) <= size:
        return 0, len(text)
    start = 0
    if spans:
        best = -1
        for a, _b in spans:
            s = max(0, a - CONTEXT_BEFORE)
            count = sum(1 for x, y in spans if x >= s and y <= s + size)
            if count > best:
                best, start = count, s
        if start > 0:  # begin at a word boundary when one is near
            first = min(a for a, _ in spans if a >= start)
            space = text.find(" ", start, min(start + 15, first))
            if space >= 0:
                start = space + 1
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", end - 20, end)
        if space > start:
            end = space
    return start, end


def render_snippet(text: str, spans: list[tuple[int, int]], size: int = SNIPPET_CHARS) -> str:
    """HTML for the best window of `text`: escaped, with spans wrapped in <mark>, and … where it was cut."""
    start, end = _window(text, spans, size)
    out = ["…"] if start > 0 else []
    pos = start
    for a, b in spans:
        if b <= pos or a >= end:
            continue
        a, b = max(a, pos), min(b, end)
        out += [html.escape(text[pos:a]), MARK_OPEN, html.escape(text[a:b]), MARK_CLOSE]
        pos = b
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)


def build_snippet(
    texts: list[str], hl: Highlight, plain: tantivy.TextAnalyzer, stemmed: tantivy.TextAnalyzer
) -> str:
    """The snippet of the first text with a match (content, then embeds, then file names), else of the first text."""
    texts = [t for t in texts if t]
    if not texts:
        return ""
    for text in texts:
        spans = match_spans(text, hl, plain, stemmed)
        if spans:
            return render_snippet(text, spans)
    return render_snippet(texts[0], [])
