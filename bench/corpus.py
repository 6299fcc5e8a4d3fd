"""Write a synthetic DCE JSON corpus (current era) with realistic shape and text, for benchmarks.

Shape: long-tailed channel sizes and author activity (Zipf), replies, threads, edits, reactions,
attachments, code blocks, links. Text: a word-bigram model trained on the Ubuntu IRC logs in
../shared/data/irc-disentanglement (CC BY 4.0), so term statistics look like real chat; when that
data is absent, a small built-in vocabulary with Zipfian word frequencies is used instead.

    python bench/corpus.py --size 1m --out bench/corpus/1m            # one file per channel
    python bench/corpus.py --size 1m --single --out bench/corpus/1m1f # one channel, one file
    python bench/corpus.py --size 100k --partition 20000 ...          # DCE-style [part N] files
    python bench/corpus.py --size 1m --single --format html ...       # the same messages as DCE HTML
"""

from __future__ import annotations

import argparse
import bisect
import random
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

try:
    from bench import dce_render
except ImportError:  # run as a script from bench/
    import dce_render  # type: ignore[no-redef]

EPOCH_MS = 1420070400000
START_MS = 1_640_995_200_000  # 2022-01-01
IRC = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "irc-disentanglement" / "data"
SIZES = {"tiny": 2_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
_LINE_RE = re.compile(r"^\[\d\d:\d\d\] <[^>]+> (.*)$")
FALLBACK = [
    "the",
    "model",
    "loss",
    "gradient",
    "training",
    "eval",
    "dataset",
    "tokenizer",
    "layer",
    "attention",
    "head",
    "sparse",
    "probe",
    "circuit",
    "feature",
    "we",
    "it",
    "is",
    "a",
    "to",
    "of",
    "and",
    "in",
    "that",
    "for",
    "this",
    "on",
    "with",
    "run",
    "gpu",
    "batch",
    "step",
    "paper",
    "results",
    "seems",
    "like",
    "maybe",
    "yes",
    "no",
    "think",
    "try",
    "fixed",
    "bug",
    "config",
    "checkpoint",
    "learning",
    "rate",
    "schedule",
    "warmup",
    "tokens",
    "context",
]


def parse_size(text: str) -> int:
    """'1m' -> 1_000_000; plain integers pass through."""
    return SIZES.get(text.lower()) or int(text.replace("_", ""))


class TextModel:
    """A word-bigram chain; `sentence()` walks it from a start word."""

    def __init__(self, seed: int, irc: bool = True) -> None:
        self.rng = random.Random(seed)
        self.irc = irc
        self.next: dict[str, tuple[list[str], list[int]]] = {}
        self.starts: list[str] = []
        self._train()

    def _lines(self) -> Iterator[str]:
        if not self.irc or not IRC.exists():
            return
        for path in sorted((IRC / "train").glob("*.ascii.txt"))[:200]:
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                m = _LINE_RE.match(line)
                if m:
                    yield m.group(1)

    def _train(self) -> None:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        starts: list[str] = []
        n = 0
        for line in self._lines():
            words = line.split()
            if not words:
                continue
            starts.append(words[0])
            for a, b in zip(words, [*words[1:], "\n"], strict=True):
                counts[a][b] += 1
            n += 1
        if n == 0:  # no IRC data: a Zipfian bag of words
            for i, w in enumerate(FALLBACK):
                counts[w] = {v: max(1, 100 // (j + 1)) for j, v in enumerate([*FALLBACK[i:], "\n"])}
            starts = FALLBACK[:20]
        for word, nxt in counts.items():
            words = list(nxt)
            cum, total = [], 0
            for w in words:
                total += nxt[w]
                cum.append(total)
            self.next[word] = (words, cum)
        self.starts = starts

    def sentence(self, max_words: int = 30) -> str:
        rng = self.rng
        word = rng.choice(self.starts)
        out = [word]
        for _ in range(max_words):
            words, cum = self.next.get(word, ([], []))
            if not words:
                break
            word = words[bisect.bisect(cum, rng.random() * cum[-1])]
            if word == "\n":
                break
            out.append(word)
        return " ".join(out)


def snowflake(ms: int, seq: int) -> str:
    return str(((ms - EPOCH_MS) << 22) | (seq & 0x3FFFFF))


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def zipf_weights(n: int, s: float) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


class Corpus:
    """Generates guild, channels, users and messages; writes DCE files."""

    def __init__(
        self, total: int, seed: int = 7, channels: int = 16, authors: int = 3000, irc: bool = True
    ) -> None:
        self.rng = random.Random(seed)
        self.total = total
        self.text = TextModel(seed, irc)
        self.pool = [self.text.sentence() for _ in range(min(200_000, max(5_000, total // 5)))]
        self.users = [
            {
                "id": snowflake(START_MS - 10**9 + i * 1000, i),
                "name": f"user{i:04d}",
                "discriminator": "0000",
                "nickname": f"User {i}",
                "color": None,
                "isBot": i % 500 == 0,
                "roles": [],
                "avatarUrl": f"https://cdn.discordapp.com/embed/avatars/{i % 6}.png",
            }
            for i in range(authors)
        ]
        self.author_cum = self._cum(zipf_weights(authors, 1.1))
        names = [
            "general",
            "research",
            "off-topic",
            "help",
            "papers",
            "interpretability",
            "scaling",
            "data",
            "infra",
            "announcements",
            "reading-group",
            "evals",
            "alignment",
            "multimodal",
            "rl",
            "hardware",
        ]
        self.channels = [(snowflake(START_MS - 10**8 + i, i), names[i % len(names)]) for i in range(channels)]
        self.channel_cum = self._cum(zipf_weights(channels, 1.0))

    @staticmethod
    def _cum(weights: list[float]) -> list[float]:
        out, total = [], 0.0
        for w in weights:
            total += w
            out.append(total)
        return out

    def _pick(self, cum: list[float]) -> int:
        return bisect.bisect(cum, self.rng.random() * cum[-1])

    def content(self) -> str:
        rng = self.rng
        r = rng.random()
        text = " ".join(rng.choice(self.pool) for _ in range(1 + (r < 0.3) + (r < 0.08)))
        if r < 0.05:
            text += f" https://example.org/{rng.choice(self.pool).split()[0]}/{rng.randrange(10**6)}"
        elif r < 0.08:
            text += "\n```python\nfor step in range(100):\n    loss = model(batch)\n```"
        return text

    def messages(self, count: int, channel_id: str, start_ms: int, span_ms: int) -> Iterator[dict[str, Any]]:
        rng = self.rng
        recent: list[str] = []
        step = max(1, span_ms // max(count, 1))
        ms = start_ms
        for i in range(count):
            ms += rng.randint(1, 2 * step)
            mid = snowflake(ms, i)
            author = self.users[self._pick(self.author_cum)]
            msg: dict[str, Any] = {
                "id": mid,
                "type": "Default",
                "timestamp": iso(ms),
                "timestampEdited": None,
                "callEndedTimestamp": None,
                "isPinned": rng.random() < 0.002,
                "content": self.content(),
                "author": author,
                "attachments": [],
                "embeds": [],
                "stickers": [],
                "reactions": [],
                "mentions": [],
                "inlineEmojis": [],
            }
            r = rng.random()
            if recent and r < 0.15:
                target = rng.choice(recent[-30:])
                msg["type"] = "Reply"
                msg["reference"] = {
                    "type": "Default",
                    "messageId": target,
                    "channelId": channel_id,
                    "guildId": "900000000000000001",
                }
            if rng.random() < 0.05:
                msg["timestampEdited"] = iso(ms + rng.randint(1000, 3_600_000))
            if rng.random() < 0.1:
                msg["reactions"] = [
                    {
                        "emoji": {
                            "id": "",
                            "name": "\U0001f44d",
                            "code": "thumbsup",
                            "isAnimated": False,
                            "imageUrl": "https://cdn.jsdelivr.net/gh/twitter/twemoji/1f44d.svg",
                        },
                        "count": rng.randint(1, 9),
                        "users": [self.users[self._pick(self.author_cum)]],
                    }
                ]
            if rng.random() < 0.03:
                msg["attachments"] = [
                    {
                        "id": snowflake(ms, i + 1),
                        "url": f"https://cdn.discordapp.com/attachments/{channel_id}/{mid}/plot-{i}.png",
                        "fileName": f"plot-{i}.png",
                        "fileSizeBytes": rng.randint(10_000, 900_000),
                    }
                ]
            if rng.random() < 0.05:
                mentioned = self.users[self._pick(self.author_cum)]
                msg["mentions"] = [mentioned]
                msg["content"] = f"@{mentioned['nickname']} " + msg["content"]
            recent.append(mid)
            if len(recent) > 60:
                del recent[:30]
            yield msg


def write_export(
    path: Path, header: dict[str, Any], messages: Iterator[dict[str, Any]] | list[dict[str, Any]]
) -> int:
    """Write one DCE file the way DCE does (2-space indent, messageCount last); return bytes written."""
    head = orjson.dumps(header, option=orjson.OPT_INDENT_2)[:-2]  # drop "\n}"
    n = 0
    with path.open("wb") as fh:
        fh.write(head + b',\n  "messages": [')
        first = True
        for m in messages:
            body = orjson.dumps(m, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n    ")
            fh.write((b"\n    " if first else b",\n    ") + body)
            first = False
            n += 1
        fh.write(b'\n  ],\n  "messageCount": ' + str(n).encode() + b"\n}")
        return fh.tell()


def header_for(channel_id: str, name: str, exported_ms: int) -> dict[str, Any]:
    return {
        "guild": {
            "id": "900000000000000001",
            "name": "Bench Lab",
            "iconUrl": "https://cdn.discordapp.com/x.png",
        },
        "channel": {
            "id": channel_id,
            "type": "GuildTextChat",
            "categoryId": "900000000000000002",
            "category": "Text Channels",
            "name": name,
            "topic": None,
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": iso(exported_ms).replace("+00:00", "0000+00:00"),
    }


FORMATS = ("json", "html", "html-light", "html-2.33", "csv", "txt")


def write_format(
    path: Path, header: dict[str, Any], messages: Iterator[dict[str, Any]] | list[dict[str, Any]], fmt: str
) -> int:
    """Write one export in a DCE format (json, html, html-light, html-2.33, csv, txt); return its bytes."""
    if fmt == "json":
        return write_export(path, header, messages)
    with path.open("w", encoding="utf-8", newline="" if fmt == "csv" else None) as fh:
        if fmt.startswith("html"):
            theme = "Light" if fmt == "html-light" else "Dark"
            dce_render.write_html(
                fh, header, messages, theme=theme, era="2.33" if fmt == "html-2.33" else "2.4x"
            )
        elif fmt == "csv":
            dce_render.write_csv(fh, messages)
        else:
            dce_render.write_txt(fh, header, messages)
        return fh.tell()


def generate(
    total: int, out: Path, *, single: bool, partition: int, seed: int, fmt: str = "json"
) -> dict[str, Any]:
    """Write the corpus; return a summary (files, messages, bytes)."""
    ext = "html" if fmt.startswith("html") else fmt
    corpus = Corpus(total, seed=seed, channels=1 if single else 16)
    out.mkdir(parents=True, exist_ok=True)
    span = 3 * 365 * 86_400_000
    exported = START_MS + span + 86_400_000
    per_channel = [0] * len(corpus.channels)
    if single:
        per_channel[0] = total
    else:
        for _ in range(total):
            per_channel[corpus._pick(corpus.channel_cum)] += 1
    files = 0
    size = 0
    for (cid, name), count in zip(corpus.channels, per_channel, strict=True):
        if count == 0:
            continue
        msgs = corpus.messages(count, cid, START_MS, span)
        header = header_for(cid, name, exported)
        base = f"Bench Lab - Text Channels - {name} [{cid}]"
        if partition and count > partition:
            part = 1
            while True:
                chunk = [m for _, m in zip(range(partition), msgs, strict=False)]
                if not chunk:
                    break
                suffix = "" if part == 1 else f" [part {part}]"
                size += write_format(out / f"{base}{suffix}.{ext}", header, chunk, fmt)
                files += 1
                part += 1
        else:
            size += write_format(out / f"{base}.{ext}", header, msgs, fmt)
            files += 1
    return {"files": files, "messages": total, "bytes": size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100k", help="tiny, 10k, 100k, 1m, 10m or a number of messages")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--single", action="store_true", help="one channel in one file")
    ap.add_argument("--partition", type=int, default=0, help="messages per [part N] file")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--format", choices=FORMATS, default="json", help="the DCE format to write")
    args = ap.parse_args()
    started = time.perf_counter()
    summary = generate(
        parse_size(args.size),
        args.out,
        single=args.single,
        partition=args.partition,
        seed=args.seed,
        fmt=args.format,
    )
    summary["seconds"] = round(time.perf_counter() - started, 1)
    print(orjson.dumps(summary).decode())


if __name__ == "__main__":
    main()
