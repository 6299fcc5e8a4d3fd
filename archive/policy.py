"""The privacy policy: channels to leave out, users to drop or pseudonymize, messages taken down."""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from archive.errors import PolicyError

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
        """Whether a channel (with its parent's id and name, for threads) passes include/exclude."""
        keys = [str(i) for i in ids if i is not None] + [n for n in names if n]

        def matches(patterns: tuple[str, ...]) -> bool:
            return any(fnmatch.fnmatchcase(k.lower(), p.lower()) for p in patterns for k in keys)

        return matches(self.include) and not matches(self.exclude)


def _ids(values: Any, where: str, path: Path) -> frozenset[int]:
    if values is None:
        return frozenset()
    if not isinstance(values, list):
        raise PolicyError(f"{path}: [{where}] must be a list of user ids")
    out = set()
    for v in values:
        s = str(v).strip()
        if not s.isdigit():
            raise PolicyError(f"{path}: [{where}] has {v!r}, which is not a user id")
        out.add(int(s))
    return frozenset(out)


def load_policy(path: Path) -> Policy:
    """Read a policy TOML file; raise PolicyError naming the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise PolicyError(f"{path}: not valid TOML ({e})") from None
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
        if not msg.isdigit():
            raise PolicyError(f'{path}: takedown #{n} needs message = "<message id>"')
        takedowns[int(msg)] = str(entry.get("reason") or "taken down")
    return Policy(
        include=tuple(str(v) for v in include),
        exclude=tuple(str(v) for v in exclude),
        drop_users=_ids(users.get("drop"), "users.drop", path),
        pseudonymize_users=_ids(users.get("pseudonymize"), "users.pseudonymize", path),
        takedowns=takedowns,
    )


def save_policy(policy: Policy, path: Path) -> None:
    """Write the policy as TOML (atomically), e.g. after `hallway redact`."""

    def strs(values: Any, keep_order: bool = False) -> str:
        items = list(values) if keep_order else sorted(values, key=str)
        return "[" + ", ".join(orjson.dumps(str(v)).decode() for v in items) + "]"

    lines = [
        "# Hallway privacy policy: applied at every ingest; changes purge the archive.",
        "[channels]",
        f"include = {strs(policy.include, keep_order=True)}",
        f"exclude = {strs(policy.exclude, keep_order=True)}",
        "",
        "[users]",
        f"drop = {strs(policy.drop_users)}",
        f"pseudonymize = {strs(policy.pseudonymize_users)}",
    ]
    for mid, reason in sorted(policy.takedowns.items()):
        escaped = reason.replace("\\", "\\\\").replace('"', '\\"')
        lines += ["", "[[takedown]]", f'message = "{mid}"', f'reason = "{escaped}"']
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


def scrub_user_objects(value: Any, replacements: dict[int, dict[str, str]]) -> Any:
    """Parsed JSON with each user object of a withheld user replaced whole (its avatar URL names the account)."""
    if isinstance(value, list):
        return [scrub_user_objects(v, replacements) for v in value]
    if not isinstance(value, dict):
        return value
    uid = value.get("id")
    if "name" in value and isinstance(uid, str | int) and str(uid).isdigit() and int(uid) in replacements:
        return dict(replacements[int(uid)])
    return {k: scrub_user_objects(v, replacements) for k, v in value.items()}


def pseudonym_for(secret: bytes, user_id: int) -> tuple[int, str]:
    """A stable pseudonymous (id, name) for a user, keyed by the archive's secret so it can't be reversed."""
    digest = hmac.new(secret, str(user_id).encode(), hashlib.sha256).digest()
    # A positive 62-bit id, outside the range real snowflakes reach for decades.
    pid = (int.from_bytes(digest[:8], "big") >> 2) | (1 << 61)
    return pid, "anon-" + digest[8:10].hex()
