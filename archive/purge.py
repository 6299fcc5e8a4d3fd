"""Purge what the rules now withhold from what the archive already holds (a policy change, `hallway redact`).

Runs inside the caller's write transaction. Every rewrite is the Withholder's (the same one the normalizer
uses at ingest); this module only finds the rows that may hold a withheld value and stores the result.
Each rule reports what it did: how many messages it withheld now, "already withheld", or "unknown" (not in
the archive: still remembered, so a later export stays withheld).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from archive.memory import DROP, EXCLUDE, PSEUDONYMIZE, rename_replacement
from archive.policy import pseudonym_for
from archive.schema import MESSAGE_TABLES, REDACTED_TABLES
from archive.withhold import REDACTED_AUTHOR, WITHHELD_THREAD, Withholder


@dataclass(frozen=True)
class RuleResult:
    """What one rule did to the archive."""

    kind: str  # user | pseudonym | message | channel
    id: int
    messages: int  # messages withheld by it now (for a pseudonym: messages moved to it)
    status: str  # withheld | already withheld | unknown


@dataclass
class PurgeReport:
    """All the rules' results; `purged` counts the messages withheld now."""

    rules: list[RuleResult] = field(default_factory=list)

    @property
    def purged(self) -> int:
        """Messages withheld by this purge (pseudonymized ones are rewritten, not withheld)."""
        return sum(r.messages for r in self.rules if r.kind != "pseudonym")


