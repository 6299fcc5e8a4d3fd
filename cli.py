"""`hallway`: ingest DiscordChatExporter exports, search them, and serve the archive."""

from __future__ import annotations

import errno
import html
import importlib.metadata
import os
import re
import socket
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

import archive
import indexer
import pipeline
from archive import ArchiveError, load_policy
from archive.policy import is_id
from archive.policy_report import describe_policy, plural
from archive.store import ensure_secret_readonly
from indexer import IndexerError
from pipeline.console import ConsoleProgress, terminal_safe
from pipeline.redact import Redaction, policy_in_force, run_redact

if TYPE_CHECKING:
    from publish import PublishReport

# The viewer's stack (FastAPI, uvicorn, Jinja, the publisher) is imported by the commands that use it:
# `ingest`, `search` and `redact` start in a fraction of the time without it.


def _flags_as_flags(params: list[Any]) -> list[Any]:
    # typer prints a `<bool>` placeholder after flags, as if they took a value (`--salvage true` then reads
    # "true" as an export path): an empty metavar shows them as the flags they are.
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class _Command(TyperCommand):
    """A command whose flags show as flags in --help."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_as_flags(super().get_params(ctx))


class _Group(TyperGroup):
    """The top-level group, likewise (--version, --help)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_as_flags(super().get_params(ctx))


