"""Pure helpers that turn DCE's drifting field shapes into one normal form."""

from __future__ import annotations

import re
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1420070400000

# DCE writes 0-7 fraction digits and any UTC offset ("Z" never, but accept it).
_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def snowflake_ms(snowflake: int) -> int:
    """Return the creation time (Unix ms, UTC) encoded in a Discord snowflake."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


def parse_snowflake(value: object) -> int | None:
    """Return a snowflake as int from a string or int, or None when it is not a plausible id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and value.isdigit() and 0 < len(value) <= 20:
        n = int(value)
    else:
        return None
    if n < 0 or n >= 1 << 63:
        return None
    return n


def parse_timestamp_ms(value: object) -> int | None:
    """Parse an ISO-8601 timestamp with any offset and 0-7 fraction digits into Unix ms (UTC)."""
    if not isinstance(value, str):
        return None
    m = _TS_RE.match(value.strip())
    if m is None:
        return None
    year, month, day, hour, minute, sec, frac, off = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(sec or 0), tzinfo=UTC)
    except ValueError:
        return None
    ms = int(dt.timestamp()) * 1000
    if frac:
        ms += int((frac + "000")[:3])
    if off and off != "Z":
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 60 + int(digits[2:4])) * 60_000
    return ms


def iso_utc(ms: int) -> str:
    """Format Unix ms as ISO-8601 UTC with millisecond precision, e.g. 2024-01-02T03:04:05.678Z."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def display_name(name: str | None, nickname: str | None) -> str:
    """The name a person sees: the nickname (guild nick / global name) or else the username."""
    return nickname or name or "Unknown"


def media_path(value: object) -> str | None:
    """Return a `--media` local path with forward slashes, or None when the value is a URL or empty."""
    if not isinstance(value, str) or not value:
        return None
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        return None
    return value.replace("\\", "/")


def strip_cdn_query(url: str) -> str:
    """Drop Discord CDN signature parameters (ex, is, hm) so the URL is a stable key."""
    if "?" not in url:
        return url
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p.split("=", 1)[0] not in {"ex", "is", "hm"}]
    return base + ("?" + "&".join(kept) if kept else "")
