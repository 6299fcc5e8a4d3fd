"""The viewer's own errors; each becomes a helpful HTML page or a JSON `{"error": …}` body."""

from __future__ import annotations

from archive import ChannelNotFound, MessageNotFound, UserNotFound

# What to tell someone who followed an id the archive doesn't have.
NOT_FOUND_HINTS: dict[type[Exception], str] = {
    MessageNotFound: "The message may be in an export that hasn't been ingested yet, or the id has a typo.",
    ChannelNotFound: "Only channels with at least one ingested export are in the archive.",
    UserNotFound: "People appear once they have written a message; pseudonymized people only under "
    "their pseudonym.",
}


class PageError(Exception):
    """A request the viewer cannot answer: carries the HTTP status, a title and a hint for people."""

    def __init__(self, status: int, title: str, detail: str = "") -> None:
        self.status = status
        self.title = title
        self.detail = detail
        super().__init__(f"{title}: {detail}" if detail else title)


class MessageMoved(Exception):
    """A CSV/TXT record's id whose message was merged into the real one: its URLs answer 301 there."""

    def __init__(self, alias: int, message_id: int) -> None:
        self.alias = alias
        self.message_id = message_id
        super().__init__(f"message {alias} is now message {message_id}")


def not_found(what: str, value: str, hint: str = "") -> PageError:
    """A 404 naming what was looked for."""
    return PageError(404, f"No {what} {value} in this archive", hint)


def parse_id(value: str, what: str) -> int:
    """A Discord id from a URL segment, or a 404 page (never a 422) when it is not one."""
    # isascii: str.isdigit() also accepts digits like "²" that int() refuses (a 500 otherwise).
    if not (value.isascii() and value.isdigit()) or len(value) > 20 or int(value) >= 1 << 63:
        raise PageError(
            404,
            f"{value!r} is not a {what} id",
            f"{what.capitalize()} ids are Discord snowflakes, all digits.",
        )
    return int(value)
