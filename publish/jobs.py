"""The parts of a split site built side by side, one process per part (up to `jobs` at a time).

Rendering is CPU-bound Python, so threads would share one core; the parts of a split site are whole sites
of their own, with disjoint folders, so each can be built by a process of its own. Each is forked from
the building process once the plan is made (it inherits the plan, the previous build's manifest and its
page fingerprints without copying them), opens its own connection to the archive and its own renderer,
writes its files, and sends back what it wrote and what it recorded; the building process merges those
into the one manifest, which it alone writes, once every part is done. A worker dies with the building
process (archive/lifeline.py): a killed build leaves no process writing into the folder, only files the
next build distrusts (publish/writer.py).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from archive.lifeline import die_with_parent, started_from_main_thread
from publish.cache import PageCache
from publish.errors import PublishError
from publish.writer import SiteWriter


@dataclass
class PartResult:
    """What building one part did: pages rendered and kept, its search digest and timings."""

    prefix: str
    pages: int = 0
    kept: int = 0
    indexed: bool = False
    search: str = ""
    landing: str = ""  # (the landing folder's: the digest of all it holds)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Task:
    """One part to build: its name (for errors), a size to schedule the largest first, and the work."""

    label: str
    size: int
    work: Callable[[], PartResult]

    def run(self) -> PartResult:
        return self.work()


def default_jobs() -> int:
    """One process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_tasks(tasks: list[Task], jobs: int, writer: SiteWriter, cache: PageCache) -> list[PartResult]:
    """Run every task in a forked process of its own, at most `jobs` at a time, largest first; merge what
    each wrote into `writer` and `cache`. The first part that fails stops the others and is raised."""
    context = multiprocessing.get_context("fork")
    parent, main_thread = os.getpid(), started_from_main_thread()
    waiting = sorted(range(len(tasks)), key=lambda i: -tasks[i].size)
    running: dict[Connection, tuple[int, BaseProcess]] = {}
    results: dict[int, PartResult] = {}
    # What the workers inherit (the plan, the walk's indexes, the previous manifest: tens of millions of
    # objects at a million messages) is left out of their garbage collection: a collection walks every
    # object it tracks, and in a forked process that writes to every page it walks, so each worker
    # would copy much of the building process's memory and spend its time on objects it never frees.
    gc.collect()
    gc.freeze()
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                i = waiting.pop(0)
                receive, send = context.Pipe(duplex=False)
                # (the worker closes its copies of every receiving end: a worker still holding another's
                # would keep that one's pipe open after the building process died, and it would block)
                inherited = [receive, *running]
                args = (tasks[i], writer, cache, send, inherited, parent, main_thread)
                process: BaseProcess = context.Process(
                    target=_work, args=args, name=f"publish-{i}", daemon=True
                )
                process.start()
                send.close()
                running[receive] = (i, process)
            for ready in wait(list(running)):
                assert isinstance(ready, Connection)
                i, process = running.pop(ready)
                try:
                    message = ready.recv()
                except EOFError:
                    process.join()
                    raise PublishError(
                        f"{tasks[i].label}: the process building it stopped (exit code {process.exitcode})"
                    ) from None
                finally:
                    ready.close()
                process.join()
                if message[0] == "error":
                    raise PublishError(message[1])
                _, result, files, counts, changed, entries = message
                writer.new.update(files)
                writer.counts.add(counts)
                writer.changed += changed
                cache.new.update(entries)
                results[i] = result
    finally:
        for receive, (_, process) in running.items():
            process.kill()
            process.join()
            receive.close()
        gc.unfreeze()
    return [results[i] for i in range(len(tasks))]


def _work(
    task: Task,
    writer: SiteWriter,
    cache: PageCache,
    send: Connection,
    inherited: list[Connection],
    parent: int,
    main_thread: bool,
) -> None:
    """In the forked process: build one part from a clean slate of what this build wrote, send it back."""
    die_with_parent(parent, parent_main_thread=main_thread)
    for receive in inherited:
        receive.close()
    writer.forked()
    cache.new = {}
    message: tuple[Any, ...]
    try:
        result = task.run()
        writer.flush()
        message = ("ok", result, writer.new, writer.counts, writer.changed, cache.new)
    except PublishError as e:
        message = ("error", str(e))
    except BaseException as e:  # a bug: its traceback goes with it
        message = ("error", f"{task.label}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
    send.send(message)
    send.close()
