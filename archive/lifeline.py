"""Worker processes die with their parent: a process a hallway command starts never outlives it.

After `kill -9` of the parent, a worker would otherwise run on (or wait on its pipe forever). The
worker calls :func:`die_with_parent` first thing: on Linux the kernel then sends it SIGKILL when the
parent dies (``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog thread notices that the parent
is gone (the worker was re-parented) within :data:`WATCH_INTERVAL` seconds and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["WATCH_INTERVAL", "die_with_parent", "started_from_main_thread"]

WATCH_INTERVAL = 0.25
_PR_SET_PDEATHSIG = 1


def started_from_main_thread() -> bool:
    """Whether the caller runs on its process's main thread (pass it to the worker)."""
    return threading.current_thread() is threading.main_thread()


def die_with_parent(parent_pid: int, *, parent_main_thread: bool = True) -> None:
    """Make this process exit as soon as process ``parent_pid`` (its parent) is gone.

    The kernel's parent-death signal follows the *thread* that started the child, so it is only
    armed when the parent started us from its main thread (``parent_main_thread``); the watchdog
    covers every case.
    """
    if sys.platform.startswith("linux") and parent_main_thread:
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="lifeline", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(WATCH_INTERVAL)
        if os.getppid() != parent_pid:
            os._exit(1)
