"""Take down messages or withhold users, in the order that keeps the promise across a crash.

The archive first (one transaction, which also remembers the rules), then policy.toml, then the search
index: a crash in between leaves the archive withholding, and a rerun finishes the job. `hallway redact`
is a thin wrapper over `run_redact`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import archive
import indexer
from archive import Ingester, Policy, load_policy, save_policy
from archive.policy_report import plural, redact_lines
from indexer import IndexerError


def policy_in_force(data_dir: Path, policy_file: Path | None = None) -> Policy:
    """The policy in force: policy_file (saved into the data dir so it persists), else the data dir's own."""
    stored = data_dir / archive.POLICY_FILE
    if policy_file is not None:
        policy = load_policy(policy_file)
        data_dir.mkdir(parents=True, exist_ok=True)
        if policy_file.resolve() != stored.resolve():
            shutil.copyfile(policy_file, stored)
        return policy
    if stored.exists():
        return load_policy(stored)
    return Policy()


@dataclass(frozen=True)
class Redaction:
    """What one `redact` asks for: message ids to take down (with the tombstone's reason) and user ids."""

    messages: tuple[int, ...] = ()
    users: tuple[int, ...] = ()
    pseudonymize: tuple[int, ...] = ()
    reason: str = "taken down"

    def applied_to(self, current: Policy) -> Policy:
        takedowns = dict(current.takedowns)
        takedowns.update({m: self.reason for m in self.messages})
        return Policy(
            include=current.include,
            exclude=current.exclude,
            drop_users=current.drop_users | set(self.users),
            pseudonymize_users=current.pseudonymize_users | set(self.pseudonymize),
            takedowns=takedowns,
        )

    def asked(self) -> list[tuple[str, int]]:
        return [("message", m) for m in self.messages] + [("user", u) for u in self.users + self.pseudonymize]


@dataclass
class RedactReport:
    """One line per id asked (in order), the summary line, and whether search was updated."""

    lines: list[str] = field(default_factory=list)
    purged: int = 0
    summary: str = ""
    index_error: str | None = None  # set when the index could not drop the withheld messages
    rebuild_error: str | None = None  # set when the later term-purging rebuild failed (search is clean)

    @property
    def exit_code(self) -> int:
        return 1 if self.index_error or self.rebuild_error else 0


def run_redact(
    data_dir: Path, redaction: Redaction, on_note: Callable[[str], None] | None = None
) -> RedactReport:
    """Withhold what `redaction` names in the archive, policy.toml and the search index; safe to rerun.

    Raises ArchiveError when the archive cannot be written (nothing was changed then).
    """
    policy = redaction.applied_to(policy_in_force(data_dir))
    data_dir.mkdir(parents=True, exist_ok=True)
    writer = Ingester(archive.connect(data_dir / archive.ARCHIVE_FILE), policy, on_note)
    try:
        report = RedactReport(purged=writer.apply_policy(force=True))
        save_policy(policy, data_dir / archive.POLICY_FILE)
        report.lines = redact_lines(writer.last_purge, redaction.asked())
        where = f"policy saved to {data_dir / archive.POLICY_FILE}; {plural(report.purged, 'message')} purged"
        if not (data_dir / indexer.INDEX_DIR).exists():
            report.summary = where
            return report
        try:
            indexer.withhold_now(data_dir, writer.conn)
        except IndexerError as e:
            report.summary = f"{where}, but the search index could not be updated: {e}"
            report.index_error = str(e)
            return report
        report.summary = f"{where}; removed from search"
        # The rebuild only purges old terms from segment files: search already serves nothing withheld.
        try:
            indexer.update_index(data_dir, writer.conn)
        except IndexerError as e:
            report.rebuild_error = f"search index not updated: {e}"
        return report
    finally:
        writer.conn.close()
