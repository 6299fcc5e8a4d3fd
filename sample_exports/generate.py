# ruff: noqa: E501, RUF012
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
        sf = ((ms - DISCORD_EPOCH_MS) << 22) | (rng.randrange(2) << 17) | (rng.randrange(32) << 12) | rng.randrange(4096)
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


_u("odile", "odile.mr", "Odile Marr-Ruiz", "OdileMR", "4821", "2023-05-30", ["admin", "research", "reading", "gpu"], guild_nick_old="Odile (steward)")
_u("brannoc", "brannoc", "Brannoc Ilvey", "Brannoc", "0392", "2023-06-02", ["maint", "research", "gpu"])
_u("sunniva", "sunnyfeat", "Sunniva Falk", "sunnyfeat", "7710", "2023-07-19", ["research", "reading", "gpu"], guild_nick_old="Sunniva")
_u("kestrel", "kestrel_ai", "kestrel", "kestrel_ai", "1208", "2023-06-11", ["research"])
_u("pjotr", "pjotr.vh", "Pjotr van Hale", "PjotrVH", "5530", "2023-08-01", ["maint", "research", "reading"], guild_nick_old="Pjotr vH")
_u("mireille", "mireille_t", "Mireille Tsang-Hollis", "mireille", "0077", "2023-06-20", ["research", "reading"])
_u("dax", "dax0r", "dax", "dax0r", "3141", "2023-09-05", ["gpu"])
_u("ilse", "leaf.on.wind", "Ilse Quarrington", "LeafOnWind", "8008", "2023-06-28", ["research", "reading"], guild_nick_old="Ilse Q")
_u("tomek", "tomasz.grid", "Tomek Gridley", "tgridley", "2650", "2023-07-02", ["research", "gpu"])
_u("nyx", "nyx_the_probe", "Nyx", "NyxTheProbe", "0404", "2023-06-05", ["reading"])
_u("harlow", "harlow.b", "Harlow Bexley", "harlowb", "6219", "2023-10-12", ["research"])
_u("zinnia", "zinnia.codes", "Zinnia Oduya", "zinnia.codes", "0000", "2022-01-01", [])  # joined after migration
_u("rafe", "rafe_w", "Rafe Winterbourne", "rafe_w", "0000", "2022-01-01", ["reading"])
_u("bot", "Lanternbot", "Lanternbot", "Lanternbot", "4471", "", ["bots"], is_bot=True)
_u("feeder", "arXiv Feeder", "arXiv Feeder", "arXiv Feeder", "0918", "", ["bots"], is_bot=True)

