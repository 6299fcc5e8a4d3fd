"""Run the conversation untangler on the IRC disentanglement corpus.

Usage::

    python bench/disentangle.py DATA_DIR SPLIT --out FILE [--baseline previous]

Reads ``DATA_DIR/SPLIT/*.ascii.txt`` (IRC logs; ``.raw.txt`` is only used to double-check
the line count), turns every line into an :class:`archive.conversations.ChatLine`, runs
:func:`archive.conversations.untangle` on each file and writes the conversations of the
annotated lines (ids >= 1000) in the ``gold.<split>.clusters.txt`` format, one per line::

    2004-11-15_03:1018 1021 1023 ...

Conversations are connected components over all links, also through the 1,000 context
lines, as in the gold files.  Prints the speed in messages per second (all lines of all
files, including the context lines, divided by the time spent in ``untangle``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.conversations import ChatLine, Link, untangle

ANNOTATED_FROM = 1000
_LINE_RE = re.compile(r"^\[(\d\d):(\d\d)\] (.*)$")
_NICK_RE = re.compile(r"[A-Za-z0-9_\-\[\]\\^{}|`]+")
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
    with open(path, encoding="utf-8", errors="replace") as fh:
        text_lines = fh.read().split("\n")
    if text_lines and text_lines[-1] == "":
        text_lines.pop()
    return to_chat_lines(parse_irc(text_lines))


def components(n: int, links: Iterable[tuple[int, int | None]]) -> list[int]:
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
    root = components(n, links)
    groups: dict[int, list[int]] = {}
    for i in range(ANNOTATED_FROM, n):
        groups.setdefault(root[i], []).append(i)
    return [f"{name}:" + " ".join(map(str, g)) for g in groups.values()]


def previous_baseline(lines: Sequence[ChatLine]) -> list[tuple[int, int | None]]:
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
    return path.name.split(".")[0]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Untangle the IRC disentanglement corpus.")
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("split")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--baseline", choices=["previous"], help="write a baseline instead of the model")
    args = ap.parse_args(argv)

    files = sorted((args.data_dir / args.split).glob("*.ascii.txt"))
    if not files:
        print(f"no *.ascii.txt files in {args.data_dir / args.split}", file=sys.stderr)
        return 2
    out_lines: list[str] = []
    total = 0
    spent = 0.0
    for path in files:
        lines = read_irc_file(path)
        raw = path.with_name(path.name.replace(".ascii.txt", ".raw.txt"))
        if raw.exists():
            with open(raw, encoding="utf-8", errors="replace") as fh:
                n_raw = sum(1 for _ in fh)
            if n_raw != len(lines):
                print(f"warning: {raw.name} has {n_raw} lines, ascii has {len(lines)}", file=sys.stderr)
        t0 = time.perf_counter()
        if args.baseline:
            pairs = previous_baseline(lines)
        else:
            links: list[Link] = untangle(lines)
            pairs = [(lk.id, lk.parent) for lk in links]
        spent += time.perf_counter() - t0
        total += len(lines)
        out_lines.extend(clusters_for_file(file_key(path), len(lines), pairs))
    args.out.write_text("\n".join(out_lines) + "\n", encoding="utf-8")
    rate = total / spent if spent > 0 else float("inf")
    print(f"{len(files)} files, {total} messages in {spent:.2f}s: {rate:,.0f} messages/s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