class Purge:
    """One purge, inside one transaction, at archive generation `gen`."""

    def __init__(self, conn: sqlite3.Connection, withholder: Withholder, gen: int) -> None:
        self.conn = conn
        self.w = withholder
        self.gen = gen
        self.report = PurgeReport()

    def run(self) -> PurgeReport:
        """Apply every rule of the policy (and remember each one)."""
        policy = self.w.policy
        self._channels()
        needles: list[str] = []
        for uid in sorted(policy.drop_users):
            needles += self._drop(uid)
        for uid in sorted(policy.pseudonymize_users - policy.drop_users):
            needles += self._pseudonymize(uid)
        for mid, reason in sorted(policy.takedowns.items()):
            self._takedown(mid, reason)
        if needles:
            self._rewrite_values(needles)
        self._withhold_copies()
        return self.report

    # -- channels -------------------------------------------------------------------------------

    def _channels(self) -> None:
        conn = self.conn
        rows = conn.execute("SELECT id, name, parent_id, parent_name FROM channels").fetchall()
        for cid, name, parent_id, parent_name in rows:
            if not self.w.channel_excluded(cid, parent_id, name, parent_name):
                continue
            self.w.remember("channel", cid, EXCLUDE)
            conn.execute(
                "INSERT OR REPLACE INTO removed(message_id, generation) SELECT id, ? FROM messages WHERE channel_id = ?",
                (self.gen, cid),
            )
            ids = "SELECT id FROM messages WHERE channel_id = ?"
            for table in MESSAGE_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE message_id IN ({ids})", (cid,))
            conn.execute("DELETE FROM provenance_ranges WHERE channel_id = ?", (cid,))
            n = conn.execute("DELETE FROM messages WHERE channel_id = ?", (cid,)).rowcount
            conn.execute("DELETE FROM channels WHERE id = ?", (cid,))
            # The export's file name (DCE names it after the channel) and the channel id are withheld too.
            for eid, epath in conn.execute(
                "SELECT id, path FROM exports WHERE channel_id = ?", (cid,)
            ).fetchall():
                conn.execute(
                    "UPDATE exports SET status = 'excluded', path = ?, channel_id = NULL WHERE id = ?",
                    (withheld_path(self.w, epath), eid),
                )
            self.report.rules.append(RuleResult("channel", cid, n, "withheld"))

    # -- users ----------------------------------------------------------------------------------

    def _user_names(self, *uids: int) -> list[str]:
        names: list[str] = []
        for uid in uids:
            row = self.conn.execute("SELECT name, nickname FROM users WHERE id = ?", (uid,)).fetchone()
            if row:
                names += [n for n in row if n]
        return names

    def _known(self, kind: str, uid: int, action: str) -> bool:
        return self.w.memory.users.get(self.w.key(kind, uid)) == action

    def _drop(self, uid: int) -> list[str]:
        pid, pname = pseudonym_for(self.w.secret, uid)
        act = self.w.user(uid)
        assert act is not None
        names = self._user_names(uid, pid)
        self.w.learn_names(act, *names, pname)
        rename_replacement(
            self.conn, pname, act.name
        )  # names once shown as the pseudonym now show as removed
        for key, replacement in list(self.w.memory.names.items()):
            if replacement == pname:
                self.w.memory.names[key] = act.name
        already = self._known("user", uid, DROP)
        self.w.remember("user", uid, DROP)
        self.w.remember("user", pid, DROP)
        n = self._redact(
            "author_id IN (?, ?) AND redacted IS NULL", (uid, pid), REDACTED_AUTHOR, thread_names=True
        )
        touched = n + self.conn.execute("DELETE FROM users WHERE id IN (?, ?)", (uid, pid)).rowcount
        touched += self.conn.execute("DELETE FROM mentions WHERE user_id IN (?, ?)", (uid, pid)).rowcount
        touched += self._reaction_users({uid: None, pid: None})
        status = "withheld" if touched else ("already withheld" if already else "unknown")
        self.report.rules.append(RuleResult("user", uid, n, status))
        return [str(uid), str(pid), *names, pname]

    def _pseudonymize(self, uid: int) -> list[str]:
        act = self.w.user(uid)
        assert act is not None
        conn = self.conn
        names = self._user_names(uid)
        self.w.learn_names(act, *names)
        already = self._known("user", uid, PSEUDONYMIZE)
        self.w.remember("user", uid, PSEUDONYMIZE)
        conn.execute(
            "INSERT OR IGNORE INTO users(id, name, nickname, pseudonym, seen_ts) VALUES (?, ?, ?, 1, 0)",
            (act.id, act.name, act.name),
        )
        touched = conn.execute("DELETE FROM users WHERE id = ?", (uid,)).rowcount
        n = conn.execute(
            "UPDATE messages SET author_id = ?, generation = ? WHERE author_id = ?", (act.id, self.gen, uid)
        ).rowcount
        conn.execute("UPDATE OR IGNORE mentions SET user_id = ? WHERE user_id = ?", (act.id, uid))
        touched += conn.execute("DELETE FROM mentions WHERE user_id = ?", (uid,)).rowcount
        touched += self._reaction_users({uid: act.id})
        status = "withheld" if touched or n else ("already withheld" if already else "unknown")
        self.report.rules.append(RuleResult("pseudonym", uid, n, status))
        return [str(uid), *names]

    def _reaction_users(self, replace: dict[int, int | None]) -> int:
        # `users` is a BLOB: LIKE never matches a BLOB operand, so compare its text.
        changed = 0
        for uid in list(replace):
            rows = self.conn.execute(
                "SELECT message_id, pos, users FROM reactions WHERE CAST(users AS TEXT) LIKE ?", (f"%{uid}%",)
            ).fetchall()
            for mid, pos, blob in rows:
                users = orjson.loads(blob)
                if uid not in users:
                    continue
                new = [u for u in users if u != uid]
                if replace[uid] is not None:
                    new.append(replace[uid])
                self.conn.execute(
                    "UPDATE reactions SET users = ? WHERE message_id = ? AND pos = ?",
                    (orjson.dumps(new), mid, pos),
                )
                self._touch(mid)
                changed += 1
        return changed

    # -- messages -------------------------------------------------------------------------------

    def _takedown(self, mid: int, reason: str) -> None:
        already = self.w.memory.messages.get(self.w.key("message", mid)) is not None
        self.w.remember("message", mid, reason)
        n = self._redact(
            "id = ? AND (redacted IS NULL OR redacted != ?)", (mid, reason), reason, thread_names=True
        )
        if n:
            status = "withheld"
        else:
            row = self.conn.execute("SELECT redacted FROM messages WHERE id = ?", (mid,)).fetchone()
            status = "already withheld" if row is not None or already else "unknown"
        self.report.rules.append(RuleResult("message", mid, n, status))

    def _redact(self, where: str, args: tuple[Any, ...], reason: str, *, thread_names: bool) -> int:
        conn = self.conn
        ids = [r[0] for r in conn.execute(f"SELECT id FROM messages WHERE {where}", args)]
        for mid in ids:
            for table in REDACTED_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE message_id = ?", (mid,))
        conn.executemany(
            "UPDATE messages SET content = NULL, author_id = NULL, extra = NULL, edited_ts = NULL, pinned = 0,"
            " reply_to = NULL, flags = 0, reaction_count = 0, redacted = ?, generation = ? WHERE id = ?",
            [(reason, self.gen, mid) for mid in ids],
        )
        if thread_names and ids:
            withhold_thread_names(conn, ids)
        return len(ids)

    def _touch(self, mid: int) -> None:
        self.conn.execute("UPDATE messages SET generation = ? WHERE id = ?", (self.gen, mid))

    # -- every stored value that may name a withheld user ---------------------------------------

    def _candidates(self, table: str, key: str, columns: Iterable[str], needles: list[str]) -> set[Any]:
        found: set[Any] = set()
        for needle in {n for n in needles if n}:
            like = f"%{needle}%"
            where = " OR ".join(f"CAST({c} AS TEXT) LIKE ?" for c in columns)
            found |= {
                r[0]
                for r in self.conn.execute(
                    f"SELECT {key} FROM {table} WHERE {where}", [like] * len(list(columns))
                )
            }
        return found

    def _rewrite_values(self, needles: list[str]) -> None:
        """Rewrite mentions, names, ids and user objects wherever a withheld user may appear (token-exact)."""
        conn, w = self.conn, self.w
        for mid in self._candidates("messages", "id", ("content", "extra"), needles):
            content, extra = conn.execute(
                "SELECT content, extra FROM messages WHERE id = ?", (mid,)
            ).fetchone()
            new_content = w.rewrite_text(content) if content else content
            new_extra = orjson.dumps(w.rewrite_json(orjson.loads(extra))) if extra else extra
            if new_content != content or new_extra != extra:
                conn.execute(
                    "UPDATE messages SET content = ?, extra = ?, generation = ? WHERE id = ?",
                    (new_content, new_extra, self.gen, mid),
                )
        for rowid in self._candidates("revisions", "rowid", ("content",), needles):
            (text,) = conn.execute("SELECT content FROM revisions WHERE rowid = ?", (rowid,)).fetchone()
            conn.execute("UPDATE revisions SET content = ? WHERE rowid = ?", (w.rewrite_text(text), rowid))
        for mid in self._candidates("embeds", "message_id", ("title", "description", "data"), needles):
            self._rewrite_embeds(mid)
        for mid in self._candidates("attachments", "message_id", ("file_name",), needles):
            for pos, name in conn.execute(
                "SELECT pos, file_name FROM attachments WHERE message_id = ?", (mid,)
            ).fetchall():
                if name and w.rewrite_text(name) != name:
                    conn.execute(
                        "UPDATE attachments SET file_name = ? WHERE message_id = ? AND pos = ?",
                        (w.rewrite_text(name), mid, pos),
                    )
                    self._touch(mid)
        for cid in self._candidates("channels", "id", ("name", "topic"), needles):
            name, topic = conn.execute("SELECT name, topic FROM channels WHERE id = ?", (cid,)).fetchone()
            conn.execute(
                "UPDATE channels SET name = ?, topic = ? WHERE id = ?",
                (w.rewrite_text(name), w.rewrite_text(topic) if topic else topic, cid),
            )
            conn.execute("UPDATE messages SET generation = ? WHERE channel_id = ?", (self.gen, cid))

    def _rewrite_embeds(self, mid: int) -> None:
        conn, w = self.conn, self.w
        for pos, data in conn.execute("SELECT pos, data FROM embeds WHERE message_id = ?", (mid,)).fetchall():
            embed = orjson.loads(data)
            if w.embed_withheld(embed, self._is_withheld_message):
                conn.execute("DELETE FROM embeds WHERE message_id = ? AND pos = ?", (mid, pos))
                self._touch(mid)
                continue
            new = w.rewrite_json(embed)
            if new == embed:
                continue
            title = new.get("title") if isinstance(new.get("title"), str) else None
            desc = new.get("description") if isinstance(new.get("description"), str) else None
            conn.execute(
                "UPDATE embeds SET title = ?, description = ?, data = ? WHERE message_id = ? AND pos = ?",
                (title, desc, orjson.dumps(new), mid, pos),
            )
            self._touch(mid)

    def _is_withheld_message(self, mid: int) -> bool:
        row = self.conn.execute("SELECT redacted FROM messages WHERE id = ?", (mid,)).fetchone()
        return row is not None and row[0] is not None

    def _withhold_copies(self) -> None:
        """Forwarded copies and quoting embeds (starboards) of what is withheld now."""
        conn, w = self.conn, self.w
        for mid, ref_cid, ref_mid in conn.execute(
            "SELECT id, ref_channel_id, ref_message_id FROM messages WHERE ref_kind = 'forward' AND ref_channel_id IS NOT NULL"
        ).fetchall():
            if w.forward_withheld(ref_cid, ref_mid) or (
                ref_mid is not None and self._is_withheld_message(ref_mid)
            ):
                (extra,) = conn.execute("SELECT extra FROM messages WHERE id = ?", (mid,)).fetchone()
                kept = orjson.loads(extra) if extra else {}
                kept.pop("forwardedMessage", None)
                kept.pop("messageSnapshots", None)
                conn.execute(
                    "UPDATE messages SET extra = ?, ref_channel_id = NULL, ref_message_id = NULL,"
                    " ref_guild_id = NULL, generation = ? WHERE id = ?",
                    (orjson.dumps(kept) if kept else None, self.gen, mid),
                )
        for (mid,) in conn.execute(
            "SELECT DISTINCT message_id FROM embeds WHERE CAST(data AS TEXT) LIKE '%/channels/%'"
        ).fetchall():
            self._rewrite_embeds(mid)


