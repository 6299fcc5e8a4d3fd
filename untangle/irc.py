"""The Ubuntu IRC disentanglement corpus (Kummerfeld et al., ACL 2019) as the untangler reads it.

IRC adapter: ``[HH:MM]`` timestamps (system lines inherit the previous time; a backwards jump
> 12 h is a new day), ``=== ...`` lines are system lines, ``* nick`` actions, mentions = nicks
of anyone seen in the file occurring as a word of the text (nicks that are common English
words only when first).  Clusters are connected components over all lines (also through the
1,000 context lines, as the gold files are), restricted to ids >= 1000.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from untangle.errors import UntangleError
from untangle.lines import ChatLine
from untangle.linker import untangle
from untangle.model import Model

__all__ = [
    "ANNOTATED_FROM",
    "SplitRun",
    "clusters_for_file",
    "components",
    "file_key",
    "parse_irc",
    "previous_baseline",
    "read_antecedents",
    "read_irc_file",
    "run_split",
    "split_files",
    "to_chat_lines",
]

ANNOTATED_FROM = 1000
_LINE_RE = re.compile(r"^\[(\d\d):(\d\d)\] (.*)$")
_NICK_RE = re.compile(r"[A-Za-z0-9_\-\[\]\\^{}|`]+")
# Nicks that are common English words count as mentions only at the start of a line.
_COMMON = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "for",
        "from",
        "go",
        "have",
        "he",
        "hi",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "no",
        "not",
        "of",
        "ok",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "up",
        "was",
        "we",
        "what",
        "when",
        "where",
        "who",
        "why",
        "will",
        "with",
        "yes",
        "you",
    ]
)


def _clean_nick(nick: str) -> str:
    return nick.strip().lstrip("@+").lower()


def parse_irc(text_lines: Sequence[str]) -> list[tuple[float, str, str, bool]]:
    """(minutes, author, text, is_system) for each log line.  Lines without a timestamp
    (system lines) take the previous line's time; a backwards jump of more than 12 hours is
    a new day."""
    out: list[tuple[float, str, str, bool]] = []
    minutes = 0.0
    day = 0.0
    last_clock = None
    for raw in text_lines:
        line = raw.rstrip("\n")
        m = _LINE_RE.match(line)
        rest = line
        if m:
            clock = int(m.group(1)) * 60 + int(m.group(2))
            if last_clock is not None and clock < last_clock - 12 * 60:
                day += 24 * 60
            last_clock = clock
            minutes = day + clock
            rest = m.group(3)
        if rest.startswith("==="):
            parts = rest.split()
            author = _clean_nick(parts[1]) if len(parts) > 1 else ""
            out.append((minutes, author, rest, True))
        elif rest.startswith("<"):
            end = rest.find(">")
            out.append((minutes, _clean_nick(rest[1:end]), rest[end + 1 :].strip(), False))
        elif rest.startswith("* "):
            parts = rest.split(None, 2)
            out.append((minutes, _clean_nick(parts[1]) if len(parts) > 1 else "", rest, False))
        elif rest.startswith("-") and ":" in rest:  # -nick:#chan- notice
            out.append((minutes, _clean_nick(rest[1:].split(":", 1)[0]), rest.split("- ", 1)[-1], False))
        elif rest.startswith("(") and ")" in rest:  # (nick/#chan) text
            out.append(
                (
                    minutes,
                    _clean_nick(rest[1:].split("/", 1)[0].split(")", 1)[0]),
                    rest.split(") ", 1)[-1],
                    False,
                )
            )
        else:
            out.append((minutes, "", rest, False))
    return out


def to_chat_lines(parsed: Sequence[tuple[float, str, str, bool]]) -> list[ChatLine]:
    """IRC lines -> ChatLine; mentions = known nicks (anyone who spoke or joined in the
    file) occurring as a word of the text.  Nicks that are common English words only count
    at the start of the line (addressing)."""
    nicks = {a for _, a, _, _ in parsed if a}
    for _, _, text, sysl in parsed:
        if sysl and " is now known as " in text:
            nicks.add(_clean_nick(text.rsplit(" ", 1)[-1]))
    nicks = {n for n in nicks if len(n) >= 2}
    out = []
    for i, (minutes, author, text, sysl) in enumerate(parsed):
        mentions: list[str] = []
        if not sysl:
            for pos, tok in enumerate(_NICK_RE.findall(text)):
                t = tok.lower()
                if t in nicks and t != author and t not in mentions and (pos == 0 or t not in _COMMON):
                    mentions.append(t)
        out.append(
            ChatLine(
                id=i,
                ts=minutes * 60.0,
                author=author or f"?{i}",
                text=text,
                is_system=sysl,
                mentions=tuple(mentions),
                names=(author,) if author else (),
            )
        )
    return out


def read_irc_file(path: Path) -> list[ChatLine]:
    """The lines of one ``*.ascii.txt`` log as ChatLines (id = line number)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        text_lines = fh.read().split("\n")
    if text_lines and text_lines[-1] == "":
        text_lines.pop()
    return to_chat_lines(parse_irc(text_lines))


