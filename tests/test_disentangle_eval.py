"""Metrics of bench/disentangle_eval.py on hand-made clusterings, plus the published
"previous message" baseline on the dev split (skipped when the corpus is absent)."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import untangle.evaluate as ev
from untangle import UntangleError

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = Path("/work/shared/data/irc-disentanglement/data")


def _load(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def C(*clusters: tuple[int, ...]) -> list[frozenset[int]]:
    return [frozenset(c) for c in clusters]


def test_identical_clusterings_are_perfect() -> None:
    g = {"f": C((1, 2, 3), (4,), (5, 6))}
    s = ev.evaluate(g, g)
    assert s["vi"] == pytest.approx(100.0)
    assert s["one_to_one"] == pytest.approx(100.0)
    # exact match counts only the two clusters with more than one message
    assert (s["precision"], s["recall"], s["f"]) == (100.0, 100.0, 100.0)


def test_all_singletons_vs_one_cluster() -> None:
    n = 4
    gold = {"f": C((1, 2, 3, 4))}
    auto = {"f": C((1,), (2,), (3,), (4,))}
    s = ev.evaluate(gold, auto)
    # H(G|A) = 0, H(A|G) = log2 4 = 2 bits; scaled by log2 4 -> VI 1 -> score 0
    assert s["vi"] == pytest.approx(0.0)
    assert s["one_to_one"] == pytest.approx(100 * 1 / n)
    assert (s["precision"], s["recall"], s["f"]) == (0.0, 0.0, 0.0)


def test_hand_computed_values() -> None:
    gold = {"f": C((1, 2, 3), (4, 5), (6,))}
    auto = {"f": C((1, 2), (3, 4, 5), (6,))}
    s = ev.evaluate(gold, auto)
    # joint counts: (g0,a0)=2 (g0,a1)=1 (g1,a1)=2 (g2,a2)=1 over N=6
    h_joint = -(2 * (2 / 6) * math.log2(2 / 6) + 2 * (1 / 6) * math.log2(1 / 6))
    h_gold = -((3 / 6) * math.log2(3 / 6) + (2 / 6) * math.log2(2 / 6) + (1 / 6) * math.log2(1 / 6))
    h_auto = -((2 / 6) * math.log2(2 / 6) + (3 / 6) * math.log2(3 / 6) + (1 / 6) * math.log2(1 / 6))
    vi = 2 * h_joint - h_gold - h_auto
    assert s["vi"] == pytest.approx(100 * (1 - vi / math.log2(6)))
    # best pairing: g0-a0 (2) + g1-a1 (2) + g2-a2 (1) = 5 of 6
    assert s["one_to_one"] == pytest.approx(100 * 5 / 6)
    # multi-message clusters: gold {1,2,3},{4,5}; auto {1,2},{3,4,5}: nothing matches exactly
    assert s["f"] == 0.0


def test_exact_match_precision_recall() -> None:
    gold = {"a": C((1, 2), (3, 4), (5, 6, 7), (8,)), "b": C((1, 2, 3))}
    auto = {"a": C((1, 2), (3,), (4,), (5, 6), (7, 8)), "b": C((1, 2, 3))}
    s = ev.evaluate(gold, auto)
    # auto multi-message: a{1,2} ok, a{5,6}, a{7,8}, b{1,2,3} ok -> P = 2/4; gold multi: 4 -> R = 2/4
    assert s["precision"] == pytest.approx(50.0)
    assert s["recall"] == pytest.approx(50.0)
    assert s["f"] == pytest.approx(50.0)


def test_pooled_over_files_like_the_reference_tool() -> None:
    gold = {"a": C((1, 2)), "b": C((1, 2))}
    auto = {"a": C((1, 2)), "b": C((1,), (2,))}
    s = ev.evaluate(gold, auto)
    # pooled: N = 4, VI = H(A|G) = (2/4) * 1 bit = 0.5; log2 4 = 2
    assert s["vi"] == pytest.approx(100 * (1 - 0.5 / 2))
    assert s["one_to_one"] == pytest.approx(75.0)
    # per-file mean: file a 100, file b 1 - 1/1 = 0
    assert s["vi_file_mean"] == pytest.approx(50.0)


def test_parse_clusters_format() -> None:
    text = ["dir/2004-11-15_03:1000 1002\n", "2004-11-15_03:1001\n", "1003 1004\n", "x:1000\n"]
    got = ev.parse_clusters(text)
    assert got == {"2004-11-15_03": C((1000, 1002), (1001,), (1003, 1004)), "x": C((1000,))}


def test_mismatched_items_are_rejected() -> None:
    with pytest.raises(UntangleError):
        ev.evaluate({"f": C((1, 2))}, {"f": C((1,), (3,))})
    with pytest.raises(UntangleError):
        ev.evaluate({"f": C((1,))}, {"g": C((1,))})


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (4, 6), (6, 4), (5, 5), (7, 3)])
def test_hungarian_matches_brute_force(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        w = rng.integers(0, 9, size=shape).astype(float)
        rows, cols = shape
        best = 0.0
        if rows <= cols:
            for perm in itertools.permutations(range(cols), rows):
                best = max(best, sum(w[r, c] for r, c in enumerate(perm)))
        else:
            for perm in itertools.permutations(range(rows), cols):
                best = max(best, sum(w[r, c] for c, r in enumerate(perm)))
        assert ev.max_weight_matching(w) == pytest.approx(best)


@pytest.mark.skipif(not (DATA / "dev").is_dir(), reason="irc-disentanglement corpus not available")
def test_previous_message_baseline_on_dev(tmp_path: Path) -> None:
    dis = _load("disentangle")
    out = tmp_path / "previous.dev.txt"
    assert dis.main([str(DATA), "dev", "--out", str(out), "--baseline", "previous"]) == 0
    s = ev.evaluate(ev.read_clusters(DATA / "gold.dev.clusters.txt"), ev.read_clusters(out))
    assert round(s["vi"], 1) == 66.2
    assert round(s["one_to_one"], 1) == 23.9
    assert s["f"] == 0.0
