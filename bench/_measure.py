"""What the ingest benchmarks share: running a command with its peak RSS, and reading the pipeline's phase times."""

from __future__ import annotations

import os
import re
import subprocess
import time


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run a command; return (wall seconds, peak RSS bytes of that process and its children, stdout+stderr)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024, out + err


def phases(output: str) -> dict[str, float]:
    """Phase times (seconds since the start) from the pipeline's lines: archive, searchable, conversations."""
    out: dict[str, float] = {}
    m = re.search(r"deleted(?:, \d+ purged by policy)? in ([\d.]+)s", output)
    if m:
        out["archive_s"] = float(m.group(1))
    m = re.search(r"searchable after ([\d.]+)s", output)
    if m:
        out["searchable_s"] = float(m.group(1))
    m = re.search(r"conversations: [\d,]+ messages? linked in ([\d.]+)s", output)
    if m:
        out["conversations_done_s"] = float(m.group(1))
    return out
