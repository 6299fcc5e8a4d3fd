"""untangle internals against direct reference computations: tokens, lagged views, cosine, decoder, weights."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from untangle import ChatLine, Link, UntangleError, load_model
from untangle.cues import STOP_WORDS, TOKEN_RE, WORD_TOKEN_RE
from untangle.decode import MIN_PROB, Candidates, Structure, decode
from untangle.features import bucket, lagged
from untangle.lexical import lexical_cosine
from untangle.lines import make_links
from untangle.mentions import candidate_mentions, mentions_candidate
from untangle.prepare import prepare


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1_-.+/' x\x00é:K@", max_size=30))
def test_word_tokens_are_the_stripped_tokens_of_two_or_more_characters(text: str) -> None:
    low = text.lower()
    expected = [t.rstrip(".-/'") for t in TOKEN_RE.findall(low)]
    assert WORD_TOKEN_RE.findall(low) == [t for t in expected if len(t) >= 2]


def test_lagged_reads_the_candidate_k_lines_back() -> None:
    v = np.array([10, 11, 12, 13])
    assert lagged(v, 2, -1).tolist() == [[10, -1, -1], [11, 10, -1], [12, 11, 10], [13, 12, 11]]


def test_bucket_counts_edges_below_like_searchsorted() -> None:
    values = np.array([[-1.0, 0.5, 0.50001], [1.5, 59.5, 1e9]])
    edges = (0.5, 1.5, 2.5, 3.5, 5.5, 9.5, 19.5, 59.5)
    assert bucket(values, edges).tolist() == np.searchsorted(np.array(edges), values).tolist()


def test_lexical_cosine_is_the_idf_weighted_cosine_of_word_sets() -> None:
    texts = ["grub fails on boot", "boot grub grub again", "nvidia driver", "the driver fails", "hi"]
    lines = [ChatLine(id=i, ts=float(i), author=f"u{i}", text=t) for i, t in enumerate(texts)]
    got = lexical_cosine(prepare(lines), 3)
    words = [{w for w in t.split() if w not in STOP_WORDS and len(w) >= 2} for t in texts]
    n = len(texts)
    idf = {w: math.log((n + 1) / sum(w in s for s in words)) for s in words for w in s}
    for i in range(n):
        for k in range(1, 4):
            if i - k < 0:
                continue
            a, b = words[i], words[i - k]
            dot = sum(idf[w] ** 2 for w in a & b)
            norm = math.sqrt(sum(idf[w] ** 2 for w in a)) * math.sqrt(sum(idf[w] ** 2 for w in b))
            assert got[i, k] == pytest.approx(dot / norm if norm else 0.0), (i, k)


def _reference_decode(p: np.ndarray) -> tuple[list[int], list[int], list[float]]:
    """The decision rule written out directly: per-conversation mass of the candidates above MIN_PROB."""
    conv: list[int] = []
    choice: list[int] = []
    conf: list[float] = []
    for i, row in enumerate(p):
        mass: dict[int, float] = {}
        top: dict[int, tuple[float, int]] = {}
        for k in range(1, len(row)):
            if i - k >= 0 and row[k] > MIN_PROB:
                c = conv[i - k]
                mass[c] = mass.get(c, 0.0) + row[k]
                if row[k] > top.get(c, (-1.0, 0))[0]:
                    top[c] = (row[k], k)
        best = max(mass, key=mass.__getitem__) if mass else None
        if best is not None and mass[best] > row[0]:
            choice.append(top[best][1])
            conv.append(best)
            conf.append(min(1.0, mass[best]))
        else:
            choice.append(0)
            conv.append(i)
            conf.append(min(1.0, row[0]))
    return choice, conv, conf


@pytest.mark.parametrize("sharpness", [0.5, 2.0, 6.0])
def test_decoder_follows_the_per_conversation_rule(sharpness: float) -> None:
    rng = np.random.default_rng(int(sharpness * 10))
    n, width = 300, 9
    scores = rng.normal(size=(n, width)) * sharpness
    valid = np.arange(n)[:, None] - np.arange(width)[None, :] >= 0
    e = np.where(valid, np.exp(scores), 0.0)
    p = e / e.sum(axis=1, keepdims=True)
    got = decode(Candidates.dense(p), Structure.free(n))
    choice, conv, conf = _reference_decode(p)
    assert got.choice.tolist() == choice
    assert got.conv.tolist() == conv
    assert got.conf.tolist() == pytest.approx(conf)


def test_weights_for_another_feature_version_are_an_untangle_error(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"feature_version": 1, "window": 100, "slots1": [], "stage1": []}))
    with pytest.raises(UntangleError) as e:
        load_model(str(path))
    assert (
        str(e.value) == f"{path}: trained for feature version 1, this untangler reads version 2; retrain them"
    )
    with pytest.raises(UntangleError, match="cannot read the conversation weights"):
        load_model(str(tmp_path / "missing.json"))


@pytest.mark.parametrize("share", [0.05, 0.9], ids=["sparse", "dense"])
def test_mention_relations_equal_the_comparison_of_every_pair(share: float) -> None:
    rng = np.random.default_rng(int(share * 100))
    n, window = 200, 7
    author = rng.integers(0, 6, n).astype(np.int32)
    who = np.where(rng.random(n) < share, rng.integers(0, 6, n), -1).astype(np.int32)
    cand_author = lagged(author, window, -1)
    got_to, got_from = np.zeros((n, window + 1), bool), np.zeros((n, window + 1), bool)
    mentions_candidate(who, cand_author, got_to)
    candidate_mentions(who, author, got_from)
    for i in range(n):
        for k in range(window + 1):
            j = i - k
            assert got_to[i, k] == (j >= 0 and who[i] >= 0 and who[i] == author[j]), (i, k)
            assert got_from[i, k] == (j >= 0 and who[j] == author[i]), (i, k)


def test_links_made_in_bulk_equal_links_made_one_by_one() -> None:
    made = make_links([1, 2, 3], [None, 1, 1], [0.5, 0.25, 1.0], False, [1, 1, 1])
    assert made == [Link(1, None, 0.5, False, 1), Link(2, 1, 0.25, False, 1), Link(3, 1, 1.0, False, 1)]
    assert hash(made[1]) == hash(Link(2, 1, 0.25, False, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made[0].parent = 2  # type: ignore[misc]
