"""The vectorized text scan equals the per-line Python it replaces (str.split, the token regex, flags)."""

from __future__ import annotations

import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from untangle.cues import WORD_TOKEN_RE
from untangle.scan import UNICODE_SPACE, scan

# characters that matter to the scan: token characters and their edges, spaces of every kind,
# NUL (the line break), non-ASCII letters (a capital sigma, which lowercases by its context, and
# case-ignorable characters), a lone surrogate, "?", "@" and URL pieces
ALPHABET = "ab1_-.+/'xAΣİKͅ­ \t\n\x0b\x1c\x85\xa0\u2003\u3000\x00é日😀\ud800?@:,wh.tp"


def _reference(texts: list[str]) -> dict[str, object]:
    lows = [text.lower() for text in texts]
    words = [low.split() for low in lows]
    tokens = [(i, t) for i, low in enumerate(lows) for t in WORD_TOKEN_RE.findall(low)]
    return {
        "lows": lows,
        "n_words": [len(w) for w in words],
        "first": [w[0] if w else "" for w in words],
        "second": [w[1] if len(w) > 1 else "" for w in words],
        "question": ["?" in low for low in lows],
        "at": ["@" in low for low in lows],
        "url": ["http" in low or "www." in low for low in lows],
        "tokens": tokens,
    }


def _scanned(texts: list[str]) -> dict[str, object]:
    sc = scan(texts)
    return {
        "lows": [sc.line(i) for i in range(len(texts))],
        "n_words": sc.n_words.tolist(),
        "first": sc.first,
        "second": sc.seconds(np.arange(len(texts))),
        "question": sc.has_question.tolist(),
        "at": sc.has_at.tolist(),
        "url": sc.has_url.tolist(),
        "tokens": [
            (i, sc.words[g]) for i, g in zip(sc.token_line.tolist(), sc.token_group.tolist(), strict=True)
        ],
    }


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=40), min_size=1, max_size=8))
def test_scan_equals_split_regex_and_substring_checks(texts: list[str]) -> None:
    assert _scanned(texts) == _reference(texts)
    words = scan(texts).words
    short = [w for w in words if len(w) <= 8]
    assert words[: len(short)] == sorted(short)  # the short ones first, sorted (then the longer ones)


def test_scan_of_long_tokens_and_punctuation_runs() -> None:
    lows = ["x" * 30 + " abcdefgh abcdefghi abcdefgh.", "......foo bar.......... -.-", "\x00\x00", "", "a"]
    assert _scanned(lows) == _reference(lows)
    sc = scan(lows)
    assert sorted(sc.words) == sorted({t for _, t in _reference(lows)["tokens"]})  # type: ignore[attr-defined]


def test_unicode_spaces_are_exactly_the_non_ascii_isspace_characters() -> None:
    assert {c for c in range(128, sys.maxunicode + 1) if chr(c).isspace()} == set(UNICODE_SPACE)
