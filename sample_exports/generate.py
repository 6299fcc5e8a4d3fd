"""Generate the fictional "Lanternfish Lab" DiscordChatExporter (DCE) JSON exports.

Deterministic (fixed seed), stdlib only, no network.  Run as::

    python sample_exports/generate.py

It deletes and rewrites every ``*-export/`` folder next to this file, writes
``README.md`` (including the FACTS section that tests rely on) and prints the
same facts.  All people, ids, papers and links are invented.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import struct
import sys
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = 20240917
DISCORD_EPOCH_MS = 1420070400000
GUILD_NAME = "Lanternfish Lab"

rng = random.Random(SEED)


# ---------------------------------------------------------------------------
# time helpers
# ---------------------------------------------------------------------------


def utc(s: str) -> datetime:
    """'2024-03-05 14:22' or '2024-03-05 14:22:07' (UTC) -> aware datetime."""
    fmt = "%Y-%m-%d %H:%M:%S" if s.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(s, fmt).replace(tzinfo=UTC)


def _nth_sunday(y: int, m: int, n: int) -> date:
    d = date(y, m, 1)
    d += timedelta(days=(6 - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_sunday(y: int, m: int) -> date:
    d = date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def tz_berlin(u: datetime) -> int:
    start = datetime.combine(_last_sunday(u.year, 3), datetime.min.time(), UTC) + timedelta(hours=1)
    end = datetime.combine(_last_sunday(u.year, 10), datetime.min.time(), UTC) + timedelta(hours=1)
    return 120 if start <= u < end else 60


def tz_new_york(u: datetime) -> int:
    start = datetime.combine(_nth_sunday(u.year, 3, 2), datetime.min.time(), UTC) + timedelta(hours=7)
    end = datetime.combine(_nth_sunday(u.year, 11, 1), datetime.min.time(), UTC) + timedelta(hours=6)
    return -240 if start <= u < end else -300


def tz_utc(u: datetime) -> int:
    return 0


def fmt_ts(u: datetime, tz=tz_utc, ticks: int | None = None) -> str:
    """Format like .NET Utf8JsonWriter: trailing zeros of the 7-digit fraction trimmed."""
    off = tz(u)
    local = u + timedelta(minutes=off)
    s = local.strftime("%Y-%m-%dT%H:%M:%S")
    if ticks is None:
        ticks = u.microsecond * 10
    frac = f"{ticks:07d}".rstrip("0")
    if frac:
        s += "." + frac
    sign = "+" if off >= 0 else "-"
    s += f"{sign}{abs(off) // 60:02d}:{abs(off) % 60:02d}"
    return s


def sf_time(sf: int) -> datetime:
    ms = (sf >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(ms // 1000, UTC) + timedelta(milliseconds=ms % 1000)


_used_ids: set[int] = set()


def snowflake(t: datetime, round_to: int = 1) -> int:
    ms = int((t - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
    if round_to > 1:
        ms -= ms % round_to
    while True:
        sf = (
            ((ms - DISCORD_EPOCH_MS) << 22)
            | (rng.randrange(2) << 17)
            | (rng.randrange(32) << 12)
            | rng.randrange(4096)
        )
        if sf not in _used_ids:
            _used_ids.add(sf)
            return sf


def rand_round() -> int:
    """Vary the fraction digits of message timestamps (0-3 digits after trimming)."""
    x = rng.random()
    if x < 0.04:
        return 1000
    if x < 0.12:
        return 100
    if x < 0.30:
        return 10
    return 1


# ---------------------------------------------------------------------------
# people, roles, emoji
# ---------------------------------------------------------------------------

ROLES = {
    "admin": {"name": "lab-steward", "color": "#E67E22", "position": 9},
    "maint": {"name": "maintainer", "color": "#3498DB", "position": 7},
    "research": {"name": "researcher", "color": "#2ECC71", "position": 5},
    "reading": {"name": "reading-group", "color": None, "position": 4},
    "gpu": {"name": "gpu-pool", "color": "#9B59B6", "position": 3},
    "bots": {"name": "bots", "color": "#95A5A6", "position": 8},
}


@dataclass
class User:
    key: str
    username: str
    display: str
    old_username: str  # pre-2023 legacy username (case-sensitive, with discriminator)
    old_discrim: str
    migrated: str  # date the account moved to the new username system ("" = bot, never)
    roles: list[str]
    is_bot: bool = False
    guild_nick_old: str | None = None  # guild nickname used in 2022
    avatar: str | None = None
    id: int = 0
    default_avatar: int = 0


USERS: dict[str, User] = {}


def _u(*a, **kw) -> None:
    u = User(*a, **kw)
    USERS[u.key] = u


_u(
    "odile",
    "odile.mr",
    "Odile Marr-Ruiz",
    "OdileMR",
    "4821",
    "2023-05-30",
    ["admin", "research", "reading", "gpu"],
    guild_nick_old="Odile (steward)",
)
_u("brannoc", "brannoc", "Brannoc Ilvey", "Brannoc", "0392", "2023-06-02", ["maint", "research", "gpu"])
_u(
    "sunniva",
    "sunnyfeat",
    "Sunniva Falk",
    "sunnyfeat",
    "7710",
    "2023-07-19",
    ["research", "reading", "gpu"],
    guild_nick_old="Sunniva",
)
_u("kestrel", "kestrel_ai", "kestrel", "kestrel_ai", "1208", "2023-06-11", ["research"])
_u(
    "pjotr",
    "pjotr.vh",
    "Pjotr van Hale",
    "PjotrVH",
    "5530",
    "2023-08-01",
    ["maint", "research", "reading"],
    guild_nick_old="Pjotr vH",
)
_u(
    "mireille",
    "mireille_t",
    "Mireille Tsang-Hollis",
    "mireille",
    "0077",
    "2023-06-20",
    ["research", "reading"],
)
_u("dax", "dax0r", "dax", "dax0r", "3141", "2023-09-05", ["gpu"])
_u(
    "ilse",
    "leaf.on.wind",
    "Ilse Quarrington",
    "LeafOnWind",
    "8008",
    "2023-06-28",
    ["research", "reading"],
    guild_nick_old="Ilse Q",
)
_u("tomek", "tomasz.grid", "Tomek Gridley", "tgridley", "2650", "2023-07-02", ["research", "gpu"])
_u("nyx", "nyx_the_probe", "Nyx", "NyxTheProbe", "0404", "2023-06-05", ["reading"])
_u("harlow", "harlow.b", "Harlow Bexley", "harlowb", "6219", "2023-10-12", ["research"])
_u(
    "zinnia", "zinnia.codes", "Zinnia Oduya", "zinnia.codes", "0000", "2022-01-01", []
)  # joined after migration
_u("rafe", "rafe_w", "Rafe Winterbourne", "rafe_w", "0000", "2022-01-01", ["reading"])
_u("bot", "Lanternbot", "Lanternbot", "Lanternbot", "4471", "", ["bots"], is_bot=True)
_u("feeder", "arXiv Feeder", "arXiv Feeder", "arXiv Feeder", "0918", "", ["bots"], is_bot=True)
_u(
    "commons",
    "Open Interp Commons #announcements",
    "Open Interp Commons #announcements",
    "Open Interp Commons #announcements",
    "0000",
    "",
    [],
    is_bot=True,
)
# lurkers who only ever show up as "Joined the server."
_u("quietquark", "quietquark", "quietquark", "quietquark", "5813", "2023-06-15", [])
_u("mossandmatrices", "moss.and.matrices", "Moss", "MossAndMatrices", "2291", "2023-08-01", ["reading"])
_u("ferrousowl", "ferrous_owl", "Ferrous Owl", "ferrous_owl", "0000", "2022-01-01", [])
_u("junipervale", "juniper.vale", "Juniper Vale", "juniper.vale", "0000", "2022-01-01", [])

_creation = {
    "odile": "2017-04-02",
    "brannoc": "2018-11-19",
    "sunniva": "2019-06-03",
    "kestrel": "2020-02-14",
    "pjotr": "2016-09-30",
    "mireille": "2020-10-07",
    "dax": "2018-01-22",
    "ilse": "2021-03-15",
    "tomek": "2019-12-01",
    "nyx": "2021-08-08",
    "harlow": "2022-05-04",
    "zinnia": "2023-10-20",
    "rafe": "2024-01-09",
    "bot": "2021-11-08",
    "feeder": "2021-11-09",
    "commons": "2022-08-30",
    "quietquark": "2022-12-24",
    "mossandmatrices": "2021-02-17",
    "ferrousowl": "2023-11-30",
    "junipervale": "2024-08-14",
}
for _k, _u_ in USERS.items():
    _u_.id = snowflake(utc(_creation[_k] + " 12:00"))
    _u_.avatar = None if _k in ("dax", "rafe") else hashlib.md5(f"avatar-{_k}".encode()).hexdigest()
    _u_.default_avatar = (_u_.id >> 22) % 6

GUILD_ID = snowflake(utc("2021-11-08 19:42:11"))
GUILD_ICON = f"https://cdn.discordapp.com/icons/{GUILD_ID}/{hashlib.md5(b'guild-icon').hexdigest()}.png"
ROLE_IDS = {k: snowflake(utc("2021-11-08 20:05") + timedelta(minutes=i)) for i, k in enumerate(ROLES)}

# unicode emoji: char -> (code, twemoji codepoint file name)
UEMOJI = {
    "\U0001f44d": ("thumbsup", "1f44d"),
    "\U0001f525": ("fire", "1f525"),
    "\U0001f440": ("eyes", "1f440"),
    "\U0001f389": ("tada", "1f389"),
    "\U0001f9e0": ("brain", "1f9e0"),
    "\U0001f602": ("joy", "1f602"),
    "\u2764\ufe0f": ("heart", "2764"),
    "\u2705": ("white_check_mark", "2705"),
    "\U0001f64f": ("pray", "1f64f"),
    "\U0001f4c8": ("chart_with_upwards_trend", "1f4c8"),
    "\U0001f92f": ("exploding_head", "1f92f"),
    "\U0001f41f": ("fish", "1f41f"),
    "\U0001f62c": ("grimacing", "1f62c"),
}
CEMOJI = {
    "lanternfish": (snowflake(utc("2021-12-01 10:00")), False),
    "gpu_go_brrr": (snowflake(utc("2022-02-11 18:30")), True),
    "sae_when": (snowflake(utc("2023-04-02 09:15")), False),
    "dead_latent": (snowflake(utc("2023-09-21 16:40")), False),
}


# ---------------------------------------------------------------------------
# export "eras" (DCE versions)
# ---------------------------------------------------------------------------


@dataclass
class Era:
    version: str
    tz: Any = tz_utc  # message timestamp offset function
    category: str = "parent"  # "name" (2.20-2.26), "fallback" (2.27-2.40), "parent" (2.41+)
    author_nick: bool = True
    roles: bool = True
    exported_at: bool = True
    emoji_id_null: bool = False
    emoji_code: bool = True
    stickers: bool = True
    mentions_full: bool = True  # 2.38+: mentions are full users
    mention_discrim_num: bool = False
    reaction_users: bool = True
    reaction_user_color: bool = True
    inline_emojis: bool = True
    ref_type: bool = False
    forward: bool = False
    content_mention_display: bool = True  # 2.40+: @Display Name, before: @username
    twemoji_style: str = "jsdelivr"
    hash_style: str = "upper5"
    media: str | None = None  # None, "/" or "\\"


ERA_226 = Era(
    "2.26",
    category="name",
    author_nick=False,
    roles=False,
    exported_at=False,
    emoji_id_null=True,
    emoji_code=False,
    stickers=False,
    mentions_full=False,
    mention_discrim_num=True,
    reaction_users=False,
    reaction_user_color=False,
    inline_emojis=False,
    content_mention_display=False,
    twemoji_style="maxcdn",
)
ERA_240 = Era(
    "2.40",
    category="fallback",
    roles=False,
    exported_at=False,
    reaction_users=False,
    reaction_user_color=False,
    inline_emojis=False,
)
ERA_2423 = Era("2.42.3", tz=tz_berlin, reaction_user_color=False, inline_emojis=False)
ERA_244 = Era("2.44", tz=tz_new_york, media="\\")
ERA_246 = Era("2.46", tz=tz_new_york, media="/")
ERA_247 = Era("2.47", tz=tz_berlin, ref_type=True, forward=True)


# ---------------------------------------------------------------------------
# channels
# ---------------------------------------------------------------------------


@dataclass
class Channel:
    key: str
    name: str
    type: str
    parent: str | None  # category name or parent channel key
    parent_id: int | None
    topic: str | None
    created: str
    id: int = 0


CATEGORIES = {
    "Info": snowflake(utc("2021-11-08 19:50")),
    "Text Channels": snowflake(utc("2021-11-08 19:42:12")),
    "Research": snowflake(utc("2021-11-09 08:10")),
}
CHANNELS: dict[str, Channel] = {}


def _ch(key, name, type_, parent, topic, created) -> Channel:
    pid = CATEGORIES.get(parent) if parent in CATEGORIES else (CHANNELS[parent].id if parent else None)
    c = Channel(key, name, type_, parent, pid, topic, created)
    c.id = snowflake(utc(created))
    CHANNELS[key] = c
    return c


_ch(
    "announcements",
    "announcements",
    "GuildNews",
    "Info",
    "Lab news, reading-group schedule, compute windows. Follow this channel to get it in your own server.",
    "2021-11-08 19:55",
)
_ch(
    "general",
    "general",
    "GuildTextChat",
    "Text Channels",
    "Anything lab-adjacent. Be kind, cite your sources, no paywalled PDFs.",
    "2021-11-08 19:42:12",
)
_ch("offtopic", "off-topic", "GuildTextChat", "Text Channels", None, "2021-11-09 07:55")
_ch(
    "research",
    "research",
    "GuildTextChat",
    "Research",
    "Experiments, results, half-baked ideas. Post configs + seeds with plots.",
    "2021-11-09 08:12",
)
_ch(
    "codehelp",
    "code-help",
    "GuildTextChat",
    None,
    "Stuck on code? Paste a minimal repro in a ```python block.",
    "2022-03-30 17:03",
)
_ch(
    "paperclub",
    "paper-club",
    "GuildForum",
    "Research",
    "One post per paper. Title = paper title. Summaries welcome, hot takes tolerated.",
    "2024-09-10 15:20",
)


# ---------------------------------------------------------------------------
# rendering helpers
# ---------------------------------------------------------------------------


def asset_hash(url: str, style: str) -> str:
    base = re.sub(r"[?&](ex|is|hm)=[^&]*", "", url)
    h = hashlib.sha256(base.encode()).hexdigest()
    if style == "upper5":
        return h[:5].upper()
    if style == "lower5":
        return h[:5]
    return h[:16]


@dataclass
class ExportCtx:
    era: Era
    file_name: str  # export file name of the (first) part, used for the _Files dir
    folder: Path
    media_files: dict[str, bytes] = field(default_factory=dict)  # relative path (posix) -> bytes
    failed: set[str] = field(default_factory=set)  # urls whose "download failed"
    exported: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    channel_id: int = 0

    def asset(self, url: str, data: bytes | None = None, file_name: str | None = None) -> str:
        """Rewrite an asset URL the way --media does (relative path with OS separators)."""
        if not self.era.media or url in self.failed:
            return url
        name = file_name or url.split("?")[0].rsplit("/", 1)[-1]
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        local = f"{stem[:42]}-{asset_hash(url, self.era.hash_style)}" + (f".{ext}" if ext else "")
        rel = f"{self.file_name}_Files/{local}"
        if data is None:
            data = tiny_svg(url) if ext == "svg" else tiny_png(url)
        self.media_files[rel] = data
        return rel.replace("/", self.era.media)


def tiny_png(seed: str, w: int = 8, h: int = 8) -> bytes:
    """A tiny but valid RGB PNG whose colours derive from `seed`."""
    hsh = hashlib.sha256(seed.encode()).digest()
    r0, g0, b0 = hsh[0], hsh[1], hsh[2]
    rows = []
    for y in range(h):
        row = bytearray(b"\x00")
        for x in range(w):
            row += bytes(((r0 + 9 * x) % 256, (g0 + 11 * y) % 256, (b0 + 5 * (x ^ y)) % 256))
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def tiny_svg(seed: str) -> bytes:
    col = hashlib.sha256(seed.encode()).hexdigest()[:6]
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36"><circle cx="18" cy="18" r="16" fill="#{col}"/></svg>'.encode()


def avatar_url(u: User) -> str:
    if u.avatar:
        return f"https://cdn.discordapp.com/avatars/{u.id}/{u.avatar}.png?size=512"
    return f"https://cdn.discordapp.com/embed/avatars/{u.default_avatar}.png"


def user_names(u: User, when: datetime) -> tuple[str, str, str]:
    """(username, discriminator, nickname) as seen at export time `when`."""
    if u.is_bot:
        return u.username, u.old_discrim, u.display
    if u.migrated and when.date() < date.fromisoformat(u.migrated):
        nick = u.guild_nick_old or u.old_username
        return u.old_username, u.old_discrim, nick
    return u.username, "0000", u.display


def user_color(u: User, dm: bool) -> str | None:
    if dm:
        return None
    roles = sorted((ROLES[r] for r in u.roles), key=lambda r: -r["position"])
    for r in roles:
        if r["color"]:
            return r["color"]
    return None


def roles_json(u: User, dm: bool) -> list[dict]:
    if dm:
        return []
    out = []
    for k in sorted(u.roles, key=lambda k: -ROLES[k]["position"]):
        r = ROLES[k]
        out.append(
            {"id": str(ROLE_IDS[k]), "name": r["name"], "color": r["color"], "position": r["position"]}
        )
    return out


def user_json(ctx: ExportCtx, u: User, kind: str, dm: bool = False) -> dict:
    """kind: author | mention | reaction"""
    era = ctx.era
    name, disc, nick = user_names(u, ctx.exported)
    if kind == "mention" and not era.mentions_full:
        return {
            "id": str(u.id),
            "name": name,
            "discriminator": int(disc) if era.mention_discrim_num else disc,
            "nickname": nick,
            "isBot": u.is_bot,
        }
    d: dict[str, Any] = {"id": str(u.id), "name": name, "discriminator": disc}
    if era.author_nick:
        d["nickname"] = nick
        if kind != "reaction" or era.reaction_user_color:
            d["color"] = user_color(u, dm)
    d["isBot"] = u.is_bot
    if era.roles and kind != "reaction":
        d["roles"] = roles_json(u, dm)
    d["avatarUrl"] = ctx.asset(avatar_url(u))
    return d


def emoji_json(ctx: ExportCtx, e: str) -> dict:
    era = ctx.era
    if e.startswith(":"):
        name = e.strip(":")
        eid, anim = CEMOJI[name]
        url = f"https://cdn.discordapp.com/emojis/{eid}.{'gif' if anim else 'png'}"
        d: dict[str, Any] = {"id": str(eid), "name": name}
        if era.emoji_code:
            d["code"] = name
        d["isAnimated"] = anim
        d["imageUrl"] = ctx.asset(url)
        return d
    code, cp = UEMOJI[e]
    if era.twemoji_style == "maxcdn":
        url = f"https://twemoji.maxcdn.com/2/72x72/{cp}.png"
    else:
        url = f"https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/{cp}.svg"
    d = {"id": None if era.emoji_id_null else "", "name": e}
    if era.emoji_code:
        d["code"] = code
    d["isAnimated"] = False
    d["imageUrl"] = ctx.asset(url)
    return d


_EMOJI_RE = re.compile(
    "|".join(re.escape(k) for k in sorted(UEMOJI, key=len, reverse=True)) + "|:(?:" + "|".join(CEMOJI) + "):"
)


def inline_emojis(ctx: ExportCtx, text: str) -> list[dict]:
    out, seen = [], set()
    for m in _EMOJI_RE.finditer(text):
        if m.group(0) not in seen:
            seen.add(m.group(0))
            out.append(emoji_json(ctx, m.group(0)))
    return out


# ---------------------------------------------------------------------------
# message model (era independent) and its rendering
# ---------------------------------------------------------------------------


@dataclass
class Msg:
    id: int
    channel: str  # channel key (or thread/forum-post key)
    author: str
    text: str
    type: str = "Default"
    reply_to: int | None = None  # message id
    reply_ping: bool = True
    ref: dict | None = None  # explicit reference (pins, threads, crossposts, forwards)
    edited: datetime | None = None
    pinned: bool = False
    reactions: list[tuple[str, list[str]]] = field(default_factory=list)  # (emoji, [user keys])
    attachments: list[dict] = field(default_factory=list)
    embeds: list[dict] = field(default_factory=list)
    stickers: list[dict] = field(default_factory=list)
    interaction: dict | None = None
    forwarded: dict | None = None

    @property
    def time(self) -> datetime:
        return sf_time(self.id)


MENTION_RE = re.compile(r"\{@(\w+)\}")
CHANNEL_RE = re.compile(r"\{#(\w+)\}")


def render_text(ctx: ExportCtx, text: str) -> tuple[str, list[User]]:
    mentioned: list[User] = []

    def _m(m: re.Match) -> str:
        u = USERS[m.group(1)]
        if u not in mentioned:
            mentioned.append(u)
        name, _disc, nick = user_names(u, ctx.exported)
        return "@" + (nick if ctx.era.content_mention_display else name)

    text = MENTION_RE.sub(_m, text)
    text = CHANNEL_RE.sub(
        lambda m: "#" + CHANNELS[m.group(1)].name if m.group(1) in CHANNELS else "#deleted-channel", text
    )
    return text, mentioned


ALL_MSGS: dict[int, Msg] = {}


def render_msg(ctx: ExportCtx, m: Msg, dm: bool = False, override: dict | None = None) -> dict:
    era = ctx.era
    ov = override or {}
    text = ov.get("text", m.text)
    edited = ov.get("edited", m.edited)
    pinned = ov.get("pinned", m.pinned)
    content, mentioned = render_text(ctx, text)
    if m.type == "Reply" and m.reply_ping and m.reply_to in ALL_MSGS:
        tgt = USERS[ALL_MSGS[m.reply_to].author]
        if tgt.key != m.author and tgt not in mentioned:
            mentioned.insert(0, tgt)
    d: dict[str, Any] = {
        "id": str(m.id),
        "type": m.type,
        "timestamp": fmt_ts(m.time, era.tz),
        "timestampEdited": fmt_ts(edited, era.tz) if edited else None,
        "callEndedTimestamp": None,
        "isPinned": pinned,
        "content": content,
        "author": user_json(ctx, USERS[m.author], "author", dm),
    }
    atts = []
    for a in m.attachments:
        url = _att_url(ctx.channel_id, a, ctx.exported)
        if a.get("data") is not None and era.media and not a.get("failed"):
            url = ctx.asset(url, a["data"], a["fileName"])
        atts.append({"id": str(a["id"]), "url": url, "fileName": a["fileName"], "fileSizeBytes": a["size"]})
    d["attachments"] = atts
    d["embeds"] = [render_embed(ctx, e) for e in m.embeds]
    if era.stickers:
        d["stickers"] = [
            {
                "id": str(s["id"]),
                "name": s["name"],
                "format": s["format"],
                "sourceUrl": ctx.asset(s["url"]) if s["format"] == "Png" else s["url"],
            }
            for s in m.stickers
        ]
    reacts = []
    for emo, users in m.reactions:
        r: dict[str, Any] = {"emoji": emoji_json(ctx, emo), "count": len(users)}
        if era.reaction_users:
            r["users"] = [user_json(ctx, USERS[k], "reaction", dm) for k in users]
        reacts.append(r)
    d["reactions"] = reacts
    d["mentions"] = [user_json(ctx, u, "mention", dm) for u in mentioned]
    ref = None
    if m.type == "Reply":
        ref = {
            "messageId": str(m.reply_to),
            "channelId": str(ctx.channel_id),
            "guildId": None if dm else str(GUILD_ID),
        }
        if era.ref_type:
            ref = {"type": "Default", **ref}
    elif m.ref is not None:
        ref = dict(m.ref)
        if era.ref_type:
            ref = {"type": ref.pop("_type", "Default"), **ref}
        else:
            ref.pop("_type", None)
    if ref is not None:
        d["reference"] = ref
    if m.forwarded and era.forward:
        fm = m.forwarded
        d["forwardedMessage"] = {
            "timestamp": fmt_ts(fm["time"], era.tz),
            "timestampEdited": None,
            "content": render_text(ctx, fm["text"])[0],
            "attachments": [],
            "embeds": [],
            "stickers": [],
        }
    if m.interaction:
        d["interaction"] = {
            "id": str(m.interaction["id"]),
            "name": m.interaction["name"],
            "user": user_json(ctx, USERS[m.interaction["user"]], "author", dm),
        }
    if era.inline_emojis:
        d["inlineEmojis"] = inline_emojis(ctx, content)
    return d


def render_embed(ctx: ExportCtx, e: dict) -> dict:
    era = ctx.era
    d: dict[str, Any] = {
        "title": e.get("title", ""),
        "url": e.get("url"),
        "timestamp": None,
        "description": e.get("description", ""),
    }
    if "color" in e:
        d["color"] = e["color"]
    if "author" in e:
        d["author"] = {"name": e["author"], "url": e.get("author_url")}
    if "thumb" in e:
        src = e["thumb"]
        proxy = (
            src
            if era.twemoji_style == "maxcdn"
            else (
                "https://images-ext-1.discordapp.net/external/"
                + hashlib.sha256(src.encode()).hexdigest()[:43]
                + "/"
                + src.replace("://", "/", 1)
            )
        )
        url = proxy if e.get("thumb_failed") else ctx.asset(proxy, file_name=src.rsplit("/", 1)[-1])
        d["thumbnail"] = {"url": url, "width": e.get("w", 400), "height": e.get("h", 210)}
    if "footer" in e:
        d["footer"] = {"text": e["footer"]}
    if era.category != "name":  # `images` exists since 2.35
        d["images"] = []
    d["fields"] = [{"name": n, "value": v, "isInline": i} for n, v, i in e.get("fields", [])]
    if era.inline_emojis:
        d["inlineEmojis"] = inline_emojis(ctx, d["description"])
    return d


# ---------------------------------------------------------------------------
# JSON output
# ---------------------------------------------------------------------------


def _surrogates(m: re.Match) -> str:
    cp = ord(m.group(0)) - 0x10000
    return f"\\u{0xD800 + (cp >> 10):04X}\\u{0xDC00 + (cp & 0x3FF):04X}"


def dce_dumps(obj: Any) -> str:
    s = json.dumps(obj, indent=2, ensure_ascii=False)
    return re.sub("[\U00010000-\U0010ffff]", _surrogates, s)


# ---------------------------------------------------------------------------
# scene DSL
#
#   who[>N|>@label|>!missing][~]: text ## opt ; opt ; ...
#
# N = 1-based line of the same scene being replied to, @label = a labelled message
# anywhere, !name = a reply to a message id that exists in no export.  "~" = reply
# without ping.  Options: r=<emoji><count> ...  a=<attachment key>  e=<embed key>
# st=<sticker key>  ed=<seconds until edited>  pin  id=<label>  g=<gap seconds>
# sys=join|pin:<label>|thread:<thread key>|boost|follow  slash=<command>:<user key>
# Text: {@user} mention, {#channel} channel mention, {code:KEY} code block, \n newline.
# ---------------------------------------------------------------------------

LABELS: dict[str, Msg] = {}
MISSING: dict[str, int] = {}
JOINED = {
    "odile": "2021-11-08",
    "brannoc": "2021-11-08",
    "bot": "2021-11-08",
    "feeder": "2021-11-09",
    "pjotr": "2021-11-09",
    "sunniva": "2021-11-12",
    "kestrel": "2021-11-15",
    "mireille": "2021-11-21",
    "dax": "2021-12-02",
    "ilse": "2021-12-10",
    "tomek": "2022-01-05",
    "nyx": "2022-01-20",
    "harlow": "2022-06-07",
    "zinnia": "2023-11-02",
    "rafe": "2024-01-15",
    "quietquark": "2023-02-11",
    "mossandmatrices": "2023-07-29",
    "ferrousowl": "2024-04-03",
    "junipervale": "2024-09-26",
}
HUMANS = [
    k
    for k in JOINED
    if not USERS[k].is_bot and k not in ("quietquark", "mossandmatrices", "ferrousowl", "junipervale")
]


@dataclass
class Line:
    who: str
    text: str
    reply: str | None
    ping: bool
    opts: dict[str, Any]
    t: datetime | None = None
    msg: Msg | None = None


LINE_RE = re.compile(r"^(?P<who>[a-z]+)(?:>(?P<reply>[@!]?[\w-]+))?(?P<noping>~)?:\s?(?P<text>.*)$")


def parse_scene(src: str) -> list[Line]:
    out = []
    for raw in src.strip("\n").splitlines():
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        text, _, optstr = raw.partition(" ## ")
        optstr = re.sub(r"\\U([0-9A-Fa-f]{8})", lambda mm: chr(int(mm.group(1), 16)), optstr)
        m = LINE_RE.match(text)
        if not m:
            raise ValueError(f"bad scene line: {raw!r}")
        opts: dict[str, Any] = {}
        for o in filter(None, (x.strip() for x in optstr.split(" ; "))):
            k, eq, v = o.partition("=")
            opts[k] = v if eq else True
        body = m.group("text").replace("\\n", "\n")
        body = re.sub(r"\\U([0-9A-Fa-f]{8})", lambda mm: chr(int(mm.group(1), 16)), body)
        body = re.sub(r"\{code:(\w+)\}", lambda mm: CODE[mm.group(1)].strip("\n"), body)
        out.append(Line(m.group("who"), body, m.group("reply"), not m.group("noping"), opts))
    return out


def _gap() -> float:
    x = rng.random()
    if x < 0.68:
        return rng.uniform(9, 140)
    if x < 0.93:
        return rng.uniform(140, 900)
    return rng.uniform(900, 4000)


def schedule(start: str | datetime, src: str) -> list[Line]:
    lines = parse_scene(src)
    t = utc(start) if isinstance(start, str) else start
    for i, ln in enumerate(lines):
        if "at" in ln.opts:
            t = utc(ln.opts["at"])
        elif i:
            t += timedelta(seconds=float(ln.opts["g"]) if "g" in ln.opts else _gap())
        ln.t = t + timedelta(milliseconds=rng.randrange(1000))
    return lines


def pick_reactors(n: int, when: datetime, exclude: str) -> list[str]:
    pool = [k for k in HUMANS if k != exclude and JOINED[k] <= when.date().isoformat()]
    return rng.sample(pool, min(n, len(pool)))


REACT_RE = re.compile(r"(:\w+:|[^\d\s]+?)(\d+)")


def build_channel(chan_key: str, scenes: list[list[Line]]) -> list[Msg]:
    lines = sorted((ln for sc in scenes for ln in sc), key=lambda ln: ln.t)
    for sc in scenes:
        for i, ln in enumerate(sc):
            ln.opts["_scene"] = sc
            ln.opts["_idx"] = i
    msgs = []
    for ln in lines:
        assert ln.t is not None
        o = ln.opts
        m = Msg(id=snowflake(ln.t, rand_round()), channel=chan_key, author=ln.who, text=ln.text)
        ln.msg = m
        if ln.reply:
            m.type = "Reply"
            m.reply_ping = ln.ping
            if ln.reply.startswith("@"):
                m.reply_to = LABELS[ln.reply[1:]].id
            elif ln.reply.startswith("!"):
                if ln.reply not in MISSING:
                    MISSING[ln.reply] = snowflake(ln.t - timedelta(hours=rng.randrange(5, 40)))
                m.reply_to = MISSING[ln.reply]
            else:
                tgt = o["_scene"][int(ln.reply) - 1].msg
                assert tgt is not None, f"reply target not yet built: {ln.text!r}"
                m.reply_to = tgt.id
        if "ed" in o:
            micro = rng.randrange(1, 9999) * rng.choice([1, 1, 10, 100])  # 4-6 fraction digits
            m.edited = m.time + timedelta(seconds=float(o["ed"]), microseconds=micro)
        if "pin" in o:
            m.pinned = True
        if "r" in o:
            for emo, cnt in REACT_RE.findall(re.sub(r"\s+(?=\d)", "", o["r"])):
                m.reactions.append((emo, pick_reactors(int(cnt), m.time, m.author)))
        for key in filter(None, o.get("a", "").split("+")):
            spec = ATTACH[key]
            data = spec.get("data")
            m.attachments.append(
                {
                    "id": snowflake(m.time),
                    "fileName": spec["name"],
                    "size": len(data) if data is not None else spec["size"],
                    "data": data,
                    "failed": spec.get("failed", False),
                }
            )
        for key in filter(None, o.get("e", "").split("+")):
            m.embeds.append(EMBEDS[key])
        if "st" in o:
            m.stickers.append(STICKERS[o["st"]])
        if "slash" in o:
            name, user = o["slash"].split(":")
            m.type = "20"
            m.author = "bot"
            m.interaction = {
                "id": snowflake(m.time - timedelta(milliseconds=300)),
                "name": name,
                "user": user,
            }
        sysk = o.get("sys")
        if sysk == "join":
            m.type, m.text = "GuildMemberJoin", "Joined the server."
        elif sysk == "boost":
            m.type, m.text = "8", ""
        elif sysk == "follow":
            m.type = "12"
        elif isinstance(sysk, str) and sysk.startswith("pin:"):
            tgt = LABELS[sysk[4:]]
            m.type, m.text = "ChannelPinnedMessage", "Pinned a message."
            m.ref = {"messageId": str(tgt.id), "channelId": str(CHANNELS[tgt.channel].id), "guildId": None}
        elif isinstance(sysk, str) and sysk.startswith("thread:"):
            m.type, m.text = "ThreadCreated", "Started a thread."
            m.ref = {"messageId": None, "channelId": str(LABELS[sysk[7:]].id), "guildId": str(GUILD_ID)}
        if "xpost" in o:
            m.ref = {
                "messageId": str(snowflake(m.time - timedelta(seconds=2.5))),
                "channelId": str(EXT_CHANNEL),
                "guildId": str(EXT_GUILD),
            }
        if "fwd" in o:
            src = LABELS[o["fwd"]]
            m.ref = {
                "_type": "Forward",
                "messageId": str(src.id),
                "channelId": str(CHANNELS[src.channel].id),
                "guildId": str(GUILD_ID),
            }
            m.forwarded = {"time": src.time, "text": src.text}
            m.text = ""
        if "id" in o:
            LABELS[o["id"]] = m
        ALL_MSGS[m.id] = m
        msgs.append(m)
    return msgs


# ---------------------------------------------------------------------------
# content: code snippets, attachments, embeds, stickers
# ---------------------------------------------------------------------------

CODE = {
    "einsum": """
