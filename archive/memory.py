"""What the archive has withheld, remembered by keyed digests (table `withheld`), never by plain values.

A rule once applied stays applied: a later export, a renamed channel or a lost policy.toml is checked
against these digests. Digests are HMAC-SHA256 keyed by the archive's secret, so they can't be reversed
by hashing candidate ids or names. Loosening is the explicit `forget` (see `hallway policy loosen`).
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

DROP = "drop"
PSEUDONYMIZE = "pseudonymize"
EXCLUDE = "exclude"
KINDS = ("user", "channel", "message", "name", "pattern")


def rule_key(secret: bytes, kind: str, value: object) -> str:
    """The digest a rule about `value` (an id or a name) is remembered by."""
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class Memory:
    """The digests in force, by kind."""

    users: dict[str, str] = field(default_factory=dict)  # key -> drop | pseudonymize
    channels: set[str] = field(default_factory=set)
    messages: dict[str, str] = field(default_factory=dict)  # key -> takedown reason
    names: dict[str, str] = field(default_factory=dict)  # key -> replacement name
    patterns: set[str] = field(default_factory=set)  # channel patterns that matched a channel once
    version: int = 0

    def add(self, kind: str, key: str, action: str) -> None:
        """Put one digest in force (a drop is never downgraded to a pseudonym)."""
        if kind == "user":
            if self.users.get(key) != DROP:
                self.users[key] = action
        elif kind == "channel":
            self.channels.add(key)
        elif kind == "message":
            self.messages[key] = action
        elif kind == "name":
            self.names[key] = action
        elif kind == "pattern":
            self.patterns.add(key)

    def __len__(self) -> int:
        return len(self.users) + len(self.channels) + len(self.messages)


def memory_version(conn: sqlite3.Connection) -> int:
    """Bumped by every change to the memory (an ingest re-reads the memory when it moved)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'withheld_version'").fetchone()
    return int(row[0]) if row else 0


def load_memory(conn: sqlite3.Connection) -> Memory:
    """Read the archive's memory of withheld things."""
    memory = Memory(version=memory_version(conn))
    for kind, key, action in conn.execute("SELECT kind, key, action FROM withheld"):
        memory.add(kind, key, action)
    return memory


def save_memory(conn: sqlite3.Connection, entries: Iterable[tuple[tuple[str, str], str]]) -> int:
    """Store digests (inside the caller's transaction); a drop is never downgraded to a pseudonym.

    Returns how many entries were new or changed.
    """
    changed = 0
    for (kind, key), action in entries:
        row = conn.execute("SELECT action FROM withheld WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        if row is not None and (row[0] == action or (kind == "user" and row[0] == DROP)):
            continue
        conn.execute(
            "INSERT INTO withheld(kind, key, action) VALUES (?, ?, ?)"
            " ON CONFLICT(kind, key) DO UPDATE SET action = excluded.action",
            (kind, key, action),
        )
        changed += 1
    if changed:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('withheld_version', '1')"
            " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
    return changed


def rename_replacement(conn: sqlite3.Connection, old: str, new: str) -> None:
    """Names that were rewritten to `old` (a pseudonym) are rewritten to `new` from now on (a drop)."""
    conn.execute("UPDATE withheld SET action = ? WHERE kind = 'name' AND action = ?", (new, old))


def forget(conn: sqlite3.Connection, secret: bytes, kind: str, value: object) -> int:
    """Remove one remembered rule (the explicit loosening step); return how many digests went."""
    gone = conn.execute(
        "DELETE FROM withheld WHERE kind = ? AND key = ?", (kind, rule_key(secret, kind, value))
    ).rowcount
    if gone:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('withheld_version', '1')"
            " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
    return gone
