"""Shared by the tests that need real parts: a data dir built from exports, and a live `hallway serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pipeline
from archive import FileResult

ROOT = Path(__file__).resolve().parent.parent


def build_data_dir(data_dir: Path, paths: Iterable[Path], *, conversations: bool = True) -> list[FileResult]:
    """Ingest the exports file by file (in the order given), index them and link conversations."""
    report = pipeline.run_ingest(list(paths), data_dir, conversations=conversations)
    assert report.index_error is None, report.index_error
    return report.files


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Poll /healthz until the server answers (or fail with what it printed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hallway serve exited with {proc.returncode}: {proc.stderr.read()!r}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("hallway serve did not come up")


@contextmanager
def serve(data_dir: Path, *options: str) -> Iterator[str]:
    """A real `hallway serve` (uvicorn, one worker) over data_dir on a free port; yields its URL.

    `options` are more `hallway serve` options, e.g. "--mcp".
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        str(ROOT / "cli.py"),
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        *options,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_up(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
