"""The search box language (Discord's filters plus phrases, prefixes, fuzzy, OR and NOT) -> a tantivy Query.

Lenient by design: any string parses. What cannot be used becomes a plain-language hint, never an exception.
Queries are built with tantivy's Query constructors, so no user text ever reaches tantivy's own query parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import tantivy

from archive.names import normalize_name
from archive.schema import HAS_FLAGS
from indexer import schema as f

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
MIN_PREFIX = 2
MIN_FUZZY = 4
PROXIMITY_BOOST = 2.0

FILTER_KEYS = (
    "from",
    "mentions",
    "in",
    "has",
    "before",
    "after",
    "during",
    "pinned",
    "edited",
    "is",
    "author",
)
_ALIASES = {"on": "during", "authortype": "author", "channel": "in", "mention": "mentions"}
# Several values of these are alternatives (a message has one author and one channel), as in Discord.
_ORED_KEYS = ("from", "in", "mentions", "conversation")
# `in:conversation:ID` is a filter of its own (kept apart from `in:CHANNEL`, so the two AND together).
CONVERSATION_PREFIX = "conversation:"
MAX_ID = (1 << 63) - 1
# Resolves a conversation id to its message ids (empty: no such conversation; None: archive unreadable).
ConversationResolver = Callable[[int], Sequence[int] | None]
# How many documents hold a term in a field (a searcher's doc_freq): lets `in:` prefer a channel's exact name.
DocFreq = Callable[[str, str], int]
_HAS_ALIASES = {
    "attachment": "file",
    "attachments": "file",
    "audio": "sound",
    "img": "image",
    "links": "link",
}
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")
_STRIP = ".,;:!?'\"`()[]{}<>"
_DATE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_OPS = {"OR": "OR", "||": "OR", "AND": "AND", "&&": "AND", "NOT": "NOT"}

# Field boosts (BM25 scores are summed over the fields a word matches): the exact form adds to the stemmed match.
_WORD_FIELDS = (
    (f.CONTENT, True, 1.0),
    (f.CONTENT_EXACT, False, 0.5),
    (f.EMBED, True, 0.5),
    (f.EMBED_EXACT, False, 0.25),
    (f.FILES, False, 0.5),
)
_EXACT_FIELDS = ((f.CONTENT_EXACT, 1.0), (f.EMBED_EXACT, 0.5), (f.FILES, 0.5))

FILTER_HELP = "from:, mentions:, in:, has:, before:, after:, during:, pinned:, edited:, is:, author:"


@dataclass(frozen=True)
class FilterChip:
    """One filter the query applied, for showing (and removing) it in a UI."""

    key: str
    value: str
    negated: bool = False

    def __str__(self) -> str:
        value = f'"{self.value}"' if any(c.isspace() for c in self.value) else self.value
        return f"{'-' if self.negated else ''}{self.key}:{value}"


@dataclass
class Highlight:
    """The forms of the query's words, for marking matches in snippets."""

    exact: set[str] = field(default_factory=set)
    stems: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    fuzzy: set[tuple[str, int]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.exact or self.stems or self.prefixes or self.fuzzy)


@dataclass
class ParsedQuery:
    """A query ready to run, plus what the UI shows about it."""

    query: tantivy.Query
    filters: list[FilterChip]
    highlight: Highlight
    hints: list[str]
    has_text: bool  # some free text scores the results (else they are only filtered)


@dataclass
class _Item:
    kind: str  # word | phrase | filter
    text: str
    negated: bool = False
    key: str = ""


class _Hints(list[str]):
    def add(self, text: str) -> None:
        if text not in self:
            self.append(text)


