"""The archive's SQLite schema, spelled once, with numbered migrations."""

from __future__ import annotations

import sqlite3

from archive.errors import SchemaTooNewError

SCHEMA_VERSION = 5

# Message flag bits, shared with the indexer's `has:` filters.
HAS_LINK = 1
HAS_EMBED = 2
HAS_FILE = 4
HAS_IMAGE = 8
HAS_VIDEO = 16
HAS_SOUND = 32
HAS_STICKER = 64
HAS_CODE = 128
HAS_FLAGS = {
    "link": HAS_LINK,
    "embed": HAS_EMBED,
    "file": HAS_FILE,
    "image": HAS_IMAGE,
    "video": HAS_VIDEO,
    "sound": HAS_SOUND,
    "sticker": HAS_STICKER,
    "code": HAS_CODE,
}

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE guilds (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, icon_url TEXT, seen_ts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    topic TEXT,
    parent_id INTEGER,          -- threads and forum posts: the channel or forum they belong to
    parent_name TEXT,
    category_id INTEGER,        -- ordinary channels: their category (NULL when none or unknown)
    category TEXT,
    is_thread INTEGER NOT NULL DEFAULT 0,
    seen_ts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX channels_parent ON channels(parent_id);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    discriminator TEXT,
    nickname TEXT,
    avatar_url TEXT,
    color TEXT,
    is_bot INTEGER NOT NULL DEFAULT 0,
    pseudonym INTEGER NOT NULL DEFAULT 0,
    seen_ts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE exports (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    channel_id INTEGER,
    guild_id INTEGER,
    range_after INTEGER,
    range_before INTEGER,
    exported_at INTEGER,
    as_of INTEGER NOT NULL DEFAULT 0,  -- when the export was made (exportedAt, else its newest message)
    first_id INTEGER,
    last_id INTEGER,
    message_count INTEGER NOT NULL DEFAULT 0,
    declared_count INTEGER,
    status TEXT NOT NULL,              -- ok | partial | excluded
    note TEXT,
    generation INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL
);
CREATE INDEX exports_channel ON exports(channel_id, first_id, last_id);
CREATE INDEX exports_stat ON exports(path, size, mtime_ns);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    author_id INTEGER,
    type TEXT NOT NULL,
    ts INTEGER NOT NULL,               -- Unix ms UTC, from the snowflake
    edited_ts INTEGER,
    content TEXT,                      -- NULL when redacted
    pinned INTEGER NOT NULL DEFAULT 0,
    reply_to INTEGER,                  -- only for type Reply
    ref_kind TEXT,                     -- reply | pin | thread | forward | crosspost | reference
    ref_message_id INTEGER,
    ref_channel_id INTEGER,
    ref_guild_id INTEGER,
    flags INTEGER NOT NULL DEFAULT 0,  -- HAS_* bits
    reaction_count INTEGER NOT NULL DEFAULT 0,
    extra BLOB,                        -- JSON of keys the parser does not model
    fp INTEGER,                        -- fingerprint of the raw message as last seen
    seen_ts INTEGER NOT NULL,          -- as_of of the newest export that lists it (v5: or a range, seen_ranges.py)
    deleted INTEGER NOT NULL DEFAULT 0,-- missing from a newer export that covers its id
    redacted TEXT,                     -- reason, when policy withheld its content
    generation INTEGER NOT NULL        -- archive generation of the last change (drives the index)
);
CREATE INDEX messages_channel ON messages(channel_id, id);
CREATE INDEX messages_author ON messages(author_id, id);
CREATE INDEX messages_generation ON messages(generation);
CREATE INDEX messages_reply ON messages(reply_to) WHERE reply_to IS NOT NULL;
CREATE TABLE revisions (
    message_id INTEGER NOT NULL,
    edited_ts INTEGER,                 -- NULL for the original text
    content TEXT NOT NULL,
    export_id INTEGER
);
CREATE INDEX revisions_message ON revisions(message_id, edited_ts);
CREATE TABLE attachments (
    message_id INTEGER NOT NULL, pos INTEGER NOT NULL, id INTEGER, url TEXT, path TEXT,
    file_name TEXT, size INTEGER, export_id INTEGER,
    PRIMARY KEY (message_id, pos)
) WITHOUT ROWID;
CREATE TABLE embeds (
    message_id INTEGER NOT NULL, pos INTEGER NOT NULL, url TEXT, title TEXT, description TEXT,
    data BLOB NOT NULL,
    PRIMARY KEY (message_id, pos)
) WITHOUT ROWID;
CREATE TABLE stickers (
    message_id INTEGER NOT NULL, pos INTEGER NOT NULL, id INTEGER, name TEXT, format TEXT, url TEXT,
    PRIMARY KEY (message_id, pos)
) WITHOUT ROWID;
CREATE TABLE reactions (
    message_id INTEGER NOT NULL, pos INTEGER NOT NULL, emoji_id INTEGER, emoji_name TEXT,
    emoji_code TEXT, animated INTEGER NOT NULL DEFAULT 0, image_url TEXT, count INTEGER NOT NULL,
    users BLOB,                        -- JSON list of user ids, when the export lists them
    PRIMARY KEY (message_id, pos)
) WITHOUT ROWID;
CREATE TABLE mentions (
    message_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;
CREATE INDEX mentions_user ON mentions(user_id);
CREATE TABLE provenance (
    message_id INTEGER NOT NULL, export_id INTEGER NOT NULL,
    PRIMARY KEY (message_id, export_id)
) WITHOUT ROWID;
CREATE TABLE removed (
    message_id INTEGER PRIMARY KEY,    -- purged by policy: ids only, so the index can drop them
    generation INTEGER NOT NULL
);
"""

# v2: conversations. Every message gets the conversation it belongs to and, where it has one, the
# message it responds to (explicit reply/thread structure, else inferred with a confidence).
_V2 = """
CREATE TABLE links (
    message_id INTEGER PRIMARY KEY,
    parent_id INTEGER,                 -- the message it responds to (may be outside the archive)
    conversation_id INTEGER NOT NULL,  -- id of the conversation's first message (or thread id)
    confidence REAL NOT NULL,
    explicit INTEGER NOT NULL          -- 1: Discord reply / thread; 0: inferred
);
CREATE INDEX links_conversation ON links(conversation_id, message_id);
CREATE INDEX links_parent ON links(parent_id) WHERE parent_id IS NOT NULL;
"""

# v3: what the archive has withheld, remembered by keyed digests of the real ids and names (never the plain
# values), so that a later export, a renamed channel or a lost policy.toml never brings anything back.
_V3 = """
CREATE TABLE withheld (
    kind TEXT NOT NULL,                -- user | pseudonym | channel | message | name
    key TEXT NOT NULL,                 -- HMAC(archive secret, kind + real id or name)
    action TEXT NOT NULL,              -- drop | pseudonymize | exclude | the takedown reason | replacement name
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""

# v4: every DCE export format. `fidelity` says which kind of export a message's fields come from (the
# richer one wins a merge); CSV and TXT records (fidelity <= 2) have made-up ids and merge into the real
# message when a JSON or HTML export covers it, their id kept as an alias for its permalink.
_V4 = """
ALTER TABLE messages ADD COLUMN fidelity INTEGER NOT NULL DEFAULT 4;  -- 4 JSON, 3 HTML, 2 CSV, 1 TXT
ALTER TABLE exports ADD COLUMN format TEXT NOT NULL DEFAULT 'json';   -- json | html | csv | txt
CREATE INDEX messages_low_fidelity ON messages(channel_id, ts) WHERE fidelity <= 2;
CREATE TABLE aliases (
    alias_id INTEGER PRIMARY KEY,      -- the id a CSV/TXT record had (its URLs answer 301)
    message_id INTEGER NOT NULL        -- the real message it was merged into
);
CREATE INDEX aliases_message ON aliases(message_id);
"""

# v5: provenance by id range (archive/seen_ranges.py). A run of messages a newer export repeats unchanged
# is one `provenance_ranges` row instead of a row (and a seen_ts update) per message; the per-message rows
# live on in `provenance_rows`, and the `provenance` view answers from both, as the table did.
_V5 = """
ALTER TABLE provenance RENAME TO provenance_rows;
CREATE TABLE provenance_ranges (
    channel_id INTEGER NOT NULL,
    lo INTEGER NOT NULL,               -- every message of the channel with lo <= id <= hi is in the export
    hi INTEGER NOT NULL,
    export_id INTEGER NOT NULL,
    as_of INTEGER NOT NULL             -- the export's as_of: counts toward those messages' seen_ts
);
CREATE INDEX provenance_ranges_channel ON provenance_ranges(channel_id, lo);
CREATE INDEX provenance_ranges_export ON provenance_ranges(export_id);
CREATE INDEX messages_tombstones ON messages(channel_id, id) WHERE deleted = 1;  -- few: found without a scan
-- A re-ingest compares a batch's fingerprints with the channel's id span: from the index alone.
DROP INDEX messages_channel;
CREATE INDEX messages_channel ON messages(channel_id, id, fp);
CREATE VIEW provenance(message_id, export_id) AS
    SELECT message_id, export_id FROM provenance_rows
    UNION  -- a message inserted inside its own export's range has both
    SELECT m.id, r.export_id FROM provenance_ranges r
    JOIN messages m ON m.channel_id = r.channel_id AND m.id BETWEEN r.lo AND r.hi;
"""

MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5}

# The columns of a message row, spelled once: the writer, the merge and the readers build their SQL from these.
MESSAGE_COLUMNS = (
    "id",
    "channel_id",
    "author_id",
    "type",
    "ts",
    "edited_ts",
    "content",
    "pinned",
    "reply_to",
    "ref_kind",
    "ref_message_id",
    "ref_channel_id",
    "ref_guild_id",
    "flags",
    "reaction_count",
    "extra",
    "fp",
    "seen_ts",
    "deleted",
    "redacted",
    "generation",
    "fidelity",
)
# Columns that follow the newest export of a message (content and edits merge by their own rules).
FOLLOW_NEWEST_COLUMNS = (
    "author_id",
    "type",
    "pinned",
    "reply_to",
    "ref_kind",
    "ref_message_id",
    "ref_channel_id",
    "ref_guild_id",
    "flags",
    "reaction_count",
    "extra",
    "fp",
)
# Detail tables keyed by (message_id, pos) or (message_id, user_id): rewritten whole from the newest export.
DETAIL_TABLES = ("attachments", "embeds", "stickers", "reactions", "mentions")
# Everything a withheld message leaves behind besides its row (a redacted tombstone keeps provenance and links).
REDACTED_TABLES = ("revisions", *DETAIL_TABLES)
# Every table keyed by message id: what a purged (excluded) message loses with its row (and its channel's
# provenance_ranges).
MESSAGE_TABLES = (*REDACTED_TABLES, "provenance_rows", "links")


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create or migrate the schema to SCHEMA_VERSION; refuse an archive from a newer Hallway."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"the archive has schema v{version}, but this Hallway only knows up to v{SCHEMA_VERSION}: "
            "upgrade Hallway to read it"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.executescript(
            "BEGIN IMMEDIATE;" + MIGRATIONS[target] + f"PRAGMA user_version = {target}; COMMIT;"
        )
