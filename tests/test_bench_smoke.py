"""Smoke test of the bench/ scripts: each runs at a tiny size, exits 0 and prints its table.

The benchmarks themselves are not part of the test suite; this only keeps them from rotting. Scripts run
with --no-record (or their equivalent), so bench/RESULTS.md must not change; they may write bench/out/*.json
and cache tiny corpora/data dirs under bench/corpus and bench/out (both gitignored).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "RESULTS.md"
IRC = ROOT.parent / "shared" / "data" / "irc-disentanglement" / "data"


def run(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"{script} {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


def header(output: str, *columns: str) -> str:
    """The first line holding every column name (fails when there is none)."""
    for line in output.splitlines():
        if all(c in line for c in columns):
            return line
    raise AssertionError(f"no header with {columns} in:\n{output}")


def _digest() -> str | None:
    return hashlib.sha256(RESULTS.read_bytes()).hexdigest() if RESULTS.exists() else None


@pytest.fixture(autouse=True)
def results_untouched() -> Iterator[None]:
    before = _digest()
    yield
    assert _digest() == before, "a --no-record run wrote to bench/RESULTS.md"


def test_corpus(tmp_path: Path) -> None:
    proc = run("corpus.py", "--size", "tiny", "--out", str(tmp_path / "c"))
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["messages"] == 2000
    assert summary["files"] == len(list((tmp_path / "c").glob("*.json"))) > 0


def test_ingest_bench() -> None:
    out = run("ingest_bench.py", "--size", "tiny", "--no-record").stdout
    header(out, "pipeline", "seconds", "msg/s", "RSS MB", "disk MB")
    for row in ("raw limit", "FTS5 pipeline", "hallway: searchable", "hallway: conversations done"):
        assert re.search(rf"^{row}.*\d", out, re.M), out
    assert "re-ingest unchanged" in out


def test_ingest_cpu(tmp_path: Path) -> None:
    run("corpus.py", "--size", "tiny", "--out", str(tmp_path / "c"))
    out = run("ingest_cpu.py", str(tmp_path / "c")).stdout
    assert re.search(r"CPU: archive writer [\d.]+ s, workers [\d.]+ s; 2000 messages added", out), out


def test_ingest_bench_html() -> None:
    out = run(
        "ingest_bench.py", "--format", "html", "--size", "tiny", "--rss-size", "tiny", "--no-record"
    ).stdout
    header(out, "pipeline", "seconds", "msg/s", "archive s", "RSS MB")
    for row in (
        "hallway ingest (JSON)",
        "hallway ingest (HTML)",
        "read only: HTML, Lexbor",
        "read only: HTML, lxml",
    ):
        assert re.search(rf"^{re.escape(row)}.*\d", out, re.M), out
    assert re.search(r"^big HTML: \d+ MB, 2,000 messages read in [\d.]+ s, peak RSS \d+ MB$", out, re.M), out


def test_corpus_html_is_the_same_messages(tmp_path: Path) -> None:
    run("corpus.py", "--size", "tiny", "--single", "--format", "html", "--out", str(tmp_path / "h"))
    (page,) = (tmp_path / "h").glob("*.html")
    assert page.read_bytes().count(b"data-message-id=") == 2000


def test_search_latency() -> None:
    out = run("search_latency.py", "--size", "tiny", "--repeat", "2", "--no-record").stdout
    header(out, "class", "hallway", "hallway+facets", "tantivy", "fts5", "hw/tantivy", "fts5/hw")
    for cls in (
        "1 word",
        "2 words",
        "phrase",
        "filter only",
        "word + dates",
        "from: + word",
        "facets",
        "deep page",
    ):
        row = next((ln for ln in out.splitlines() if ln.startswith(cls + " ")), None)
        assert row is not None, f"no row for {cls}:\n{out}"
        assert len(re.findall(r"[\d.e+-]+/[\d.e+-]+/[\d.e+-]+", row)) == 4, row  # p50/p95/p99 per engine
    assert "hallway snippets + facets, all classes" in out


def test_digest_latency() -> None:
    out = run("digest_latency.py", "--size", "tiny", "--repeat", "2", "--no-record").stdout
    header(out, "path", "p50 ms", "p95 ms", "x search page")
    for name in (
        "search page",
        "digest 30d html",
        "digest 30d json",
        "build_digest 30d",
        "feed channel",
        "feed digest",
    ):
        assert any(line.startswith(name + " ") for line in out.splitlines()), f"no row for {name}:\n{out}"
    assert "30-day digest page p50" in out


@pytest.mark.parametrize("client", ["auto", "python"], ids=["wrk-if-installed", "python-load-generator"])
def test_http_bench(client: str) -> None:
    args = ["--size", "tiny", "--no-record", "--client", client]
    args += ["--duration", "2"] if client == "auto" else ["--duration", "1", "--workers", "1"]
    out = run("http_bench.py", *args).stdout
    head = header(out, "scenario", "workers", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors")
    names = head.split()
    rows = [ln.split() for ln in out.splitlines() if ln.startswith(("search ", "permalink "))]
    assert {r[0] for r in rows} == {"search", "permalink"}, out
    for r in rows:
        assert float(r[2]) > 0, out  # req/s
        assert r[-2:] == ["0", "0"], f"non-2xx or errors under load:\n{out}"
    assert names[-2:] == ["non-2xx", "errors"]


def test_site_writer_bench() -> None:
    out = run("site_writer_bench.py", "--files", "400", "--runs", "2").stdout
    header(out, "400 files, 2 runs", "building thread CPU", "process CPU", "wall")
    assert re.search(r"^median\s+[\d.]+ s\s+[\d.]+ s\s+[\d.]+ s$", out, re.M), out
    assert re.search(r"^building thread per file: [\d.]+ µs$", out, re.M), out


def test_crash_trials() -> None:
    out = run("crash_trials.py", "--trials", "1", "--size", "300", "--no-record").stdout
    assert re.search(r"^1 trials .* 0 differ from the clean run", out, re.M), out
    assert re.search(r"; 0 orphaned processes, 0 stale temp files$", out, re.M), out


@pytest.mark.skipif(not IRC.exists(), reason="no IRC disentanglement data in ../shared")
def test_disentangle(tmp_path: Path) -> None:
    source = sorted((IRC / "dev").glob("*.ascii.txt"))[0]
    (tmp_path / "dev").mkdir()
    lines = source.read_text(encoding="utf-8", errors="replace").split("\n")[:1100]  # annotated from 1000
    (tmp_path / "dev" / source.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "clusters.txt"
    proc = run("disentangle.py", str(tmp_path), "dev", "--out", str(out))
    assert re.search(r"1 files, 1100 messages in [\d.]+s: [\d,]+ messages/s", proc.stderr), proc.stderr
    clusters = out.read_text().split()
    assert clusters and all(c.startswith(source.name.split(".")[0]) for c in clusters if ":" in c)


@pytest.mark.skipif(not (BENCH / "load_while_writing.py").exists(), reason="no load_while_writing.py")
def test_load_while_writing() -> None:
    usage = run("load_while_writing.py", "--help").stdout
    quiet = "--no-record" if "--no-record" in usage else "--no-md"
    args = [
        "--duration",
        "2",
        "--max-seconds",
        "30",
        "--base",
        "1000",
        "--new",
        "500",
        "--threads",
        "2",
        quiet,
    ]
    out = run("load_while_writing.py", *args).stdout
    header(out, "phase", "requests", "failed", "req/s", "p50 ms", "p99 ms")
    for phase in ("before writing", "during ingest", "during reindex", "all"):
        assert re.search(rf"^{phase}\s+[\d.]+\s+[\d,]+\s+\d+\s", out, re.M), f"no {phase} row:\n{out}"