def components(n: int, links: Iterable[tuple[int, int | None]]) -> list[int]:
    """Root (smallest id) of the connected component of each of n lines."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        if b is not None and 0 <= b < n:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]


def clusters_for_file(name: str, n: int, links: Iterable[tuple[int, int | None]]) -> list[str]:
    """The annotated lines' conversations in the clusters format (components over all links)."""
    root = components(n, links)
    groups: dict[int, list[int]] = {}
    for i in range(ANNOTATED_FROM, n):
        groups.setdefault(root[i], []).append(i)
    return [f"{name}:" + " ".join(map(str, g)) for g in groups.values()]


def previous_baseline(lines: Sequence[ChatLine]) -> list[tuple[int, int | None]]:
    """Every line links to the previous non-system line (the paper's simplest baseline)."""
    out: list[tuple[int, int | None]] = []
    last = None
    for ln in lines:
        if ln.is_system:
            out.append((ln.id, None))
        else:
            out.append((ln.id, last))
            last = ln.id
    return out


def file_key(path: Path) -> str:
    """The file name as the gold clusters spell it (``2004-11-15_03``)."""
    return path.name.split(".")[0]


def read_antecedents(path: Path) -> dict[int, set[int]]:
    """Gold antecedents of each annotated line of one ``*.annotation.txt`` file."""
    gold: dict[int, set[int]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2:
                continue
            a, b = int(parts[0]), int(parts[1])
            child, parent = max(a, b), min(a, b)
            gold.setdefault(child, set()).add(parent)
    return gold


def split_files(data_dir: Path, split: str) -> list[Path]:
    """The ``*.ascii.txt`` logs of a split; UntangleError when there are none."""
    files = sorted((data_dir / split).glob("*.ascii.txt"))
    if not files:
        raise UntangleError(f"no *.ascii.txt files in {data_dir / split}")
    return files


@dataclass(frozen=True, slots=True)
class SplitRun:
    """The conversations of a split in the clusters format, with the time spent linking."""

    clusters: list[str]
    files: int
    messages: int
    seconds: float  # in untangle() (or the baseline) only, not reading
    cpu_seconds: float  # the same, CPU time of this process (steadier on a shared machine)


def run_split(data_dir: Path, split: str, model: Model | None = None, *, baseline: bool = False) -> SplitRun:
    """Untangle every file of a split (or run the previous-message baseline)."""
    files = split_files(data_dir, split)
    clusters: list[str] = []
    total, spent, cpu = 0, 0.0, 0.0
    for path in files:
        lines = read_irc_file(path)
        t0, c0 = time.perf_counter(), time.process_time()
        if baseline:
            pairs = previous_baseline(lines)
        else:
            pairs = [(lk.id, lk.parent) for lk in untangle(lines, model=model)]
        spent += time.perf_counter() - t0
        cpu += time.process_time() - c0
        total += len(lines)
        clusters.extend(clusters_for_file(file_key(path), len(lines), pairs))
    return SplitRun(clusters, len(files), total, spent, cpu)
