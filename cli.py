"""`hallway`: ingest DiscordChatExporter exports, search them, and serve the archive."""

from __future__ import annotations

import html
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from rich.text import Text

import archive
import indexer
import pipeline
from archive import ArchiveError, Ingester, Policy, load_policy, save_policy
from indexer import IndexerError
from pipeline.console import ConsoleProgress
from web.settings import Settings

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
    """Ingest paths into the archive, update the index and link conversations; return the exit code."""
    policy = _policy(data_dir, policy_file)
    report = pipeline.run_ingest(
        paths, data_dir, policy, ConsoleProgress(err, quiet=quiet), salvage=salvage, force=force
    )
    return report.exit_code


def _update_index(data_dir: Path, ingester: Ingester, *, quiet: bool) -> int:
    """Bring the search index up to date with the archive; return 1 (after saying why) when it could not."""
    try:
        st = indexer.update_index(data_dir, ingester.conn)
    except IndexerError as e:
        err.print(f"Error: search index not updated: {e}", markup=False)
        return 1
    if not quiet and st.mode != "unchanged":
        why = f" ({st.reason})" if st.reason else ""
        err.print(
            f"index: {st.mode}{why}: {st.indexed:,} messages indexed in {st.seconds:.2f}s", markup=False
        )
    return 0


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Export files or folders (searched recursively; a file no format reads is named)."
        ),
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
        writer = _open_writer(data_dir, policy)
        purged = writer.apply_policy()
    except ArchiveError as e:
        raise _fail(str(e)) from None
    if (data_dir / indexer.INDEX_DIR).exists() and _update_index(data_dir, writer, quiet=True):
        raise typer.Exit(1)
    err.print(f"policy saved to {data_dir / archive.POLICY_FILE}; {purged} messages purged", markup=False)


@app.command()
def reindex(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Rebuild the search index from the archive (beside the live one, swapped in atomically)."""
    try:
        st = indexer.rebuild_index(data_dir)
    except (ArchiveError, IndexerError) as e:
        raise _fail(str(e)) from None
    err.print(
        f"index rebuilt: {st.indexed:,} messages (archive generation {st.generation}) in {st.seconds:.2f}s"
    )


def _snippet_text(snippet: str) -> Text:
    """Snippet HTML (escaped text with <mark> tags) as rich Text with the matches highlighted."""
    text = Text()
    for n, part in enumerate(re.split(r"</?mark>", snippet)):
        text.append(html.unescape(part).replace("\n", " "), style="bold yellow" if n % 2 else "")
    return text


@app.command(
    epilog="Examples: hallway search 'grokking plateau' · hallway search '\"exact phrase\" from:alice in:general' · "
    "hallway search 'sweep -from:bot has:link after:2024-01' --sort newest"
)
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in the search language described above.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    sort: Annotated[str, typer.Option("--sort", help="relevance (default), newest or oldest.")] = "relevance",
    limit: Annotated[int, typer.Option("--limit", help="Results per page (at most 100).")] = 20,
    offset: Annotated[int, typer.Option("--offset", help="Results to skip (for paging).")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON object: total, hits, facets, hints.")
    ] = False,
) -> None:
    """Search the archive: words are ANDed and stemmed (install finds installing), ranked by relevance.

    "exact phrase" matches unstemmed words in order · word* is a prefix · word~ is fuzzy (a typo or two).

    -word or NOT word excludes · a OR b matches either · negate any filter with - (e.g. -from:bot).

    from:NAME|ID · mentions:NAME|ID · in:CHANNEL|ID (includes its threads) · in:conversation:ID · author:bot|user.

    has:link|embed|file|image|video|sound|sticker|code · pinned:true · edited:true · is:reply|thread|system.

    before:DATE · after:DATE · during:DATE, where DATE is YYYY, YYYY-MM or YYYY-MM-DD (UTC).

    Quote names with spaces: from:"Some User". Several from:, in: or mentions: values mean any of them.

    Nothing you type is an error: what cannot be used is ignored and explained in a hint.
    """
    try:
        page = indexer.search(indexer.open_index(data_dir), query, sort=sort, limit=limit, offset=offset)
    except IndexerError as e:
        raise _fail(str(e)) from None
    if as_json:
        sys.stdout.write(orjson.dumps(page.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for hint in page.hints:
        err.print(f"hint: {hint}", markup=False)
    shown = f"{page.offset + 1}-{page.offset + len(page.hits)}" if page.hits else "none"
    table = Table(title=f"{page.total:,} messages · showing {shown} · {page.sort}", expand=True)
    table.add_column("when (UTC) · id", no_wrap=True)
    table.add_column("where · who", overflow="fold", max_width=22)
    table.add_column("message", ratio=1, min_width=30)
    for hit in page.hits:
        when = Text(hit.timestamp[:16].replace("T", " ") + "\n") + Text(str(hit.id), style="dim")
        who = Text("#" + hit.channel + "\n") + Text(hit.author, style="cyan")
        table.add_row(when, who, _snippet_text(hit.snippet))
    out.print(table)


@app.command()
def serve(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Exports to ingest first (files or folders); optional.")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes (each opens the archive read-only).")
    ] = 1,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="Public URL used in permalinks and citations [default: http://HOST:PORT]."
        ),
    ] = None,
) -> None:
    """Serve the web viewer (read-only); with PATHs, ingest them first. `hallway serve sample_exports/` runs the demo."""
    if paths:
        try:
            code = run_ingest(paths, data_dir, policy_file=None, salvage=False, force=False, quiet=False)
        except ArchiveError as e:
            raise _fail(str(e)) from None
        if code:
            err.print(
                "warning: some exports could not be ingested; serving what the archive holds", markup=False
            )
    if not (data_dir / archive.ARCHIVE_FILE).exists():
        raise _fail(f"no archive at {data_dir}: run `hallway ingest PATH` or `hallway serve PATH` first")
    settings = Settings(data_dir=data_dir, base_url=base_url or f"http://{host}:{port}")
    # Worker processes build their app from these variables (web.app.create_app_from_env).
    os.environ.update(settings.to_env())
    err.print(
        f"serving {data_dir} at http://{host}:{port} (permalinks use {settings.base_url})", markup=False
    )
    uvicorn.run(
        "web.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
        log_level="warning",
    )


def main() -> None:
    """Entry point for `python cli.py`."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
