"""What each policy rule matches and withholds, in lines for people (`hallway policy show`, `hallway redact`)."""

from __future__ import annotations

import sqlite3

from archive.memory import DROP, PSEUDONYMIZE, load_memory, rule_key
from archive.policy import Policy, pseudonym_for, unmatched_patterns
from archive.purge import PurgeReport, RuleResult


def plural(n: int, word: str) -> str:
    """`1 message`, `2 messages`."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


_KIND_LABEL = {"user": "user", "pseudonym": "user", "message": "message", "channel": "channel"}


def rule_line(r: RuleResult) -> str:
    """One rule's outcome: withheld (with the true count), already withheld, or unknown (and still recorded)."""
    label = f"{_KIND_LABEL[r.kind]} {r.id}"
    if r.status == "unknown":
        what = "a later export of it" if r.kind == "message" else "their messages in a later export"
        return f"{label}: not in the archive; recorded, so {what} stays withheld"
    if r.status == "already withheld":
        return f"{label}: already withheld"
    if r.kind == "pseudonym":
        return f"{label}: pseudonymized ({plural(r.messages, 'message')} now under the pseudonym)"
    return f"{label}: withheld ({plural(r.messages, 'message')})"


def redact_lines(report: PurgeReport, asked: list[tuple[str, int]]) -> list[str]:
    """The outcome of the rules a `redact` command named, in the order asked."""
    by_rule = {(r.kind, r.id): r for r in report.rules}
    lines = []
    for kind, rid in asked:
        found = by_rule.get((kind, rid)) or by_rule.get(("pseudonym" if kind == "user" else kind, rid))
        if found is not None:
            lines.append(rule_line(found))
    return lines


def describe_policy(conn: sqlite3.Connection, policy: Policy, secret: bytes) -> tuple[list[str], list[str]]:
    """For each rule, what it matches in the archive now and what it withholds; plus warnings."""
    lines: list[str] = []
    warnings: list[str] = []
    channels = conn.execute(
        "SELECT c.id, c.name, c.parent_id, c.parent_name, (SELECT count(*) FROM messages m WHERE m.channel_id = c.id)"
        " FROM channels c ORDER BY c.name"
    ).fetchall()
    memory = load_memory(conn)
    excluded_exports = conn.execute("SELECT count(*) FROM exports WHERE status = 'excluded'").fetchone()[0]
    lines.append(f"channels.include = {list(policy.include)}")
    for pattern in policy.exclude:
        hits = [
            (name, n)
            for cid, name, pid, pname, n in channels
            if not Policy(exclude=(pattern,)).channel_allowed([cid, pid], [name, pname])
        ]
        shown = ", ".join(f"#{name} ({plural(n, 'message')})" for name, n in hits[:10])
        if hits:
            lines.append(
                f"channels.exclude {pattern!r}: matches {shown} (purged at the next ingest or redact)"
            )
        elif rule_key(secret, "pattern", pattern) in memory.patterns:
            lines.append(
                f"channels.exclude {pattern!r}: applied; nothing of it left in the archive (the archive withholds "
                f"{plural(len(memory.channels), 'channel')} by id, {plural(excluded_exports, 'export')} excluded)"
            )
        else:
            lines.append(f"channels.exclude {pattern!r}: matches no channel")
    keys: list[tuple[list[int | None], list[str | None]]] = [
        ([cid, pid], [name, pname]) for cid, name, pid, pname, _n in channels
    ]
    for pattern in unmatched_patterns(policy, keys):
        if rule_key(secret, "pattern", pattern) not in memory.patterns:
            warnings.append(f"channel pattern {pattern!r} matches no channel of the archive")
    for uid in sorted(policy.drop_users):
        pid, _ = pseudonym_for(secret, uid)
        left = conn.execute("SELECT count(*) FROM messages WHERE author_id IN (?, ?)", (uid, pid)).fetchone()[
            0
        ]
        known = memory.users.get(rule_key(secret, "user", uid)) == DROP
        state = "withheld" if known else "not applied yet"
        lines.append(f"users.drop {uid}: {state}; {plural(left, 'message')} by them left in the archive")
    for uid in sorted(policy.pseudonymize_users - policy.drop_users):
        pid, pname = pseudonym_for(secret, uid)
        n = conn.execute("SELECT count(*) FROM messages WHERE author_id = ?", (pid,)).fetchone()[0]
        known = memory.users.get(rule_key(secret, "user", uid)) == PSEUDONYMIZE
        state = f"shown as {pname}" if known else "not applied yet"
        lines.append(f"users.pseudonymize {uid}: {state}; {plural(n, 'message')} under the pseudonym")
    for mid in sorted(policy.takedowns):
        row = conn.execute("SELECT redacted FROM messages WHERE id = ?", (mid,)).fetchone()
        if row is None:
            state = "not in the archive (recorded: a later export of it stays withheld)"
        elif row[0] is None:
            state = "in the archive and NOT withheld yet (run `hallway redact` or `hallway ingest`)"
        else:
            state = f"withheld ({row[0]!r})"
        lines.append(f"takedown {mid}: {state}")
    listed_users = {rule_key(secret, "user", u) for u in policy.drop_users | policy.pseudonymize_users}
    listed_users |= {rule_key(secret, "user", pseudonym_for(secret, u)[0]) for u in policy.drop_users}
    # A dropped user is remembered twice (their id and their pseudonym's): count people, not digests.
    extra_users = len([k for k, a in memory.users.items() if k not in listed_users and a != DROP])
    extra_users += len([k for k, a in memory.users.items() if k not in listed_users and a == DROP]) // 2
    listed_messages = {rule_key(secret, "message", m) for m in policy.takedowns}
    extra_messages = len([k for k in memory.messages if k not in listed_messages])
    if extra_users > 0 or extra_messages > 0:
        lines.append(
            f"also withheld by the archive (rules applied before and never loosened by editing the file): "
            f"{plural(max(extra_users, 0), 'user')}, {plural(extra_messages, 'message')}"
        )
    return lines, warnings


def unmatched_warnings(
    conn: sqlite3.Connection,
    policy: Policy,
    secret: bytes,
    seen: list[tuple[list[int | None], list[str | None]]],
) -> list[str]:
    """Warnings for channel patterns that match no channel of the archive, of the exports just read, or of
    the channels they excluded before (remembered by digest)."""
    rows = conn.execute("SELECT id, name, parent_id, parent_name FROM channels").fetchall()
    known: list[tuple[list[int | None], list[str | None]]] = [
        ([cid, pid], [name, pname]) for cid, name, pid, pname in rows
    ]
    memory = load_memory(conn)
    return [
        f"policy: channel pattern {p!r} matches no channel of the archive or of these exports"
        for p in unmatched_patterns(policy, known + seen)
        if rule_key(secret, "pattern", p) not in memory.patterns
    ]
