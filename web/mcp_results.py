"""The shapes the MCP tools return (each becomes a tool's output schema); ids are strings, times ISO-8601 UTC."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Person(BaseModel):
    """Who wrote a message (a pseudonymized person appears only under the pseudonym)."""

    id: str | None
    name: str = Field(description="Display name as the viewer shows it")


class Place(BaseModel):
    """A channel, thread or forum post."""

    id: str
    name: str | None


class Hit(BaseModel):
    """One search hit."""

    id: str = Field(description="Message id; pass it to get_message or cite")
    permalink: str
    author: Person | None
    channel: Place
    thread_id: str | None
    timestamp: str
    snippet: str = Field(description="The matching text, matches in **bold**; empty for a tombstone")
    tombstone: str | None = Field(description="Why the message can't be shown, or null when it is live")
    conversation_id: str | None = Field(description="Pass it to get_conversation")
    reply_to: str | None


class SearchResult(BaseModel):
    """One page of hits for a query, with the search box's hints."""

    query: str
    sort: str
    offset: int
    limit: int
    total: int = Field(description="How many messages match in all")
    hits: list[Hit]
    hints: list[str] = Field(description="What was ignored or changed in the query, or why nothing matched")
    filters: list[str] = Field(description="The filters that were applied, e.g. from:alice")
    suggestion: str | None = Field(description="A query that finds more (the search box's 'did you mean')")
    cut: bool = Field(description="True when more hits follow: call again with offset=next_offset")
    next_offset: int | None


class Brief(BaseModel):
    """A message as it appears around another one (context, replies)."""

    id: str
    permalink: str
    author: Person | None
    timestamp: str
    content: str | None = Field(description="Current text; null for a tombstone")
    tombstone: str | None
    reply_to: str | None
    edited: bool
    attachments: list[str] = Field(description="File names")


class Preview(BaseModel):
    """The message another one replies to, as a one-line excerpt."""

    id: str
    permalink: str | None = Field(description="Null when the message is not in the archive")
    author: Person | None
    excerpt: str | None
    tombstone: str | None


class Revision(BaseModel):
    """One known version of a message's text."""

    n: int
    edited_timestamp: str | None
    current: bool
    chars: int


class MessageResult(BaseModel):
    """One message at its current revision (or the one asked for), its context, reply target and replies."""

    id: str
    permalink: str = Field(description="Pinned to the version shown")
    author: Person | None
    channel: Place | None
    guild: str | None
    timestamp: str
    edited_timestamp: str | None
    content: str | None = Field(description="The text of the version shown; null for a tombstone")
    tombstone: str | None = Field(description="Why the message can't be shown (deleted, withheld), or null")
    version: int | None
    versions: int
    revisions: list[Revision] = Field(
        description="Edit history, oldest first (texts: get_message with version)"
    )
    sha256: str | None = Field(description="SHA-256 of the version's text, as citations carry it")
    low_fidelity: bool = Field(
        description="From a CSV/TXT export: no Discord id, text as that export gave it"
    )
    pinned: bool
    attachments: list[str]
    embeds: list[str] = Field(description="Embed titles")
    reactions: list[str] = Field(description="Emoji and count, e.g. '👍 3'")
    thread: Place | None = Field(description="The thread this message is in or started")
    conversation_id: str | None
    reply_to: Preview | None
    replies: list[Brief]
    reply_count: int
    context_before: list[Brief]
    context_after: list[Brief]
    cut: bool = Field(
        description="True when replies were left out (see reply_count; get_thread has them all)"
    )
    markdown_uri: str = Field(description="The hallway:// resource with this message as Markdown")


class Transcript(BaseModel):
    """A conversation, thread or reply tree in order, as its Markdown twin renders it."""

    id: str
    kind: str = Field(description="conversation, thread or replies")
    title: str
    permalink: str
    message_count: int
    offset: int
    shown: int
    cut: bool = Field(description="True when more messages follow: call again with offset=next_offset")
    next_offset: int | None
    markdown: str


class CitationResult(BaseModel):
    """A citation of one revision of one message, the same text as /m/{id}/cite.*."""

    id: str
    format: str
    version: int
    versions: int
    sha256: str = Field(description="SHA-256 of the cited text (UTF-8)")
    permalink: str
    text: str


class DigestConversation(BaseModel):
    """One conversation of a digest, ranked by activity in the window."""

    id: str = Field(description="Pass it to get_conversation")
    title: str
    thread: str | None = Field(description="The thread or forum post it happened in, if any")
    messages: int
    participants: int
    reactions: int
    start: str
    end: str
    permalink: str


class DigestChannel(BaseModel):
    """A channel's part of a digest (its threads and forum posts included)."""

    id: str
    name: str
    messages: int
    conversation_count: int
    conversations: list[DigestConversation] = Field(description="The busiest, at most 5 per channel here")


class DigestResult(BaseModel):
    """What happened in a window of days, as the /digest page and its .md twin tell it."""

    since: str
    until: str
    days: int
    total_messages: int
    total_conversations: int
    search_query: str = Field(description="A search query that finds the same messages")
    hints: list[str]
    channels: list[DigestChannel]
    new_threads: list[Place]
    permalink: str
    cut: bool = Field(description="True when channels, conversations or the Markdown were shortened")
    markdown: str = Field(description="The digest as its .md twin renders it")
