"""Citations for one revision of one message: BibTeX, CSL-JSON, RIS and Markdown.

Each carries the author, guild and channel, the UTC timestamp, the permalink pinned to the revision
(`{base_url}/m/{id}?v={n}`) and the SHA-256 of the exact cited text (UTF-8), so a reader can check
that the archive still shows what was cited. Tombstones are not citable (the routes answer 410).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from web import mdtext as md
from web.markdown import to_plain_text

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
EXCERPT_CHARS = 80
FORMATS = {
    "bib": "application/x-bibtex; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json",
    "ris": "application/x-research-info-systems; charset=utf-8",
}
_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "#": r"\#",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
}
_BIBTEX_RE = re.compile("|".join(re.escape(c) for c in _BIBTEX_SPECIAL))
_WS = re.compile(r"\s+")
# Emoji and other symbols (So, Sk), format and control characters, private use, unassigned, lone surrogates.
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:])")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEX_DROPPED = frozenset(("So", "Sk", "Cf", "Cc", "Co", "Cn", "Cs"))


LOW_FIDELITY_NOTE = (
    "The text comes from a DiscordChatExporter CSV or TXT export, which has no message ids:"
    " the record's id is the archive's own and its time is the export's, to the minute, in the exporter's time zone."
)


@dataclass(frozen=True, slots=True)
class Citation:
    """Everything a citation of one message revision says."""

    message_id: int
    version: int
    versions: int
    author: str
    guild: str
    channel: str
    timestamp_ms: int
    content: str
    permalink: str
    accessed: date
    plain_text: str | None = None  # the content as plain text (mentions resolved), for the title
    low_fidelity: bool = False  # from a CSV/TXT export: no Discord id, the time only as exported

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the cited content, UTF-8 encoded, exactly as archived."""
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()

    @property
    def key(self) -> str:
        """A citation key unique to the message and revision."""
        return f"hallway-{self.message_id}-v{self.version}"

    @property
    def posted(self) -> datetime:
        """When the message was posted (UTC)."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)

    @property
    def timestamp(self) -> str:
        """ISO-8601 UTC timestamp with milliseconds."""
        return self.posted.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.timestamp_ms % 1000:03d}Z"

    @property
    def title(self) -> str:
        """A short excerpt of the content, or a description when it has no text."""
        text = self.plain_text if self.plain_text is not None else to_plain_text(self.content)
        if not text:
            return f"Message in #{self.channel}"
        return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"

    @property
    def venue(self) -> str:
        """Guild and channel, as a container title."""
        return f"{self.guild}, #{self.channel}"

    @property
    def note(self) -> str:
        """Posting time, revision and content hash, in one sentence."""
        if self.low_fidelity:
            return (
                f"{LOW_FIDELITY_NOTE} Archive record {self.message_id}, posted {self.timestamp} as exported; "
                f"SHA-256 of the cited content: {self.sha256}"
            )
        return (
            f"Discord message {self.message_id}, posted {self.timestamp}; version {self.version} of {self.versions}; "
            f"SHA-256 of the cited content: {self.sha256}"
        )


def _bib(value: str) -> str:
    """A BibTeX field value: specials escaped, and emoji, symbols and invisible characters dropped (pdfLaTeX stops
    at the first character it has no glyph for, e.g. the 💻 of `#💻-lcars-terminal-27`)."""
    squeezed = _WS.sub(" ", value)
    if squeezed.isascii():  # most text: only control characters to drop (a static copy cites every message)
        text = _ASCII_CONTROL.sub("", squeezed)
    else:
        text = "".join(ch for ch in squeezed if not _unprintable_in_tex(ch))
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _WS.sub(" ", text)).strip()  # "Guild ⚡, #x" → "Guild, #x"
    return _BIBTEX_RE.sub(lambda m: _BIBTEX_SPECIAL[m.group(0)], text)


def _unprintable_in_tex(ch: str) -> bool:
    cp = ord(ch)
    if cp < 128:
        return cp < 32 or cp == 127  # ASCII symbols (^, `) are escaped, not dropped
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or 0x1F3FB <= cp <= 0x1F3FF:
        return True  # variation selectors, skin tones
    return unicodedata.category(ch) in _TEX_DROPPED


def _one_line(value: str) -> str:
    return _WS.sub(" ", value).strip()


def build_bibtex(c: Citation) -> str:
    """A BibTeX @misc entry (names in double braces so they are never split into first/last)."""
    fields = [
        ("author", "{" + _bib(c.author) + "}"),
        ("title", "{" + _bib(c.title) + "}"),
        ("howpublished", _bib(f"Discord message, {c.venue}")),
        ("year", str(c.posted.year)),
        ("month", MONTHS[c.posted.month - 1]),
        # biblatex dates take whole seconds (ISO 8601 / EDTF level 0); the note keeps the milliseconds.
        ("date", c.posted.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("url", c.permalink),
        ("urldate", c.accessed.isoformat()),
        ("note", _bib(c.note)),
    ]
    body = "".join(
        f"  {name} = {value if name == 'month' else '{' + value + '}'},\n" for name, value in fields
    )
    return f"@misc{{{c.key},\n{body}}}\n"


def _date_parts(d: date) -> dict[str, Any]:
    return {"date-parts": [[d.year, d.month, d.day]]}


def build_csl(c: Citation) -> list[dict[str, Any]]:
    """A CSL-JSON item list (type "post"), with the hash and exact timestamp under `custom` and `note`."""
    return [
        {
            "id": c.key,
            "type": "post",
            "genre": "Discord message",
            "title": c.title,
            "author": [{"literal": c.author}],
            "container-title": c.venue,
            "publisher": "Discord",
            "issued": _date_parts(c.posted.date()),
            "accessed": _date_parts(c.accessed),
            "URL": c.permalink,
            "version": str(c.version),
            "note": c.note,
            "custom": {"message_id": str(c.message_id), "timestamp": c.timestamp, "sha256": c.sha256},
        }
    ]


def build_csl_json(c: Citation) -> str:
    """CSL-JSON as text."""
    return orjson.dumps(build_csl(c), option=orjson.OPT_INDENT_2).decode() + "\n"


def build_ris(c: Citation) -> str:
    """An RIS record (TY ELEC … ER), one tag per line."""
    lines = [
        ("TY", "ELEC"),
        ("ID", c.key),
        ("AU", c.author),
        ("TI", c.title),
        ("T2", c.venue),
        ("PB", "Discord"),
        ("PY", str(c.posted.year)),
        ("DA", c.posted.strftime("%Y/%m/%d")),
        ("UR", c.permalink),
        ("Y2", c.accessed.strftime("%Y/%m/%d")),
        ("N1", c.note),
        ("ER", ""),
    ]
    # "ER  - " keeps its trailing space: strict RIS readers expect the six-character tag prefix.
    return "".join(f"{tag}  - {_one_line(value)}\n" for tag, value in lines)


def build_markdown(c: Citation) -> str:
    """A Markdown quote of the content followed by the attribution line (content and names escaped: they read
    as written and can't add lines, links or HTML to the document they are pasted into)."""
    body = md.quoted(c.content) if c.content.strip() else "> (no text)"
    return (
        f"{body}\n\n"
        f"— {md.escape_inline(c.author)}, {md.escape_inline(c.venue)}, {c.timestamp}. {md.autolink(c.permalink)} "
        f"(version {c.version} of {c.versions}; SHA-256 `{c.sha256}`; accessed {c.accessed.isoformat()})\n"
        + (f"\n{LOW_FIDELITY_NOTE}\n" if c.low_fidelity else "")
    )


STYLES = {"bibtex": build_bibtex, "csl-json": build_csl_json, "ris": build_ris, "markdown": build_markdown}
EXTENSION_STYLES = {"bib": "bibtex", "json": "csl-json", "ris": "ris"}  # cite.{ext} files


def build(c: Citation, style: str) -> str:
    """One style as text: bibtex, csl-json, ris or markdown (KeyError for any other)."""
    return STYLES[style](c)


def build_all(c: Citation) -> dict[str, str]:
    """Every format as text, keyed bibtex, csl_json, ris, markdown."""
    return {
        "bibtex": build_bibtex(c),
        "csl_json": build_csl_json(c),
        "ris": build_ris(c),
        "markdown": build_markdown(c),
    }
