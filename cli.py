"""`hallway`: ingest DiscordChatExporter exports, search them, and serve the archive."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import archive
from archive import ArchiveError, Ingester, Policy, load_policy, save_policy

app = typer.Typer(
    help="Hallway: a searchable, citable archive of DiscordChatExporter exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False)

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="HALLWAY_DATA_DIR",
        help="Where the archive, index and policy live.",
        file_okay=False,
    ),
]
DEFAULT_DATA_DIR = Path("./hallway-data")


def _fail(message: str) -> typer.Exit:
    err.print(f"Error: {message}", markup=False)
    return typer.Exit(1)


def _policy(data_dir: Path, policy_file: Path | None) -> Policy:
    """The policy in force: --policy (saved into the data dir so it persists), else the data dir's own."""
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


def _open_writer(data_dir: Path, policy: Policy) -> Ingester:
    return Ingester(archive.connect(data_dir / archive.ARCHIVE_FILE), policy)


def run_ingest(
    paths: list[Path], data_dir: Path, *, policy_file: Path | None, salvage: bool, force: bool, quiet: bool
) -> int:
    """Ingest paths into the archive and update the index; return the exit code."""
    policy = _policy(data_dir, policy_file)
    ingester = _open_writer(data_dir, policy)
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        err.print(f"error: {p}: no such file or folder", markup=False)
    files = list(archive.iter_export_files([p for p in paths if p.exists()]))
    started = time.perf_counter()
    total_messages = 0
    results = []
    purged = ingester.apply_policy()
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[messages]:,} messages · {task.fields[rate]:,.0f} msg/s"),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=len(files), messages=0, rate=0.0)
        done_before = 0

        def tick(_path: str, count: int) -> None:
            elapsed = max(time.perf_counter() - started, 1e-6)
            bar.update(task, messages=done_before + count, rate=(done_before + count) / elapsed)

        for path in files:
            result = ingester.ingest_file(path, salvage=salvage, force=force, progress=tick)
            results.append(result)
            total_messages += result.messages
            done_before = total_messages
            bar.update(task, advance=1, messages=total_messages)
            if result.error:
                label = "warning" if result.status == "partial" else "error"
                err.print(f"{label}: {result.error}", markup=False, soft_wrap=True)
    ingester.update_conversations()
    elapsed = time.perf_counter() - started
    summary = archive.IngestSummary(results)
    ok = summary.count("ok") + summary.count("partial")
    skipped = summary.count("unchanged") + summary.count("excluded")
    line = (
        f"{len(files) + len(missing)} files: {ok} ingested ({summary.count('partial')} partial), {skipped} skipped "
        f"({summary.count('unchanged')} unchanged, {summary.count('excluded')} excluded), {summary.failed + len(missing)} failed; "
        f"messages: {summary.added} added, {summary.updated} updated, {summary.deleted} deleted"
        + (f", {purged} purged by policy" if purged else "")
        + f" in {elapsed:.2f}s"
    )
    if not quiet:
        err.print(line, markup=False, soft_wrap=True)
    return 1 if summary.failed or missing else 0


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Export files or folders (searched recursively for *.json).")
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Privacy policy TOML; saved as <data-dir>/policy.toml.")
    ] = None,
    salvage: Annotated[
        bool, typer.Option("--salvage", help="Keep the complete messages before damage in a truncated file.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Re-read files even when already ingested.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
) -> None:
    """Ingest DiscordChatExporter JSON exports (idempotent; merges edits, deletions and overlaps)."""
    try:
        code = run_ingest(paths, data_dir, policy_file=policy, salvage=salvage, force=force, quiet=quiet)
    except ArchiveError as e:
        raise _fail(str(e)) from None
    raise typer.Exit(code)


@app.command()
def stats(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Show what the archive holds: messages, tombstones, revisions, channels, threads, users, exports."""
    try:
        conn = archive.connect(data_dir / archive.ARCHIVE_FILE, readonly=True)
        counts = archive.stats(conn)
    except ArchiveError as e:
        raise _fail(str(e)) from None
    if as_json:
        sys.stdout.write(orjson.dumps(counts, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(title=f"Hallway archive · {data_dir}", show_header=False)
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    out.print(table)


@app.command()
def redact(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    message: Annotated[list[str] | None, typer.Option("--message", help="Message id to take down.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Shown on the tombstone.")] = "taken down",
    user: Annotated[
        list[str] | None, typer.Option("--user", help="User id whose messages are withheld.")
    ] = None,
    pseudonymize: Annotated[
        list[str] | None, typer.Option("--pseudonymize", help="User id to show under a stable pseudonym.")
    ] = None,
) -> None:
    """Take down messages or withhold users: adds to <data-dir>/policy.toml and purges the archive now."""
    ids = {"--message": message or [], "--user": user or [], "--pseudonymize": pseudonymize or []}
    if not any(ids.values()):
        raise _fail("nothing to redact: give --message ID, --user ID or --pseudonymize ID")
    for flag, values in ids.items():
        for value in values:
            if not value.isdigit():
                raise _fail(f"{flag} {value!r} is not a Discord id")
    try:
        current = _policy(data_dir, None)
        takedowns = dict(current.takedowns)
        takedowns.update({int(m): reason for m in ids["--message"]})
        policy = Policy(
            include=current.include,
            exclude=current.exclude,
            drop_users=current.drop_users | {int(u) for u in ids["--user"]},
            pseudonymize_users=current.pseudonymize_users | {int(u) for u in ids["--pseudonymize"]},
            takedowns=takedowns,
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        save_policy(policy, data_dir / archive.POLICY_FILE)
        purged = _open_writer(data_dir, policy).apply_policy()
    except ArchiveError as e:
        raise _fail(str(e)) from None
    err.print(f"policy saved to {data_dir / archive.POLICY_FILE}; {purged} messages purged", markup=False)


def main() -> None:
    """Entry point for `python cli.py`."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
