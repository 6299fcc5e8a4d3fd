"""The ingest pipeline: one entry point above the archive and the index, reporting through events."""

from pipeline.events import (
    PHASES,
    Event,
    FileDone,
    Finished,
    Note,
    OnEvent,
    PhaseDone,
    PhaseStarted,
    Progress,
    Skipped,
    Started,
)
from pipeline.run import IngestReport, run_ingest

__all__ = [
    "PHASES",
    "Event",
    "FileDone",
    "Finished",
    "IngestReport",
    "Note",
    "OnEvent",
    "PhaseDone",
    "PhaseStarted",
    "Progress",
    "Skipped",
    "Started",
    "run_ingest",
]