_creation = {
    "odile": "2017-04-02", "brannoc": "2018-11-19", "sunniva": "2019-06-03", "kestrel": "2020-02-14",
    "pjotr": "2016-09-30", "mireille": "2020-10-07", "dax": "2018-01-22", "ilse": "2021-03-15",
    "tomek": "2019-12-01", "nyx": "2021-08-08", "harlow": "2022-05-04", "zinnia": "2023-10-20",
    "rafe": "2024-01-09", "bot": "2021-11-08", "feeder": "2021-11-09",
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
    "\U0001F44D": ("thumbsup", "1f44d"),
    "\U0001F525": ("fire", "1f525"),
    "\U0001F440": ("eyes", "1f440"),
    "\U0001F389": ("tada", "1f389"),
    "\U0001F9E0": ("brain", "1f9e0"),
    "\U0001F602": ("joy", "1f602"),
    "\u2764\ufe0f": ("heart", "2764"),
    "\u2705": ("white_check_mark", "2705"),
    "\U0001F64F": ("pray", "1f64f"),
    "\U0001F4C8": ("chart_with_upwards_trend", "1f4c8"),
    "\U0001F92F": ("exploding_head", "1f92f"),
    "\U0001F41F": ("fish", "1f41f"),
    "\U0001F62C": ("grimacing", "1f62c"),
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


ERA_226 = Era("2.26", category="name", author_nick=False, roles=False, exported_at=False, emoji_id_null=True,
              emoji_code=False, stickers=False, mentions_full=False, mention_discrim_num=True, reaction_users=False,
              reaction_user_color=False, inline_emojis=False, content_mention_display=False, twemoji_style="maxcdn")
ERA_240 = Era("2.40", category="fallback", roles=False, exported_at=False, reaction_users=False,
              reaction_user_color=False, inline_emojis=False)
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


_ch("announcements", "announcements", "GuildNews", "Info",
    "Lab news, reading-group schedule, compute windows. Follow this channel to get it in your own server.", "2021-11-08 19:55")
_ch("general", "general", "GuildTextChat", "Text Channels",
    "Anything lab-adjacent. Be kind, cite your sources, no paywalled PDFs.", "2021-11-08 19:42:12")
_ch("offtopic", "off-topic", "GuildTextChat", "Text Channels", None, "2021-11-09 07:55")
_ch("research", "research", "GuildTextChat", "Research",
    "Experiments, results, half-baked ideas. Post configs + seeds with plots.", "2021-11-09 08:12")
_ch("codehelp", "code-help", "GuildTextChat", None,
    "Stuck on code? Paste a minimal repro in a ```python block.", "2022-03-30 17:03")
_ch("paperclub", "paper-club", "GuildForum", "Research",
    "One post per paper. Title = paper title. Summaries welcome, hot takes tolerated.", "2023-03-14 15:20")


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
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")


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
        out.append({"id": str(ROLE_IDS[k]), "name": r["name"], "color": r["color"], "position": r["position"]})
    return out


def user_json(ctx: ExportCtx, u: User, kind: str, dm: bool = False) -> dict:
    """kind: author | mention | reaction"""
    era = ctx.era
    name, disc, nick = user_names(u, ctx.exported)
    if kind == "mention" and not era.mentions_full:
        return {"id": str(u.id), "name": name, "discriminator": int(disc) if era.mention_discrim_num else disc,
                "nickname": nick, "isBot": u.is_bot}
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


_EMOJI_RE = re.compile("|".join(re.escape(k) for k in sorted(UEMOJI, key=len, reverse=True)) + "|:(?:" + "|".join(CEMOJI) + "):")


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
    text = CHANNEL_RE.sub(lambda m: "#" + CHANNELS[m.group(1)].name if m.group(1) in CHANNELS else "#deleted-channel", text)
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
        url = a["url"]
        if a.get("data") is not None and era.media and not a.get("failed"):
            url = ctx.asset(url, a["data"], a["fileName"])
        atts.append({"id": str(a["id"]), "url": url, "fileName": a["fileName"], "fileSizeBytes": a["size"]})
    d["attachments"] = atts
    d["embeds"] = [render_embed(ctx, e) for e in m.embeds]
    if era.stickers:
        d["stickers"] = [{"id": str(s["id"]), "name": s["name"], "format": s["format"],
                          "sourceUrl": ctx.asset(s["url"]) if s["format"] == "Png" else s["url"]} for s in m.stickers]
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
        ref = {"messageId": str(m.reply_to), "channelId": str(ctx.channel_id), "guildId": None if dm else str(GUILD_ID)}
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
        d["interaction"] = {"id": str(m.interaction["id"]), "name": m.interaction["name"],
                            "user": user_json(ctx, USERS[m.interaction["user"]], "author", dm)}
    if era.inline_emojis:
        d["inlineEmojis"] = inline_emojis(ctx, content)
    return d


def render_embed(ctx: ExportCtx, e: dict) -> dict:
    era = ctx.era
    d: dict[str, Any] = {"title": e.get("title", ""), "url": e.get("url"), "timestamp": None,
                         "description": e.get("description", "")}
    if "color" in e:
        d["color"] = e["color"]
    if "author" in e:
        d["author"] = {"name": e["author"], "url": e.get("author_url")}
    if "thumb" in e:
        src = e["thumb"]
        proxy = src if era.twemoji_style == "maxcdn" else (
            "https://images-ext-1.discordapp.net/external/" + hashlib.sha256(src.encode()).hexdigest()[:43] + "/" + src.replace("://", "/", 1))
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
    return re.sub("[\U00010000-\U0010FFFF]", _surrogates, s)


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
    "odile": "2021-11-08", "brannoc": "2021-11-08", "bot": "2021-11-08", "feeder": "2021-11-09",
    "pjotr": "2021-11-09", "sunniva": "2021-11-12", "kestrel": "2021-11-15", "mireille": "2021-11-21",
    "dax": "2021-12-02", "ilse": "2021-12-10", "tomek": "2022-01-05", "nyx": "2022-01-20",
    "harlow": "2022-06-07", "zinnia": "2023-11-02", "rafe": "2024-01-15",
}
HUMANS = [k for k in JOINED if not USERS[k].is_bot]


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
        m = LINE_RE.match(text)
        if not m:
            raise ValueError(f"bad scene line: {raw!r}")
        opts: dict[str, Any] = {}
        for o in filter(None, (x.strip() for x in optstr.split(" ; "))):
            k, eq, v = o.partition("=")
            opts[k] = v if eq else True
        body = m.group("text").replace("\\n", "\n")
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
        if i:
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
            m.edited = m.time + timedelta(seconds=float(o["ed"]), microseconds=rng.randrange(1, 999999))
        if "pin" in o:
            m.pinned = True
        if "r" in o:
            for emo, cnt in REACT_RE.findall(o["r"]):
                m.reactions.append((emo, pick_reactors(int(cnt), m.time, m.author)))
        for key in filter(None, o.get("a", "").split("+")):
            spec = ATTACH[key]
            data = spec.get("data")
            m.attachments.append({"id": snowflake(m.time), "fileName": spec["name"],
                                  "size": len(data) if data is not None else spec["size"], "data": data,
                                  "failed": spec.get("failed", False)})
        for key in filter(None, o.get("e", "").split("+")):
            m.embeds.append(EMBEDS[key])
        if "st" in o:
            m.stickers.append(STICKERS[o["st"]])
        if "slash" in o:
            name, user = o["slash"].split(":")
            m.type = "20"
            m.interaction = {"id": snowflake(m.time - timedelta(milliseconds=300)), "name": name, "user": user}
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
        if "id" in o:
            LABELS[o["id"]] = m
        ALL_MSGS[m.id] = m
        msgs.append(m)
    return msgs


