"""The search index schema, spelled once: field names, analyzers and SCHEMA_VERSION."""

from __future__ import annotations

import re
import unicodedata

import tantivy

# Bump whenever a field, tokenizer or what goes into a field changes: old indexes then refuse to open.
SCHEMA_VERSION = 4
# What each version changed, for the rebuild reason ("index schema v2 is out of date (v3: …)").
SCHEMA_CHANGES = {
    2: "from: also matches each word of a display name",
    3: "in: also matches channel names without their emoji and separators",
    4: "text is NFKC-normalized, zero-width characters and soft hyphens removed",
}

# Identity and places.
ID = "id"  # message snowflake (i64): deletes, newest/oldest order, tie-breaks
CHANNEL_ID = "channel_id"
CHANNEL = "channel"  # channel name as shown (raw, fast: facet labels)
CHANNEL_KEY = "channel_key"  # lowercased channel name and parent channel name, for `in:`
CHANNEL_NORM = "channel_norm"  # the same names normalized (archive.names): `in:` when no name is exact
PARENT_ID = "parent_id"  # the channel a thread belongs to
THREAD_ID = "thread_id"
GUILD_ID = "guild_id"
GUILD = "guild"
# People.
AUTHOR_ID = "author_id"
AUTHOR = "author"  # display name as shown (raw, fast: facet labels)
AUTHOR_USERNAME = "author_username"
AUTHOR_KEY = "author_key"  # lowercased username and display name, for `from:`
MENTIONS = "mentions"  # mentioned user ids
MENTION_KEY = "mention_key"  # lowercased names of mentioned users, for `mentions:NAME`
REPLY_TO = "reply_to"
STARTS_THREAD = "starts_thread"
# Text.
CONTENT = "content"  # stemmed (recall) and stored (snippets)
CONTENT_EXACT = "content_exact"  # unstemmed, lowercased: phrases, prefixes, fuzzy, exact-form boost
EMBED = "embed"  # embed titles, descriptions, field names/values (stemmed, stored)
EMBED_EXACT = "embed_exact"
FILES = "files"  # attachment file names (unstemmed, stored)
# Time and flags.
TS = "ts"  # Unix ms UTC (i64, fast): before/after/during; dates in tantivy truncate to seconds
MONTH = "month"  # yyyymm (i64, fast): the month histogram facet
HAS = "has"  # link | embed | file | image | video | sound | sticker | code
IS = "is"  # pinned | edited | reply | thread | system | bot | user
TYPE = "type"  # Discord message type, e.g. Default, Reply
REACTIONS = "reactions"  # total reaction count (fast)

# Tokenizer names built into every tantivy Index (nothing custom: custom analyzers are not persisted).
STEMMED = "en_stem"
UNSTEMMED = "default"
RAW = "raw"
MAX_TOKEN_LEN = 40  # tantivy's default and en_stem analyzers drop longer tokens

IS_VALUES = ("pinned", "edited", "reply", "thread", "system", "bot", "user")


def build_schema() -> tantivy.Schema:
    """The tantivy schema of SCHEMA_VERSION."""
    sb = tantivy.SchemaBuilder()
    for name in (ID, CHANNEL_ID, AUTHOR_ID, TS):
        sb.add_integer_field(name, stored=True, indexed=True, fast=True)
    for name in (PARENT_ID, THREAD_ID, GUILD_ID, REPLY_TO, STARTS_THREAD):
        sb.add_integer_field(name, stored=True, indexed=True)
    sb.add_integer_field(MENTIONS, stored=False, indexed=True)
    sb.add_integer_field(MONTH, stored=False, indexed=False, fast=True)
    sb.add_integer_field(REACTIONS, stored=True, indexed=False, fast=True)
    for name in (CHANNEL, AUTHOR):
        sb.add_text_field(name, stored=True, fast=True, tokenizer_name=RAW, index_option="basic")
    for name in (GUILD, AUTHOR_USERNAME, TYPE):
        sb.add_text_field(name, stored=True, tokenizer_name=RAW, index_option="basic")
    for name in (CHANNEL_KEY, CHANNEL_NORM, AUTHOR_KEY, MENTION_KEY, HAS, IS):
        sb.add_text_field(name, stored=False, tokenizer_name=RAW, index_option="basic")
    sb.add_text_field(CONTENT, stored=True, tokenizer_name=STEMMED)
    sb.add_text_field(CONTENT_EXACT, stored=False, tokenizer_name=UNSTEMMED)
    sb.add_text_field(EMBED, stored=True, tokenizer_name=STEMMED)
    sb.add_text_field(EMBED_EXACT, stored=False, tokenizer_name=UNSTEMMED)
    sb.add_text_field(FILES, stored=True, tokenizer_name=UNSTEMMED)
    return sb.build()


def build_analyzers() -> tuple[tantivy.TextAnalyzer, tantivy.TextAnalyzer]:
    """(unstemmed, stemmed) analyzers identical to tantivy's `default` and `en_stem`, for query terms and snippets."""

    def base() -> tantivy.TextAnalyzerBuilder:
        return (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(MAX_TOKEN_LEN))
            .filter(tantivy.Filter.lowercase())
        )

    return base().build(), base().filter(tantivy.Filter.stemmer("english")).build()


# Invisible characters that split a word for the tokenizer yet show nothing: zero-width space/joiners, word
# joiner, invisible operators, BOM, soft hyphen, Mongolian vowel separator.
# (A regex: str.translate with a dict costs 64 µs on a 130-character message, the regex 8 µs.)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060-\u2064\ufeff\u00ad\u180e]")


def normalize_text(text: str) -> str:
    """Text as it is indexed and queried: NFKC (decomposed `café` is `café`, `ﬁ` is `fi`), invisible characters
    removed (`gra\u200ddient` is `gradient`). Both sides use it, so what looks identical matches."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
