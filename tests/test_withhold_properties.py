"""Property test (hypothesis, stateful): ingest, redact, policy change, reindex and kill -9 in random order.

After every step: nothing the rules withhold (the policy file's, plus every rule that ever reached the
archive) is stored in an archive value or found by search, and nothing allowed is lost from the archive.
A `kill -9` lands at a random moment inside a real `hallway redact` process; the next reader must already
serve nothing that the archive withheld.
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import archive
import indexer
from archive import Ingester, Policy, load_policy, save_policy
from tests.conftest import ROOT
from tests.factory import ALICE, msg, sf, write_export
from tests.ingesting import ingest_archive

X: dict[str, Any] = {**ALICE, "id": "100000000000000081", "name": "xavrealname", "nickname": "Xavier Hidden"}
Y: dict[str, Any] = {**ALICE, "id": "100000000000000082", "name": "yolrealname", "nickname": "Yolanda Hidden"}
USERS = {"x": X, "y": Y}
GENERAL, MOD = "200000000000000001", "200000000000000031"
# (offset, author key, channel, export generation): each message's text is one unique token.
MESSAGES = [
    (1, "a", GENERAL, 1),
    (2, "x", GENERAL, 1),
    (3, "y", GENERAL, 1),
    (4, "a", MOD, 1),
    (5, "x", MOD, 1),
    (6, "a", GENERAL, 2),
    (7, "x", GENERAL, 2),
    (8, "y", GENERAL, 2),
]
AUTHORS = {"a": ALICE, **USERS}


def token(n: int) -> str:
    return f"tok{'abcdefghij'[n]}word"


def _write_corpus(root: Path) -> dict[int, Path]:
    gens: dict[int, Path] = {}
    for gen in (1, 2):
        folder = root / f"g{gen}"
        for cid, name in ((GENERAL, "general"), (MOD, "mod-zone")):
            rows = [
                msg(n, f"{token(n)} hi <@{X['id']}>" if n == 1 else token(n), AUTHORS[a])
                for n, a, c, g in MESSAGES
                if c == cid and g <= gen
            ]
            write_export(
                folder / f"{name}.json",
                rows,
                channel_id=cid,
                channel_name=name,
                exported_at=f"202{gen}-01-01T00:00:00.000+00:00",
            )
        gens[gen] = folder
    return gens


class WithholdingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="hallway-prop-"))
        self.data = self.tmp / "data"
        self.data.mkdir()
        self.corpus = _write_corpus(self.tmp / "exports")
        self.policy_file = self.data / archive.POLICY_FILE
        self.ingested: set[int] = set()  # export generations ingested
        self.ever: dict[str, set[Any]] = {"drop": set(), "pseudo": set(), "takedown": set(), "exclude": set()}
        self.indexed = False

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------

    def _policy(self) -> Policy:
        return load_policy(self.policy_file) if self.policy_file.exists() else Policy()

    def _ingester(self) -> Ingester:
        return Ingester(archive.connect(self.data / archive.ARCHIVE_FILE), self._policy())

    def _withheld_tokens(self) -> set[str]:
        p = self._policy()
        drop = {int(USERS[k]["id"]) for k in self.ever["drop"]} | p.drop_users
        out = set()
        for n, a, c, _g in MESSAGES:
            if int(AUTHORS[a]["id"]) in drop or int(sf(n)) in self.ever["takedown"] | set(p.takedowns):
                out.add(token(n))
            if c == MOD and (self.ever["exclude"] or p.exclude):
                out.add(token(n))
        return out

    def _hidden_names(self) -> set[str]:
        keys = self.ever["drop"] | self.ever["pseudo"]
        return {s for k in keys for s in (USERS[k]["name"], USERS[k]["nickname"], USERS[k]["id"])}

    def _add_rule(self, kind: str, value: Any) -> Policy:
        p = self._policy()
        if kind == "drop":
            p = Policy(
                p.include,
                p.exclude,
                p.drop_users | {int(USERS[value]["id"])},
                p.pseudonymize_users,
                p.takedowns,
            )
        elif kind == "pseudo":
            p = Policy(
                p.include,
                p.exclude,
                p.drop_users,
                p.pseudonymize_users | {int(USERS[value]["id"])},
                p.takedowns,
            )
        elif kind == "takedown":
            p = Policy(
                p.include, p.exclude, p.drop_users, p.pseudonymize_users, {**p.takedowns, value: "asked"}
            )
        else:
            p = Policy(p.include, ("mod-*",), p.drop_users, p.pseudonymize_users, p.takedowns)
        return p

    # -- rules ----------------------------------------------------------------------------------

    @rule(gen=st.sampled_from([1, 2]))
    def ingest(self, gen: int) -> None:
        ing = self._ingester()
        try:
            ingest_archive(ing, [self.corpus[gen]])
            indexer.update_index(self.data, ing.conn)
        finally:
            ing.conn.close()
        self.ingested.add(gen)
        self.indexed = True

    @rule(
        kind=st.sampled_from(["drop", "pseudo", "takedown", "exclude"]),
        who=st.sampled_from(["x", "y"]),
        n=st.sampled_from([1, 3, 6]),
    )
    def redact(self, kind: str, who: str, n: int) -> None:
        value: Any = who if kind in ("drop", "pseudo") else int(sf(n)) if kind == "takedown" else "mod-*"
        policy = self._add_rule(kind, value)
        ing = Ingester(archive.connect(self.data / archive.ARCHIVE_FILE), policy)
        try:
            ing.apply_policy(force=True)
            save_policy(policy, self.policy_file)
            self.ever[kind].add(value)
            if (self.data / "index").exists():
                indexer.withhold_now(self.data, ing.conn)
                indexer.update_index(self.data, ing.conn)
        finally:
            ing.conn.close()

    @precondition(lambda self: self.indexed)
    @rule()
    def reindex(self) -> None:
        indexer.rebuild_index(self.data)

    @precondition(lambda self: bool(self.ingested))
    @rule(who=st.sampled_from(["x", "y"]), delay=st.floats(0.0, 2.5), seed=st.integers(0, 3))
    def kill_9_during_redact(self, who: str, delay: float, seed: int) -> None:
        """A real `hallway redact --user` killed at a random moment: its rule may or may not have landed."""
        args = [sys.executable, str(ROOT / "cli.py"), "redact", "--data-dir", str(self.data)]
        args += ["--user", USERS[who]["id"]] if seed % 2 else ["--pseudonymize", USERS[who]["id"]]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay * random.Random(seed).random())
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        # What landed is what the archive now remembers; policy.toml is written only after the archive.
        conn = archive.connect(self.data / archive.ARCHIVE_FILE)
        try:
            ing = Ingester(conn)
            act = ing.withholder.user(int(USERS[who]["id"]))
            if act is not None:
                self.ever["drop" if act.action == "drop" else "pseudo"].add(who)
        finally:
            conn.close()

    # -- the promise ----------------------------------------------------------------------------

    @invariant()
    def nothing_withheld_is_stored_or_found(self) -> None:
        db = self.data / archive.ARCHIVE_FILE
        if not db.exists():
            return
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            values = []
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    values += [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row]
            text = "\n".join(values).lower()
        finally:
            conn.close()
        withheld = self._withheld_tokens()
        assert [t for t in withheld if t in text] == []
        assert [s for s in self._hidden_names() if s.lower() in text] == []
        # Nothing allowed is lost: every allowed message of an ingested export is stored.
        allowed = {token(n) for n, _a, _c, g in MESSAGES if g <= max(self.ingested, default=0)} - withheld
        assert [t for t in sorted(allowed) if t not in text] == []
        if (self.data / "index").exists():
            reader = indexer.open_index(self.data)
            found = {t for t in withheld if indexer.search(reader, t, facets=False).total}
            assert found == set()


TestWithholding = WithholdingMachine.TestCase
TestWithholding.settings = settings(
    max_examples=12,
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
