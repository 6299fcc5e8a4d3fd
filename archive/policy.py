"""The privacy policy: channels to leave out, users to drop or pseudonymize, messages taken down."""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import hmac
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from archive.errors import PolicyError
from archive.names import normalize_name, normalize_pattern

POLICY_FILE = "policy.toml"


@dataclass(frozen=True)
class Policy:
    """What must never reach the archive. Empty by default."""

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    drop_users: frozenset[int] = frozenset()
    pseudonymize_users: frozenset[int] = frozenset()
    takedowns: dict[int, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A stable digest: when it changes, the archive must be purged again."""
        text = repr(
            (
                sorted(self.include),
                sorted(self.exclude),
                sorted(self.drop_users),
                sorted(self.pseudonymize_users),
                sorted(self.takedowns.items()),
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def channel_allowed(self, ids: list[int | None], names: list[str | None]) -> bool:
        """Whether a channel (with its parent's id and name, for threads) passes include/exclude.

        Patterns match ids, and names as written or as people type them (`lcars-terminal-*` matches
        `💻-lcars-terminal-27`), case-insensitively.
        """
        keys = channel_keys(ids, names)
        return _matches(self.include, keys) and not _matches(self.exclude, keys)


def channel_keys(ids: list[int | None], names: list[str | None]) -> list[str]:
    """What channel patterns are compared with: ids, and each name lower-cased and normalized."""
    keys = [str(i) for i in ids if i is not None]
    for n in names:
        if n:
            keys += [n.lower(), normalize_name(n)]
    return keys


def _matches(patterns: tuple[str, ...], keys: list[str]) -> bool:
    forms = {f for p in patterns for f in (p.lower(), normalize_pattern(p))}
    return any(fnmatch.fnmatchcase(k, f) for f in forms for k in keys)


def unmatched_patterns(
    policy: Policy, channels: list[tuple[list[int | None], list[str | None]]]
) -> list[str]:
    """Exclude/include patterns (other than `*`) that match none of these channels: likely typos."""
    keys = [channel_keys(ids, names) for ids, names in channels]
    return [
        p for p in (*policy.exclude, *policy.include) if p != "*" and not any(_matches((p,), k) for k in keys)
    ]


def _ids(values: Any, where: str, path: Path) -> frozenset[int]:
    if values is None:
        return frozenset()
    if not isinstance(values, list):
        raise PolicyError(f"{path}: [{where}] must be a list of user ids")
    out = set()
    for v in values:
        s = str(v).strip()
        if not is_id(s):
            raise PolicyError(f"{path}: [{where}] has {v!r}, which is not a user id")
        out.add(int(s))
    return frozenset(out)


SECTIONS: dict[str, tuple[str, ...]] = {
    "channels": ("include", "exclude"),
    "users": ("drop", "pseudonymize"),
    "takedown": ("message", "reason"),
}


def is_id(value: str) -> bool:
    """A Discord id as typed: ASCII digits only (`"²".isdigit()` is True, and int() refuses it)."""
    return value.isascii() and value.isdigit() and 0 < len(value) <= 20


def _closest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.0)
    return match[0] if match else choices[0]


def _check_keys(data: dict[str, Any], path: Path) -> None:
    """Refuse unknown sections and keys, naming the closest valid one (a typo must not go unnoticed)."""
    for section, value in data.items():
        if section not in SECTIONS:
            shown = "[[takedown]]" if _closest(section, list(SECTIONS)) == "takedown" else None
            guess = shown or f"[{_closest(section, list(SECTIONS))}]"
            raise PolicyError(f"{path}: unknown section [{section}]: did you mean {guess}?")
        tables = value if isinstance(value, list) else [value]
        for table in tables:
            if not isinstance(table, dict):
                continue
            for key in table:
                if key in SECTIONS[section]:
                    continue
                elsewhere = [s for s, keys in SECTIONS.items() if key in keys]
                hint = (
                    f"{key} belongs under [{elsewhere[0]}]"
                    if elsewhere
                    else f"did you mean {_closest(key, SECTIONS[section])}?"
                )
                raise PolicyError(f"{path}: unknown key {key!r} in [{section}]: {hint}")


def load_policy(path: Path) -> Policy:
    """Read a policy TOML file; raise PolicyError naming the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise PolicyError(f"{path}: not valid TOML ({str(e).splitlines()[0]})") from None
    _check_keys(data, path)
    channels = data.get("channels", {})
    users = data.get("users", {})
    if not isinstance(channels, dict) or not isinstance(users, dict):
        raise PolicyError(f"{path}: [channels] and [users] must be tables")
    include = channels.get("include", ["*"])
    exclude = channels.get("exclude", [])
    for name, value in (("include", include), ("exclude", exclude)):
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise PolicyError(f"{path}: channels.{name} must be a list of channel ids or name globs")
    takedowns: dict[int, str] = {}
    entries = data.get("takedown", [])
    if not isinstance(entries, list):
        raise PolicyError(f"{path}: [[takedown]] entries must be tables")
    for n, entry in enumerate(entries, 1):
        msg = str(entry.get("message", "")).strip() if isinstance(entry, dict) else ""
        if not is_id(msg):
            raise PolicyError(f'{path}: takedown #{n} needs message = "<message id>"')
        takedowns[int(msg)] = str(entry.get("reason") or "taken down")
    return Policy(
        include=tuple(str(v) for v in include),
        exclude=tuple(str(v) for v in exclude),
        drop_users=_ids(users.get("drop"), "users.drop", path),
        pseudonymize_users=_ids(users.get("pseudonymize"), "users.pseudonymize", path),
        takedowns=takedowns,
    )


DEFAULTS: dict[str, list[str]] = {"include": ["*"]}
HEADER = "Hallway privacy policy: applied at every ingest; a rule once applied stays applied."


def save_policy(policy: Policy, path: Path) -> None:
    """Write the policy as TOML (atomically), keeping the maintainer's comments and layout where it can.

    Lists are updated in place (tomlkit round-trips comments); takedowns are added or removed one by one.
    """
    doc: tomlkit.TOMLDocument
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        _check_keys(doc.unwrap(), path)
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError, PolicyError):
        doc = tomlkit.document()
        doc.add(tomlkit.comment(HEADER))
    wanted: dict[str, dict[str, list[str]]] = {
        "channels": {"include": list(policy.include), "exclude": list(policy.exclude)},
        "users": {
            "drop": sorted(str(u) for u in policy.drop_users),
            "pseudonymize": sorted(str(u) for u in policy.pseudonymize_users),
        },
    }
    for section, keys in wanted.items():
        table = doc.get(section)
        if not isinstance(table, dict):
            table = tomlkit.table()
            doc[section] = table
        for key, values in keys.items():
            current = table.get(key)
            if isinstance(current, list) and [str(v) for v in current] == values:
                continue
            if isinstance(current, list):
                # Keep the array (and its comments); change only what differs.
                kept = [str(v) for v in current]
                for v in [v for v in kept if v not in values]:
                    current.pop(kept.index(v))
                    kept.remove(v)
                for v in values:
                    if v not in kept:
                        current.append(v)
            elif values != DEFAULTS.get(key, []) or isinstance(current, list):
                table[key] = values
    entries = doc.get("takedown")
    if not isinstance(entries, list):
        entries = tomlkit.aot()
        doc["takedown"] = entries
    seen: set[int] = set()
    for i in range(len(entries) - 1, -1, -1):
        msg = str(entries[i].get("message", "")).strip()
        if not is_id(msg) or int(msg) not in policy.takedowns:
            entries.pop(i) if hasattr(entries, "pop") else None
            continue
        seen.add(int(msg))
        if str(entries[i].get("reason")) != policy.takedowns[int(msg)]:
            entries[i]["reason"] = policy.takedowns[int(msg)]
    if len(entries) == 0 and policy.takedowns:
        doc.add(tomlkit.nl())
    for mid, reason in sorted(policy.takedowns.items()):
        if mid not in seen:
            entry = tomlkit.table()
            entry["message"] = str(mid)
            entry["reason"] = reason
            entries.append(entry)
    if not len(entries):
        del doc["takedown"]
    tmp = path.with_suffix(".toml.tmp")
    text = tomlkit.dumps(doc)
    tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    tmp.replace(path)


def pseudonym_for(secret: bytes, user_id: int) -> tuple[int, str]:
    """A stable pseudonymous (id, name) for a user, keyed by the archive's secret so it can't be reversed."""
    digest = hmac.new(secret, str(user_id).encode(), hashlib.sha256).digest()
    # A positive 62-bit id, outside the range real snowflakes reach for decades.
    pid = (int.from_bytes(digest[:8], "big") >> 2) | (1 << 61)
    return pid, "anon-" + digest[8:10].hex()
