"""web.cite: the citation builders, on their own."""

from __future__ import annotations

import hashlib
from datetime import date

from web.cite import Citation, build_bibtex, build_csl, build_markdown, build_ris

HOSTILE = "50% of {tokens} & $x_1^2$ cost ~#3 \\o/\nsecond line"


def citation(content: str = HOSTILE) -> Citation:
    return Citation(
        message_id=1171410726615682644, version=2, versions=2, author="Odile Marr-Ruiz", guild="Lanternfish Lab",
        channel="research", timestamp_ms=1699356576164, content=content,
        permalink="https://a.example/m/1171410726615682644?v=2", accessed=date(2025, 2, 3),
    )  # fmt: skip


def test_cite_hash_is_sha256_of_the_exact_utf8_text() -> None:
    assert citation("é\n").sha256 == hashlib.sha256("é\n".encode()).hexdigest()


def test_cite_bibtex_escapes_special_characters_and_balances_braces() -> None:
    text = build_bibtex(citation())
    title = next(line for line in text.splitlines() if line.startswith("  title"))
    assert (
        title
        == r"  title = {{50\% of \{tokens\} \& \$x\_1\^{}2\$ cost \~{}\#3 \textbackslash{}o/ second line}},"
    )
    depth = 0
    for i, ch in enumerate(text):
        if ch == "{" and text[i - 1] != "\\":
            depth += 1
        elif ch == "}" and text[i - 1] != "\\":
            depth -= 1
        assert depth >= 0
    assert depth == 0


def test_cite_title_is_a_short_excerpt() -> None:
    assert citation("word " * 40).title == ("word " * 16).strip() + "…"
    assert citation("").title == "Message in #research"


def test_cite_ris_values_are_one_line() -> None:
    lines = build_ris(citation()).splitlines()
    assert lines[0] == "TY  - ELEC" and lines[-1] == "ER  - " and len(lines) == 12
    assert "DA  - 2023/11/07" in lines and "Y2  - 2025/02/03" in lines


def test_cite_csl_dates_and_markdown_quote() -> None:
    (item,) = build_csl(citation())
    assert item["issued"] == {"date-parts": [[2023, 11, 7]]} and item["accessed"] == {
        "date-parts": [[2025, 2, 3]]
    }
    md = build_markdown(citation("a\n\nb"))
    assert md.startswith(
        "> a\n>\n> b\n\n— Odile Marr-Ruiz, Lanternfish Lab, #research, 2023-11-07T11:29:36.164Z."
    )


def test_cite_bibtex_drops_the_same_characters_from_ascii_and_other_text() -> None:
    # ASCII text takes a shorter path; it must drop exactly what the per-character rule drops.
    from web.cite import _bib, _unprintable_in_tex

    ascii_text = "a\x01b\x7fc ~^` {x}\x00 \x1b[31m"
    assert _bib(ascii_text) == _bib(ascii_text + "é").removesuffix("é")
    assert "".join(ch for ch in ascii_text if not _unprintable_in_tex(ch)) == "abc ~^` {x} [31m"
    assert _bib(ascii_text) == r"abc \~{}\^{}` \{x\} [31m"
