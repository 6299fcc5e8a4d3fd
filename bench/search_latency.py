"""Search latency on a synthetic archive: `python bench/search_latency.py --size 100k|1m [--data-dir DIR]`.

Self-contained: writes DCE-shaped JSON exports (Zipf-distributed vocabulary, 400 people, 24 channels, 4 years),
ingests them with the real Ingester, builds the index with indexer.rebuild_index, then times `indexer.search`
for several query classes and prints p50/p95/p99 per class (first page, with and without facets).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import archive
import indexer

EPOCH = 1420070400000
START_MS = 1_640_995_200_000  # 2022-01-01
SPAN_MS = 4 * 365 * 86_400_000
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
PER_FILE = 5_000


_COMMON_TEXT = (
    "the to and a of i it is that in you for this on with be was have but not are so just we what do can like"
    " at if my about think one get more from would there all an they or will how out model its also some"
    " layer run data probe feature paper train loss test step code time know need good yeah see now"
)
COMMON = _COMMON_TEXT.split()
SPECIAL = ["tokenizer", "grokking", "lantern", "sweep", "install", "installing", "whitespace", "checkpoint"]


def vocabulary(rng: random.Random, n: int = 20_000) -> list[str]:
    """Zipf ranks: real function words first, the words queried as "rare" around rank 300-2000, then noise."""
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    noise: set[str] = set()
    while len(noise) < n:
        k = max(2, min(12, int(rng.gauss(6, 2))))
        word = "".join(rng.choice(letters[: 10 + rng.randrange(16)]) for _ in range(k))
        if word not in COMMON and word not in SPECIAL:
            noise.add(word)
    words = COMMON + rng.sample(sorted(noise), len(noise))
    for rank, word in zip((300, 500, 800, 1200, 1500, 1700, 1900, 2000), SPECIAL, strict=True):
        words.insert(rank, word)
    return words


def generate(out: Path, size: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    words = vocabulary(rng)
    cum: list[float] = []
    total = 0.0
    for i in range(len(words)):
        total += 1 / (i + 1)  # Zipf
        cum.append(total)
    people = [
        {
            "id": str(10**17 + i),
            "name": f"user{i}",
            "discriminator": "0000",
            "nickname": f"Person {i}",
            "color": None,
            "isBot": i < 4,
            "roles": [],
            "avatarUrl": "",
        }
        for i in range(400)
    ]
    channels = [(str(2 * 10**17 + c), f"channel-{c}") for c in range(24)]
    step = SPAN_MS // size
    written = 0
    part = 0
    while written < size:
        n = min(PER_FILE, size - written)
        cid, cname = channels[part % len(channels)]
        messages = []
        for k in range(n):
            i = written + k
            ms = START_MS + i * step + rng.randrange(max(1, step))
            text = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(3, 30)))
            if rng.random() < 0.05:
                text += " https://example.org/" + rng.choice(words)
            author = people[min(int(rng.paretovariate(1.2)) - 1, len(people) - 1)]
            messages.append(
                {
                    "id": str(((ms - EPOCH) << 22) | (i & 0x3FFFFF)),
                    "type": "Default",
                    "timestamp": datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds"),
                    "timestampEdited": None,
                    "callEndedTimestamp": None,
                    "isPinned": rng.random() < 0.001,
                    "content": text,
                    "author": author,
                    "attachments": [],
                    "embeds": [],
                    "stickers": [],
                    "reactions": [],
                    "mentions": [],
                    "inlineEmojis": [],
                }
            )
        doc = {
            "guild": {"id": "300000000000000001", "name": "Bench Guild", "iconUrl": ""},
            "channel": {
                "id": cid,
                "type": "GuildTextChat",
                "categoryId": None,
                "category": None,
                "name": cname,
                "topic": None,
            },
            "dateRange": {"after": None, "before": None},
            "exportedAt": "2026-01-01T00:00:00.000+00:00",
            "messages": messages,
            "messageCount": len(messages),
        }
        (out / f"bench-{part:03d}.json").write_text(json.dumps(doc), encoding="utf-8")
        written += n
        part += 1


QUERIES = {
    "common word": ["the", "model", "layer", "think"],
    "rare word": ["tokenizer", "grokking", "lantern", "whitespace"],
    "two words": ["tokenizer sweep", "model install", "the lantern", "layer probe"],
    "phrase": ['"the model"', '"install the"', '"tokenizer sweep"'],
    "prefix": ["tok*", "gro*", "ins*"],
    "fuzzy": ["tokenizr~", "grokkng~", "lanturn~"],
    "filter only": ["from:user3", "in:channel-5", "has:link", "during:2023-05"],
    "filter + word": ["from:user1 tokenizer", "in:channel-2 install", "tokenizer -has:link after:2024"],
    "newest sort": ["tokenizer", "from:user2"],
}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", choices=SIZES, default="100k")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    size = SIZES[args.size]
    data = args.data_dir or Path(f"/tmp/hallway-bench-{args.size}")
    db = data / archive.ARCHIVE_FILE
    if not db.exists():
        exports = data / "exports"
        exports.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        generate(exports, size)
        print(f"generated {size:,} messages in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        conn = archive.connect(db)
        ingester = archive.Ingester(conn)
        ingester.apply_policy()
        for path in sorted(exports.glob("*.json")):  # ingest_file: messages only, no conversation pass
            ingester.ingest_file(path)
        conn.close()
        print(f"ingested in {time.perf_counter() - t:.1f}s")
    if not (data / "index" / "CURRENT").exists():
        st = indexer.rebuild_index(data)
        print(f"indexed {st.indexed:,} messages in {st.seconds:.1f}s")
    ix = indexer.open_index(data)
    print(
        f"{'class':<16} {'facets':<7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  (hits total, first query)"
    )
    for facets in (False, True):
        for cls, queries in QUERIES.items():
            sort = "newest" if cls == "newest sort" else "relevance"
            times = []
            totals = []
            for q in queries:
                indexer.search(ix, q, sort=sort, facets=facets)  # warm
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    page = indexer.search(ix, q, sort=sort, facets=facets)
                    times.append((time.perf_counter() - t) * 1000)
                totals.append(page.total)
            print(
                f"{cls:<16} {'yes' if facets else 'no':<7} {pct(times, 50):8.1f} {pct(times, 95):8.1f}"
                f" {pct(times, 99):8.1f} {max(times):8.1f}  {totals}"
            )
    deep = []
    for offset in (1000, 5000, 10_000):
        t = time.perf_counter()
        indexer.search(ix, "the", offset=offset, facets=False)
        deep.append(f"offset {offset}: {(time.perf_counter() - t) * 1000:.1f} ms")
    print("deep paging (relevance, 'the'): " + ", ".join(deep))


if __name__ == "__main__":
    main()