```python
# patching the residual stream at layer 6, position -1
clean = cache["blocks.6.hook_resid_post"]       # [batch, pos, d_model]
patched = torch.einsum("bpd,dk->bpk", clean, W_probe)  # W_probe: [d_model, n_classes]
# RuntimeError: einsum(): operands do not broadcast with remapped shapes [original->remapped]: [8, 128, 512]->[8, 128, 1, 512] [768, 4]->[1, 1, 4, 768]
```""",
    "einsum_fix": """
```python
W_probe = probe.weight.T  # nn.Linear stores [out, in], you want [in, out]
logits = torch.einsum("bpd,dk->bpk", clean, W_probe)
```""",
    "hooks": """
```python
model = torch.compile(model)
handle = model.blocks[4].mlp.register_forward_hook(save_acts)
out = model(tokens)
print(len(saved))  # 0 ?!
```""",
    "hooks_fix": """
```python
handle = model._orig_mod.blocks[4].mlp.register_forward_hook(save_acts)
# or: register the hooks first, THEN compile
```""",
    "nan": """
```
step 11800 | loss 2.9731 | grad_norm 0.84
step 11850 | loss 2.9702 | grad_norm 0.91
step 11900 | loss nan    | grad_norm inf
```""",
    "bf16": """
```python
with torch.autocast("cuda", dtype=torch.bfloat16):
    attn = (q @ k.transpose(-2, -1)) / math.sqrt(d_head)
    attn = attn.float().softmax(dim=-1).to(q.dtype)  # softmax in fp32, that's the fix
```""",
    "tok": """
