"""What CSV and TXT exports share: locale dates, full names, reactions, and messages built without ids.

Their dates are the exporter's `--dateformat` or locale string in the exporter's local time (ISO with
an offset only in CSV from 2.42.3), so a date is read as written and its precision kept: the merge
into real messages (archive/lowfi.py) finds the offset by comparing with the real times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from archive.normalize import parse_timestamp_ms
from archive.sources._identity import lowfi_message_id, synthetic_id
from archive.sources.base import SourceAttachment, SourceMessage, SourceReaction, SourceUser

FIDELITY = 2  # CSV; TXT is 1 (no author ids)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
_AMPM = r"\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?"
_TIME = r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?" + _AMPM
# Tried in order; DCE's own defaults first (dd-MMM-yy up to 2.37, MM/dd/yyyy in 2.38-2.40, en-US "g").
_DATE_PATTERNS = [
    re.compile(r"^(?P<d>\d{1,2})-(?P<mon>[A-Za-z]{3})-(?P<y>\d{2,4})\s+" + _TIME + "$"),
    re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{2,4})\s+" + _TIME + "$"),
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{2,4})\s+" + _TIME + "$"),
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})\s+" + _TIME + "$"),
]
_FULL_NAME_RE = re.compile(r"^(?P<name>.+)#(?P<disc>\d{4})$")
_REACTION_RE = re.compile(r"(\S+?)(?:\s*\((\d+)\))?(?=\s|,|$)")


def parse_export_date(text: str) -> tuple[int, int] | None:
    """(Unix ms as written, precision in ms) for a DCE CSV/TXT date, or None when it is not one."""
    text = text.strip()
    if text.isdigit() and len(text) in (10, 13):  # --dateformat unix / unixms
        return (int(text) * 1000, 1000) if len(text) == 10 else (int(text), 1)
    iso = parse_timestamp_ms(text) if "T" in text else None
    if iso is not None:
        return iso, 1
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m is None:
            continue
        g = m.groupdict()
        month = _MONTHS.get(g["mon"].lower()) if g.get("mon") else int(g["m"])
        year = int(g["y"]) + (2000 if len(g["y"]) == 2 else 0)
        hour = int(g["h"])
        ampm = (g.get("ampm") or "").lower()
        if ampm.startswith("p") and hour < 12:
            hour += 12
        elif ampm.startswith("a") and hour == 12:
            hour = 0
        try:
            dt = datetime(year, month or 0, int(g["d"]), hour, int(g["mi"]), int(g["s"] or 0), tzinfo=UTC)
        except ValueError:
            continue
        return int(dt.timestamp()) * 1000, 1000 if g["s"] else 60_000
    return None


def split_full_name(full: str) -> tuple[str, str]:
    """(name, discriminator) of a DCE full name: `name#1234` (legacy) or `name` (new usernames)."""
    m = _FULL_NAME_RE.match(full)
    return (m.group("name"), m.group("disc")) if m else (full, "0000")


def parse_reactions(text: str) -> list[SourceReaction]:
    """`👍 (5) 🔥` (TXT) or `👍 (2),🔥 (1)` (CSV) as reactions."""
    return [
        SourceReaction(name=name.strip(":"), count=int(count) if count else 1)
        for name, count in _REACTION_RE.findall(text.replace(",", " "))
    ]


@dataclass
class LowFiBuilder:
    """Turns rows of an export without ids into DCE-JSON-shaped messages with stable ids."""

    users: dict[str, int] = field(default_factory=dict)
    _minute: int | None = None
    _seq: int = 0

    def message(
        self,
        *,
        date: str,
        author: str,
        author_id: int | None,
        content: str,
        attachments: list[str],
        reactions: str = "",
        embed_lines: list[str] | None = None,
        pinned: bool = False,
    ) -> SourceMessage | None:
        """One message, or None when the date is not a date."""
        parsed = parse_export_date(date)
        if parsed is None:
            return None
        ms, precision = parsed
        minute = ms - ms % 60_000
        if minute != self._minute:
            self._minute, self._seq = minute, 0
        # Messages of one minute keep their file order in the id's millisecond part.
        mid = lowfi_message_id(minute, self._seq, author, content)
        self._seq += 1
        name, disc = split_full_name(author)
        uid = (
            author_id
            if author_id is not None
            else self.users.setdefault(author, synthetic_id("user", author))
        )
        return SourceMessage(
            id=mid,
            content=content,
            author=SourceUser(id=uid, name=name, nickname=name, discriminator=disc),
            pinned=pinned,
            attachments=[
                SourceAttachment(url=url, file_name=url.replace("\\", "/").rsplit("/", 1)[-1].split("?")[0])
                for url in attachments
                if url
            ],
            reactions=parse_reactions(reactions) if reactions else [],
            embeds=[{"title": "", "description": "\n".join(embed_lines), "fields": []}]
            if embed_lines
            else [],
            # Kept for the viewer and the merge: the date as the export wrote it, and its precision.
            extra={"exportedDate": date, "datePrecisionMs": precision},
        )
