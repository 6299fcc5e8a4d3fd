"""Shared by the bench scripts: machine facts, JSON results in bench/out/, and a section in bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, Python and the commit, for the record."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1),
        "python": platform.python_version(),
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def record(
    name: str, summary: dict[str, Any], table: list[str], command: str, *, write_md: bool = True
) -> Path:
    """Write bench/out/<name>.json and append the table to bench/RESULTS.md."""
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.json"
    path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    if write_md:
        m = summary.get("machine") or machine_info()
        section = [
            f"### {name} — {m['date']}",
            "",
            f"`{command}` · commit {m['commit']} · {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB · "
            f"Python {m['python']}",
            "",
            "```",
            *table,
            "```",
            "",
        ]
        with (HERE / "RESULTS.md").open("a", encoding="utf-8") as fh:
            fh.write("\n".join(section) + "\n")
    return path
