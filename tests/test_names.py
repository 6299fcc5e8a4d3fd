"""Names as people type them: the normal form and the closest-name suggestions."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from archive.names import normalize_name, normalize_pattern, suggest_names

REAL_NAMES = ["💻-lcars-terminal-27", "👋｜welcome-and-hellos", "⚖｜rules", "general", "off-topic"]


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("💻-lcars-terminal-27", "lcars-terminal-27"),
        ("👋｜welcome-and-hellos", "welcome-and-hellos"),
        ("⚖｜rules", "rules"),
        ("⚖️｜rules", "rules"),  # with a variation selector
        ("┃📢・announcements", "announcements"),
        ("╔═══ lounge ═══╗", "lounge"),  # box drawing
        ("【Rules】", "rules"),
        ("ＲＵＬＥＳ", "rules"),  # fullwidth (NFKC)
        ("General", "general"),
        ("#general", "general"),
        ("-general-", "general"),
        ("👩\u200d💻・Dev Talk", "dev-talk"),  # ZWJ sequence, space
        ("off_topic", "off-topic"),
        ("lcars  terminal 27", "lcars-terminal-27"),
        ("c++", "c++"),  # symbols that carry meaning stay
        ("v1.2-notes", "v1.2-notes"),
        ("🇺🇸-usa", "usa"),  # regional indicators
        ("Straße", "strasse"),  # case fold, not lower()
        ("🎉", "🎉"),  # nothing but an emoji: kept, never ""
        ("", ""),
    ],
)
def test_normalize_name(name: str, normal: str) -> None:
    assert normalize_name(name) == normal


def test_normalize_name_is_idempotent() -> None:
    for name in REAL_NAMES:
        assert normalize_name(normalize_name(name)) == normalize_name(name)


def test_normalize_pattern_keeps_wildcards_and_matches_normalized_names() -> None:
    assert normalize_pattern("lcars-terminal-*") == "lcars-terminal-*"
    assert normalize_pattern("💻-LCARS-Terminal-*") == "lcars-terminal-*"
    assert normalize_pattern("*rules") == "*rules"
    matched = [n for n in REAL_NAMES if fnmatchcase(normalize_name(n), normalize_pattern("lcars-terminal-*"))]
    assert matched == ["💻-lcars-terminal-27"]


def test_suggest_names_close_spelling() -> None:
    assert suggest_names("lcars-terminl-27", REAL_NAMES) == ["💻-lcars-terminal-27"]


def test_suggest_names_containing_first_shortest_first() -> None:
    names = ["lcars-terminal-28", "💻-lcars-terminal-27", "general"]
    assert suggest_names("lcars", names) == ["💻-lcars-terminal-27", "lcars-terminal-28"]
    assert suggest_names("welcome", REAL_NAMES) == ["👋｜welcome-and-hellos"]


def test_suggest_names_nothing_close() -> None:
    assert suggest_names("zzzzqqq", REAL_NAMES) == []
    assert suggest_names("", REAL_NAMES) == []


def test_suggest_names_limit_and_one_per_normal_form() -> None:
    names = ["rules", "⚖｜rules", "Rules", "rules-2", "rules-3", "rules-4"]
    assert suggest_names("rule", names, limit=3) == ["rules", "rules-2", "rules-3"]
