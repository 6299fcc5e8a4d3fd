"""What an ingest run reports as it goes: plain events, in a fixed order, for any display or test to consume.

Order of one run (Progress events of any phase may come between any two others):
    Started(files) · Skipped* · PhaseStarted("archive") · PhaseStarted("index") · FileDone* ·
    PhaseDone("archive") · Note* · PhaseStarted("conversations") · PhaseDone("index") ·
    Note? · PhaseDone("conversations") · Finished
(the Note before PhaseDone("conversations") says that the conversation worker failed, and the links
were computed in the run's own process instead)
The index phase starts with the archive phase: its worker follows the archive file by file. The
conversations phases are absent when the run does not link conversations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archive import FileResult

PHASES = ("archive", "index", "conversations")


@dataclass(frozen=True, slots=True)
class Started:
    """The run found its files: `files` will be read (or found unchanged)."""

    files: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path that is not read: missing, or a file no source claims. `failed` says whether it fails the run."""

    note: str
    failed: bool


@dataclass(frozen=True, slots=True)
class Note:
    """A line for people that fails nothing: a policy pattern that matches no channel, a wait for a lock."""

    text: str


@dataclass(frozen=True, slots=True)
class PhaseStarted:
    """A phase began; `total` is its unit count when known (files for archive, messages otherwise)."""

    phase: str
    total: int | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """Work done so far in a phase (messages)."""

    phase: str
    done: int


@dataclass(frozen=True, slots=True)
class FileDone:
    """One file was read (or skipped as unchanged or excluded)."""

    result: FileResult


@dataclass(frozen=True, slots=True)
class PhaseDone:
    """A phase ended: `count` messages in `seconds` since the run began; `detail` for people; `error` if it failed."""

    phase: str
    count: int
    seconds: float
    detail: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    """The run is over; `summary` is the line people see."""

    summary: str
    exit_code: int


Event = Started | Skipped | Note | PhaseStarted | Progress | FileDone | PhaseDone | Finished
OnEvent = Callable[[Event], None]