def withhold_forwards(conn: sqlite3.Connection, gen: int, channel_id: int) -> int:
    """Forwarded copies of messages of a channel that is excluded now lose the copy; return how many."""
    rows = conn.execute(
        "SELECT id, extra FROM messages WHERE ref_kind = 'forward' AND ref_channel_id = ?", (channel_id,)
    ).fetchall()
    for mid, extra in rows:
        kept = orjson.loads(extra) if extra else {}
        kept.pop("forwardedMessage", None)
        kept.pop("messageSnapshots", None)
        conn.execute(
            "UPDATE messages SET extra = ?, ref_channel_id = NULL, ref_message_id = NULL, ref_guild_id = NULL,"
            " generation = ? WHERE id = ?",
            (orjson.dumps(kept) if kept else None, gen, mid),
        )
    return len(rows)


def withhold_thread_names(conn: sqlite3.Connection, message_ids: list[int]) -> None:
    """Threads and forum posts started by a withheld message are named after it: their names go too."""
    conn.execute(
        "UPDATE channels SET name = ? WHERE is_thread = 1 AND id IN (SELECT value FROM json_each(?))"
        " AND id IN (SELECT id FROM messages WHERE redacted IS NOT NULL)",
        (WITHHELD_THREAD, orjson.dumps(message_ids)),
    )


def withheld_path(w: Withholder, path: str) -> str:
    """How an excluded export is remembered: a keyed digest of its path, whose file name names the channel."""
    return "withheld:" + w.key("path", path)