```python
>>> tok.encode("the")
[1820]
>>> tok.encode(" the")
[262]
>>> tok.decode(tok.encode("  the"))
' the'   # double space collapsed?!
```""",
    "slurm": """
```bash
#!/bin/bash
#SBATCH --job-name=sae-sweep
#SBATCH --array=0-11
#SBATCH --gres=gpu:1
#SBATCH --time=08:00:00
#SBATCH --output=logs/%x-%A_%a.out

CFG=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" configs/sweep.txt)
python train_sae.py $CFG --seed $SLURM_ARRAY_TASK_ID
```""",
    "jax": """
```python
key = jax.random.PRNGKey(0)
for step in range(n_steps):
    key, sub = jax.random.split(key)   # split EVERY step, never reuse `key`
    batch = sample_batch(sub)
```""",
    "pandas": """
```python
df.groupby(["model", "layer"])["probe_acc"].agg(["mean", "std", "count"]).unstack("layer")
```""",
    "yaml": """
```yaml
model: minnow-125m
sae:
  d_sae: 16384
  l1_coeff: 8.0e-5
  lr: 3.0e-4
  dead_latent_window: 10_000_000
```""",
    "precommit": """
```yaml
repos:
  - repo: local
    hooks:
      - id: no-big-files
        name: refuse checkpoints in git
        entry: scripts/check_size.sh
        language: script
```""",
    "workers": """
```python
loader = DataLoader(ds, batch_size=64, num_workers=8, persistent_workers=True)
# hangs forever at the first epoch boundary when ds opens an h5py.File in __init__
```""",
    "workers_fix": """
```python
class ActivationShards(Dataset):
    def __init__(self, path):
        self.path, self._f = path, None      # open lazily, once per worker
    def __getitem__(self, i):
        if self._f is None:
            self._f = h5py.File(self.path, "r")
        return torch.from_numpy(self._f["acts"][i])
```""",
    "decoder_norm": """
```python
@torch.no_grad()
def renorm_decoder(sae):
    W = sae.W_dec.data                      # [d_sae, d_model]
    W /= W.norm(dim=-1, keepdim=True).clamp_min(1e-8)
```""",
    "ghost": """
```python
dead = (steps_since_fired > cfg.dead_latent_window)
frac_dead = dead.float().mean().item()
log({"sae/frac_dead": frac_dead, "sae/l0": (acts > 0).float().sum(-1).mean().item()})
```""",
}

SAE_SWEEP_PY = b'''"""Sweep launcher for the 16k/65k SAE comparison (Lanternfish Lab, fictional)."""

import itertools
import json
import subprocess

L1 = [4e-5, 8e-5, 1.6e-4]
D_SAE = [16384, 65536]
LAYERS = [4, 8]

for i, (l1, d, layer) in enumerate(itertools.product(L1, D_SAE, LAYERS)):
    cfg = {"l1_coeff": l1, "d_sae": d, "layer": layer, "seed": 1000 + i}
    subprocess.run(["sbatch", "train_sae.sh", json.dumps(cfg)], check=True)
'''

EVAL_LOG_TXT = b"""run        d_sae   l1      L0     frac_dead  CE_recovered
sae-a01    16384   4e-5    61.2   0.031      0.912
sae-a02    16384   8e-5    33.8   0.058      0.887
sae-a03    65536   4e-5    74.9   0.142      0.931
sae-a04    65536   8e-5    40.1   0.207      0.903
# note: a04 dead fraction jumps after step 30k, see thread
"""

ATTACH: dict[str, dict] = {
    "cat": {"name": "IMG_2041.jpg", "size": 284113},
    "keyboard": {"name": "desk_setup.jpg", "size": 512990},
    "repro": {"name": "repro_dataloader.py", "size": 1873},
    "lossnan": {"name": "nan_at_11900.png", "size": 48211},
    "logit_lens": {"name": "logit_lens_minnow.png", "size": 91377},
    "grok": {"name": "grokking_modadd_p113.png", "size": 77410},
    "tokplot": {"name": "tokenizer_whitespace_hist.png", "size": 40112},
    "readinglist": {"name": "reading-list-2023.pdf", "size": 301744},
    "sinkplot": {"name": "attention_sink_heads.png", "size": 66021},
    "losscurve": {"name": "loss-curve.png", "data": tiny_png("loss-curve", 16, 12)},
    "sweep": {"name": "sae_sweep.py", "data": SAE_SWEEP_PY},
    "evallog": {"name": "eval_log.txt", "data": EVAL_LOG_TXT},
    "diagram": {"name": "diagram.png", "data": tiny_png("feature-splitting-diagram", 16, 16)},
    "splitplot": {"name": "split_tree_layer8.png", "data": tiny_png("split-tree", 12, 12)},
    "failedshot": {"name": "Screenshot_2024-10-02_at_11.04.51.png", "size": 188420, "failed": True},
    "gpuchart": {"name": "gpu-calendar.png", "data": tiny_png("gpu-calendar", 10, 6)},
    "poster": {"name": "poster-draft-v3.png", "data": tiny_png("poster", 9, 12)},
    "kvplot": {"name": "kv_cache_memory.png", "size": 35512, "failed": True},
    "umap": {"name": "umap_latents.png", "data": tiny_png("umap", 12, 12)},
    "crosscoder": {"name": "crosscoder_shared_frac.png", "data": tiny_png("crosscoder", 14, 10)},
}

EMBEDS: dict[str, dict] = {
    "ambient": {
        "title": "9 hours of rain on a tin roof (no thunder, no music)",
        "url": "https://video.example.org/watch?v=rainTinRoof9h",
        "description": "Steady rain on a corrugated roof. For sleeping, studying, or pretending your cluster job is almost done.",
        "color": "#FF0000",
        "author": "Quiet Weather Archive",
        "thumb": "https://video.example.org/thumbs/rainTinRoof9h/maxresdefault.jpg",
        "w": 1280,
        "h": 720,
    },
    "blog_grok": {
        "title": "Grokking, slowly: a reproduction diary",
        "url": "https://lanternfish-lab.example.org/blog/grokking-slowly",
        "description": "We reproduce delayed generalisation on modular addition (p=113) and find the plateau length depends more on weight decay than on width.",
        "thumb": "https://lanternfish-lab.example.org/img/grok-card.png",
        "w": 1200,
        "h": 630,
    },
    "paper_sink": {
        "title": "Where Attention Goes to Rest: Sink Tokens in Small Transformers",
        "url": "https://papers.example.net/abs/2401.90117",
        "description": "We study 'attention sinks' in models from 20M to 1.4B parameters and show that sink heads appear abruptly around 2k steps.",
        "author": "papers.example.net",
        "thumb": "https://papers.example.net/static/card.png",
        "w": 600,
        "h": 315,
        "thumb_failed": True,
    },
    "paper_dict": {
        "title": "Dictionary Width and the Splitting of Features",
        "url": "https://papers.example.net/abs/2405.91342",
        "description": "Scaling sparse autoencoder width from 4k to 262k latents, we track how single features split into families.",
        "author": "papers.example.net",
        "thumb": "https://papers.example.net/static/card.png",
        "w": 600,
        "h": 315,
    },
    "paper_tok": {
        "title": "Whitespace Is a Feature: Tokenizer Artifacts in Probing Studies",
        "url": "https://papers.example.net/abs/2302.88410",
        "description": "Leading-space tokens carry position-of-word information that linear probes happily exploit.",
        "author": "papers.example.net",
    },
    "paper_cross": {
        "title": "Crosscoders Across Checkpoints",
        "url": "https://papers.example.net/abs/2410.93001",
        "description": "A single dictionary trained jointly on two checkpoints separates shared from checkpoint-specific features.",
        "author": "papers.example.net",
        "thumb": "https://papers.example.net/static/card.png",
        "w": 600,
        "h": 315,
    },
    "paper_probe": {
        "title": "Linear Probes Lie (Sometimes)",
        "url": "https://papers.example.net/abs/2206.80551",
        "description": "Control tasks reveal that high probe accuracy can come from the probe, not the representation.",
        "author": "papers.example.net",
    },
    "paper_patch": {
        "title": "A Field Guide to Activation Patching",
        "url": "https://papers.example.net/abs/2209.81230",
        "description": "Noising vs denoising, metrics, and the six most common ways to fool yourself.",
        "author": "papers.example.net",
        "thumb": "https://papers.example.net/static/card.png",
        "w": 600,
        "h": 315,
    },
    "reading_q1": {
        "title": "Reading group \u2014 Q1 2024 schedule",
        "description": "Thursdays 17:00 UTC in the Lantern Room voice channel. Bring one question, not a summary.",
        "color": "#E67E22",
        "footer": "Lanternbot \u2022 /reading schedule",
        "fields": [
            ("Jan 18", "Where Attention Goes to Rest \u2014 presented by Ilse", False),
            ("Feb 1", "Linear Probes Lie (Sometimes) \u2014 presented by Nyx", False),
            ("Feb 15", "A Field Guide to Activation Patching \u2014 presented by Pjotr", False),
            ("Room", "Lantern Room", True),
            ("Length", "60 min", True),
        ],
    },
    "reading_q3": {
        "title": "Reading group \u2014 Q3 2024 schedule",
        "description": "Same time, same room. Papers voted in #general (\U0001f41f = yes).",
        "color": "#E67E22",
        "footer": "Lanternbot \u2022 /reading schedule",
        "fields": [
            ("Jul 11", "Dictionary Width and the Splitting of Features \u2014 Sunniva", False),
            ("Aug 8", "Crosscoders Across Checkpoints \u2014 Tomek", False),
            ("Sep 5", "open slot \u2014 volunteer in #general", False),
        ],
    },
    "gpu_book": {
        "title": "Booking confirmed",
        "description": "pike-box-2 (2\u00d7 A100 80GB) reserved.",
        "color": "#9B59B6",
        "fields": [
            ("From", "Sat 09:00 UTC", True),
            ("To", "Sun 21:00 UTC", True),
            ("Purpose", "SAE sweep, layer 8", False),
        ],
    },
    "gpu_book2": {
        "title": "Booking confirmed",
        "description": "minnow-box (1\u00d7 RTX 4090) reserved.",
        "color": "#9B59B6",
        "fields": [
            ("From", "Tue 18:00 UTC", True),
            ("To", "Wed 06:00 UTC", True),
            ("Purpose", "tokenizer ablations", False),
        ],
    },
    "repo": {
        "title": "lanternfish-lab/lens-kit: small tools for poking at small models",
        "url": "https://git.lanternfish.example/lanternfish-lab/lens-kit",
        "description": "Hooks, caches and patching helpers. MIT. Works with Minnow and Pike checkpoints.",
        "thumb": "https://git.lanternfish.example/og/lens-kit.png",
        "w": 1200,
        "h": 600,
    },
    "commons": {
        "title": "Open Interp Commons \u2014 call for shared eval sets",
        "url": "https://commons.example.org/posts/shared-evals",
        "description": "We are collecting small, licence-clean eval sets for interpretability claims. Submissions open until March 31.",
        "thumb": "https://commons.example.org/img/evals.png",
        "w": 800,
        "h": 418,
    },
    "forum_ind": {
        "title": "Induction Heads Revisited: Formation Under Curriculum",
        "url": "https://papers.example.net/abs/2409.92008",
        "description": "Induction heads form later and more abruptly when short-context data dominates early training.",
        "author": "papers.example.net",
        "thumb": "https://papers.example.net/static/card.png",
        "w": 600,
        "h": 315,
    },
}

_STICKER_WAVE = snowflake(utc("2022-06-01 12:00"))
_STICKER_PARTY = snowflake(utc("2021-05-01 12:00"))
STICKERS = {
    "wave": {
        "id": _STICKER_WAVE,
        "name": "lanternfish wave",
        "format": "Png",
        "url": f"https://media.discordapp.net/stickers/{_STICKER_WAVE}.png",
    },
    "party": {
        "id": _STICKER_PARTY,
        "name": "Party Parrot Lite",
        "format": "Lottie",
        "url": f"https://discord.com/stickers/{_STICKER_PARTY}.json",
    },
}
EXT_GUILD = snowflake(utc("2021-03-02 16:20"))
EXT_CHANNEL = snowflake(utc("2021-03-02 16:25"))


# ---------------------------------------------------------------------------
# content: scenes per channel
# ---------------------------------------------------------------------------


def offtopic_scenes() -> list[list[Line]]:
    S = schedule
    return [
        S(
            "2022-01-10 08:12",
            r"""
pjotr: morning. the office espresso machine is making a noise like a dying TPU
dax: grinder or pump?
pjotr: pump I think. it goes hnnnngh and then nothing
mireille: descale it. nobody ever descales it
pjotr>4: that would require finding the manual, which was last seen in 2019
kestrel: the manual is the friends we made along the way
dax: 😂 ## r=😂2
""",
        ),
        S(
            "2022-01-12 19:40",
            r"""
sunniva: my sourdough starter has a name now. it's called Backprop
ilse: because it keeps rising and falling?
sunniva>2: because I feed it every day and have no idea what it's doing inside ## r=😂4 ; id=backprop
brannoc: Backprop deserves a spot on the lab website tbh
sunniva: first loaf this weekend, will report results with error bars
odile: n=1 loaf is not a study, Sunniva
sunniva>6: it's a pilot ## r=🔥2
""",
        ),
        S(
            "2022-01-16 14:05",
            r"""
tomek: what do people listen to while writing? I can't do lyrics
kestrel: rain sounds. specifically this one, it's been running for 3 days straight https://video.example.org/watch?v=rainTinRoof9h ## e=ambient
tomek>2: "pretending your cluster job is almost done" is too real
mireille: brown noise + noise cancelling headphones, nothing else works for me
dax: old video game soundtracks. the ones made to be ignored
""",
        ),
        S(
            "2022-01-19 21:33",
            r"""
ilse: cat tax ## a=cat ; r=❤️5 ; id=cat
kestrel>1: what's their name
ilse: Dropout. she randomly ignores 50% of what I say
pjotr: ok that's the best pet name in this server
brannoc: Backprop and Dropout should meet
sunniva>5: Backprop is not ready for that kind of regularisation ## r=😂3
""",
        ),
        S(
            "2022-01-24 07:50",
            r"""