# ---------------------------------------------------------------------------
# content: code snippets, attachments, embeds, stickers
# ---------------------------------------------------------------------------

CODE = {
    "einsum": '''
```python
# patching the residual stream at layer 6, position -1
clean = cache["blocks.6.hook_resid_post"]       # [batch, pos, d_model]
patched = torch.einsum("bpd,dk->bpk", clean, W_probe)  # W_probe: [d_model, n_classes]
# RuntimeError: einsum(): operands do not broadcast with remapped shapes [original->remapped]: [8, 128, 512]->[8, 128, 1, 512] [768, 4]->[1, 1, 4, 768]
```''',
    "einsum_fix": '''
```python
W_probe = probe.weight.T  # nn.Linear stores [out, in], you want [in, out]
logits = torch.einsum("bpd,dk->bpk", clean, W_probe)
```''',
    "hooks": '''
```python
model = torch.compile(model)
handle = model.blocks[4].mlp.register_forward_hook(save_acts)
out = model(tokens)
print(len(saved))  # 0 ?!
```''',
    "hooks_fix": '''
```python
handle = model._orig_mod.blocks[4].mlp.register_forward_hook(save_acts)
# or: register the hooks first, THEN compile
```''',
    "nan": '''
```
step 11800 | loss 2.9731 | grad_norm 0.84
step 11850 | loss 2.9702 | grad_norm 0.91
step 11900 | loss nan    | grad_norm inf
```''',
    "bf16": '''
```python
with torch.autocast("cuda", dtype=torch.bfloat16):
    attn = (q @ k.transpose(-2, -1)) / math.sqrt(d_head)
    attn = attn.float().softmax(dim=-1).to(q.dtype)  # softmax in fp32, that's the fix
```''',
    "tok": '''
```python
>>> tok.encode("the")
[1820]
>>> tok.encode(" the")
[262]
>>> tok.decode(tok.encode("  the"))
' the'   # double space collapsed?!
```''',
    "slurm": '''
```bash
#!/bin/bash
#SBATCH --job-name=sae-sweep
#SBATCH --array=0-11
#SBATCH --gres=gpu:1
#SBATCH --time=08:00:00
#SBATCH --output=logs/%x-%A_%a.out

CFG=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" configs/sweep.txt)
python train_sae.py $CFG --seed $SLURM_ARRAY_TASK_ID
```''',
    "jax": '''
```python
key = jax.random.PRNGKey(0)
for step in range(n_steps):
    key, sub = jax.random.split(key)   # split EVERY step, never reuse `key`
    batch = sample_batch(sub)
```''',
    "pandas": '''
```python
df.groupby(["model", "layer"])["probe_acc"].agg(["mean", "std", "count"]).unstack("layer")
```''',
    "yaml": '''
```yaml
model: minnow-125m
sae:
  d_sae: 16384
  l1_coeff: 8.0e-5
  lr: 3.0e-4
  dead_latent_window: 10_000_000
```''',
    "precommit": '''
```yaml
repos:
  - repo: local
    hooks:
      - id: no-big-files
        name: refuse checkpoints in git
        entry: scripts/check_size.sh
        language: script
```''',
    "workers": '''
```python
loader = DataLoader(ds, batch_size=64, num_workers=8, persistent_workers=True)
# hangs forever at the first epoch boundary when ds opens an h5py.File in __init__
```''',
    "workers_fix": '''
```python
class ActivationShards(Dataset):
    def __init__(self, path):
        self.path, self._f = path, None      # open lazily, once per worker
    def __getitem__(self, i):
        if self._f is None:
            self._f = h5py.File(self.path, "r")
        return torch.from_numpy(self._f["acts"][i])
```''',
    "decoder_norm": '''
```python
@torch.no_grad()
def renorm_decoder(sae):
    W = sae.W_dec.data                      # [d_sae, d_model]
    W /= W.norm(dim=-1, keepdim=True).clamp_min(1e-8)
```''',
    "ghost": '''
```python
dead = (steps_since_fired > cfg.dead_latent_window)
frac_dead = dead.float().mean().item()
log({"sae/frac_dead": frac_dead, "sae/l0": (acts > 0).float().sum(-1).mean().item()})
```''',
}