class QueryBuilder:
    """Turns search-box text into a ParsedQuery for one schema (create once per index; cheap to keep)."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema
        self.plain, self.stemmed = f.build_analyzers()

    # -- lexing -------------------------------------------------------------------------------

    def _lex(self, s: str, hints: _Hints) -> list[_Item | str]:
        out: list[_Item | str] = []
        i, n = 0, len(s)

        def quoted(start: int) -> tuple[str, int]:
            end = s.find('"', start + 1)
            if end < 0:
                hints.add("A quote was not closed: it was taken to run to the end of the query.")
                return s[start + 1 :], n
            return s[start + 1 : end], end + 1

        while i < n:
            c = s[i]
            if c.isspace():
                i += 1
                continue
            if c in "()":
                hints.add("Parentheses are ignored: words are ANDed, use OR between alternatives.")
                i += 1
                continue
            negated = False
            if c == "-" and i + 1 < n and not s[i + 1].isspace():
                negated, i = True, i + 1
                c = s[i]
            if c == '"':
                text, i = quoted(i)
                out.append(_Item("phrase", text, negated))
                continue
            j = i
            while j < n and not s[j].isspace() and s[j] not in '"()':
                j += 1
            token, i = s[i:j], j
            key, colon, value = token.partition(":")
            canon = _ALIASES.get(key.lower(), key.lower())
            if colon and canon in FILTER_KEYS:
                if not value:
                    k = i
                    while k < n and s[k].isspace():
                        k += 1
                    if k < n and s[k] == '"':
                        value, i = quoted(k)
                    elif k < n and s[k] not in "()-":
                        m = k
                        while m < n and not s[m].isspace() and s[m] not in '"()':
                            m += 1
                        # `from: alice` (a space after the colon, as Discord's box shows it) still means from:alice.
                        if ":" not in s[k:m] and s[k:m] not in _OPS:
                            value, i = s[k:m], m
                value = value.strip()
                if canon == "in" and value.lower().startswith(CONVERSATION_PREFIX):
                    canon, value = "conversation", value[len(CONVERSATION_PREFIX) :].strip()
                out.append(_Item("filter", value, negated, canon))
                continue
            if not negated and token in _OPS:
                out.append(_OPS[token])
                continue
            if colon and key.isalpha() and key.lower() not in ("http", "https", "mailto"):
                hints.add(f"`{key}:` is not a filter, so it was searched as text. Filters: {FILTER_HELP}")
            out.append(_Item("word", token, negated))
        return out

    def _group(self, tokens: list[_Item | str], hints: _Hints) -> list[list[_Item]]:
        groups: list[list[_Item]] = []
        pending_not = pending_or = False
        for tok in tokens:
            if tok == "NOT":
                pending_not = True
                continue
            if tok == "AND":
                continue
            if tok == "OR":
                if groups and not groups[-1][0].negated:
                    pending_or = True
                else:
                    hints.add("OR needs a word or filter on each side; it was ignored.")
                continue
            assert isinstance(tok, _Item)
            if pending_not:
                tok.negated, pending_not = not tok.negated, False
            if pending_or and not tok.negated:
                groups[-1].append(tok)
            else:
                if pending_or:
                    hints.add("OR cannot join a negated word; it was read as AND.")
                groups.append([tok])
            pending_or = False
        if pending_or or pending_not:
            hints.add(f"{'OR' if pending_or else 'NOT'} at the end of the query was ignored.")
        # from:a from:b means either author (as in Discord): merge such positive single filters into one group.
        merged: list[list[_Item]] = []
        by_key: dict[str, list[_Item]] = {}
        for g in groups:
            one = g[0]
            if len(g) == 1 and one.kind == "filter" and not one.negated and one.key in _ORED_KEYS:
                if one.key in by_key:
                    by_key[one.key].append(one)
                    continue
                by_key[one.key] = g
            merged.append(g)
        return merged

    # -- text ---------------------------------------------------------------------------------

    def _tokens(self, text: str) -> list[str]:
        return [t for t in self.plain.analyze(text) if t]

    def _stem(self, token: str) -> str:
        stems = self.stemmed.analyze(token)
        return stems[0] if stems else token

    def _phrase_or_term(self, fieldname: str, words: list[str]) -> tantivy.Query:
        if len(words) == 1:
            return tantivy.Query.term_query(self.schema, fieldname, words[0])
        return tantivy.Query.phrase_query(self.schema, fieldname, list(words))

    def _any(self, parts: list[tuple[tantivy.Query, float]]) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.boost_query(q, w) if w != 1.0 else q) for q, w in parts]
        )

    def _text(self, item: _Item, hl: Highlight | None, hints: _Hints) -> tuple[tantivy.Query | None, int]:
        """The query for a word or phrase and how many terms it used (0: nothing searchable)."""
        raw = f.normalize_text(item.text)  # as the index's text was (NFKC, no invisible characters)
        if item.kind == "phrase":
            words = self._tokens(raw)
            if not words:
                if raw.strip():
                    hints.add(f"Nothing searchable in “{_short(raw)}”: it was ignored.")
                return None, 0
            if hl is not None:
                hl.exact.update(words)
            return self._any([(self._phrase_or_term(fn, words), w) for fn, w in _EXACT_FIELDS]), len(words)
        prefix = raw.endswith("*")
        fuzzy_match = re.search(r"~(\d?)$", raw)
        core = raw.rstrip("*") if prefix else raw[: fuzzy_match.start()] if fuzzy_match else raw
        words = self._tokens(core)
        if not words:
            hints.add(f"Nothing searchable in `{_short(raw)}`: it was ignored.")
            return None, 0
        stripped = core.strip(_STRIP).lower()
        if len(words) == 1 and stripped != words[0] and not prefix and not fuzzy_match:
            hints.add(f"Punctuation is ignored: `{_short(raw)}` was searched as `{words[0]}`.")
        if prefix:
            if len(words[-1]) >= MIN_PREFIX:
                if hl is not None:
                    hl.exact.update(words[:-1])
                    hl.prefixes.add(words[-1])
                return self._any(
                    [
                        (tantivy.Query.phrase_prefix_query(self.schema, fn, list(words)), w)
                        for fn, w in _EXACT_FIELDS
                    ]
                ), len(words)
            hints.add(
                f"A prefix needs at least {MIN_PREFIX} letters: `{_short(raw)}` was searched as a word."
            )
        if fuzzy_match:
            word = words[0]
            if len(words) == 1 and len(word) >= MIN_FUZZY:
                asked = int(fuzzy_match.group(1) or 0)
                distance = min(max(asked, 1), 2) if asked else (1 if len(word) < 7 else 2)
                if hl is not None:
                    hl.fuzzy.add((word, distance))
                return self._any(
                    [
                        (tantivy.Query.fuzzy_term_query(self.schema, fn, word, distance, True, False), w)
                        for fn, w in _EXACT_FIELDS
                    ]
                ), 1
            hints.add(
                f"Fuzzy search needs one word of {MIN_FUZZY}+ letters: `{_short(raw)}` was searched exactly."
            )
        stems = [self._stem(w) for w in words]
        if hl is not None:
            hl.exact.update(words)
            hl.stems.update(stems)
        return self._any(
            [(self._phrase_or_term(fn, stems if stemmed else words), w) for fn, stemmed, w in _WORD_FIELDS]
        ), len(words)

    # -- filters ------------------------------------------------------------------------------

    def _term(self, fieldname: str, value: object) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, fieldname, value)

    def _ts_range(self, lo: int | None, hi: int | None) -> tantivy.Query:
        return tantivy.Query.range_query(
            self.schema, f.TS, tantivy.FieldType.Integer, lo, hi, include_lower=True, include_upper=hi is None
        )

    def _conversation(
        self, item: _Item, hints: _Hints, resolve: ConversationResolver | None
    ) -> tuple[tantivy.Query | None, FilterChip | None]:
        """`in:conversation:ID`: the conversation's message ids (from the archive) as a term set on `id`."""
        value = item.text
        if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > MAX_ID:
            shown = f"in:conversation:{_short(value)}" if value else "in:conversation:"
            hints.add(
                f"{shown} needs a conversation id (digits), e.g. {_EXAMPLES['conversation']}; it was ignored."
            )
            return None, None
        cid = int(value)
        chip = FilterChip("in", f"{CONVERSATION_PREFIX}{cid}", item.negated)
        ids = resolve(cid) if resolve is not None else None
        if ids is None:
            hints.add(
                f"in:conversation:{cid} needs the archive, which could not be read: nothing can match it."
            )
            return tantivy.Query.empty_query(), chip
        if not ids:
            hints.add(
                f"There is no conversation {cid} in the archive: nothing matches in:conversation:{cid}. "
                "A conversation is named after its first message, or a thread or forum post."
            )
            return tantivy.Query.empty_query(), chip
        return tantivy.Query.term_set_query(self.schema, f.ID, list(ids)), chip

    def _channel(self, value: str, doc_freq: DocFreq | None) -> tantivy.Query:
        """`in:NAME`: the exact (case-insensitive) name of a channel, thread or forum when one has it, else the
        names in their normal form (no emoji or separators: `in:rules` finds `⚖｜rules`); or an id."""
        low = value.lower()
        m = re.fullmatch(r"<#(\d+)>", low)
        name = m.group(1) if m else low.lstrip("#")
        parts = [self._term(f.CHANNEL_KEY, name)]
        norm = normalize_name(value)
        if norm and (doc_freq is None or not doc_freq(f.CHANNEL_KEY, name)):
            parts.append(self._term(f.CHANNEL_NORM, norm))
        if name.isdigit() and len(name) < 20:
            cid = int(name)
            parts += [self._term(f.CHANNEL_ID, cid), self._term(f.PARENT_ID, cid)]
        return self._any([(p, 1.0) for p in parts])

    def _filter(
        self,
        item: _Item,
        hints: _Hints,
        resolve: ConversationResolver | None = None,
        doc_freq: DocFreq | None = None,
    ) -> tuple[tantivy.Query | None, FilterChip | None]:
        key, value = item.key, item.text
        if key == "conversation":
            return self._conversation(item, hints, resolve)
        if not value:
            hints.add(f"{key}: needs a value, e.g. {_EXAMPLES[key]}; it was ignored.")
            return None, None
        chip = FilterChip(key, value, item.negated)
        low = value.lower()
        if key in ("from", "author") and not (
            key == "author" and low in ("bot", "bots", "user", "users", "human")
        ):
            name = low.lstrip("@")
            name = re.sub(r"#\d{4}$", "", name) or name
            parts = [self._term(f.AUTHOR_KEY, name)]
            if name.isdigit() and len(name) < 20:
                parts.append(self._term(f.AUTHOR_ID, int(name)))
            return self._any([(p, 1.0) for p in parts]), FilterChip("from", value, item.negated)
        if key == "author":
            return self._term(f.IS, "bot" if low.startswith("bot") else "user"), chip
        if key == "mentions":
            name = low.lstrip("@")
            name = re.sub(r"#\d{4}$", "", name) or name
            parts = [self._term(f.MENTION_KEY, name)]
            if name.isdigit() and len(name) < 20:
                parts.append(self._term(f.MENTIONS, int(name)))
            return self._any([(p, 1.0) for p in parts]), chip
        if key == "in":
            return self._channel(value, doc_freq), chip
        if key == "has":
            name = _HAS_ALIASES.get(low, low)
            if name not in HAS_FLAGS and name.endswith("s") and name[:-1] in HAS_FLAGS:
                name = name[:-1]
            if name not in HAS_FLAGS:
                hints.add(f"has: takes {', '.join(HAS_FLAGS)}; has:{_short(value)} was ignored.")
                return None, None
            return self._term(f.HAS, name), FilterChip(key, name, item.negated)
        if key in ("pinned", "edited"):
            if low not in _TRUE + _FALSE:
                hints.add(f"{key}: takes true or false; {key}:{_short(value)} was ignored.")
                return None, None
            q = self._term(f.IS, key)
            if low in _FALSE:
                q = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, q)]
                )
            return q, FilterChip(key, "true" if low in _TRUE else "false", item.negated)
        if key == "is":
            name = {"replies": "reply", "threads": "thread", "bots": "bot"}.get(low, low)
            if name not in f.IS_VALUES:
                hints.add(f"is: takes reply, thread or system; is:{_short(value)} was ignored.")
                return None, None
            return self._term(f.IS, name), FilterChip(key, name, item.negated)
        # before / after / during
        span = _date_span(value)
        if span is None:
            hints.add(
                f"{key}: takes a date as YYYY, YYYY-MM or YYYY-MM-DD; {key}:{_short(value)} was ignored."
            )
            return None, None
        start, end = span
        q = (
            self._ts_range(None, start)
            if key == "before"
            else self._ts_range(end, None)
            if key == "after"
            else (self._ts_range(start, end))
        )
        return q, chip

    # -- all together -------------------------------------------------------------------------

    def parse(
        self,
        text: str,
        *,
        conversations: ConversationResolver | None = None,
        doc_freq: DocFreq | None = None,
    ) -> ParsedQuery:
        """Parse search-box text; never raises for any input.

        `conversations` resolves `in:conversation:ID` to message ids; without it that filter matches nothing.
        `doc_freq` (the searcher's) lets `in:NAME` use only an exact name when one exists; without it `in:`
        matches exact and normalized names alike.
        """
        try:
            return self._parse(text, conversations, doc_freq)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException:  # a tantivy panic is a BaseException; a person's typing must never surface one
            hint = "This query could not be understood, so nothing was searched. Try simpler words."
            return ParsedQuery(tantivy.Query.empty_query(), [], Highlight(), [hint], False)

    def _parse(
        self,
        text: str,
        conversations: ConversationResolver | None = None,
        doc_freq: DocFreq | None = None,
    ) -> ParsedQuery:
        hints = _Hints()
        # Lone surrogates (possible in argv) cannot cross into Rust.
        text = text.encode("utf-8", "replace").decode("utf-8")
        if len(text) > MAX_QUERY_CHARS:
            text = text[:MAX_QUERY_CHARS]
            hints.add(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
        groups = self._group(self._lex(text, hints), hints)
        hl = Highlight()
        chips: list[FilterChip] = []
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        terms = 0
        proximity: list[str] = []
        has_text = False
        dropped = False
        for group in groups:
            alternatives: list[tantivy.Query] = []
            negated = group[0].negated
            scoring = False
            for item in group:
                if terms >= MAX_TERMS:
                    dropped = True
                    break
                if item.kind == "filter":
                    q, chip = self._filter(item, hints, conversations, doc_freq)
                    if q is None or chip is None:
                        continue
                    chips.append(chip)
                    alternatives.append(tantivy.Query.const_score_query(q, 0.0))
                    terms += 1
                else:
                    q, used = self._text(item, None if negated else hl, hints)
                    plain_word = item.kind == "word" and not re.search(r"(\*|~\d?)$", item.text)
                    if q is not None and len(group) == 1 and not negated and plain_word:
                        proximity += [self._stem(w) for w in self._tokens(f.normalize_text(item.text))]
                    if q is None:
                        continue
                    alternatives.append(q)
                    terms += used
                    scoring = True
            if not alternatives:
                continue
            q = alternatives[0] if len(alternatives) == 1 else self._any([(a, 1.0) for a in alternatives])
            clauses.append((tantivy.Occur.MustNot if negated else tantivy.Occur.Must, q))
            has_text = has_text or (scoring and not negated)
        if dropped:
            hints.add(f"The query uses more than {MAX_TERMS} words or filters; the rest were ignored.")
        if not clauses:
            # Blank input browses everything; input with nothing usable in it finds nothing.
            query = (
                tantivy.Query.all_query() if not text.strip() or not hints else tantivy.Query.empty_query()
            )
            return ParsedQuery(query, chips, hl, list(hints), False)
        if len(proximity) >= 2 and len(proximity) <= MAX_TERMS:
            # Words typed together rank higher when they also stand together (known-item search).
            near = tantivy.Query.phrase_query(self.schema, f.CONTENT, list(proximity), slop=1)
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(near, PROXIMITY_BOOST)))
        if all(occur != tantivy.Occur.Must for occur, _ in clauses):
            clauses.insert(0, (tantivy.Occur.Must, tantivy.Query.all_query()))
        return ParsedQuery(tantivy.Query.boolean_query(clauses), chips, hl, list(hints), has_text)


_EXAMPLES = {
    "from": "from:alice",
    "author": "author:bot",
    "mentions": "mentions:alice",
    "in": "in:general",
    "has": "has:link",
    "before": "before:2024-03-01",
    "after": "after:2024-03-01",
    "during": "during:2024-03",
    "pinned": "pinned:true",
    "edited": "edited:true",
    "is": "is:reply",
    "conversation": "in:conversation:1239970985717853624",
}


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _date_span(value: str) -> tuple[int, int] | None:
    """[start, end) in Unix ms (UTC) of a YYYY, YYYY-MM or YYYY-MM-DD period, or None when it is not one."""
    m = _DATE.match(value.strip())
    if not m:
        return None
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    try:
        if month is None:
            start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        elif day is None:
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        else:
            start = datetime(year, month, day, tzinfo=UTC)
            end = datetime.fromtimestamp(start.timestamp() + 86400, tz=UTC)
    except (ValueError, OverflowError):
        return None
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)