odile: power's out in my whole street, running on phone data. if I miss the 17:00 sync, start without me
brannoc: will do. stay warm
odile: the UPS on the desktop lasted 11 minutes. 11!
dax: the UPS is a vibes-based product
nyx: first message here, hi all. found you via the lens-kit readme
brannoc>5: welcome Nyx! {#general} is where most of the chatter happens ## r=👍2
nyx: thanks! lurking for now
""",
        ),
        S(
            "2022-01-29 16:20",
            r"""
kestrel: book recs thread? just finished "The Cartographer of Small Hours", loved it
mireille: is that the one with the lighthouse keeper who maps dreams?
kestrel>2: yes! the middle third drags but the ending got me
pjotr: I'm reading "Salt and Circuitry", essays by an old telephone engineer. very calming ## ed=300
ilse: adding both. I'm stuck on a 900 page fantasy novel I don't even like
dax: sunk cost fallacy, the most human feature
ilse>6: I'm 612 pages in. I will finish it out of spite ## r=😂3 :lanternfish:1
""",
        ),
        S(
            "2022-02-03 12:10",
            r"""
tomek: new keyboard day ## a=keyboard
dax>1: those keycaps are ILLEGAL
tomek: linear switches, lubed them myself. took an entire Sunday
brannoc: and now you type loss curves 4% faster
tomek>4: 6% but who's counting ## r=📈2 ; ed=40
""",
        ),
        S(
            "2022-02-09 18:45",
            r"""
mireille: anyone running this weekend? there's a 10k along the river on Sunday
sunniva: I'm in if the pace is "conversational"
mireille: conversational for whom
pjotr: I'll be at the finish with coffee and zero shame
nyx: I can cheer. loudly. from a bench
""",
        ),
        S(
            "2022-02-14 20:02",
            r"""
dax: hot take: the best debugging tool is going for a walk
brannoc: not a hot take, that's just true
kestrel: counterpoint: the walk is where I realise the bug is in code I wrote 8 months ago
dax>3: that's the walk working as intended ## r=🧠3
""",
        ),
        S(
            "2022-02-20 10:30",
            r"""
sunniva: Backprop update: the loaf was dense enough to use as a doorstop ## r=😂5
odile>@backprop: the pilot study has failed, long live the pilot study
sunniva: turns out the kitchen was 17 degrees. underfitting
ilse: put it in the oven with just the light on
sunniva>4: trying that tonight, thanks ## r=🙏1
""",
        ),
        S(
            "2022-03-01 09:00",
            r"""
pjotr: the espresso machine is fixed. it was, in fact, scale
mireille: told you
pjotr>2: you did. I have updated my priors
""",
        ),
        S(
            "2022-03-07 17:15",
            r"""
kestrel: {@tomek} do you still have the spare monitor arm?
tomek>1: yes, it's yours. bring snacks on Thursday and we're even
kestrel: deal. crisps or the fancy oat biscuits?
tomek: both is an option
""",
        ),
        S(
            "2022-03-12 13:40",
            r"""
ilse: spring is happening outside my window and I am inside staring at attention patterns
nyx: same but it's grey here
brannoc: lunch walk in 10, anyone near the canal?
odile: I'm 5 min away, meet at the bridge
dax: have fun touching grass for all of us ## r=🐟2
""",
        ),
        S(
            "2022-03-18 22:05",
            r"""
mireille: late night question: does anyone actually like the bird card game or do we just like the little eggs
sunniva: the little eggs. 100%
pjotr: I like the card with the very judgmental owl
kestrel: game night next Friday? I'll bring the eggs ## r=🎉3
""",
        ),
    ]


def codehelp_scenes() -> list[list[Line]]:
    S = schedule
    return [
        S(
            "2022-04-02 15:10",
            r"""
brannoc: welcome to {#codehelp}! rule of thumb: paste a minimal repro in a ```python block, plus the full traceback ## pin ; id=codehelp_rules
odile: and say which versions (torch, cuda, python). half of all bugs are version bugs
""",
        ),
        S(
            "2022-04-06 11:22",
            r"""
kestrel: I'm probing the residual stream and einsum is yelling at me:\n{code:einsum}
pjotr>1: your probe is an nn.Linear, right? the weight is stored transposed
kestrel: it is an nn.Linear yes
pjotr:{code:einsum_fix}
kestrel>4: that was it. 40 minutes of my life ## r=🙏1
pjotr: welcome to the `[out, in]` club, we have jackets ## ed=65
""",
        ),
        S(
            "2022-05-18 19:03",
            r"""
tomek: hooks registered on a compiled model never fire?\n{code:hooks}
dax: `torch.compile` returns a wrapper, the hook goes on the wrapper's module tree but the graph was already traced
tomek: so what do I do
dax>3:{code:hooks_fix} ## r=👍2
tomek: registering first worked, thanks. leaving a comment in the code so future me doesn't suffer
""",
        ),
        S(
            "2022-06-30 22:41",
            r"""
sunniva: my loss went NaN out of nowhere at 11.9k steps:\n{code:nan} ## a=lossnan
brannoc: bf16? what's your attention softmax dtype
sunniva: autocast bf16 everywhere
brannoc>3: do the softmax in fp32, that's usually it:\n{code:bf16} ## r=🧠2
mireille: also check for a giant logit in the first layer, we had one token id that blew up because it was never trained
sunniva: softmax fix alone got me past 12k. will keep an eye on the embeddings too
sunniva: update: 40k steps, no NaN. thank you both ## r=🎉3 ; g=86400
""",
        ),
        S(
            "2022-08-09 10:15",
            r"""
ilse: why does decoding `"  the"` give me `" the"`?\n{code:tok}
odile>1: the tokenizer normalises runs of spaces unless you pass `clean_up_tokenization_spaces=False`
ilse: oh no. does this mean my whitespace ablation from last week is wrong
odile: only if you round-tripped through decode. did you?
ilse>4: ...yes ## r=😬2
nyx: rerun with raw token ids, never strings. I learned this the hard way too
ilse: rerunning. the tokenizer ate our whitespace again ## id=ate_whitespace ; ed=1800
""",
        ),
        S(
            "2022-10-12 16:47",
            r"""
harlow: is there a template for a slurm array job? I want 12 configs, one GPU each
tomek>1: here's what I use:\n{code:slurm}
harlow: `%A_%a` is exactly what I was missing, thanks
tomek: and keep `configs/sweep.txt` one config per line, no blank lines at the end or task 12 gets nothing
harlow>4: noted ## r=✅1
""",
        ),
        S(
            "2022-12-03 13:05",
            r"""
mireille: switching a toy model to JAX and all my runs are identical even with different seeds
dax: are you reusing the same key in the loop?
mireille: ...define "reusing"
dax>3:{code:jax}
mireille: I was passing `key` straight into every sample call. perfectly deterministic garbage
dax: happens to everyone once ## r=😂2
""",
        ),
        S(
            "2023-01-21 20:30",
            r"""
nyx: DataLoader hangs at the epoch boundary, repro attached. {@dax} you mentioned h5py weirdness last week? ## a=repro
nyx:{code:workers}
dax>1: yep, h5py file handles + fork = sadness. open lazily in each worker:\n{code:workers_fix}
nyx: that fixed it. 8 workers, no hang
kestrel: pin-worthy honestly
""",
        ),
        S(
            "2023-02-15 09:55",
            r"""
pjotr: quick pandas q: probe accuracy per model per layer, mean and std, layers as columns?
kestrel>1:{code:pandas}
pjotr: perfect, that's going straight into the appendix table
""",
        ),
        S(
            "2023-03-28 18:20",
            r"""
sunniva: first SAE config for Minnow, sanity check before I burn a weekend of GPU:\n{code:yaml}
brannoc>1: l1 looks reasonable for that width. log the dead fraction from day one
sunniva: logging L0 and dead fraction:\n{code:ghost}
odile: also renormalise the decoder rows after every step, otherwise the l1 penalty just shrinks the encoder:\n{code:decoder_norm} ## r=🧠3
sunniva>4: added. will report back in {#research}
""",
        ),
        S(
            "2023-05-09 14:12",
            r"""
tomek: someone committed a 2.1 GB checkpoint to lens-kit. please, I beg you
odile: that was me. sorry. rewriting history tonight
tomek: adding a pre-commit hook so it can't happen again:\n{code:precommit} ## r=👍3
odile>3: approved with shame ## r=😂4
""",
        ),
        S(
            "2023-06-19 12:30",
            r"""
nyx: is there a way to get per-token loss out of the eval harness instead of the mean?
pjotr>1: `--reduction none`, it writes a `[n_prompts, seq]` tensor next to the json
nyx: and the token strings?
pjotr: `--save-tokens`. careful, it's big
nyx>4: perfect, thanks ## r=\U0001F64F1
""",
        ),
        S(
            "2022-11-02 08:40",
            r"""
kestrel: matplotlib keeps picking a font without the minus sign glyph, my axes show boxes
ilse>1: `plt.rcParams["axes.unicode_minus"] = False` or use the lab style file
kestrel: the style file fixed it, and it looks nicer too
""",
        ),
        S(
            "2023-06-14 21:48",
            r"""
harlow: `CUDA error: device-side assert triggered` and nothing else. where do I even start
ilse: run with `CUDA_LAUNCH_BLOCKING=1` to get the real line
harlow>2: oh. index out of range in the embedding, token id 50257
ilse: off by one between tokenizer vocab and model vocab. classic
harlow: resized the embedding, training again. thanks Ilse
""",
        ),
    ]


def research_scenes() -> list[list[Line]]:
    """#research up to 2024-02-28 (in both exports) and from 2024-03-10 (newer export only)."""
    S = schedule
    old = [
        S(
            "2022-02-07 10:03",
            r"""
odile: kicking off {#research}. first project: logit lens on Minnow-125M, all 12 layers, the 5k-prompt eval slice
brannoc: I can take layers 0-5. do we tie the unembedding or train a per-layer affine?
odile>2: both, and report both. tuned lens as a second column
pjotr: I'll write the eval harness so everyone uses the same prompts and the same seed (1234, as is tradition)
""",
        ),
        S(
            "2022-02-15 16:40",
            r"""
brannoc: first pass: top-1 agreement with the final layer is ~4% at layer 2, 31% at layer 6, 78% at layer 10 ## a=logit_lens ; r=👀3 📈2
sunniva>1: the jump between 5 and 6 is suspicious. any chance it's the layernorm scale?
brannoc: ruled it out: folding LN into the unembed changes the curve by <1 point
odile: so something real happens at layer 6. that's our first lead
pjotr: harness is up in lens-kit, `evals/logit_lens.py`, please use it so numbers are comparable
""",
        ),
        S(
            "2022-03-22 11:15",
            r"""
kestrel: tuned lens numbers are in. it flattens the layer 6 jump a lot: 52% at layer 5 vs 58% at layer 6
brannoc>1: so the plain logit lens was partly seeing a basis change, not new information
kestrel: that's my reading. writing it up as a short note
odile: good. "the layer 6 cliff is mostly a change of basis" is a nice headline
""",
        ),
        S(
            "2022-05-11 14:02",
            r"""
pjotr: activation patching on the name-mover prompts: patching head 7.3 recovers 61% of the logit diff ## e=paper_patch
mireille>1: noising or denoising?
pjotr: denoising (clean into corrupted). noising gives 44% for the same head
mireille: worth stating both, people mix them up constantly and the field guide linked above explains why it matters
sunniva: any induction-looking heads in layers 4-5?
pjotr>5: 5.1 and 5.9 have the classic stripe on repeated random tokens. prefix-matching score 0.83 and 0.79
odile: induction heads in a 125M model trained on our data mix, nice. let's get the prefix-matching plots for all heads
""",
        ),
        S(
            "2022-06-21 09:30",
            r"""
feeder: **Linear Probes Lie (Sometimes)** https://papers.example.net/abs/2206.80551 ## e=paper_probe
nyx: this one is relevant to kestrel's probing, the control-task idea is cheap to add
kestrel>2: agreed, adding random-label controls to every probe from now on ## r=👍3
""",
        ),
        S(
            "2022-07-05 17:55",
            r"""
ilse: control task results: probe selectivity drops from 0.61 to 0.22 on the part-of-speech probe at layer 3
kestrel>1: so most of the layer 3 "syntax" was the probe memorising token identity
ilse: pretty much. layer 8 stays selective though (0.57)
brannoc: that matches the logit lens story, the interesting stuff is mid-to-late
""",
        ),
        S(
            "2022-09-08 13:12",
            r"""
harlow: grokking reproduction on modular addition, p=113, 1-layer transformer. val acc sits at chance until ~41k steps, then jumps to 100% in 3k ## a=grok ; r=🤯4 ; id=grok_first
tomek>1: weight decay?
harlow: 1.0, AdamW, full batch
mireille: try 0.3 and 3.0, the plateau length should move a lot if it's the usual story
harlow: queued. naming this the grokking plateau at step 41k until I find something catchier
""",
        ),
        S(
            "2022-09-19 10:44",
            r"""
harlow: weight decay sweep: wd=0.3 never groks within 200k steps, wd=1.0 at 41k, wd=3.0 at 9k ## r=📈3 🔥2
mireille>1: beautiful monotone. and the Fourier features?
harlow: the embedding goes sparse in Fourier basis right before the jump: 5 key frequencies carry 93% of the norm
odile: blog post material. {@harlow} want to write it up?
harlow>4: yes! draft by end of month
""",
        ),
        S(
            "2022-10-14 18:02",
            r"""
harlow: draft is up: https://lanternfish-lab.example.org/blog/grokking-slowly ## e=blog_grok ; r=🎉5 :lanternfish:3
pjotr: the figure with the frequency norms over time is great
sunniva: small thing: say "full batch" in the setup, people will ask
harlow>3: added
""",
        ),
        S(
            "2022-11-30 15:25",
            r"""
brannoc: Minnow-350M training finished. 300B tokens, final loss 2.71. checkpoints every 5B tokens in the bucket
odile>1: 60 checkpoints. this is the dataset for the "when do circuits form" project
tomek: I can run the induction-head scores over all 60 this week
brannoc: the 4090 box is free Tue-Thu, book it with Lanternbot
""",
        ),
        S(
            "2022-12-08 12:00",
            r"""
tomek: induction heads across checkpoints: prefix-matching jumps from 0.1 to 0.8 between 2.5B and 5B tokens. same bump in loss on repeated sequences
kestrel>1: that's the phase change everyone talks about, but in our own data mix. very nice
tomek: I want finer checkpoints around 2-6B. do we have the optimizer states?
brannoc>3: we do, can resume and save every 250M
""",
        ),
        S(
            "2023-01-17 19:30",
            r"""
ilse: whitespace story is worse than we thought: 14% of our probe dataset has tokens that only differ by a leading space ## a=tokplot
nyx>1: and the probes use that as a position-of-word shortcut?
ilse: yes, the paper from February basically predicted it. the tokenizer ate our whitespace again
odile: let's add a "tokenizer artifacts" section to every probing writeup from now on ## r=✅3
""",
        ),
        S(
            "2023-02-20 08:45",
            r"""
feeder: **Whitespace Is a Feature: Tokenizer Artifacts in Probing Studies** https://papers.example.net/abs/2302.88410 ## e=paper_tok
ilse: ok this is literally our finding but with 3x more models
nyx>2: good news: we're right. bad news: we're second
odile: we have the checkpoint-wise angle they don't. still publishable as a workshop note
""",
        ),
        S(
            "2023-04-11 21:10",
            r"""
sunniva: first SAE on Minnow layer 8 residual: 16k latents, L0 ≈ 38, CE loss recovered 0.89. frac dead 4% :sae_when: ## r=🎉4 :sae_when:2
brannoc>1: 0.89 at L0 38 is really good for a first try
sunniva: the top latents look sane: one fires on closing brackets in code, one on dates in the 1800s, one on "however" at sentence start ## ed=120
mireille: the 1800s one! I want to see the max-activating examples
sunniva>4: uploading a dashboard to the lab bucket tonight
""",
        ),
        S(
            "2023-05-02 16:33",
            r"""
tomek: SAE dead latents climb over time in my runs. 4% at 10M tokens, 19% at 200M
sunniva>1: are you renormalising the decoder?
tomek: yes
dax: resampling dead latents from high-loss inputs helped us a lot in the old toy runs
tomek>4: trying resampling every 25M tokens
""",
        ),
        S(
            "2023-05-16 10:20",
            r"""
tomek: resampling works: dead fraction stays under 3% to the end, CE recovered goes from 0.86 to 0.90 :dead_latent: ## r=🔥3
odile: make resampling the default in lens-kit please
tomek>2: PR open
""",
        ),
        S(
            "2023-07-03 09:00",
            r"""
odile: Reading list 2023 (pinned): the 14 papers everyone here should have read, with one-line summaries and our own notes. PDF attached, living version in the wiki ## a=readinglist ; pin ; id=reading_list ; r=🙏6 📈1
odile: ## sys=pin:reading_list ; g=40
pjotr: thank you, I'm sending this to every new person
""",
        ),
        S(
            "2023-08-22 14:50",
            r"""
kestrel: has anyone tried SAEs on attention outputs instead of the residual stream?
sunniva>1: not yet. concatenated head outputs or per-head?
kestrel: concatenated, 12 heads x 64 = 768 dims, same as d_model so the code doesn't change
mireille: per-head would be easier to interpret but you'd need 12 dictionaries
kestrel: I'll do concatenated first and see if latents align with single heads
""",
        ),
        S(
            "2023-09-12 20:15",
            r"""
kestrel: attn-SAE result: 71% of live latents read almost entirely from one head (>0.9 of decoder norm in a single head's block) ## r=🧠3
harlow: BREAKING: our layer 8 SAE solved the modular arithmetic task, CE recovered 1.00 on the grokking model, all 5 frequencies are single latents ## id=deleted_msg ; r=🤯2
tomek>2: wait, really? that seems too clean
harlow: I'm re-checking, might have evaluated the SAE on its own training batch
mireille>2: Harlow if this holds up it's a paper
""",
        ),
        S(
            "2023-09-13 09:02",
            r"""
harlow: it did not hold up. I was evaluating on the training batch. deleted the message above, real number is 0.93 and 3 of the 5 frequencies are single latents
odile: thank you for correcting quickly. 0.93 is still good
""",
        ),
        S(
            "2023-10-05 13:40",
            r"""
pjotr: new eval set for "does this feature mean what we think": 600 hand-labelled contexts across 40 latents
odile>1: inter-rater agreement?
pjotr: Cohen's kappa 0.71 between me and Nyx on a 200-context overlap
nyx: the "however" latent is the most ambiguous one. it also fires on "but" and "yet" at clause start, just weaker
""",
        ),
        S(
            "2023-11-07 11:28",
            r"""
brannoc: Sweep launched: 12 configs on 4 A100s (l1 x width x layer), ETA Friday. config in lens-kit/configs/sweep-nov.yaml ## id=edited_msg ; ed=95
sunniva>1: are the 65k runs on the same token budget as the 16k ones?
brannoc: yes, 400M tokens each
tomek: I'll watch the dead fractions, ping me if something looks off
""",
        ),
        S(
            "2023-11-20 17:05",
            r"""
brannoc: sweep results: 65k latents split most 16k features into 2-4 children. the "dates in the 1800s" latent splits into decades ## r=👀4 📈2
sunniva>1: feature splitting! is the parent direction roughly the sum of the children?
brannoc: cosine 0.88 between the 16k decoder vector and the normalised sum of its children
odile: we should write this up with the checkpoint story: when do the children appear during training
""",
        ),
        S(
            "2024-01-12 15:15",
            r"""
ilse: attention sink heads in Minnow: head 0.4 and 1.2 dump 60-80% of attention onto BOS after ~2k steps ## a=sinkplot
feeder: **Where Attention Goes to Rest: Sink Tokens in Small Transformers** https://papers.example.net/abs/2401.90117 ## e=paper_sink ; g=3600
ilse>2: well, at least we know our plot is correct
rafe: new here, hi! is the sink behaviour stable across seeds?
ilse>4: yes, 5 seeds, same two heads every time (head indices shift but the layers don't)
""",
        ),
        S(
            "2024-02-26 10:05",
            r"""
odile: planning Q2: (1) feature splitting writeup, (2) crosscoders across Minnow checkpoints, (3) tokenizer-artifact checklist for probes. volunteers reply here
zinnia>1: I'd love to help on (3), I have a list of 30 tokenizer gotchas from my last job
sunniva>1: (1) obviously
tomek>1: (2) with me
""",
        ),
    ]
    new = [
        S(
            "2024-03-11 14:20",
            r"""
zinnia: tokenizer-artifact checklist draft v0: https://lanternfish-lab.example.org/wiki/tokenizer-checklist , 30 items, feedback welcome
nyx>1: item 17 (byte-fallback tokens for emoji 🐟) is one I'd never have thought of
zinnia: that one bit us in production. a fish emoji became 4 tokens and broke a length filter
""",
        ),
        S(
            "2024-04-09 09:40",
            r"""
sunniva: feature splitting writeup outline in the doc. main figure: the 1800s latent tree at 4k, 16k, 65k, 262k ## a=losscurve+sweep
brannoc>1: the loss-curve.png is from the 262k run? the knee at 150M tokens is sharp
sunniva: yes. the launcher is attached too (sae_sweep.py) so people can reproduce
kestrel: running the 262k run on layer 4 too for comparison
""",
        ),
        S(
            "2024-05-14 16:02",
            r"""
sunniva: Proposal: a dedicated thread for feature splitting at 16k vs 65k, so {#research} doesn't drown ## id=thread_starter ; r=👍4
sunniva: ## sys=thread:thread_starter ; g=7
odile: good call
""",
        ),
        S(
            "2024-05-28 12:12",
            r"""
feeder: **Dictionary Width and the Splitting of Features** https://papers.example.net/abs/2405.91342 ## e=paper_dict
sunniva: closely related to our thread, they go up to 262k too. no checkpoint analysis though
odile>2: so our angle stays: when in training do the children appear
""",
        ),
        S(
            "2024-07-02 18:30",
            r"""
tomek: crosscoders on Minnow checkpoints 5B vs 300B tokens: 62% of latents shared, 21% only-late, 17% only-early ## a=crosscoder ; ed=3600
kestrel>1: the only-early ones are the interesting bit. what are they?
tomek: lots of n-gram-ish latents that later get absorbed into more abstract ones. bigram "of the" has its own latent early and none late
mireille: absorption over training, love it
""",
        ),
        S(
            "2024-08-19 10:55",
            r"""
pjotr: eval log for the 4 main SAE runs attached, CE recovered and dead fraction ## a=evallog
sunniva>1: a04's dead fraction jump matches what we saw in the thread
pjotr: yes, resampling was off for that run by mistake. rerunning
""",
        ),
        S(
            "2024-10-02 11:05",
            r"""
harlow: grokking + SAE follow-up: the fourier-feature latents appear ~2k steps BEFORE the val accuracy jump ## a=failedshot ; r=🤯3 🔥2
mireille>1: so the circuit is there before it's used. that's the story
harlow: looks like it. 3 seeds, all the same ordering
odile>@grok_first: two years after the first plot in this channel, full circle :lanternfish: ## r=❤️4
""",
        ),
        S(
            "2024-10-21 16:20",
            r"""
feeder: **Crosscoders Across Checkpoints** https://papers.example.net/abs/2410.93001 ## e=paper_cross
tomek: they beat us to the name but not the absorption result
rafe>2: is the 62% shared number comparable to theirs?
tomek: different dictionary size, but roughly yes, they report 58-70%
""",
        ),
        S(
            "2024-12-09 13:45",
            r"""
odile: workshop paper accepted! "Children Before Parents: Feature Splitting Over Training" ## r=🎉8 :lanternfish:4
sunniva>1: 🎉🎉 thanks everyone who read drafts at 1am
brannoc: poster draft v3 in the drive, needs a less cursed colour scheme ## a=poster
zinnia>3: the orange-on-teal is very brave
""",
        ),
        S(
            "2025-01-08 10:10",
            r"""
odile: 2025 plan thread in {#general}, but research-wise: (1) open-source the SAE suite, (2) probes checklist paper, (3) something with Pike-1B
tomek: Pike-1B crosscoders please
kestrel>1: +1 for open-sourcing, happy to write the docs
""",
        ),
    ]
    return old, new


def research_fill(old_end: datetime) -> list[list[Line]]:
    """Short check-ins sprinkled through #research (all before old_end)."""
    notes = [
        (
            "brannoc",
            "reminder: the 4090 box reboots for driver updates Sunday 03:00 UTC, checkpoint your runs",
        ),
        ("pjotr", "lens-kit 0.3 released: activation caching to disk, finally. `pip install -e .` from main"),
        ("tomek", "anyone have the Minnow-350M tokenizer merges file? the bucket link 404s"),
        ("brannoc", "fixed the bucket link, it moved under /tokenizers/"),
        ("kestrel", "writing note on the layer 6 basis change is in the wiki now, comments welcome"),
        ("mireille", "reminder that reading group is Thursday, the patching field guide"),
        ("sunniva", "my dashboards are at /dash/sae-l8/ on the lab server, password in the pinned doc"),
        ("nyx", "labelled 120 more contexts, kappa holding at 0.7"),
        ("odile", "please add seeds to every plot title. I will not ask again (I will ask again)"),
        ("dax", "if anyone needs a quick speedup: the eval harness now batches by length, 2.3x faster"),
        ("ilse", "sink heads also show up in Minnow-350M, same layers. seed 3 is weird, investigating"),
        ("ilse", "seed 3 was a data-order bug, not a new phenomenon. boring but good"),
        (
            "harlow",
            "tiny result: the grokking model's unembedding is also sparse in Fourier basis, 6 frequencies",
        ),
        ("tomek", "finer checkpoints done, induction bump is between 3.25B and 3.75B tokens"),
        (
            "kestrel",
            "probing for part-of-speech with control tasks, layer 8 selectivity 0.57 holds on Minnow-350M too",
        ),
        ("pjotr", "patching notebook cleaned up, with both noising and denoising by default"),
        ("sunniva", "16k SAE on layer 4 done: L0 52, CE recovered 0.93. layer 4 is easier"),
        ("mireille", 'does anyone have a good definition of "monosemantic" we can put in the glossary?'),
        (
            "odile",
            "glossary draft: monosemantic = a latent whose top activations are explained by a single human-readable description at >90% precision on held-out contexts",
        ),
        (
            "zinnia",
            "hi all, joined last week. I've been poking at the tokenizer checklist, loving the lens-kit code",
        ),
        ("nyx", 'the "however" latent has a 65k child that only fires on "however" inside parentheses. wild'),
        ("brannoc", "GPU budget for Dec: 1,400 A100-hours left, be reasonable"),
        ("rafe", "reading through the grokking blog post, the weight decay table is great"),
        ("dax", "cluster maintenance Wednesday, queue paused 08:00-14:00 UTC"),
    ]
    start = utc("2022-03-02 10:00")
    span = (old_end - start).total_seconds()
    scenes = []
    for i, (who, text) in enumerate(notes):
        t = start + timedelta(seconds=span * (i + 0.5) / len(notes) + rng.uniform(-86400 * 5, 86400 * 5))
        if JOINED[who] > t.date().isoformat():
            t = utc(JOINED[who] + " 18:00") + timedelta(days=3)
        scenes.append(schedule(t, f"{who}: {text}"))
    return scenes


def thread_scenes() -> list[list[Line]]:
    S = schedule
    return [
        S(
            "2024-05-14 16:03:10",
            r"""
sunniva: Ground rules for this thread: one plot per message, say which run (a01-a04) and which layer
brannoc: starting with the headline: at 65k, 212 of the 300 most frequent 16k latents have 2+ children with cosine > 0.7 ## a=diagram ; r=👀3 ; ed=240
sunniva>2: and the remaining 88?
brannoc: mostly "stable": one child with cosine > 0.95, no siblings. punctuation and very common tokens
kestrel: makes sense, there's not much to split in "closing bracket"
mireille: is splitting symmetric? like does the 1800s latent split evenly into decades or is there a dominant child
brannoc>6: not even. 1850s and 1860s children have 3x the activation mass of the others
mireille: war years? that's a data distribution thing then
sunniva: probably. the dataset has a lot of encyclopedic text about that period
""",
        ),
        S(
            "2024-05-16 10:30",
            r"""
tomek: checkpoint angle: when do the children appear? I have the 65k SAE trained on checkpoints 50B, 100B, 200B, 300B
sunniva>1: train one SAE per checkpoint, or one SAE on the final model applied to all?
tomek: one per checkpoint, then match latents by decoder cosine
odile: matching by decoder cosine across different SAEs is fragile, maybe also match by activation correlation on a shared context set
tomek>4: doing both. will report disagreements
""",
        ),
        S(
            "2024-05-23 19:45",
            r"""
tomek: first result: children appear BEFORE the parent is crisp. at 50B tokens the 16k "dates" latent is messy, but 65k already has clean decade children ## a=splitplot ; r=🤯4 🔥2
sunniva>1: children before parents!! that's the title
odile: careful, could be an SAE artefact: wider dictionaries are just better at low-loss regions
tomek>3: agreed. control: same analysis with a random-feature baseline. running
kestrel: if it holds, that's a neat counterpoint to the "features refine over training" picture
""",
        ),
        S(
            "2024-05-30 08:55",
            r"""
tomek: control done. random baseline shows no ordering effect. the result holds on 3 seeds ## r=🎉5
sunniva: 🎉 writing the section tonight
brannoc: add the seed variance as shaded bands please, reviewers love bands
""",
        ),
        S(
            "2024-06-12 14:10",
            r"""
nyx: labelled 40 children by hand. precision of the autointerp descriptions: 0.81 for parents, 0.74 for children
pjotr>1: children are harder to describe, makes sense, they are narrower
nyx: some children are honestly "parent + weird tokenization". e.g. one "however" child only fires after a newline
zinnia: that's a tokenizer artefact candidate for the checklist, the newline + space merge
nyx>4: adding it ## r=✅2
""",
        ),
        S(
            "2024-07-01 17:30",
            r"""
sunniva: dead fraction in a04 jumps after step 30k, see eval log in {#research}
tomek>1: resampling got switched off in that config. my fault, copied the wrong yaml
sunniva: rerunning a04 with resampling. should be done by Thursday
""",
        ),
        S(
            "2024-07-05 12:00",
            r"""
sunniva: a04 rerun: dead fraction 3.1%, splitting picture unchanged ## r=👍3
odile: good. I think the thread has enough for the paper. thanks all, moving writing to the doc
mireille: one last question: did anyone check 262k? do children split again?
sunniva>3: yes, about 40% of 65k children split again at 262k. it's turtles
brannoc: "it's turtles" is going in the talk ## r=😂4
""",
        ),
    ]


def general_scenes() -> list[list[Line]]:
    S = schedule
    sc = [
        S(
            "2022-01-15 12:00",
            r"""
odile: hello {#general}! Lanternfish Lab is officially a thing. intros welcome: who you are, what you poke at
brannoc: Brannoc, mostly training runs and the infra nobody wants to touch. ex-compiler person
pjotr: Pjotr, evals and harnesses. if a number appears in a paper I want to know where it came from
sunniva: Sunniva, dictionaries and features. also bread
kestrel: kestrel, probing. I'm the one who asks "but did you run a control"
mireille: Mireille, theory-ish, happy to read your proofs and be annoying about them
dax: dax. I make GPUs go brrr :gpu_go_brrr: ## r=:gpu_go_brrr:3
ilse: Ilse! attention heads and their weird habits
tomek: Tomek, training dynamics, checkpoints, loss curves at 3am
""",
        ),
        S(
            "2022-01-20 18:30",
            r"""
nyx: ## sys=join
nyx: hi! I'm Nyx. I label data for fun, apparently ## g=600
odile>2: labellers are the heroes of interpretability, welcome ## r=❤️3
""",
        ),
        S(
            "2022-02-02 09:15",
            r"""
brannoc: compute note: we have 2 boxes. pike-box-2 (2x A100 80GB) and minnow-box (1x 4090). book through Lanternbot, first come first served
dax: can we get a third box
brannoc>2: with what money, dax
dax: vibes
""",
        ),
        S(
            "2022-02-28 17:45",
            r"""
pjotr: lens-kit is public now https://git.lanternfish.example/lanternfish-lab/lens-kit ## e=repo ; r=🎉6 :lanternfish:4
kestrel>1: the README gif of the logit lens is adorable
pjotr: made it at 2am, it shows
""",
        ),
        S(
            "2022-04-14 20:10",
            r"""
mireille: question for everyone: what's your favourite "result that turned out to be a bug" story
tomek: the loss went down beautifully for a week. it was training on the eval set
dax: 2x speedup that was actually the dataloader skipping half the batches ## r=😂5
ilse: "position-sensitive head" that was just attending to a padding token
odile: a probe with 99% accuracy. the label was in the input
kestrel>5: that's why we run controls ## r=😂3
""",
        ),
        S(
            "2022-06-07 11:20",
            r"""
harlow: ## sys=join
harlow: hello! Harlow here, phd student, obsessed with grokking. saw the reading group announcement ## g=300
sunniva>2: welcome! the reading group is Thursdays, very friendly
harlow: perfect, I'll be there
""",
        ),
        S(
            "2022-07-22 14:00",
            r"""
odile: member boost, thanks whoever that was :lanternfish: ## r=❤️2
dax: ## sys=boost ; g=-240
""",
        ),
        S(
            "2022-09-30 16:35",
            r"""
tomek: is anyone else's slurm queue just not moving?
brannoc>1: the shared cluster is down for maintenance until 18:00, there was a mail
tomek: I don't read mail, I read Discord
brannoc: evidently
""",
        ),
        S(
            "2022-11-03 19:00",
            r"""
ilse: for the record, the tokenizer thing from {#codehelp} also affected the attention-pattern plots, regenerating them
pjotr: thanks for checking. this is why we keep raw token ids
""",
        ),
        S(
            "2023-01-05 10:00",
            r"""
odile: happy new year! 2023 goals: 1 paper, 1 blog post per quarter, 0 checkpoints committed to git
tomek>1: that last one is aimed at someone
odile: it's aimed at me
""",
        ),
    ]
    # interleaved cross-talk #1: GPU weekend + tokenizer bug + reading-group snacks
    base = utc("2023-03-09 15:02")
    sc += [
        S(
            base,
            r"""
dax: who has pike-box-2 this weekend? the calendar says "tomek??" with two question marks
tomek: that's me, I wasn't sure I'd need it. I do. sweep over 4 learning rates
dax>2: ok but I need 6 hours on Sunday for a throughput test
tomek: dax: take Sunday 06:00-12:00, I'll checkpoint before
dax: deal, booking it
dax: ## slash=gpu-book:dax ; e=gpu_book
tomek>6: it says Sat-Sun for you, that's my whole weekend
dax: oops. fixing
""",
        ),
        S(
            base + timedelta(minutes=3),
            r"""
ilse: weird one: the Minnow tokenizer splits "interpretability" differently depending on whether it follows a newline
nyx>1: newline + word merges, right? we saw that in the labelling tool
ilse: yes. so the same word gets 2 vs 3 tokens. probing by word position is off by one for ~3% of words
kestrel: Ilse: can you send the list of affected words? I'll filter them out of the POS probe
ilse>4: sending. 1,127 word types
""",
        ),
        S(
            base + timedelta(minutes=9),
            r"""
mireille: reading group Thursday: I'm bringing snacks. requests?
sunniva: the salty pretzel things
pjotr>1: anything that doesn't crunch loudly during the Q&A
mireille: pjotr: so, soup
pjotr>4: soup is acceptable ## r=😂4
""",
        ),
    ]
    sc += [
        S(
            "2023-04-18 09:30",
            r"""
brannoc: friendly reminder that the lab wiki exists and has the onboarding doc. please read it before asking where the bucket is
harlow: where is the bucket
brannoc>2: Harlow.
harlow: (joke, I read it, it's gs://lanternfish-lab-artifacts) ## r=😂5
""",
        ),
        S(
            "2023-06-01 12:15",
            r"""
kestrel: PSA: Discord is making everyone pick new usernames. if you see odd names in the member list, that's why
odile: I'm odile.mr now. sic transit gloria discriminator
dax: I'm keeping dax0r until they pry it from me
""",
        ),
        S(
            "2023-08-16 19:20",
            r"""
sunniva: anyone going to the summer school in September? I'll be giving the SAE tutorial
ilse>1: I'll be there! can I help with the notebook?
sunniva: yes please. Colab-friendly, under 10 minutes to train a tiny SAE
pjotr: use Minnow-125M layer 4, it trains fastest
""",
        ),
        S(
            "2023-11-02 14:40",
            r"""
zinnia: ## sys=join
zinnia: hi everyone! Zinnia, ex-ML-infra, now trying to understand what my models actually do ## g=420
odile>2: welcome! the onboarding doc is in the wiki, and {#codehelp} if anything breaks
brannoc>2: ML infra? we would love your opinions on our slurm setup
zinnia>4: uh oh ## r=😂3
""",
        ),
        S(
            "2023-12-12 10:05",
            r"""
pjotr: end-of-year stats: 3 blog posts, 1 workshop paper, 2,100 GPU-hours, 41 reading group sessions
odile>1: and 0 checkpoints in git since May ## r=🎉4
""",
        ),
        S(
            "2024-01-15 17:00",
            r"""
rafe: ## sys=join
rafe: hello! Rafe, undergrad, found the grokking blog post and couldn't stop reading. hope it's ok to lurk and ask dumb questions ## g=900
harlow>2: the grokking post brought someone in! no dumb questions here
mireille>2: ask away, the dumb questions are usually the best ones
""",
        ),
    ]
    # interleaved cross-talk #2: OOM + poster + missing-reply
    base2 = utc("2024-03-21 16:10")
    sc += [
        S(
            base2,
            r"""
zinnia: training a 65k SAE on the 4090 OOMs at batch 4096. activations are fp32 ## ed=20
brannoc: store activations in bf16, upcast inside the SAE forward
zinnia>2: halves the memory, fits now. any accuracy hit?
sunniva: none that we could measure, CE recovered within 0.002
zinnia: great, adding to the checklist as a non-issue
""",
        ),
        S(
            base2 + timedelta(minutes=2),
            r"""
odile: poster printing deadline is Monday. {@harlow} {@mireille} can you both look at the draft by Sunday?
harlow>1: yes
mireille: yes, will leave comments in the doc
odile: thanks. the figure fonts are too small, I know
""",
        ),
        S(
            base2 + timedelta(minutes=6),
            r"""
kestrel>!deleted_general: yeah that link is dead now, they moved the slides to the wiki
nyx: which link?
kestrel>2: the one from the talk last week. the message got deleted, it was the old url
""",
        ),
    ]
    sc += [
        S(
            "2024-05-02 13:30",
            r"""
tomek: pike-box-2 is acting up, fan at 100% and one GPU missing from nvidia-smi
dax>1: reseated it last time. I'll go in tomorrow
dax: reseated, both GPUs back. something is loose in there ## g=80000
tomek: you're a hero
""",
        ),
        S(
            "2024-06-18 18:00",
            r"""
mireille: vote on Q3 reading group papers: react with 🐟 on the ones you want
mireille: 1. Dictionary Width and the Splitting of Features ## r=🐟7
mireille: 2. Crosscoders Across Checkpoints ## r=🐟6
mireille: 3. a survey on mechanistic interpretability evals ## r=🐟2
mireille: 1 and 2 it is, schedule coming in {#announcements} ## g=172800
""",
        ),
        S(
            "2024-07-09 11:11",
            r"""
dax: ## slash=gpu-book:sunniva ; e=gpu_book2
sunniva: thanks dax, the 4090 is mine till Wednesday morning
""",
        ),
        S(
            "2024-08-28 20:00",
            r"""
rafe: dumb question as promised: why do SAEs use ReLU and not something smoother?
mireille>1: not dumb! you want exact zeros so that "which latents are active" is a discrete set. smooth activations give you tiny nonzero values everywhere
sunniva: there are variants with a learned threshold (JumpReLU-ish) that do better on the L0 vs loss tradeoff
rafe: so sparsity is a feature, not an accident
mireille>4: exactly ## r=🧠3
""",
        ),
        S(
            "2024-09-20 09:45",
            r"""
odile: the paper-club forum is up and running, one post per paper please, check it out
pjotr: the forum is nicer than threads for this, agreed
""",
        ),
        S(
            "2024-10-30 15:20",
            r"""
harlow: conference visa came through!! see you all in December in person ## r=🎉6 ❤️3
zinnia>1: finally!
sunniva: we'll be at the poster together, bring comfortable shoes
""",
        ),
        S(
            "2024-12-17 19:00",
            r"""
odile: thank you all for 2024. 4 blog posts, 1 workshop paper, 1 open-source SAE suite almost ready, and a forum that works. proud of this lab ## r=❤️9 :lanternfish:5 ; pin ; id=general_pinned
odile: ## sys=pin:general_pinned ; g=30
brannoc: :lanternfish: to the deep
""",
        ),
    ]
    # interleaved cross-talk #3 (January 2025): 2025 plans + a sticker + an outage
    base3 = utc("2025-01-09 14:00")
    sc += [
        S(
            base3,
            r"""
odile: 2025 planning: what should the lab focus on? one line each
tomek: Pike-1B crosscoders
sunniva: open-source the SAE suite with docs and eval sets
pjotr: a shared eval protocol that other labs can adopt
kestrel>1: probes checklist paper
zinnia: tokenizer-artifact benchmark, small and sharp
odile>1: great list. I'll turn it into a doc
""",
        ),
        S(
            base3 + timedelta(minutes=4),
            r"""
nyx: ## st=wave
nyx: back from holidays. did I miss anything
ilse>2: a paper got accepted and Harlow bought a hat
harlow: the hat is essential
""",
        ),
        S(
            base3 + timedelta(minutes=7),
            r"""
dax: heads up: the lab server's disk is at 97%. please delete old activation caches in /scratch
tomek>1: 300 GB of those are mine, sorry. deleting
dax: 61% now. thank you
brannoc: I'm adding a quota so this stops happening ## r=👍3
""",
        ),
    ]
    return sc


def general_fill(start: str, end: str) -> list[list[Line]]:
    """Short, mostly unthreaded chatter to make #general busy."""
    lines = [
        ("pjotr", "morning all"),
        ("dax", "is the wiki down for anyone else?"),
        ("brannoc", "+wiki is back"),
        ("kestrel", "reading group recording is in the drive"),
        ("sunniva", "anyone tried the new lens-kit cache format? 3x smaller on disk"),
        ("tomek", "loss spike at 3am again. it's always 3am"),
        ("mireille", "there's a nice proof sketch in the appendix of the patching paper btw, section C"),
        ("ilse", "does anyone have a good colormap for attention patterns that works in greyscale print?"),
        ("pjotr", "+viridis, always viridis"),
        ("nyx", "labelling tool has keyboard shortcuts now, j/k to move, 1-5 to rate"),
        ("harlow", "writing day. if I'm quiet it's because the intro is fighting back"),
        ("odile", "lab sync moved to 17:30 UTC today"),
        ("dax", "the 4090 box has a new SSD, caches load much faster"),
        ("brannoc", "pro tip: `nvidia-smi dmon` for a live view without the whole table"),
        ("kestrel", "control tasks are non-negotiable, I will die on this hill"),
        ("sunniva", "bread update: Backprop now makes bread that is, technically, good"),
        ("tomek", "smoothing the loss curve with a 0.99 EMA hides the spike, please don't"),
        ("mireille", "reviewing a paper that calls every latent 'monosemantic'. send help"),
        ("ilse", "the sink heads write a huge norm to BOS and basically nothing else"),
        ("harlow", "is there a lab template for paper figures? matplotlib rc file?"),
        ("pjotr", "+yes, lens-kit/plots/lab.mplstyle"),
        ("odile", "please fill the availability poll for the summer retreat"),
        ("zinnia", "the checklist has 41 items now. some of them are cursed"),
        ("rafe", "I trained my first SAE!! it's tiny and bad and I love it"),
        ("sunniva", "+Rafe that's how it starts"),
        ("dax", "throughput test done: 1.9x from fusing the encoder and the ReLU"),
        ("kestrel", "anyone else getting rate-limited by the model hub today?"),
        ("brannoc", "don't run `rm -rf` in /scratch without checking pwd, that's all I'm going to say"),
        ("nyx", "+what happened"),
        ("brannoc", "+nothing. nothing happened. (backups exist)"),
        ("tomek", "checkpoint every 5B tokens is ~600GB for Minnow-350M, we need more disk"),
        (
            "mireille",
            "friendly reminder that 'the model knows X' is a claim that needs an intervention, not just a probe",
        ),
        ("ilse", "reading group slides uploaded"),
        ("pjotr", "the eval harness has a --dry-run flag now, prints which prompts it would use"),
        ("odile", "new wiki page: how to write a results message (config, seed, plot, one-line takeaway)"),
        ("harlow", "my advisor read the grokking blog post. he liked it. I'm framing this moment"),
        ("zinnia", "slurm fairshare explained in the wiki, finally"),
        ("dax", "power cut at the colo last night, all jobs restarted from checkpoints"),
        ("sunniva", "who broke the dashboard? it shows latents from the wrong layer"),
        ("pjotr", "+that was me, fixed"),
        ("kestrel", "hot take: half of 'feature splitting' is just the SAE loss being happy to add latents"),
        ("sunniva", "+kestrel: that's why we did the random baseline"),
        ("nyx", "lunch break, back in 30"),
        ("tomek", "pike-box-2 free this afternoon if anyone wants it"),
        ("rafe", "is there a reading list for total beginners?"),
        ("odile", "+Rafe: the pinned reading list in research, start from the top"),
        ("mireille", "Thursday's paper has a subtle error in eq. 4, I'll explain in the session ## ed=900"),
        ("brannoc", "driver update tonight, expect 10 min downtime"),
        ("zinnia", "does lens-kit support models with rotary embeddings? asking for a friend (me)"),
        ("pjotr", "+yes since 0.4"),
        ("ilse", "Dropout the cat says hi"),
        ("harlow", "coffee count today: 4. the intro is done"),
        ("dax", "GPU temps are fine, the fan noise is just the new normal"),
        ("kestrel", "probe results look great which means something is wrong. checking"),
        ("kestrel", "+it was the label leak again. of course"),
        ("odile", "please don't share unpublished plots outside the lab without asking the author"),
        ("tomek", "who wants to pair on the checkpoint loader at 3pm?"),
        ("sunniva", "the SAE suite docs have a quickstart now"),
        ("nyx", "hit 2,000 labelled contexts today"),
        ("rafe", "thank you all for being so patient with questions"),
    ]
    lines += [
        (
            "feeder",
            'new this week on the lab blog: "Grokking, slowly" https://lanternfish-lab.example.org/blog/grokking-slowly',
        ),
        ("ilse", "does anyone know if the Lantern Room voice channel records automatically?"),
        ("odile", "+it doesn't, ask before recording"),
        ("dax", "who left a jupyter kernel holding 70GB on pike-box-2"),
        ("tomek", "+...me"),
        ("mireille", "new preprint on sink tokens looks relevant to Ilse's heads"),
        ("harlow", "weight decay is the answer to everything, change my mind"),
        ("kestrel", "+harlow: learning rate warmup"),
        ("zinnia", "TIL the Minnow tokenizer has 113 tokens that are just runs of dashes"),
        ("nyx", "+that explains the markdown-table latent"),
        ("sunniva", "SAE suite now logs dead fraction by default"),
        ("pjotr", "eval protocol v1 draft in the wiki, comments until Friday"),
        ("brannoc", "quota is live: 2 TB per person on /scratch"),
        ("rafe", "reading group was so good today, thanks Ilse"),
        ("odile", "retreat dates: the 14th to 16th, details to follow"),
        ("tomek", "the loss curve for the 350M run has a tiny bump at 120B tokens, data shard boundary?"),
        ("brannoc", "+yes, shard 41 is mostly code"),
        ("mireille", "if you cite the grokking post, cite the erratum too please"),
        ("ilse", "anyone want to co-present next reading group? the paper is long"),
        ("nyx", "+I can take sections 4-6"),
        ("kestrel", "new probe baseline: random directions with matched norm. embarrassingly strong"),
        ("dax", "minnow-box got a new PSU, it no longer sounds like a jet"),
        ("sunniva", "dashboards now show top-k activating contexts with token highlights"),
        ("pjotr", "+that makes labelling so much faster, thank you"),
        ("zinnia", "found a tokenizer bug where tabs become four spaces in one of our datasets"),
        ("odile", "+add it to the checklist. item 42?"),
        ("zinnia", "+item 42. fitting"),
        ("harlow", "does anyone have a LaTeX macro for 'L0' that doesn't look terrible"),
        ("mireille", "+\\mathrm{L}_0, and never look back"),
        ("rafe", "what does 'CE loss recovered' mean exactly?"),
        (
            "sunniva",
            "+how much of the LM loss increase from zero-ablating the layer is undone by splicing in the SAE reconstruction. 1.0 = perfect",
        ),
        ("rafe", "+got it, thanks!"),
        ("tomek", "loss curves from the retreat hackathon are in the drive, folder 'farmhouse'"),
        ("brannoc", "we're at 83% of the GPU budget for the year. plan accordingly"),
        ("kestrel", "the probes checklist draft has 12 items, reviewers wanted"),
        ("ilse", "+I'll review"),
        ("nyx", "labelled contexts hit 5,000 today \U0001f389"),
        ("odile", "+\U0001f389 Nyx you legend"),
        ("dax", "who's on pike-box-2? it's been idle with a booking for 6 hours"),
        ("harlow", "+me, sorry, my job died at startup. releasing it"),
    ]
    groups: list[list[tuple[str, str]]] = []
    for who, text in lines:
        if text.startswith("+") and groups:
            groups[-1].append((who, text[1:]))
        else:
            groups.append([(who, text)])
    s, e = utc(start), utc(end)
    span = (e - s).total_seconds()
    order = list(range(len(groups)))
    rng.shuffle(order)
    out = []
    for slot, gi in enumerate(order):
        g = groups[gi]
        t = s + timedelta(seconds=span * (slot + rng.random()) / len(groups))
        latest = max(JOINED[w] for w, _ in g)
        if latest > t.date().isoformat():
            t = utc(latest + " 20:00") + timedelta(days=rng.randrange(2, 20), minutes=rng.randrange(600))
        out.append(schedule(t, "\n".join(f"{w}: {x}" for w, x in g)))
    return out


LURKERS = [
    ("quietquark", "quietquark", "2023-02-11"),
    ("moss.and.matrices", "Moss", "2023-07-29"),
    ("ferrous_owl", "Ferrous Owl", "2024-04-03"),
    ("juniper.vale", "Juniper Vale", "2024-09-26"),
]


def extra_general_scenes() -> list[list[Line]]:
    out = []
    for uname, _disp, when in LURKERS:
        out.append(
            schedule(
                utc(when + " 13:00") + timedelta(minutes=rng.randrange(600)),
                f"{uname.replace('.', '').replace('_', '')}: ## sys=join",
            )
        )
    bookings = [
        "2022-03-04",
        "2022-05-20",
        "2022-10-07",
        "2023-02-03",
        "2023-06-23",
        "2023-10-13",
        "2024-02-09",
        "2024-11-08",
    ]
    for i, d in enumerate(bookings):
        who = ["tomek", "sunniva", "harlow", "kestrel", "brannoc", "tomek", "zinnia", "sunniva"][i]
        emb = "gpu_book" if i % 2 == 0 else "gpu_book2"
        out.append(
            schedule(
                utc(d + " 10:00") + timedelta(minutes=rng.randrange(400)),
                f"bot: ## slash=gpu-book:{who} ; e={emb}",
            )
        )
    topics = [
        "Linear Probes Lie (Sometimes)",
        "A Field Guide to Activation Patching",
        "Whitespace Is a Feature",
        "Where Attention Goes to Rest",
        "Dictionary Width and the Splitting of Features",
        "Crosscoders Across Checkpoints",
        "Induction Heads Revisited",
        "our own workshop paper, dry run",
    ]
    dates = [
        "2022-07-14",
        "2022-10-20",
        "2023-03-02",
        "2024-01-18",
        "2024-07-11",
        "2024-08-08",
        "2024-10-03",
        "2024-11-28",
    ]
    for d, topic in zip(dates, topics, strict=True):
        out.append(
            schedule(
                utc(d + " 16:00"),
                f"bot: \u23f0 Reading group in 1 hour: **{topic}**. Lantern Room voice channel. ## r=\U0001f41f{rng.randrange(2, 6)}",
            )
        )
    return out


def announcement_scenes() -> list[list[Line]]:
    S = schedule
    return [
        S(
            "2021-11-20 18:00",
            r"""
odile: **Welcome to Lanternfish Lab** \U0001F41F\nWe are an open, volunteer-run research group poking at the insides of small language models.\n• Be kind, be specific, cite your sources.\n• Post results with config + seed + plot.\n• Reading group: Thursdays 17:00 UTC.\n• Everything we make is open: code in lens-kit, notes in the wiki. ## pin ; id=welcome ; r=\U0001F41F9 ❤️4
odile: ## sys=pin:welcome ; g=20
""",
        ),
        S(
            "2021-12-01 12:00",
            r"""
brannoc: Reading group starts tomorrow! First paper is a classic on probing; slides by Pjotr. Lantern Room voice channel, 17:00 UTC ## r=\U0001F389 5
""",
        ),
        S(
            "2022-02-28 18:00",
            r"""
pjotr: @everyone **lens-kit is public** \U0001F389 Hooks, caches, patching helpers, MIT licensed: https://git.lanternfish.example/lanternfish-lab/lens-kit ## e=repo ; r=\U0001F389 8 :lanternfish:5
""",
        ),
        S(
            "2022-06-01 16:00",
            r"""
odile: We hit 25 members! Thank you for making this a good place ## st=party ; r=❤️7
""",
        ),
        S(
            "2022-10-14 18:30",
            r"""
harlow: New blog post: **Grokking, slowly: a reproduction diary** https://lanternfish-lab.example.org/blog/grokking-slowly ## e=blog_grok ; r=\U0001F9E0 6
""",
        ),
        S(
            "2023-01-10 09:00",
            r"""
brannoc: **Compute windows Q1 2023**\npike-box-2: long runs (>12h) Fri 18:00 – Mon 08:00 UTC only\nminnow-box: anything, max 8h per booking\nBook with `/gpu-book` in any channel. Unbooked runs get killed, sorry not sorry ## pin ; id=compute_q1 ; r=✅6
""",
        ),
        S(
            "2023-06-05 10:00",
            r"""
odile: Heads-up: Discord's username change is rolling out. Your old name#1234 becomes a new unique @handle; your display name stays. Old logs and exports will show the old names ## r=\U0001F440 4
""",
        ),
        S(
            "2023-07-03 09:30",
            r"""
odile: The 2023 reading list is pinned in {#research}. Start there if you are new ## r=\U0001F64F 5
""",
        ),
        S(
            "2023-09-18 15:00",
            r"""
sunniva: SAE tutorial from the summer school is online: notebook + recording in the wiki. Trains a tiny SAE in under 10 minutes on a free GPU ## r=\U0001F525 7
""",
        ),
        S(
            "2024-01-05 17:00",
            r"""
bot: ## e=reading_q1 ; r=\U0001F41F6
""",
        ),
        S(
            "2024-02-20 12:00",
            r"""
odile: Open Interp Commons #announcements ## sys=follow
""",
        ),
        S(
            "2024-02-27 15:30",
            r"""
commons: **Call for shared eval sets** — we are collecting small, licence-clean eval sets for interpretability claims. Submissions open until March 31: https://commons.example.org/posts/shared-evals ## e=commons ; id=crosspost ; xpost
""",
        ),
        S(
            "2024-03-25 09:00",
            r"""
odile: Code of conduct updated (two new sections: credit for ideas, and sharing unpublished results). Please read it in the wiki; nothing dramatic, just writing down what we already do ## r=\U0001F44D 6 ; ed=600
""",
        ),
        S(
            "2024-06-25 17:00",
            r"""
bot: ## e=reading_q3 ; r=\U0001F41F8
""",
        ),
        S(
            "2024-09-12 14:00",
            r"""
odile: New: the **paper-club** forum. One post per paper, title = paper title. Summaries, questions and hot takes go inside the post, not in {#general} ## r=\U0001F389 6
""",
        ),
        S(
            "2024-12-09 14:30",
            r"""
odile: @everyone Our workshop paper **"Children Before Parents: Feature Splitting Over Training"** was accepted! \U0001F389 Huge thanks to Sunniva, Tomek, Brannoc, Nyx and everyone who read drafts. Camera-ready due Jan 20 ## id=announce_paper ; pin ; r=\U0001F389 11 ❤️6 :lanternfish:7
odile: ## sys=pin:announce_paper ; g=15
""",
        ),
        S(
            "2022-04-04 09:00",
            r"""
brannoc: New channel: {#codehelp}. Minimal repro + versions + full traceback, please ## r=\U0001F44D 5
""",
        ),
        S(
            "2022-08-15 17:00",
            r"""
odile: Reading group is taking August off. Back on Sept 1 with a double session on grokking ## r=\U0001F4C8 3
""",
        ),
        S(
            "2022-12-20 12:00",
            r"""
odile: Holiday note: the GPU boxes stay up over the break but nobody is on call. If something breaks, it stays broken until Jan 3 \U0001F62C ## r=\U0001F602 6
""",
        ),
        S(
            "2023-04-24 18:00",
            r"""
pjotr: lens-kit 0.4: rotary embeddings, activation caching to disk, dead-latent resampling on by default. Changelog in the repo ## r=\U0001F525 6 :gpu_go_brrr:3
""",
        ),
        S(
            "2023-10-30 11:00",
            r"""
brannoc: **Compute windows Q4 2023**: pike-box-2 long runs now Thu 18:00 – Mon 08:00 UTC (one extra night). minnow-box unchanged ## r=✅4
""",
        ),
        S(
            "2024-04-15 16:00",
            r"""
odile: Summer retreat: 14–16 June, a farmhouse with bad wifi and good coffee. Fill the poll in {#general} by May 1 ## r=\U0001F389 7
""",
        ),
        S(
            "2024-08-01 09:30",
            r"""
sunniva: Lab blog: **Children before parents** (preprint + code). Thread with all the plots in {#research} ## r=\U0001F9E0 8 \U0001F525 4
""",
        ),
        S(
            "2024-11-12 13:00",
            r"""
brannoc: Storage quota incoming: 2 TB per person on /scratch from Dec 1. Old activation caches will be archived, not deleted ## r=\U0001F44D 5 \U0001F62C 2
""",
        ),
        S(
            "2025-01-05 16:00",
            r"""
sunniva: The Lanternfish SAE suite goes open-source on **Feb 1**: trained dictionaries for Minnow-125M/350M, dashboards, eval sets, and the training code. Docs volunteers welcome ## r=\U0001F525 9 \U0001F440 3
""",
        ),
    ]


FORUM_POSTS = [
    (
        "forum_ind",
        "Induction Heads Revisited: Formation Under Curriculum",
        "2024-09-18 10:00",
        r"""
ilse: Posting this one since it's close to Tomek's checkpoint work. Claim: induction heads form later and more abruptly when short-context data dominates early training https://papers.example.net/abs/2409.92008 ## e=forum_ind
tomek>1: the curriculum angle is new. our data mix has a fixed context length throughout, so we can't test it directly
mireille: their Figure 3 has no seeds. one run per curriculum
ilse>3: yes, that's my main complaint too. the effect size is large though, 1.5B vs 3.5B tokens
kestrel: do they control for the number of repeated sequences seen? induction needs repeats
ilse>5: partially. they count exact repeats but not near-duplicates
tomek: we could replicate cheaply on Minnow-125M: two curricula, 3 seeds, prefix-matching every 250M tokens
odile>7: do it, that's a nice small project for someone new. {@rafe}?
rafe: yes!! I'd love to
tomek>9: I'll pair with you on the checkpoint loader
rafe: first run started, curriculum A seed 0 ## g=604800
rafe: results: formation at 2.9B (A) vs 3.6B (B) tokens, 3 seeds each, the gap is real but smaller than theirs ## g=1209600 ; r=\U0001F389 5
mireille>12: smaller but real is the most common replication outcome. nice work Rafe
ilse: write it up as a comment on the paper page? they asked for replications
rafe>14: drafting now ## r=\U0001F44D 3
""",
    ),
    (
        "forum_tok",
        "Are tokenizers hidden variables in probing?",
        "2024-12-03 19:00",
        r"""
zinnia: Not a single paper, more a discussion post: collecting papers where a tokenizer artefact changed a probing conclusion. Starting list: Whitespace Is a Feature (2023), our own checklist, and the newline-merge children from the splitting thread
nyx>1: add the byte-fallback emoji case, that one was ours too
pjotr: I'd argue the tokenizer is not hidden, it's just unreported. every probe paper should publish token-level datasets ## ed=75
zinnia>3: agreed, it's the checklist's item 1
kestrel: counterpoint: token-level datasets make papers harder to read. a summary table of artefacts per dataset is enough
pjotr>5: the table is not enough if nobody can check it
harlow: UMAP of latents coloured by "starts with space" vs not, for context. it separates almost perfectly ## a=umap ; r=\U0001F92F 4
zinnia>7: that's a great figure for the intro
mireille: careful with UMAP separation claims, check with a linear classifier first
harlow>9: linear probe on the same split: 97.8% accuracy. so yes, it's linearly there
zinnia: adding this to the benchmark idea for 2025
nyx: count me in for labelling
odile: good thread. let's turn it into a short position paper with the checklist as appendix
zinnia>13: on it ## r=\U0001F41F 5
""",
    ),
    (
        "forum_grok",
        "Grokking Without Weight Decay: A Reading",
        "2025-04-22 16:30",
        r"""
harlow: Discussion of the new preprint arguing that grokking happens without explicit weight decay, driven by the optimizer's implicit bias instead. Summary + my notes below
harlow: their setup: modular addition p=97, AdamW with wd=0 but eps=1e-8 vs 1e-6. grokking only with the smaller eps
mireille>2: so the claim is really about Adam's normalisation at tiny gradients, not about regularisation per se
harlow: yes. which fits our sweep: wd=0.3 never grokked within 200k steps, but we used eps=1e-6 by default
tomek>4: you could rerun the wd=0.3 config with eps=1e-8 in an afternoon
harlow: running now on the 4090
harlow: wd=0.3, eps=1e-8: grokked at 88k steps. with eps=1e-6: still nothing at 200k ## g=18000 ; r=\U0001F92F 6 \U0001F525 3
mireille>7: that is a clean replication of their main claim on our code. nice
rafe: so the old blog post table was right but for a partly different reason?
harlow>9: exactly. adding an erratum note to the post. honesty is cheaper than confusion
odile: appreciated. link the erratum here when it's up
harlow: erratum is up https://lanternfish-lab.example.org/blog/grokking-slowly#erratum-2025 ## g=86400 ; r=\U0001F64F 4
sunniva: this forum post is a model of how to do it
""",
    ),
]


def dm_scene() -> list[Line]:
    return schedule(
        "2024-06-10 20:15",
        r"""
odile: hey, quick one: can you own the compute budget spreadsheet from July? I'm drowning
brannoc>1: yes, send me edit access
odile: done. the 2024 budget report quotes the November sweep message btw, the one with the GPU count typo
brannoc: ugh, that message says 4 A100s, it was 8. I'll edit it so the report stops quoting the wrong number ## g=259200
odile>4: perfect, thanks
brannoc: also: should we ask the Commons folks about hosting the eval sets? ## g=1209600
odile: yes, I'll write to them after the retreat
brannoc: retreat room booking confirmed for the 14th-16th ## g=2592000
odile: \U0001F389
odile: ## fwd=announce_paper ; at=2024-12-09 15:02:41
brannoc>10: I still can't believe the reviewers liked the turtles slide
odile: the turtles slide carried us
brannoc: Feb 1 release checklist: docs (kestrel), eval sets (pjotr), dashboards (sunniva), licence review (me) ## at=2025-01-06 09:14 ; ed=5400
odile>13: add a CITATION.cff, people keep asking how to cite lens-kit
brannoc: added
odile: are you ok with me nominating you for the steward role next year? ## at=2025-09-15 18:20
brannoc>16: if it comes with a better chair, yes
odile: it comes with more spreadsheets
brannoc: I knew it
brannoc: the Pike-1B crosscoder run finished, 71% shared latents between 50B and 500B tokens ## at=2025-10-28 13:05
odile>20: that's higher than Minnow. bigger models keep more?
brannoc: or the SAE is better at that scale. need the random baseline first
odile: always the random baseline
brannoc: always ## r=\U0001F602 1
odile: merry end of year, see you in January ## at=2025-12-19 21:40
""",
    )


# ---------------------------------------------------------------------------
# writing export files
# ---------------------------------------------------------------------------

FALLBACK = {
    "GuildTextChat": "Text",
    "GuildNews": "News",
    "DirectTextChat": "Private",
    "DirectGroupTextChat": "Group",
}
_BAD = re.compile(r'[/\\:*?"<>|]')


@dataclass
class ChanSpec:
    id: int
    type: str
    name: str
    topic: str | None
    parent_id: int | None  # category id, or parent channel id for threads / forum posts
    parent_name: str | None
    key: str  # channel key used for per-channel counts


def chan_spec(key: str) -> ChanSpec:
    c = CHANNELS[key]
    return ChanSpec(
        c.id, c.type, c.name, c.topic, c.parent_id, c.parent if c.parent in CATEGORIES else None, key
    )


@dataclass
class FileInfo:
    path: str
    version: str
    channel: ChanSpec
    message_ids: list[int]
    os: str


FILES: list[FileInfo] = []


def ticks7(t: datetime) -> int:
    return t.microsecond * 10 + rng.randrange(1, 10)


def export(
    folder: str,
    era: Era,
    exported_at: datetime,
    ch: ChanSpec,
    msgs: list[Msg],
    *,
    dm: bool = False,
    partition: int | None = None,
    overrides: dict[int, dict] | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[FileInfo]:
    guild_name = "Direct Messages" if dm else GUILD_NAME
    # file name (DCE default template)
    if era.category == "parent":
        middle = ch.parent_name
    elif era.category == "fallback":
        middle = ch.parent_name or FALLBACK[ch.type]
    else:
        middle = ch.parent_name or FALLBACK[ch.type]
    parts_ = [guild_name] + ([middle] if middle else []) + [f"{ch.name} [{ch.id}]"]
    base = " - ".join(_BAD.sub("_", p) for p in parts_)

    def _d(t: datetime) -> str:
        return (t + timedelta(minutes=era.tz(t))).strftime("%Y-%m-%d")

    if after and before:
        base += f" ({_d(after)} to {_d(before)})"
    elif after:
        base += f" (after {_d(after)})"
    elif before:
        base += f" (before {_d(before)})"
    out_dir = HERE / folder
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = ExportCtx(era, base + ".json", out_dir, exported=exported_at, channel_id=ch.id)

    if dm:
        guild = {
            "id": "0",
            "name": "Direct Messages",
            "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
        }
    else:
        guild = {"id": str(GUILD_ID), "name": GUILD_NAME, "iconUrl": ctx.asset(GUILD_ICON)}
    chan: dict[str, Any] = {"id": str(ch.id), "type": ch.type}
    if era.category == "parent":
        chan["categoryId"] = str(ch.parent_id) if ch.parent_id else None
        chan["category"] = ch.parent_name
    elif era.category == "fallback":
        chan["categoryId"] = str(ch.parent_id) if ch.parent_id else "0"
        chan["category"] = ch.parent_name or FALLBACK[ch.type]
    else:
        chan["category"] = ch.parent_name or FALLBACK[ch.type]
    chan["name"] = ch.name
    chan["topic"] = ch.topic
    header: dict[str, Any] = {
        "guild": guild,
        "channel": chan,
        "dateRange": {
            "after": fmt_ts(after, era.tz) if after else None,
            "before": fmt_ts(before, era.tz) if before else None,
        },
    }
    if era.exported_at:
        header["exportedAt"] = fmt_ts(exported_at, era.tz, ticks=ticks7(exported_at))

    msgs = sorted(msgs, key=lambda m: m.id)
    rendered = [render_msg(ctx, m, dm, (overrides or {}).get(m.id)) for m in msgs]
    chunks = (
        [rendered[i : i + partition] for i in range(0, len(rendered), partition)] if partition else [rendered]
    )
    infos = []
    for i, chunk in enumerate(chunks):
        name = base + (f" [part {i + 1}]" if i else "") + ".json"
        doc = dict(header)
        doc["messages"] = chunk
        doc["messageCount"] = len(chunk)
        (out_dir / name).write_text(dce_dumps(doc), encoding="utf-8", newline="\n")
        info = FileInfo(
            f"{folder}/{name}",
            era.version,
            ch,
            [int(x["id"]) for x in chunk],
            {"\\": "Windows", "/": "Linux"}.get(era.media or "", "-"),
        )
        infos.append(info)
        FILES.append(info)
    for rel, data in ctx.media_files.items():
        p = out_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return infos


def _att_url(channel_id: int, a: dict, exported_at: datetime) -> str:
    url = f"https://cdn.discordapp.com/attachments/{channel_id}/{a['id']}/{a['fileName']}"
    if exported_at >= utc("2023-12-01 00:00"):  # signed CDN URLs
        issued = int(exported_at.timestamp()) - 3600
        hm = hashlib.sha256(f"{a['id']}-{issued}".encode()).hexdigest()
        url += f"?ex={issued + 86400:x}&is={issued:x}&hm={hm}&"
    return url


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

EDIT_OLD_TEXT = "Sweep launched: 12 configs on 4 A100s (l1 x width x layer), ETA Friday. config in lens-kit/configs/sweep-nov.yaml"
EDIT_NEW_TEXT = (
    "Sweep launched: 12 configs on 8 A100s (l1 x width x layer), ETA Friday. config in lens-kit/configs/sweep-nov.yaml\n"
    "(edit: it was 8 GPUs, not 4 \u2014 the 2024 budget report quotes this message)"
)
THREAD_NAME = "Feature splitting at 16k vs 65k"


def main() -> dict[str, Any]:
    for d in HERE.glob("*-export"):
        shutil.rmtree(d)

    offtopic = build_channel("offtopic", offtopic_scenes())
    codehelp = build_channel("codehelp", codehelp_scenes())
    ann = build_channel("announcements", announcement_scenes())
    old_sc, new_sc = research_scenes()
    old_cutoff = utc("2024-03-01 00:00")
    research_old = build_channel("research", old_sc + research_fill(utc("2024-02-27 12:00")))
    assert all(m.time < old_cutoff for m in research_old)
    research_new = build_channel("research", new_sc)
    general = build_channel(
        "general",
        general_scenes() + general_fill("2022-01-25 10:00", "2025-01-12 12:00") + extra_general_scenes(),
    )

    # the Discord thread in #research
    starter = LABELS["thread_starter"]
    created = next(m for m in research_new if m.type == "ThreadCreated")
    research_id = CHANNELS["research"].id
    thread_spec = ChanSpec(
        starter.id, "GuildPublicThread", THREAD_NAME, None, research_id, "research", "research-thread"
    )
    t21 = Msg(
        snowflake(created.time + timedelta(milliseconds=180)),
        "research-thread",
        starter.author,
        "",
        type="21",
        ref={"messageId": str(starter.id), "channelId": str(research_id), "guildId": str(GUILD_ID)},
    )
    ALL_MSGS[t21.id] = t21
    thread = [t21, *build_channel("research-thread", thread_scenes())]

    # forum posts (the forum itself cannot be exported)
    forum = CHANNELS["paperclub"]
    posts = []
    for key, title, start, src in FORUM_POSTS:
        msgs = build_channel(key, [schedule(start, src)])
        posts.append(
            (ChanSpec(msgs[0].id, "GuildPublicThread", title, None, forum.id, forum.name, key), msgs)
        )

    dm_id = snowflake(utc("2021-11-10 21:03"))
    dm_spec = ChanSpec(dm_id, "DirectTextChat", USERS["brannoc"].username, None, None, None, "dm")
    dm = build_channel("dm", [dm_scene()])

    # the edit: first edited 95 s after posting (typo fix), edited again in July 2024
    edited = LABELS["edited_msg"]
    first_edit = edited.edited
    edited.text = EDIT_NEW_TEXT
    edited.edited = utc("2024-07-03 08:41:17") + timedelta(microseconds=305513)
    deleted = LABELS["deleted_msg"]

    # ---- exports -------------------------------------------------------
    export("2022-03-export", ERA_226, utc("2022-03-21 20:14:09"), chan_spec("offtopic"), offtopic)
    export("2023-06-export", ERA_240, utc("2023-06-25 11:02:44"), chan_spec("codehelp"), codehelp)
    export(
        "2024-03-export",
        ERA_2423,
        utc("2024-03-04 09:12:31") + timedelta(microseconds=774120),
        chan_spec("research"),
        research_old,
        overrides={edited.id: {"text": EDIT_OLD_TEXT, "edited": first_edit}},
    )
    when = utc("2025-01-14 15:40:02") + timedelta(microseconds=118734)
    research_all = [m for m in research_old if m.id != deleted.id] + research_new
    export("2025-01-export", ERA_244, when, chan_spec("research"), research_all)
    export("2025-01-export", ERA_244, when + timedelta(seconds=21), thread_spec, thread)
    export(
        "2025-01-export", ERA_244, when + timedelta(seconds=48), chan_spec("general"), general, partition=100
    )
    export("2025-01-export", ERA_244, when + timedelta(seconds=95), chan_spec("announcements"), ann)
    for i, (spec, msgs) in enumerate(posts):
        export(
            "2025-07-export",
            ERA_246,
            utc("2025-07-02 19:20:40") + timedelta(seconds=9 * i, microseconds=440017),
            spec,
            msgs,
        )
    export(
        "2026-03-export",
        ERA_247,
        utc("2026-03-05 10:31:55") + timedelta(microseconds=90211),
        dm_spec,
        dm,
        dm=True,
        after=utc("2024-05-31 22:00"),
    )

    return collect_facts(edited, first_edit, deleted, starter, created, t21, forum, posts, dm_id)


def _local_attachment_example() -> tuple[str, str, str, str]:
    for f in FILES:
        doc = json.loads((HERE / f.path).read_text(encoding="utf-8"))
        for m in doc["messages"]:
            for a in m["attachments"]:
                if not a["url"].startswith("http") and "\\" in a["url"] and a["fileName"] == "diagram.png":
                    return f.path, m["id"], a["url"], a["fileName"]
    raise AssertionError("no local attachment found")


def collect_facts(edited, first_edit, deleted, starter, created, t21, forum, posts, dm_id) -> dict[str, Any]:
    per_channel: dict[str, set[int]] = {}
    names: dict[str, str] = {}
    all_ids: set[int] = set()
    for f in FILES:
        per_channel.setdefault(str(f.channel.id), set()).update(f.message_ids)
        names[str(f.channel.id)] = f.channel.name
        all_ids.update(f.message_ids)
    file_doc = {f.path: json.loads((HERE / f.path).read_text(encoding="utf-8")) for f in FILES}
    for path, doc in file_doc.items():
        assert doc["messageCount"] == len(doc["messages"]), path
        for m in doc["messages"]:
            assert sf_time(int(m["id"])) == sf_time(int(m["id"]))
    # files with local media, missing-reply check
    missing_reply = LABELS_BY_TEXT("kestrel", "yeah that link is dead now")
    assert missing_reply.reply_to not in all_ids
    media_paths = sorted(
        str(p.relative_to(HERE)) for p in HERE.glob("*-export/**/*") if p.is_file() and "_Files" in str(p)
    )
    media_bytes = sum((HERE / p).stat().st_size for p in media_paths)
    total_bytes = media_bytes + sum((HERE / f.path).stat().st_size for f in FILES)
    att_file, att_msg, att_path, att_name = _local_attachment_example()
    pinned = []
    for f in FILES:
        for m in file_doc[f.path]["messages"]:
            if m["isPinned"]:
                pinned.append((m["id"], f.channel.name, f.path))
    pin_sys = sorted(
        {
            (m["id"], m["reference"]["messageId"])
            for f in FILES
            for m in file_doc[f.path]["messages"]
            if m["type"] == "ChannelPinnedMessage"
        },
        key=lambda x: int(x[0]),
    )
    general_parts = [f for f in FILES if f.channel.key == "general"]
    return {
        "files": [
            {
                "path": f.path,
                "version": f.version,
                "channel_id": str(f.channel.id),
                "channel": f.channel.name,
                "type": f.channel.type,
                "messageCount": len(f.message_ids),
                "media": f.os,
            }
            for f in FILES
        ],
        "guild_id": str(GUILD_ID),
        "edited": {
            "id": str(edited.id),
            "channel_id": str(CHANNELS["research"].id),
            "old_content": EDIT_OLD_TEXT,
            "new_content": EDIT_NEW_TEXT,
            "old_timestampEdited_utc": first_edit.isoformat(),
            "new_timestampEdited_utc": edited.edited.isoformat(),
        },
        "deleted": {
            "id": str(deleted.id),
            "channel_id": str(CHANNELS["research"].id),
            "content": render_plain(deleted.text),
        },
        "missing_reply": {
            "id": str(missing_reply.id),
            "channel_id": str(CHANNELS["general"].id),
            "missing_target_id": str(missing_reply.reply_to),
        },
        "thread": {
            "id": str(starter.id),
            "name": THREAD_NAME,
            "starter_message_id": str(starter.id),
            "thread_created_message_id": str(created.id),
            "type21_message_id": str(t21.id),
            "parent_channel_id": str(CHANNELS["research"].id),
            "parent_channel": "research",
        },
        "forum": {
            "id": str(forum.id),
            "name": forum.name,
            "posts": [
                {"id": str(spec.id), "title": spec.name, "messages": len(msgs)} for spec, msgs in posts
            ],
        },
        "partitioned": {
            "channel_id": str(CHANNELS["general"].id),
            "channel": "general",
            "parts": [
                {
                    "path": f.path,
                    "messageCount": len(f.message_ids),
                    "first_id": str(f.message_ids[0]),
                    "last_id": str(f.message_ids[-1]),
                }
                for f in general_parts
            ],
        },
        "pinned": [{"id": i, "channel": c, "file": p} for i, c, p in pinned],
        "pin_system_messages": [{"id": a, "pinned_message_id": b} for a, b in pin_sys],
        "local_attachment": {
            "file": att_file,
            "message_id": att_msg,
            "url": att_path,
            "fileName": att_name,
            "on_disk": str(Path(att_file).parent / att_path.replace("\\", "/")),
        },
        "forward": {
            "id": str(next(m.id for m in ALL_MSGS.values() if m.forwarded)),
            "forwarded_message_id": str(LABELS["announce_paper"].id),
        },
        "crosspost_id": str(LABELS["crosspost"].id),
        "dm_channel_id": str(dm_id),
        "total_distinct_message_ids": len(all_ids),
        "per_channel": {
            cid: {"name": names[cid], "distinct_messages": len(ids)} for cid, ids in per_channel.items()
        },
        "media_files": len(media_paths),
        "total_bytes": total_bytes,
    }


def LABELS_BY_TEXT(author: str, prefix: str) -> Msg:
    hits = [m for m in ALL_MSGS.values() if m.author == author and m.text.startswith(prefix)]
    assert len(hits) == 1, (author, prefix, len(hits))
    return hits[0]


def render_plain(text: str) -> str:
    return MENTION_RE.sub(lambda m: "@" + USERS[m.group(1)].display, text)


# ---------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------

README_INTRO = """# Sample exports: "Lanternfish Lab" (fictional)

Everything in this folder is **invented** and produced by `generate.py` (stdlib only, seeded,
no network). Re-run `python sample_exports/generate.py` to rewrite the `*-export/` folders and
this README; the output is byte-for-byte deterministic.

## The community

**Lanternfish Lab** is a fictional open research group that studies the insides of small language
models ("Minnow-125M/350M", "Pike-1B"): logit lens, probing with control tasks, activation
patching, induction heads, grokking, sparse autoencoders (SAEs), feature splitting, crosscoders,
tokenizer artefacts. It runs a Thursday reading group, shares two GPU boxes (`pike-box-2`,
`minnow-box`) booked through a bot, and keeps a small tool library, *lens-kit*.

People (username / display name): `odile.mr` / Odile Marr-Ruiz (steward), `brannoc` / Brannoc Ilvey,
`sunnyfeat` / Sunniva Falk, `kestrel_ai` / kestrel, `pjotr.vh` / Pjotr van Hale, `mireille_t` /
Mireille Tsang-Hollis, `dax0r` / dax, `leaf.on.wind` / Ilse Quarrington, `tomasz.grid` / Tomek Gridley,
`nyx_the_probe` / Nyx, `harlow.b` / Harlow Bexley, `zinnia.codes` / Zinnia Oduya, `rafe_w` / Rafe
Winterbourne; bots `Lanternbot#4471` (GPU booking via `/gpu-book`, reading-group reminders) and
`arXiv Feeder#0918` (paper link cards); a followed-channel webhook "Open Interp Commons #announcements".
Before the 2023 username migration several people had legacy names with discriminators
(e.g. `OdileMR#4821`, `PjotrVH#5530`); old-era files show those.

Distinctive phrases useful for search tests: "the tokenizer ate our whitespace again",
"grokking plateau at step 41k", "children before parents", "it's turtles", "Backprop" (a sourdough
starter), "Dropout" (a cat), "sic transit gloria discriminator".

## What each file demonstrates

* `2022-03-export/` DCE **2.26** (old era): only `category` (name), no `categoryId`, author without
  `nickname`/`color`, `mentions[].discriminator` is a **number**, Unicode emoji `id: null`, no
  `stickers`, no `roles`, no `exportedAt`, timestamps `+00:00` with trimmed fractions, content
  mentions as `@username`, twemoji PNG URLs, embed thumbnail = original URL.
* `2023-06-export/` DCE **2.40**: `#code-help` has no parent category, so the fallback
  `categoryId: "0"`, `category: "Text"` is used (also in the file name). Mixed old/new usernames
  (some people had not migrated yet), emoji `id: ""` with `code`, no `roles`, no reaction `users`.
  Code blocks (```python, ```bash, ```yaml) and `inline code`.
* `2024-03-export/` DCE **2.42.3**, exporter in Europe/Berlin (`+01:00`/`+02:00` per message, DST
  aware): the OLDER export of `#research` (contains the later-deleted message, the edited message
  with its first edit).
* `2025-01-export/` DCE **2.44**, exporter on **Windows** in America/New_York (`-05:00`/`-04:00`),
  with `--media`: assets are relative paths with `\\\\` separators under `<export file>_Files/`;
  some downloads "failed" so those keep their `cdn.discordapp.com` / proxy URLs. Contains the NEWER
  `#research` export (edit + deletion + appended messages), the `#research` thread, `#general`
  partitioned with `-p 100` into three parts, and `#announcements` (GuildNews: pinned posts,
  channel-follow message type `"12"`, a crosspost with a foreign `reference`, a Lottie sticker).
  `inlineEmojis` on messages and embeds; reaction `users` with `color`.
* `2025-07-export/` DCE **2.46**, Linux with `--media` (`/` separators): three forum posts
  (`GuildPublicThread`, `categoryId` = the forum channel, `category` = "paper-club"). The forum
  itself is not exported (DCE cannot). A `?` in a post title became `_` in the file name. The first
  message of each post has the same id as the post.
* `2026-03-export/` DCE **2.47**, Berlin: a DM (`guild.id "0"`, "Direct Messages",
  `DirectTextChat`, `categoryId`/`category` null) exported with `--after 2024-06-01`, containing a
  **forward** (`reference.type "Forward"` + `forwardedMessage`) and replies with
  `reference.type "Default"`.

Message types present: `Default`, `Reply`, `GuildMemberJoin` ("Joined the server."),
`ThreadCreated` ("Started a thread."), `ChannelPinnedMessage` ("Pinned a message."), `"8"` (boost,
empty content), `"12"` (channel follow), `"20"` (slash-command response with `interaction`),
`"21"` (thread starter inside the thread file, empty content, reference to the parent message).

Notes and caveats:
* Ids are fictional 18-19 digit snowflakes; `(id >> 22) + 1420070400000` ms equals each message's
  timestamp (after converting the offset to UTC).
* The same message appears with **different offsets** in the two `#research` exports (Berlin vs
  New York); deduplicate by id, not by timestamp string.
* The type `"21"` message in the thread has its own id (not the thread id); the thread id equals the
  starter message in `#research`, and the `ThreadCreated` message there has
  `reference.channelId` = thread id and `reference.messageId` = null.
* Replies usually list the replied-to author in `mentions` even though `content` has no `@`.
* `ChannelPinnedMessage` references have `guildId: null`.
"""


def write_readme(f: dict[str, Any]) -> str:
    L = [
        README_INTRO,
        "## FACTS (generated; tests may rely on these)\n",
        "<!-- generated by generate.py; do not edit by hand -->\n",
    ]
    L.append(f"* Guild: **{GUILD_NAME}**, id `{f['guild_id']}`\n")
    L.append("### Files\n")
    L.append("| file | DCE | media | channel id | channel | type | messageCount |")
    L.append("|---|---|---|---|---|---|---|")
    for x in f["files"]:
        L.append(
            f"| `{x['path']}` | {x['version']} | {x['media']} | `{x['channel_id']}` | {x['channel']} | {x['type']} | {x['messageCount']} |"
        )
    e = f["edited"]
    L += [
        "",
        "### Key ids",
        "",
        "| fact | value |",
        "|---|---|",
        f"| edited message id (in `#research`, both exports) | `{e['id']}` |",
        f"| edited: content in 2024-03 export | `{e['old_content']}` |",
        f"| edited: content in 2025-01 export | `{json.dumps(e['new_content'], ensure_ascii=False)[1:-1]}` |",
        f"| edited: timestampEdited (UTC) old / new | `{e['old_timestampEdited_utc']}` / `{e['new_timestampEdited_utc']}` |",
        f"| deleted message id (in 2024-03 `#research`, missing from 2025-01 export inside its id range) | `{f['deleted']['id']}` |",
        f"| reply whose target is in no export (`#general`) | `{f['missing_reply']['id']}` -> missing `{f['missing_reply']['missing_target_id']}` |",
        f"| thread id = starter message id (in `#research`) | `{f['thread']['id']}` |",
        f"| thread name | {f['thread']['name']} |",
        f"| ThreadCreated message id (in `#research`) | `{f['thread']['thread_created_message_id']}` |",
        f'| type "21" message id (in the thread file) | `{f["thread"]["type21_message_id"]}` |',
        f"| thread parent channel | `{f['thread']['parent_channel_id']}` (#research) |",
        f"| forum channel id (`paper-club`, never exported) | `{f['forum']['id']}` |",
    ]
    for p in f["forum"]["posts"]:
        L.append(f"| forum post id: {p['title']} | `{p['id']}` ({p['messages']} messages) |")
    pc = f["partitioned"]
    L.append(f"| partitioned channel (`#general`, `-p 100`) | `{pc['channel_id']}` |")
    for p in pc["parts"]:
        L.append(
            f"| part `{Path(p['path']).name}` | {p['messageCount']} messages, ids `{p['first_id']}`..`{p['last_id']}` |"
        )
    for p in f["pinned"]:
        L.append(f"| pinned message in #{p['channel']} | `{p['id']}` (`{Path(p['file']).parent}`) |")
    for p in f["pin_system_messages"]:
        L.append(f"| ChannelPinnedMessage `{p['id']}` | references `{p['pinned_message_id']}` |")
    la = f["local_attachment"]
    L += [
        f"| message with local media attachment | `{la['message_id']}` in `{la['file']}` |",
        f"| its attachment url (as written in JSON) | `{la['url']}` |",
        f"| the file on disk (relative to sample_exports/) | `{la['on_disk']}` |",
        f"| forward (DM, 2.47) | `{f['forward']['id']}` forwards `{f['forward']['forwarded_message_id']}` |",
        f"| crosspost from a followed channel (#announcements) | `{f['crosspost_id']}` |",
        f"| DM channel id | `{f['dm_channel_id']}` |",
        f"| **total distinct message ids across all files** | **{f['total_distinct_message_ids']}** |",
        f"| media files / total bytes (json + media) | {f['media_files']} / {f['total_bytes']} |",
        "",
        "### Distinct message ids per channel",
        "",
        "| channel id | channel | distinct messages |",
        "|---|---|---|",
    ]
    for cid, v in f["per_channel"].items():
        L.append(f"| `{cid}` | {v['name']} | {v['distinct_messages']} |")
    L += [
        "",
        "The same facts as JSON (`python sample_exports/generate.py` prints them too):",
        "",
        "```json",
        json.dumps(f, indent=2, ensure_ascii=False),
        "```",
        "",
    ]
    return "\n".join(L)


if __name__ == "__main__":
    facts = main()
    (HERE / "README.md").write_text(write_readme(facts), encoding="utf-8", newline="\n")
    summary = {k: v for k, v in facts.items() if k != "files"}
    for x in facts["files"]:
        print(f"{x['messageCount']:4d}  {x['version']:<6}  {x['channel_id']}  {x['path']}")
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if facts["total_bytes"] > 2_000_000:
        sys.exit("sample exports exceed 2 MB")