SAE_SWEEP_PY = b'''"""Sweep launcher for the 16k/65k SAE comparison (Lanternfish Lab, fictional)."""
import itertools, json, subprocess

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
    "failedshot": {"name": "Screenshot 2024-10-02 at 11.04.51.png", "size": 188420, "failed": True},
    "gpuchart": {"name": "gpu-calendar.png", "data": tiny_png("gpu-calendar", 10, 6)},
    "poster": {"name": "poster-draft-v3.png", "data": tiny_png("poster", 9, 12)},
    "kvplot": {"name": "kv_cache_memory.png", "size": 35512, "failed": True},
    "umap": {"name": "umap_latents.png", "data": tiny_png("umap", 12, 12)},
    "crosscoder": {"name": "crosscoder_shared_frac.png", "data": tiny_png("crosscoder", 14, 10)},
}

EMBEDS: dict[str, dict] = {
    "ambient": {"title": "9 hours of rain on a tin roof (no thunder, no music)", "url": "https://video.example.org/watch?v=rainTinRoof9h",
                "description": "Steady rain on a corrugated roof. For sleeping, studying, or pretending your cluster job is almost done.",
                "color": "#FF0000", "author": "Quiet Weather Archive", "thumb": "https://video.example.org/thumbs/rainTinRoof9h/maxresdefault.jpg", "w": 1280, "h": 720},
    "blog_grok": {"title": "Grokking, slowly: a reproduction diary", "url": "https://lanternfish-lab.example.org/blog/grokking-slowly",
                  "description": "We reproduce delayed generalisation on modular addition (p=113) and find the plateau length depends more on weight decay than on width.",
                  "thumb": "https://lanternfish-lab.example.org/img/grok-card.png", "w": 1200, "h": 630},
    "paper_sink": {"title": "Where Attention Goes to Rest: Sink Tokens in Small Transformers", "url": "https://papers.example.net/abs/2401.90117",
                   "description": "We study 'attention sinks' in models from 20M to 1.4B parameters and show that sink heads appear abruptly around 2k steps.",
                   "author": "papers.example.net", "thumb": "https://papers.example.net/static/card.png", "w": 600, "h": 315, "thumb_failed": True},
    "paper_dict": {"title": "Dictionary Width and the Splitting of Features", "url": "https://papers.example.net/abs/2405.91342",
                   "description": "Scaling sparse autoencoder width from 4k to 262k latents, we track how single features split into families.",
                   "author": "papers.example.net", "thumb": "https://papers.example.net/static/card.png", "w": 600, "h": 315},
    "paper_tok": {"title": "Whitespace Is a Feature: Tokenizer Artifacts in Probing Studies", "url": "https://papers.example.net/abs/2302.88410",
                  "description": "Leading-space tokens carry position-of-word information that linear probes happily exploit.",
                  "author": "papers.example.net"},
    "paper_cross": {"title": "Crosscoders Across Checkpoints", "url": "https://papers.example.net/abs/2410.93001",
                    "description": "A single dictionary trained jointly on two checkpoints separates shared from checkpoint-specific features.",
                    "author": "papers.example.net", "thumb": "https://papers.example.net/static/card.png", "w": 600, "h": 315},
    "paper_probe": {"title": "Linear Probes Lie (Sometimes)", "url": "https://papers.example.net/abs/2206.80551",
                    "description": "Control tasks reveal that high probe accuracy can come from the probe, not the representation.",
                    "author": "papers.example.net"},
    "paper_patch": {"title": "A Field Guide to Activation Patching", "url": "https://papers.example.net/abs/2209.81230",
                    "description": "Noising vs denoising, metrics, and the six most common ways to fool yourself.",
                    "author": "papers.example.net", "thumb": "https://papers.example.net/static/card.png", "w": 600, "h": 315},
    "reading_q1": {"title": "Reading group \u2014 Q1 2024 schedule", "description": "Thursdays 17:00 UTC in the Lantern Room voice channel. Bring one question, not a summary.",
                   "color": "#E67E22", "footer": "Lanternbot \u2022 /reading schedule",
                   "fields": [("Jan 18", "Where Attention Goes to Rest \u2014 presented by Ilse", False),
                              ("Feb 1", "Linear Probes Lie (Sometimes) \u2014 presented by Nyx", False),
                              ("Feb 15", "A Field Guide to Activation Patching \u2014 presented by Pjotr", False),
                              ("Room", "Lantern Room", True), ("Length", "60 min", True)]},
    "reading_q3": {"title": "Reading group \u2014 Q3 2024 schedule", "description": "Same time, same room. Papers voted in #general (\U0001F41F = yes).",
                   "color": "#E67E22", "footer": "Lanternbot \u2022 /reading schedule",
                   "fields": [("Jul 11", "Dictionary Width and the Splitting of Features \u2014 Sunniva", False),
                              ("Aug 8", "Crosscoders Across Checkpoints \u2014 Tomek", False),
                              ("Sep 5", "open slot \u2014 volunteer in #general", False)]},
    "gpu_book": {"title": "Booking confirmed", "description": "pike-box-2 (2\u00d7 A100 80GB) reserved.", "color": "#9B59B6",
                 "fields": [("From", "Sat 09:00 UTC", True), ("To", "Sun 21:00 UTC", True), ("Purpose", "SAE sweep, layer 8", False)]},
    "gpu_book2": {"title": "Booking confirmed", "description": "minnow-box (1\u00d7 RTX 4090) reserved.", "color": "#9B59B6",
                  "fields": [("From", "Tue 18:00 UTC", True), ("To", "Wed 06:00 UTC", True), ("Purpose", "tokenizer ablations", False)]},
    "repo": {"title": "lanternfish-lab/lens-kit: small tools for poking at small models", "url": "https://git.lanternfish.example/lanternfish-lab/lens-kit",
             "description": "Hooks, caches and patching helpers. MIT. Works with Minnow and Pike checkpoints.",
             "thumb": "https://git.lanternfish.example/og/lens-kit.png", "w": 1200, "h": 600},
    "commons": {"title": "Open Interp Commons \u2014 call for shared eval sets", "url": "https://commons.example.org/posts/shared-evals",
                "description": "We are collecting small, licence-clean eval sets for interpretability claims. Submissions open until March 31.",
                "thumb": "https://commons.example.org/img/evals.png", "w": 800, "h": 418},
    "forum_ind": {"title": "Induction Heads Revisited: Formation Under Curriculum", "url": "https://papers.example.net/abs/2409.92008",
                  "description": "Induction heads form later and more abruptly when short-context data dominates early training.",
                  "author": "papers.example.net", "thumb": "https://papers.example.net/static/card.png", "w": 600, "h": 315},
}

STICKERS = {
    "wave": {"id": snowflake(utc("2022-06-01 12:00")), "name": "lanternfish wave", "format": "Png",
             "url": f"https://media.discordapp.net/stickers/{snowflake(utc('2022-06-01 12:00:01'))}.png"},
    "party": {"id": snowflake(utc("2021-05-01 12:00")), "name": "Party Parrot Lite", "format": "Lottie",
              "url": "https://discord.com/stickers/749054660769218631.json".replace("749054660769218631", str(snowflake(utc("2021-05-01 12:00:02"))))},
}


# ---------------------------------------------------------------------------
# content: scenes per channel
# ---------------------------------------------------------------------------

def offtopic_scenes() -> list[list[Line]]:
    S = schedule
    return [
        S("2022-01-10 08:12", r"""
pjotr: morning. the office espresso machine is making a noise like a dying TPU
dax: grinder or pump?
pjotr: pump I think. it goes hnnnngh and then nothing
mireille: descale it. nobody ever descales it
pjotr>4: that would require finding the manual, which was last seen in 2019
kestrel: the manual is the friends we made along the way
dax: 😂 ## r=😂2
"""),
        S("2022-01-12 19:40", r"""
sunniva: my sourdough starter has a name now. it's called Backprop
ilse: because it keeps rising and falling?
sunniva>2: because I feed it every day and have no idea what it's doing inside ## r=😂4 ; id=backprop
brannoc: Backprop deserves a spot on the lab website tbh
sunniva: first loaf this weekend, will report results with error bars
odile: n=1 loaf is not a study, Sunniva
sunniva>6: it's a pilot ## r=🔥2
"""),
        S("2022-01-16 14:05", r"""
tomek: what do people listen to while writing? I can't do lyrics
kestrel: rain sounds. specifically this one, it's been running for 3 days straight https://video.example.org/watch?v=rainTinRoof9h ## e=ambient
tomek>2: "pretending your cluster job is almost done" is too real
mireille: brown noise + noise cancelling headphones, nothing else works for me
dax: old video game soundtracks. the ones made to be ignored
"""),
        S("2022-01-19 21:33", r"""
ilse: cat tax ## a=cat ; r=❤️5 ; id=cat
kestrel>1: what's their name
ilse: Dropout. she randomly ignores 50% of what I say
pjotr: ok that's the best pet name in this server
brannoc: Backprop and Dropout should meet
sunniva>5: Backprop is not ready for that kind of regularisation ## r=😂3
"""),
        S("2022-01-24 07:50", r"""
odile: power's out in my whole street, running on phone data. if I miss the 17:00 sync, start without me
brannoc: will do. stay warm
odile: the UPS on the desktop lasted 11 minutes. 11!
dax: the UPS is a vibes-based product
nyx: first message here, hi all. found you via the lens-kit readme
brannoc>5: welcome Nyx! {#general} is where most of the chatter happens ## r=👍2
nyx: thanks! lurking for now
"""),
        S("2022-01-29 16:20", r"""
kestrel: book recs thread? just finished "The Cartographer of Small Hours", loved it
mireille: is that the one with the lighthouse keeper who maps dreams?
kestrel>2: yes! the middle third drags but the ending got me
pjotr: I'm reading "Salt and Circuitry", essays by an old telephone engineer. very calming
ilse: adding both. I'm stuck on a 900 page fantasy novel I don't even like
dax: sunk cost fallacy, the most human feature
ilse>6: I'm 612 pages in. I will finish it out of spite ## r=😂3 :lanternfish:1
"""),
        S("2022-02-03 12:10", r"""
tomek: new keyboard day ## a=keyboard
dax>1: those keycaps are ILLEGAL
tomek: linear switches, lubed them myself. took an entire Sunday
brannoc: and now you type loss curves 4% faster
tomek>4: 6% but who's counting ## r=📈2
"""),
        S("2022-02-09 18:45", r"""
mireille: anyone running this weekend? there's a 10k along the river on Sunday
sunniva: I'm in if the pace is "conversational"
mireille: conversational for whom
pjotr: I'll be at the finish with coffee and zero shame
nyx: I can cheer. loudly. from a bench
"""),
        S("2022-02-14 20:02", r"""
dax: hot take: the best debugging tool is going for a walk
brannoc: not a hot take, that's just true
kestrel: counterpoint: the walk is where I realise the bug is in code I wrote 8 months ago
dax>3: that's the walk working as intended ## r=🧠3
"""),
        S("2022-02-20 10:30", r"""
sunniva: Backprop update: the loaf was dense enough to use as a doorstop ## r=😂5
odile>@backprop: the pilot study has failed, long live the pilot study
sunniva: turns out the kitchen was 17 degrees. underfitting
ilse: put it in the oven with just the light on
sunniva>4: trying that tonight, thanks ## r=🙏1
"""),
        S("2022-03-01 09:00", r"""
pjotr: the espresso machine is fixed. it was, in fact, scale
mireille: told you
pjotr>2: you did. I have updated my priors ## r=☕️0
"""),
        S("2022-03-07 17:15", r"""
kestrel: {@tomek} do you still have the spare monitor arm?
tomek>1: yes, it's yours. bring snacks on Thursday and we're even
kestrel: deal. crisps or the fancy oat biscuits?
tomek: both is an option
"""),
        S("2022-03-12 13:40", r"""
ilse: spring is happening outside my window and I am inside staring at attention patterns
nyx: same but it's grey here
brannoc: lunch walk in 10, anyone near the canal?
odile: I'm 5 min away, meet at the bridge
dax: have fun touching grass for all of us ## r=🐟2
"""),
        S("2022-03-18 22:05", r"""
mireille: late night question: does anyone actually like the bird card game or do we just like the little eggs
sunniva: the little eggs. 100%
pjotr: I like the card with the very judgmental owl
kestrel: game night next Friday? I'll bring the eggs ## r=🎉3
"""),
    ]


def codehelp_scenes() -> list[list[Line]]:
    S = schedule
    return [
        S("2022-04-02 15:10", r"""
brannoc: welcome to {#codehelp}! rule of thumb: paste a minimal repro in a ```python block, plus the full traceback ## pin ; id=codehelp_rules
odile: and say which versions (torch, cuda, python). half of all bugs are version bugs
"""),
        S("2022-04-06 11:22", r"""
kestrel: I'm probing the residual stream and einsum is yelling at me:\n{code:einsum}
pjotr>1: your probe is an nn.Linear, right? the weight is stored transposed
kestrel: it is an nn.Linear yes
pjotr:{code:einsum_fix}
kestrel>4: that was it. 40 minutes of my life ## r=🙏1
pjotr: welcome to the `[out, in]` club, we have jackets
"""),
        S("2022-05-18 19:03", r"""
tomek: hooks registered on a compiled model never fire?\n{code:hooks}
dax: `torch.compile` returns a wrapper, the hook goes on the wrapper's module tree but the graph was already traced
tomek: so what do I do
dax>3:{code:hooks_fix} ## r=👍2
tomek: registering first worked, thanks. leaving a comment in the code so future me doesn't suffer
"""),
        S("2022-06-30 22:41", r"""
sunniva: my loss went NaN out of nowhere at 11.9k steps:\n{code:nan} ## a=lossnan
brannoc: bf16? what's your attention softmax dtype
sunniva: autocast bf16 everywhere
brannoc>3: do the softmax in fp32, that's usually it:\n{code:bf16} ## r=🧠2
mireille: also check for a giant logit in the first layer, we had one token id that blew up because it was never trained
sunniva: softmax fix alone got me past 12k. will keep an eye on the embeddings too
sunniva: update: 40k steps, no NaN. thank you both ## r=🎉3 ; g=86400
"""),
        S("2022-08-09 10:15", r"""
ilse: why does decoding `"  the"` give me `" the"`?\n{code:tok}
odile>1: the tokenizer normalises runs of spaces unless you pass `clean_up_tokenization_spaces=False`
ilse: oh no. does this mean my whitespace ablation from last week is wrong
odile: only if you round-tripped through decode. did you?
ilse>4: ...yes ## r=😬2
nyx: rerun with raw token ids, never strings. I learned this the hard way too
ilse: rerunning. the tokenizer ate our whitespace again ## id=ate_whitespace
"""),
        S("2022-10-12 16:47", r"""
harlow: is there a template for a slurm array job? I want 12 configs, one GPU each
tomek>1: here's what I use:\n{code:slurm}
harlow: `%A_%a` is exactly what I was missing, thanks
tomek: and keep `configs/sweep.txt` one config per line, no blank lines at the end or task 12 gets nothing
harlow>4: noted ## r=✅1
"""),
        S("2022-12-03 13:05", r"""
mireille: switching a toy model to JAX and all my runs are identical even with different seeds
dax: are you reusing the same key in the loop?
mireille: ...define "reusing"
dax>3:{code:jax}
mireille: I was passing `key` straight into every sample call. perfectly deterministic garbage
dax: happens to everyone once ## r=😂2
"""),
        S("2023-01-21 20:30", r"""
nyx: DataLoader hangs at the epoch boundary, repro attached. {@dax} you mentioned h5py weirdness last week? ## a=repro
nyx:{code:workers}
dax>1: yep, h5py file handles + fork = sadness. open lazily in each worker:\n{code:workers_fix}
nyx: that fixed it. 8 workers, no hang
kestrel: pin-worthy honestly
"""),
        S("2023-02-15 09:55", r"""
pjotr: quick pandas q: probe accuracy per model per layer, mean and std, layers as columns?
kestrel>1:{code:pandas}
pjotr: perfect, that's going straight into the appendix table
"""),
        S("2023-03-28 18:20", r"""
sunniva: first SAE config for Minnow, sanity check before I burn a weekend of GPU:\n{code:yaml}
brannoc>1: l1 looks reasonable for that width. log the dead fraction from day one
sunniva: logging L0 and dead fraction:\n{code:ghost}
odile: also renormalise the decoder rows after every step, otherwise the l1 penalty just shrinks the encoder:\n{code:decoder_norm} ## r=🧠3
sunniva>4: added. will report back in {#research}
"""),
        S("2023-05-09 14:12", r"""
tomek: someone committed a 2.1 GB checkpoint to lens-kit. please, I beg you
odile: that was me. sorry. rewriting history tonight
tomek: adding a pre-commit hook so it can't happen again:\n{code:precommit} ## r=👍3
odile>3: approved with shame ## r=😂4
"""),
        S("2023-06-14 21:48", r"""
harlow: `CUDA error: device-side assert triggered` and nothing else. where do I even start
ilse: run with `CUDA_LAUNCH_BLOCKING=1` to get the real line
harlow>2: oh. index out of range in the embedding, token id 50257
ilse: off by one between tokenizer vocab and model vocab. classic
harlow: resized the embedding, training again. thanks Ilse
"""),
    ]
