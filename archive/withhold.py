"""The one withholding mechanism: for any stored or derived value, what the privacy rules withhold or rewrite.

Rules come from two places: the policy (plain ids and name patterns, as the maintainer wrote them) and the
archive's memory (`archive.memory`: keyed digests of every id and name a rule ever withheld). Their union is
in force, so a lost or loosened policy.toml never loosens the archive. The normalizer (at ingest) and the
purge (after a rule is added) both call a Withholder; nothing else rewrites names.

Rewriting is token-exact: a `<@id>` mention, a whole `@Name` mention, a whole id, a whole string; never a
substring of a longer word or address (`@bobabel` and `bob@bob.example.org` stay as they are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from archive.memory import DROP, PSEUDONYMIZE, Memory, rule_key
from archive.normalize import parse_snowflake
from archive.policy import Policy, pseudonym_for

REMOVED_USER = "removed-user"
REDACTED_AUTHOR = "author opted out"
WITHHELD_THREAD = "withheld thread"
MAX_DEPTH = 100  # deeper JSON is hostile: the message is skipped and named
MAX_NAME = 100  # Discord's longest display name, in characters
_CACHE_LIMIT = 200_000

_MENTION_RE = re.compile(r"<@!?(\d{1,20})>")
_ID_RE = re.compile(r"(?<!\d)\d{15,20}(?!\d)")
_AT_RE = re.compile(r"(?<![\w@.+-])@")  # a mention starts a word: not inside an address (bob@host)
_MESSAGE_LINK_RE = re.compile(r"/channels/(?:\d+|@me)/(\d+)/(\d+)")


class NestingTooDeep(ValueError):
    """A value nests deeper than MAX_DEPTH levels."""


@dataclass(frozen=True, slots=True)
class UserAction:
    """What a rule does to one user: `id` and `name` are what the archive stores and shows instead."""

    action: str  # drop | pseudonymize
    id: int  # the pseudonym's id, or 0 for a dropped user
    name: str


DROPPED = UserAction(DROP, 0, REMOVED_USER)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class Withholder:
    """Decides, for a policy plus the archive's memory, what each user, channel, message and value becomes."""

    def __init__(self, policy: Policy, secret: bytes, memory: Memory | None = None) -> None:
        self.policy = policy
        self.secret = secret
        self.memory = memory if memory is not None else Memory()
        self._users: dict[int, UserAction | None] = {}
        # Plain names of withheld users seen in this process -> what replaces them (remembered only as digests).
        self.names: dict[str, str] = {}
        self.learned: dict[tuple[str, str], str] = {}
        # Digests of the names known in plain here: when they cover the memory's, no candidate needs hashing.
        self._covered: set[str] = set()
        self._hash_names: bool | None = None
        for uid in policy.pseudonymize_users - policy.drop_users:
            pid, pname = pseudonym_for(secret, uid)
            self._users[uid] = UserAction(PSEUDONYMIZE, pid, pname)
        for uid in policy.drop_users:
            # Drop after pseudonymize: the rows carry the pseudonym by now, so it is withheld too.
            pid, pname = pseudonym_for(secret, uid)
            self._users[uid] = self._users[pid] = DROPPED
            self.names[pname] = REMOVED_USER
            self._covered.add(self.key("name", pname))

    def adopt_names(self, other: Withholder) -> None:
        """Keep the plain names another Withholder learned in this process (after re-reading the memory)."""
        self.names.update(other.names)
        self._covered |= other._covered
        self._hash_names = None

    @property
    def has_users(self) -> bool:
        """Whether any user is withheld (else text and JSON pass through untouched)."""
        return bool(self._users or self.memory.users)

    def key(self, kind: str, value: object) -> str:
        """The keyed digest a rule about `value` is remembered by."""
        return rule_key(self.secret, kind, value)

    # -- decisions ------------------------------------------------------------------------------

    def user(self, uid: int | None) -> UserAction | None:
        """What happens to a user: None when nothing is withheld."""
        if uid is None:
            return None
        if uid in self._users:
            return self._users[uid]
        found: UserAction | None = None
        if self.memory.users:
            action = self.memory.users.get(self.key("user", uid))
            if action == DROP:
                found = DROPPED
            elif action == PSEUDONYMIZE:
                pid, pname = pseudonym_for(self.secret, uid)
                found = UserAction(PSEUDONYMIZE, pid, pname)
        if len(self._users) < _CACHE_LIMIT:
            self._users[uid] = found
        return found

    def channel_excluded(
        self, cid: int | None, parent_id: int | None, name: str | None, parent_name: str | None
    ) -> bool:
        """Whether a channel (a thread follows its parent) is excluded, by the policy or because it once was."""
        ids: list[int | None] = [i for i in (cid, parent_id) if i is not None]
        if any(self.key("channel", i) in self.memory.channels for i in ids):
            return True
        if self.policy.channel_allowed(ids, [name, parent_name]):
            return False
        for pattern in self.policy.exclude:  # remembered, so `policy show` knows the pattern did match
            if not Policy(exclude=(pattern,)).channel_allowed(ids, [name, parent_name]):
                self.remember("pattern", pattern, "matched")
        return True

    def takedown(self, mid: int | None) -> str | None:
        """The reason a message is taken down, or None."""
        if mid is None:
            return None
        reason = self.policy.takedowns.get(mid)
        if reason is None and self.memory.messages:
            reason = self.memory.messages.get(self.key("message", mid))
        return reason

    def forward_withheld(self, ref_channel_id: int | None, ref_message_id: int | None) -> bool:
        """Whether a forwarded or quoted copy comes from something withheld (an excluded channel, a takedown)."""
        if self.takedown(ref_message_id) is not None:
            return True
        return ref_channel_id is not None and self.channel_excluded(ref_channel_id, None, None, None)

    # -- learning (what the archive remembers afterwards) ----------------------------------------

    def remember(self, kind: str, value: object, action: str) -> None:
        """Note a rule to store in the archive's memory (by digest) when the transaction commits; it is in
        force in this process from now on."""
        key = self.key(kind, value)
        self.learned[(kind, key)] = action
        self.memory.add(kind, key, action)
        if kind == "name":
            self._hash_names = None

    def learn_names(self, act: UserAction, *names: object) -> None:
        """A withheld user's names, as one export shows them: rewritten wherever they are mentioned."""
        for n in names:
            if isinstance(n, str) and n and n != act.name and len(n) <= MAX_NAME and n not in self.names:
                self.names[n] = act.name
                self.remember("name", n, act.name)
                self._covered.add(self.key("name", n))
                self._hash_names = None

    def _name(self, text: str) -> str | None:
        found = self.names.get(text)
        if found is None and len(text) <= MAX_NAME and self._needs_hashing():
            found = self.memory.names.get(self.key("name", text))
        return found

    def _needs_hashing(self) -> bool:
        """Whether the memory holds names not known in plain in this process (only those need a digest)."""
        if self._hash_names is None:
            self._hash_names = bool(self.memory.names.keys() - self._covered)
        return self._hash_names

    # -- rewriting ------------------------------------------------------------------------------

    def rewrite_text(self, text: str) -> str:
        """Text with every mention of a withheld user replaced (token-exact)."""
        if not text or "@" not in text or not self.has_users:
            return text
        if "<@" in text:
            text = _MENTION_RE.sub(self._mention, text)
        if self.names or self.memory.names:
            text = self._rewrite_at_names(text)
        return text

    def _mention(self, m: re.Match[str]) -> str:
        act = self.user(int(m[1]))
        if act is None:
            return m[0]
        return "@" + REMOVED_USER if act.action == DROP else f"<@{act.id}>"

    def _rewrite_at_names(self, text: str) -> str:
        out: list[str] = []
        last = 0
        for m in _AT_RE.finditer(text):
            start = m.end()
            if start < last:
                continue
            # Candidate names end where a word ends; the longest known one wins.
            limit = min(len(text), start + MAX_NAME)
            ends = [e for e in range(limit, start, -1) if e == len(text) or not _is_word(text[e])]
            for end in ends:
                if text[end - 1].isspace():
                    continue
                replacement = self._name(text[start:end])
                if replacement is not None:
                    out += [text[last:start], replacement]
                    last = end
                    break
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def rewrite_json(self, value: Any, depth: int = 0) -> Any:
        """Parsed JSON (embeds, unmodeled keys) with withheld users' objects, ids, names and mentions replaced."""
        if depth > MAX_DEPTH:
            raise NestingTooDeep(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, str):
            return self._rewrite_string(value) if self.has_users else value
        if isinstance(value, list):
            return [self.rewrite_json(v, depth + 1) for v in value]
        if isinstance(value, dict):
            uid = parse_snowflake(value.get("id"))
            if uid is not None and ("name" in value or "avatarUrl" in value or "nickname" in value):
                act = self.user(uid)
                if act is not None:  # a whole user object goes: its avatar URL names the account
                    self.learn_names(act, value.get("name"), value.get("nickname"))
                    return {"id": str(act.id), "name": act.name}
            return {k: self.rewrite_json(v, depth + 1) for k, v in value.items()}
        if isinstance(value, int) and not isinstance(value, bool) and value >= 10**14:
            act = self.user(value)
            return value if act is None else act.id
        return value

    def _rewrite_string(self, s: str) -> str:
        whole = self._name(s)
        if whole is not None:
            return whole
        s = self.rewrite_text(s)
        if not any(c.isdigit() for c in s):
            return s
        for m in reversed(list(_ID_RE.finditer(s))):
            act = self.user(int(m[0]))
            if act is None:
                continue
            if "/" in s:
                return ""  # an avatar or profile URL: the id (and the hash beside it) names the account
            s = s[: m.start()] + str(act.id) + s[m.end() :]
        return s

    def embed_withheld(self, embed: Any, is_withheld_message: Any = None) -> bool:
        """Whether an embed is a copy of withheld content (a quote of a taken-down or dropped user's message,
        or an embed whose author is a dropped user): then it goes whole, not just its names."""
        if not isinstance(embed, dict):
            return False
        author = embed.get("author")
        if isinstance(author, dict):
            name = author.get("name")
            if isinstance(name, str) and self._name(name) == REMOVED_USER:
                return True
            for key in ("iconUrl", "iconProxyUrl", "url"):
                icon = author.get(key)
                if isinstance(icon, str) and any(
                    self.user(int(m[0])) is DROPPED for m in _ID_RE.finditer(icon)
                ):
                    return True
        for link in _MESSAGE_LINK_RE.finditer(_strings(embed)):
            cid, mid = int(link[1]), int(link[2])
            if self.forward_withheld(cid, mid) or (
                is_withheld_message is not None and is_withheld_message(mid)
            ):
                return True
        return False


def _strings(value: Any, depth: int = 0) -> str:
    """Every string in a JSON value, joined (for link scans); bounded like rewrite_json."""
    if depth > MAX_DEPTH:
        raise NestingTooDeep(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_strings(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_strings(v, depth + 1) for v in value)
    return ""
