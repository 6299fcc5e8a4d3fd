"""Shows an ingest run's events in a terminal: a rich progress bar per phase, then one line per phase."""

from __future__ import annotations

import re
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from pipeline.events import Event, FileDone, Finished, Note, PhaseDone, PhaseStarted, Skipped, Started
from pipeline.events import Progress as Advanced

LABELS = {"archive": "read + archive", "index": "index", "conversations": "conversations"}
# What a terminal would act on: C0 and C1 controls (ESC starts clear-screen, OSC 52 clipboard writes…), DEL, and
# the bidirectional overrides that reorder what is shown.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\n\r\u2028\u2029\x85]")


def terminal_safe(text: str, *, one_line: bool = False) -> str:
    """Text from an export made harmless to print on a terminal: control characters removed (one_line: line
    breaks shown as `\\n`, so a name can't start a line of its own, e.g. a forged `error:` line)."""
    if one_line:
        text = _LINE_BREAKS.sub(lambda m: repr(m.group(0))[1:-1], text)
    return _CONTROL.sub("", text)


class ConsoleProgress:
    """An on_event callback: live bars on a terminal (none when quiet or not a terminal), lines always."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("[bold]{task.description:<15}"),
            BarColumn(),
            TextColumn("{task.fields[files]}{task.fields[done]:>11,} msgs · {task.fields[rate]:>7,.0f}/s"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet or not console.is_terminal,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}
        self.started: dict[str, float] = {}
        self.files = 0
        self.files_done = 0
        self.messages_before = 0

    def _line(self, text: str) -> None:
        # One event is one line: file names inside it can hold line breaks and escape sequences.
        self.console.print(terminal_safe(text, one_line=True), markup=False, soft_wrap=True, highlight=False)

    def _update(self, phase: str, done: int) -> None:
        task = self.tasks.get(phase)
        if task is None:
            return
        rate = done / max(time.perf_counter() - self.started[phase], 1e-6)
        files = f"{self.files_done}/{self.files} files · " if phase == "archive" else ""
        self.bar.update(task, done=done, rate=rate, files=files)

    def __call__(self, event: Event) -> None:
        """Show one event."""
        if isinstance(event, Started):
            self.files = event.files
            self.bar.start()
        elif isinstance(event, Skipped):
            if event.failed or not self.quiet:
                self._line(("error: " if event.failed else "skipped: ") + event.note)
        elif isinstance(event, Note):
            self._line(event.text)
        elif isinstance(event, PhaseStarted):
            self.started[event.phase] = time.perf_counter()
            total = self.files if event.phase == "archive" else None
            self.tasks[event.phase] = self.bar.add_task(
                LABELS[event.phase], total=total, done=0, rate=0.0, files=""
            )
            self._update(event.phase, 0)
        elif isinstance(event, Advanced):
            self._update(event.phase, event.done)
        elif isinstance(event, FileDone):
            self._file(event)
        elif isinstance(event, PhaseDone):
            task = self.tasks.get(event.phase)
            if task is not None:
                self.bar.update(
                    task, completed=self.files if event.phase == "archive" else 1, total=self.files or 1
                )
            if event.error is not None or (event.detail and not self.quiet):
                self._line(event.detail)
        elif isinstance(event, Finished):
            self.bar.stop()

    def _file(self, event: FileDone) -> None:
        result = event.result
        self.files_done += 1
        self.messages_before += result.messages
        task = self.tasks.get("archive")
        if task is not None:
            self.bar.update(task, completed=self.files_done)
        self._update("archive", self.messages_before)
        if result.error:
            label = "warning" if result.status == "partial" else "error"
            self._line(f"{label}: {result.error}")
        for warning in result.warnings:
            self._line(f"warning: {warning} (message skipped)")
        if result.skipped > len(result.warnings):
            self._line(
                f"warning: {result.path}: {result.skipped - len(result.warnings)} more invalid messages skipped"
            )