app = typer.Typer(
    cls=_Group,
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
_BOOL_WORDS = ("true", "false", "yes", "no", "on", "off", "1", "0")


def _fail(message: str) -> typer.Exit:
    err.print(f"Error: {message}", markup=False)
    return typer.Exit(1)


def run_ingest(
    paths: list[Path], data_dir: Path, *, policy_file: Path | None, salvage: bool, force: bool, quiet: bool
) -> int:
    """Ingest paths into the archive, update the index and link conversations; return the exit code."""
    policy = policy_in_force(data_dir, policy_file)
    report = pipeline.run_ingest(
        paths, data_dir, policy, ConsoleProgress(err, quiet=quiet), salvage=salvage, force=force
    )
    return report.exit_code


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
    for p in paths:
        if str(p).lower() in _BOOL_WORDS and not p.exists():
            raise _fail(
                f"{str(p)!r} is not an export: --salvage, --force and --quiet take no value "
                f"(write `--salvage`, not `--salvage {p}`)"
            )
    try:
        code = run_ingest(paths, data_dir, policy_file=policy, salvage=salvage, force=force, quiet=quiet)
    except ArchiveError as e:
        raise _fail(str(e)) from None
    raise typer.Exit(code)


# `stats --json` keeps every count; the table leaves out what only the program uses, and says what each row is.
_STATS_INTERNAL = ("generation",)  # a change counter the index follows
_STATS_LABELS = {
    "deleted": "tombstones (deleted or withheld)",
    "partial_exports": "partial exports (salvaged)",
    "size_bytes": "archive size on disk",
}


@app.command()
def stats(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Show what the archive holds: messages, tombstones, revisions, channels, threads, users, exports."""
    from web.pages import human_size

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
        if key in _STATS_INTERNAL:
            continue
        shown = human_size(value) if key == "size_bytes" else f"{value:,}"
        table.add_row(_STATS_LABELS.get(key, key.replace("_", " ")), shown)
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
    """Take down messages or withhold users: purges the archive and the search index now, adds to policy.toml.

    Safe to rerun: each id says what happened (withheld, already withheld, or not in the archive and recorded).
    """
    ids = {"--message": message or [], "--user": user or [], "--pseudonymize": pseudonymize or []}
    if not any(ids.values()):
        raise _fail("nothing to redact: give --message ID, --user ID or --pseudonymize ID")
    for flag, values in ids.items():
        for value in values:
            if not is_id(value):
                raise _fail(f"{flag} {value!r} is not a Discord id (digits 0-9 only)")
    redaction = Redaction(
        messages=tuple(int(m) for m in ids["--message"]),
        users=tuple(int(u) for u in ids["--user"]),
        pseudonymize=tuple(int(u) for u in ids["--pseudonymize"]),
        reason=reason,
    )
    try:
        report = run_redact(data_dir, redaction, lambda text: err.print(text, markup=False))
    except ArchiveError as e:
        raise _fail(str(e)) from None
    for line in report.lines:
        err.print(line, markup=False, soft_wrap=True)
    if report.index_error:
        raise _fail(report.summary)
    err.print(report.summary, markup=False)
    if report.rebuild_error:
        raise _fail(report.rebuild_error)


policy_app = typer.Typer(help="Show or check the privacy policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("show")
def policy_show(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """For each rule of <data-dir>/policy.toml: what it matches in the archive now and what it withholds."""
    try:
        policy = policy_in_force(data_dir)
        conn = archive.connect(data_dir / archive.ARCHIVE_FILE, readonly=True)
        lines, warnings = describe_policy(conn, policy, ensure_secret_readonly(conn))
    except ArchiveError as e:
        raise _fail(str(e)) from None
    for line in lines:
        out.print(line, markup=False, soft_wrap=True)
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)


@policy_app.command("check")
def policy_check(
    file: Annotated[
        Path | None, typer.Argument(help="Policy TOML to check [default: <data-dir>/policy.toml].")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Check a policy file: unknown sections and keys, ids that are not ids (one line each; exit 1)."""
    path = file or data_dir / archive.POLICY_FILE
    try:
        policy = load_policy(path)
    except ArchiveError as e:
        raise _fail(str(e)) from None
    rules = (
        len(policy.exclude) + len(policy.drop_users) + len(policy.pseudonymize_users) + len(policy.takedowns)
    )
    err.print(f"{path}: valid ({plural(rules, 'rule')})", markup=False)


@app.command()
def reindex(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Rebuild the search index from the archive (beside the live one, swapped in atomically)."""
    try:
        st = indexer.rebuild_index(data_dir)
    except (ArchiveError, IndexerError) as e:
        raise _fail(str(e)) from None
    err.print(f"index rebuilt: {plural(st.indexed, 'message')} in {st.seconds:.2f}s")


def _snippet_text(snippet: str) -> Text:
    """Snippet HTML (escaped text with <mark> tags) as rich Text with the matches highlighted."""
    text = Text()
    for n, part in enumerate(re.split(r"</?mark>", snippet)):
        text.append(
            terminal_safe(html.unescape(part).replace("\n", " ")), style="bold yellow" if n % 2 else ""
        )
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
    if not (data_dir / archive.ARCHIVE_FILE).exists():
        # `reindex` needs an archive too: say what works from here.
        raise _fail(
            f"no archive at {data_dir}: ingest exports first (`hallway ingest PATH --data-dir {data_dir}`), "
            "or point --data-dir (or HALLWAY_DATA_DIR) at the folder you ingested into"
        )
    try:
        page = indexer.search(indexer.open_index(data_dir), query, sort=sort, limit=limit, offset=offset)
    except IndexerError as e:
        raise _fail(str(e)) from None
    if as_json:
        sys.stdout.write(orjson.dumps(page.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for hint in page.hints:  # hints can quote channel names from the exports
        err.print(f"hint: {terminal_safe(hint, one_line=True)}", markup=False)
    if page.suggestion:
        err.print(f"did you mean: {terminal_safe(page.suggestion, one_line=True)}", markup=False)
    shown = f"{page.offset + 1}-{page.offset + len(page.hits)}" if page.hits else "none"
    table = Table(title=f"{page.total:,} messages · showing {shown} · {page.sort}", expand=True)
    table.add_column("when (UTC) · id", no_wrap=True)
    table.add_column("where · who", overflow="fold", max_width=22)
    table.add_column("message", ratio=1, min_width=30)
    for hit in page.hits:
        when = Text(hit.timestamp[:16].replace("T", " ") + "\n") + Text(str(hit.id), style="dim")
        who = Text("#" + terminal_safe(hit.channel, one_line=True) + "\n")
        who += Text(terminal_safe(hit.author, one_line=True), style="cyan")
        table.add_row(when, who, _snippet_text(hit.snippet))
    out.print(table)


@app.command(
    epilog="Examples: hallway digest --since 2024-03-01 --until 2024-03-07 · "
    "hallway digest --since 2024-03-01 --in research --format json"
)
def digest(
    since: Annotated[str, typer.Option("--since", help="First day, YYYY-MM-DD (UTC, inclusive).")],
    until: Annotated[
        str | None, typer.Option("--until", help="Last day, YYYY-MM-DD (UTC, inclusive); default today.")
    ] = None,
    channels: Annotated[
        list[str] | None, typer.Option("--in", help="A channel name or id (repeatable); threads come along.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md (default), json or html.")] = "md",
    base_url: Annotated[
        str, typer.Option("--base-url", help="Links point here (the served viewer's public URL).")
    ] = "http://127.0.0.1:8000",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """What happened in a window of days: per channel, the conversations ranked by activity, with links.

    The same digest as the viewer's /digest page: each conversation's opening and most-replied or
    most-reacted message, new threads and forum posts, pinned messages and announcements.
    """
    if fmt not in ("md", "json", "html"):
        raise _fail(f"--format {fmt!r}: use md, json or html")
    from web.digest import DigestError, build_digest, parse_day
    from web.digest_text import build_digest_document, build_digest_markdown
    from web.pages import build_templates
    from web.settings import Settings

    settings = Settings(data_dir=data_dir, base_url=base_url)
    try:
        first = parse_day(since, "--since")
        last = parse_day(until, "--until") if until else None
        conn = archive.connect(data_dir / archive.ARCHIVE_FILE, readonly=True)
        try:
            data = build_digest(conn, first, last, channels or [])
        finally:
            conn.close()
    except (ArchiveError, DigestError) as e:
        raise _fail(str(e)) from None
    if fmt == "json":
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif fmt == "html":
        env = build_templates(settings).env
        sys.stdout.write(build_digest_document(env, data, base_url, settings.site_name))
    else:
        sys.stdout.write(build_digest_markdown(data, base_url))


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
    mcp: Annotated[
        bool, typer.Option("--mcp", help="Also serve the MCP tools for agents over streamable HTTP at /mcp.")
    ] = False,
) -> None:
    """Serve the web viewer (read-only); with PATHs, ingest them first. `hallway serve sample_exports/` runs the demo."""
    _check_listen(host, port)  # before any work: a bad or taken port fails in one line, not after ingesting
    import uvicorn

    from web.settings import Settings
    from web.urls import base_url_warning

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
    settings = Settings(data_dir=data_dir, base_url=base_url or f"http://{host}:{port}", mcp=mcp)
    # Worker processes build their app from these variables (web.app.create_app_from_env).
    os.environ.update(settings.to_env())
    warning = base_url_warning(settings.base_url)
    if warning:
        err.print(f"warning: {warning}", markup=False)
    err.print(
        f"serving {data_dir} at http://{host}:{port} (permalinks use {settings.base_url})"
        + (f"; MCP at http://{host}:{port}/mcp" if mcp else ""),
        markup=False,
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


def _print_publish(report: PublishReport) -> None:
    c = report.counts
    out.print(
        f"{report.out}: {report.files:,} files, {report.bytes / 1e6:.1f} MB "
        f"({report.pages:,} pages, {report.records:,} messages searchable); "
        f"{c.written:,} written, {c.unchanged:,} unchanged, {c.removed:,} removed",
        markup=False,
    )
    parts = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(report.sizes.items(), key=lambda kv: -kv[1]))
    out.print(f"  by folder: {parts}", markup=False)
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    out.print(f"  time: {timing}", markup=False)
    for p in report.parts if len(report.parts) > 1 else []:
        name = p.folder if p.folder.startswith("(") else f"{p.folder}/ ({p.label})"
        out.print(f"  {name}: {p.files:,} files, {p.bytes / 1e6:.1f} MB", markup=False)
    for w in report.warnings:
        err.print(f"warning: {w}", markup=False)


@app.command()
def publish(
    out_dir: Annotated[Path, typer.Argument(help="The folder to write the site into (created if missing).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    base_url: Annotated[
        str,
        typer.Option("--base-url", help="Where the site will live (permalinks in citations and feeds)."),
    ] = "",
    force: Annotated[bool, typer.Option("--force", help="Rewrite every file, changed or not.")] = False,
    split_by: Annotated[
        str | None,
        typer.Option(
            "--split-by", help="One site per guild, year or month (guild|year|month), with a landing page."
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            min=0,
            help="Processes building the parts of a split site side by side (0: one per core).",
        ),
    ] = 0,
) -> None:
    """Write the archive as a static site with in-browser search (Pagefind); only changed files are rewritten."""
    from publish import PublishError, publish_site
    from publish.jobs import default_jobs

    if not (data_dir / archive.ARCHIVE_FILE).exists():
        raise _fail(f"no archive at {data_dir}: run `hallway ingest PATH` first")
    if not base_url:
        err.print("note: no --base-url, so citations carry site-relative permalinks (/m/ID)", markup=False)
    try:
        report = publish_site(
            data_dir,
            out_dir,
            base_url=base_url,
            force=force,
            split_by=split_by,
            progress=lambda m: err.print(m, markup=False),
            jobs=jobs or default_jobs(),
        )
    except (PublishError, ArchiveError) as e:
        raise _fail(str(e)) from None
    _print_publish(report)


def _check_listen(host: str, port: int) -> None:
    """Fail with one line when the viewer could not listen on host:port (a bad port, or one in use)."""
    if not 1 <= port <= 65535:
        raise _fail(f"--port {port} is not a TCP port: choose one from 1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise _fail(f"--host {host}: cannot listen there ({e})") from None
    family, kind, proto, _name, addr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(addr)
        except OSError as e:
            reason = "the port is in use (another server?)" if e.errno == errno.EADDRINUSE else e.strerror
            raise _fail(f"cannot listen on {host}:{port}: {reason}; choose another --port") from None


@app.command("mcp")
def mcp_stdio(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    base_url: Annotated[
        str, typer.Option("--base-url", help="Public URL of the viewer, used in permalinks and citations.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Serve the archive to agents over the Model Context Protocol on stdin/stdout (read-only)."""
    if not (data_dir / archive.ARCHIVE_FILE).exists():
        raise _fail(f"no archive at {data_dir}: run `hallway ingest PATH` first")
    # Imported here, not at the top: the MCP SDK takes about a second to import, which every other
    # command would pay for.
    from web import mcp_server
    from web.settings import Settings

    # stdout carries the protocol: everything else this process says goes to stderr.
    mcp_server.serve_stdio(Settings(data_dir=data_dir, base_url=base_url))


def _version() -> str:
    try:
        return importlib.metadata.version("hallway")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout: the version is in pyproject.toml
        with open(Path(__file__).with_name("pyproject.toml"), "rb") as f:
            return str(tomllib.load(f)["project"]["version"])


def _show_version(value: bool) -> None:
    if value:
        out.print(f"hallway {_version()}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Hallway: a searchable, citable archive of DiscordChatExporter exports."""


def _use_flag_display(typer_app: typer.Typer) -> None:
    """Every command of an app (and of its sub-apps) shows its flags as flags."""
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = _Command
    for group in typer_app.registered_groups:
        if not isinstance(group.cls, type):  # typer's default placeholder: no class of its own
            group.cls = _Group
        if group.typer_instance is not None:
            _use_flag_display(group.typer_instance)


_use_flag_display(app)


def main() -> None:
    """Entry point for `python cli.py`."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
